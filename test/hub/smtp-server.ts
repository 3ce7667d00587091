/**
 * A real SMTP server on loopback for the notification tests: Debian's aiosmtpd (python3-aiosmtpd,
 * installed by the test setup) delivering into a Maildir in a temp dir; messages are read back with
 * Python's own `email` parser (headers and bodies decoded, UTF-8 included).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";

const PY = "/usr/bin/python3";

export interface Mail {
  to: string;
  from: string;
  subject: string;
  text: string;
}

export interface SmtpServer {
  port: number;
  messages(): Mail[];
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect({ port, host: "127.0.0.1" }, () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });

const READ = `
import json, mailbox, sys
out = []
for m in mailbox.Maildir(sys.argv[1], create=False):
    body = m.get_payload(decode=True)
    if body is None and m.is_multipart():
        body = next(p.get_payload(decode=True) for p in m.walk() if p.get_content_type() == "text/plain")
    charset = m.get_content_charset() or "utf-8"
    from email.header import decode_header, make_header
    out.append({"to": str(make_header(decode_header(m["To"] or ""))), "from": str(make_header(decode_header(m["From"] or ""))),
                "subject": str(make_header(decode_header(m["Subject"] or ""))), "text": (body or b"").decode(charset)})
print(json.dumps(out, ensure_ascii=False))
`;

export async function startSmtp(dir: string): Promise<SmtpServer> {
  const port = await freePort();
  const maildir = join(dir, "maildir");
  for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(maildir, sub), { recursive: true });
  const proc: ChildProcess = spawn(
    PY,
    ["-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${port}`, "-c", "aiosmtpd.handlers.Mailbox", maildir],
    { stdio: "ignore" },
  );
  const end = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (Date.now() > end || proc.exitCode !== null) throw new Error("aiosmtpd did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    messages: () => JSON.parse(execFileSync(PY, ["-c", READ, maildir], { encoding: "utf8" })) as Mail[],
    async stop() {
      if (proc.exitCode !== null) return;
      const gone = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await gone;
    },
  };
}
