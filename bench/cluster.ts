/**
 * The hub cluster against one node, in the same run (`npm run bench cluster`): PostgreSQL and Redis
 * started here in temp dirs on loopback (the test setup's engines), hubs as child processes
 * (`onsite hub --cluster`), 300 kiosks sending QoS 1 events spread over the nodes by the load
 * generator (one process per node). First one cluster node takes all the load, then three share it.
 * On two cores the point is the cluster's overhead (the emitter on Redis, every node following the
 * log), not a speed-up. Bounded: 300 devices, a few seconds per phase.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startRedis } from "../test/cluster/engines.js";
import { type ChildHub, spawnHub } from "../test/hub/child-hub.js";
import { startPostgres } from "../test/setup/postgres.js";
import type { LoadResult, LoadSpec } from "./load-client.js";

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const DEVICES = 300;
const RATE = Number(process.env.BENCH_CLUSTER_RATE ?? 1500);

async function load(spec: LoadSpec, dir: string, tag: string): Promise<LoadResult> {
  const file = join(dir, `spec-${tag}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/load-client.ts", file], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as LoadResult;
}

async function api(
  port: number,
  token: string,
  method: string,
  path: string,
  body: unknown,
): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

export async function benchCluster(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "onsite-bench-cluster-"));
  const pg = await startPostgres();
  const redis = await startRedis();
  const nodes: ChildHub[] = [];
  const figures: Record<string, number> = {};
  try {
    const dbUrl = await pg.createDatabase("bench");
    // Every bench device connects from 127.0.0.1 and sends as fast as it is acked.
    const configFile = join(root, "hub.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        version: 1,
        mqtt: {
          ratePerSecond: 10_000,
          rateBurst: 100_000,
          connectsPerAddress: { burst: 100_000, perSecond: 100_000 },
        },
      }),
    );
    const args = (dir: string) => [
      "--config",
      configFile,
      "--no-demo",
      "--ble",
      "off",
      "--data-dir",
      dir,
      "--store",
      dbUrl,
      "--mqtt-port",
      "0",
      "--http-port",
      "0",
      "--cluster",
      redis.url,
    ];
    const dirs = ["a", "b", "c"].map((n) => mkdtempSync(join(root, `node-${n}-`)));
    const first = await spawnHub(args(dirs[0] as string));
    nodes.push(first);
    const token = first.adminToken ?? "";
    await api(first.httpPort, token, "POST", "/api/v1/sites", {
      id: "B",
      name: "Bench",
      timeZone: "UTC",
      requiredPpe: [],
    });
    const devices: Array<{ id: string; password: string }> = [];
    for (let i = 0; i < DEVICES; i++) {
      const r = (await api(first.httpPort, token, "POST", "/api/v1/devices", {
        id: `k-${i}`,
        kind: "kiosk",
        siteId: "B",
      })) as { password: string };
      devices.push({ id: `k-${i}`, password: r.password });
    }
    const phase = async (ports: number[], counterBase: number, tag: string) => {
      const share = Math.ceil(DEVICES / ports.length);
      const tp = await Promise.all(
        ports.map((port, i) =>
          load(
            {
              port,
              devices: devices.slice(i * share, (i + 1) * share),
              mode: "throughput",
              window: 8,
              seconds: SECONDS,
              counterBase,
            },
            root,
            `${tag}-tp-${i}`,
          ),
        ),
      );
      const rate = await Promise.all(
        ports.map((port, i) =>
          load(
            {
              port,
              devices: devices.slice(i * share, (i + 1) * share),
              mode: "rate",
              rate: Math.round(RATE / ports.length),
              seconds: SECONDS,
              counterBase: counterBase + 1_000_000,
            },
            root,
            `${tag}-rate-${i}`,
          ),
        ),
      );
      return {
        perS: tp.reduce((n, r) => n + r.acked / r.seconds, 0),
        p50: pct(
          rate.map((r) => r.p50Ms),
          50,
        ),
        p99: Math.max(...rate.map((r) => r.p99Ms)),
      };
    };
    const one = await phase([first.mqttPort], 0, "one");
    for (const d of dirs.slice(1)) copyFileSync(join(dirs[0] as string, "master.key"), join(d, "master.key"));
    nodes.push(...(await Promise.all(dirs.slice(1).map((d) => spawnHub(args(d))))));
    const three = await phase(
      nodes.map((n) => n.mqttPort),
      10_000_000,
      "three",
    );
    figures.oneNodePerS = one.perS;
    figures.threeNodesPerS = three.perS;
    figures.ratio = three.perS / one.perS;
    console.log(`one cluster node (PostgreSQL, Redis), ${DEVICES} kiosks x 8 in flight:`);
    console.log(`  throughput: ${one.perS.toFixed(0)} durable events/s`);
    console.log(`  PUBACK at ${RATE}/s: p50 ${one.p50.toFixed(2)} ms, p99 ${one.p99.toFixed(2)} ms`);
    console.log(`three cluster nodes sharing the same devices (the same two cores):`);
    console.log(
      `  throughput: ${three.perS.toFixed(0)} durable events/s; ratio to one node ${figures.ratio.toFixed(2)}`,
    );
    console.log(
      `  PUBACK at ${RATE}/s: p50 ${three.p50.toFixed(2)} ms, p99 ${three.p99.toFixed(2)} ms; p99 ratio to one node ${(three.p99 / one.p99).toFixed(2)}`,
    );
  } finally {
    for (const n of nodes) n.proc.kill("SIGTERM");
    await Promise.all(nodes.map((n) => n.exited));
    await redis.stop();
    await pg.stop();
    rmSync(root, { recursive: true, force: true });
  }
  return figures;
}
