/**
 * A throwaway PostgreSQL cluster for the suites that need one: `initdb` in a temp dir, the server
 * on 127.0.0.1 on a free port (its socket in the same dir), stopped and deleted by `stop()`.
 * Run as root (CI), `initdb` and `postgres` run as the `postgres` user, since initdb refuses root.
 * Nothing is skipped: when the server cannot start, `startPostgres` throws with the reason and the
 * server's log.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface PgCluster {
  port: number;
  /** The server's major version, e.g. 15. */
  version: number;
  /** A connection URL for `database` (default: the maintenance database `postgres`). */
  url(database?: string): string;
  /** Creates an empty database; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Drops a database created here (its connections are cut). */
  dropDatabase(name: string): Promise<void>;
  /** Stops the server (fast shutdown), waits `downMs`, starts it again on the same data and port. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Start-up bound: initdb plus the server's first "ready" (about 2 s on this machine). */
const START_TIMEOUT_MS = 15_000;

/** The server binaries: `ONSITE_PG_BINDIR`, else the newest Debian `/usr/lib/postgresql/<major>/bin`. */
export function findPgBinDir(): string | undefined {
  const fromEnv = process.env.ONSITE_PG_BINDIR;
  if (fromEnv) return existsSync(join(fromEnv, "initdb")) ? fromEnv : undefined;
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(base, d, "bin", "initdb")))
    .map(Number)
    .sort((a, b) => b - a);
  return majors[0] === undefined ? undefined : join(base, String(majors[0]), "bin");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Root runs the server as `postgres`; anyone else runs it as themselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "[postgres] running as root, but there is no `postgres` user to run initdb as (initdb refuses root): " +
        "install Debian's postgresql package (`apt-get install -y postgresql`), which creates it",
    );
  }
}

export async function startPostgres(): Promise<PgCluster> {
  const bin = findPgBinDir();
  if (!bin) {
    throw new Error(
      "[postgres] no PostgreSQL server binaries (initdb) under /usr/lib/postgresql/<major>/bin and " +
        "ONSITE_PG_BINDIR is not set: install them with `sudo apt-get install -y postgresql` " +
        "(the test setup does this itself when run as root)",
    );
  }
  const version = Number(/postgresql\/(\d+)\//.exec(`${bin}/`)?.[1] ?? 0);
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), "onsite-pg-"));
  const data = join(dir, "data");
  const password = randomBytes(12).toString("hex");
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    writeFileSync(join(dir, "pw"), `${password}\n`, { mode: 0o600 });
    if (user) {
      chownSync(dir, user.uid, user.gid);
      chownSync(join(dir, "pw"), user.uid, user.gid);
    }
    execFileSync(
      join(bin, "initdb"),
      [
        "-D",
        data,
        "-U",
        "postgres",
        `--pwfile=${join(dir, "pw")}`,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C",
        // A throwaway cluster: initdb need not fsync its files (the server still fsyncs commits).
        "--no-sync",
      ],
      { stdio: "pipe", cwd: dir, timeout: START_TIMEOUT_MS, ...(user ?? {}) },
    );
  } catch (e) {
    cleanup();
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`[postgres] initdb failed: ${err.stderr?.toString().trim() || err.message}`);
  }

  /** Starts the server on `port`; resolves with it once ready, or with the log when it did not start. */
  const launch = async (on: number): Promise<{ proc?: ChildProcess; log: string }> => {
    let log = "";
    const p = spawn(
      join(bin, "postgres"),
      ["-D", data, "-p", String(on), "-k", dir, "-c", "listen_addresses=127.0.0.1"],
      { stdio: ["ignore", "pipe", "pipe"], cwd: dir, ...(user ?? {}) },
    );
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
      const onData = (d: Buffer) => {
        log += d.toString();
        if (log.includes("database system is ready to accept connections")) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      p.stdout?.on("data", onData);
      p.stderr?.on("data", onData);
      p.once("exit", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready) return { proc: p, log };
    p.kill("SIGKILL");
    return { log };
  };
  /** Fast shutdown (open transactions are rolled back), SIGKILL after 5 s. */
  const halt = async (p: ChildProcess) => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill("SIGINT");
    const timer = setTimeout(() => p.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };

  let server: ChildProcess | undefined;
  let port = 0;
  let log = "";
  for (let attempt = 0; attempt < 3 && !server; attempt++) {
    port = await freePort();
    ({ proc: server, log } = await launch(port));
    // Someone took the port between the probe and the bind: try another one.
    if (!server && !log.includes("could not bind") && !log.includes("Address already in use")) break;
  }
  if (!server) {
    cleanup();
    throw new Error(`[postgres] the server did not start within ${START_TIMEOUT_MS} ms:\n${log}`);
  }
  // A test process that dies without stop() must not leave the server running.
  const onExit = () => server?.kill("SIGQUIT");
  process.once("exit", onExit);

  const url = (database = "postgres") =>
    `postgres://postgres:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: url() });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  let n = 0;
  return {
    port,
    version,
    url,
    async createDatabase(name = `t_${process.pid}_${++n}`) {
      await admin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
      return url(name);
    },
    async dropDatabase(name) {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
    },
    async restart(downMs = 0) {
      if (server) await halt(server);
      await new Promise((r) => setTimeout(r, downMs));
      const again = await launch(port);
      if (!again.proc) throw new Error(`[postgres] the server did not start again:\n${again.log}`);
      server = again.proc;
    },
    async stop() {
      process.removeListener("exit", onExit);
      if (server) await halt(server);
      cleanup();
    },
  };
}
