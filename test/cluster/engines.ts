/**
 * Redis and HAProxy for the cluster suites, each started by the test in a temp dir on loopback and
 * stopped by it (Debian's redis-server and haproxy; test/setup/system-packages.ts installs them).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free port on 127.0.0.1: bound on port 0, read, closed (redis-server has no `--port 0`). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitFor(proc: ChildProcess, out: () => string, ready: RegExp, what: string, ms = 10_000) {
  const started = Date.now();
  while (!ready.test(out())) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}:\n${out()}`);
    if (Date.now() - started > ms) throw new Error(`${what} not ready in ${ms} ms:\n${out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RedisServer {
  port: number;
  url: string;
  /** Stops the server (SIGTERM, waits), keeps its dir, starts it again on the same port after `downMs`. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `redis-server` in the foreground, its append-only file in a temp dir (so a restart keeps the
 * retained messages and sessions, as a production Redis with AOF does).
 */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "onsite-redis-"));
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    let out = "";
    const p = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    p.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    p.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    proc = p;
    await waitFor(p, () => out, /Ready to accept connections/, "redis-server");
  };
  const halt = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    await gone;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async restart(downMs = 1000) {
      await halt();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Haproxy {
  mqttPort: number;
  httpPort: number;
  stop(): Promise<void>;
}

/**
 * HAProxy in front of the nodes: MQTT in TCP mode, the API in HTTP mode, round robin, each server
 * checked every 500 ms (down after 2 failed checks).
 */
export async function startHaproxy(nodes: Array<{ name: string; mqttPort: number; httpPort: number }>) {
  const dir = mkdtempSync(join(tmpdir(), "onsite-haproxy-"));
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const servers = (kind: "mqttPort" | "httpPort") =>
    nodes.map((n) => `  server ${n.name} 127.0.0.1:${n[kind]} check inter 500 fall 2 rise 2`).join("\n");
  const cfg = `global
  maxconn 4000
defaults
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  timeout tunnel 1h
frontend mqtt
  mode tcp
  bind 127.0.0.1:${mqttPort}
  default_backend hubs_mqtt
backend hubs_mqtt
  mode tcp
  balance roundrobin
${servers("mqttPort")}
frontend api
  mode http
  bind 127.0.0.1:${httpPort}
  default_backend hubs_http
backend hubs_http
  mode http
  balance roundrobin
  option redispatch
  retries 2
${servers("httpPort")}
`;
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, cfg);
  let out = "";
  const proc = spawn("haproxy", ["-f", file, "-db"], { stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  // HAProxy prints nothing when it starts well: ready is when its frontends accept.
  const started = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`haproxy exited with ${proc.exitCode}:\n${out}`);
    const ok = await fetch(`http://127.0.0.1:${httpPort}/healthz`).then(
      (r) => r.status < 500 || r.status === 503,
      () => false,
    );
    if (ok) break;
    if (Date.now() - started > 10_000) throw new Error(`haproxy not ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    mqttPort,
    httpPort,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  } satisfies Haproxy & { output: () => string };
}
