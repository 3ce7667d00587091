/** Runs `onsite hub` in a child process, as an installer would, and reads its ports and admin token. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface ChildHub {
  proc: ChildProcess;
  mqttPort: number;
  httpPort: number;
  /** MQTT over TLS, when the hub has a certificate. */
  mqttsPort: number | undefined;
  adminToken: string | undefined;
  output: () => string;
  exited: Promise<number | null>;
}

const root = fileURLToPath(new URL("../../", import.meta.url));

interface Listening {
  mqttPort: number;
  httpPort: number;
  mqttsPort?: number;
  /** The hub made the first admin token; it prints it after this line. */
  firstStart?: boolean;
}

/** The "hub listening" log line, once it has arrived whole. */
function listeningLine(out: string): Listening | undefined {
  const complete = out.slice(0, out.lastIndexOf("\n") + 1);
  const line = complete.split("\n").find((l) => l.includes('"hub listening"'));
  return line ? (JSON.parse(line) as Listening) : undefined;
}

/** The first-start token, once it has arrived whole (the banner goes on after it). */
const tokenIn = (out: string) => /shown only this once:\s+(\S+)\s/.exec(out)?.[1];

/**
 * Resolves when the hub listens and, on a first start, once its admin token has been printed
 * (the hub says in the "hub listening" line whether one follows; it is never guessed from timing).
 */
export async function spawnHub(
  args: string[],
  env: Record<string, string> = {},
  opts: { nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<ChildHub> {
  // The hub exits when this process goes (its stdin closes): a test that times out leaves none behind.
  const nodeArgs = [
    "--import",
    "tsx",
    "--import",
    "./test/hub/modules/die-with-parent.mjs",
    ...(opts.nodeArgs ?? []),
  ];
  const proc = spawn(process.execPath, [...nodeArgs, "bin/onsite.ts", "hub", ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<number | null>((resolve) => proc.once("close", (code) => resolve(code)));
  const ready = await new Promise<{ listening: Listening; token: string | undefined }>((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const timer = setTimeout(
      () => reject(new Error(`hub did not start in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const check = () => {
      const listening = listeningLine(out);
      if (!listening) return;
      const token = tokenIn(out);
      if (listening.firstStart && token === undefined) return;
      clearTimeout(timer);
      resolve({ listening, token });
    };
    const take = (d: Buffer) => {
      out += d.toString();
      check();
    };
    proc.stdout?.on("data", take);
    proc.stderr?.on("data", take);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code}:\n${out}`));
    });
  });
  return {
    proc,
    mqttPort: ready.listening.mqttPort,
    httpPort: ready.listening.httpPort,
    mqttsPort: ready.listening.mqttsPort,
    adminToken: ready.token,
    output: () => out,
    exited,
  };
}
