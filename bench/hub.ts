/**
 * Ingest under load: the full hub (auth, parse, verify, group commit to SQLite, then rules) against
 * a bare aedes started in the same run, both driven by the same load generator in a separate
 * process over loopback. The hub runs twice: store.sync=full (fsync per group commit) and normal.
 * Bounded in devices, messages and time.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Aedes } from "aedes";
import { SqliteStore } from "../hub/adapters/store/sqlite/sqlite-store.js";
import { createHub, type Hub } from "../hub/app.js";
import { DEFAULT_CONFIG } from "../hub/config/config.js";
import { defaultSite } from "../hub/core/model.js";
import { silentLogger } from "../hub/log.js";
import type { LoadResult, LoadSpec } from "./load-client.js";

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RATE = Number(process.env.BENCH_RATE ?? 10_000);
const RATE_DEVICES = Number(process.env.BENCH_RATE_DEVICES ?? 1000);
const IDLE_DEVICES = Number(process.env.BENCH_IDLE_DEVICES ?? 10_000);
const RESTART_EVENTS = Number(process.env.BENCH_RESTART_EVENTS ?? 1_000_000);

type Creds = Array<{ id: string; password: string }>;

async function load(spec: LoadSpec, dir: string): Promise<LoadResult> {
  const file = join(dir, `spec-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/load-client.ts", file], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as LoadResult;
}

async function startHub(
  dir: string,
  sync: "full" | "normal",
  devices: number,
): Promise<{ hub: Hub; creds: Creds }> {
  const hub = await createHub(
    {
      ...DEFAULT_CONFIG,
      dataDir: dir,
      mqtt: {
        ...DEFAULT_CONFIG.mqtt,
        port: 0,
        ratePerSecond: 100_000,
        rateBurst: 100_000,
        // Every bench device connects from 127.0.0.1.
        connectsPerAddress: { burst: 100_000, perSecond: 100_000 },
      },
      http: { ...DEFAULT_CONFIG.http, port: 0 },
      store: { sync, ...(process.env.BENCH_WRITER === "inline" ? { writer: "inline" as const } : {}) },
      demo: { ...DEFAULT_CONFIG.demo, enabled: false },
      log: { level: "silent" },
    },
    { log: silentLogger() },
  );
  await hub.ctx.store.putSite(defaultSite({ id: "B", name: "Bench", timeZone: "UTC" }));
  const creds: Creds = [];
  for (let i = 0; i < devices; i++) {
    const id = `k-${i}`;
    creds.push({
      id,
      password: (await hub.ctx.provisioning.provision({ id, kind: "kiosk", siteId: "B" })).password,
    });
  }
  return { hub, creds };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const ms = (x: number) => `${x.toFixed(2)} ms`;

export async function benchHub(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "onsite-bench-"));
  const figures: Record<string, number> = {};
  try {
    const bare = await Aedes.createBroker();
    const bareServer = createServer(bare.handle);
    await new Promise<void>((r) => bareServer.listen(0, "127.0.0.1", () => r()));
    const barePort = (bareServer.address() as AddressInfo).port;
    const anyCreds: Creds = Array.from({ length: Math.max(RATE_DEVICES, 100) }, (_, i) => ({
      id: `k-${i}`,
      password: "x",
    }));
    const tp = (port: number, creds: Creds) =>
      load(
        {
          port,
          devices: creds.slice(0, 100),
          mode: "throughput",
          window: 16,
          seconds: SECONDS,
          counterBase: 0,
        },
        root,
      );
    const rate = (port: number, creds: Creds) =>
      load(
        {
          port,
          devices: creds.slice(0, RATE_DEVICES),
          mode: "rate",
          rate: RATE,
          seconds: SECONDS,
          counterBase: 1_000_000,
        },
        root,
      );

    const bareTp = await tp(barePort, anyCreds);
    const bareRate = await rate(barePort, anyCreds);
    figures.bareEventsPerS = bareTp.acked / bareTp.seconds;
    console.log(`baseline, bare aedes (no auth, no storage):`);
    console.log(`  throughput, 100 devices x 16 in flight: ${figures.bareEventsPerS.toFixed(0)} acked/s`);
    console.log(
      `  PUBACK at ${RATE}/s from ${RATE_DEVICES} devices: p50 ${ms(bareRate.p50Ms)}, p99 ${ms(bareRate.p99Ms)}`,
    );

    for (const sync of ["full", "normal"] as const) {
      const dir = join(root, sync);
      const { hub, creds } = await startHub(dir, sync, Math.max(RATE_DEVICES, 100));
      const hubTp = await tp(hub.mqttPort, creds);
      await hub.ctx.ingest.settle();
      const stored = await hub.ctx.store.countEvents();
      const hubRate = await rate(hub.mqttPort, creds);
      const perS = hubTp.acked / hubTp.seconds;
      figures[`${sync}EventsPerS`] = perS;
      figures[`${sync}Ratio`] = perS / figures.bareEventsPerS;
      figures[`${sync}P50`] = hubRate.p50Ms;
      figures[`${sync}P99`] = hubRate.p99Ms;
      console.log(`full hub, store.sync=${sync}:`);
      console.log(
        `  throughput: ${perS.toFixed(0)} durable events/s (${stored} rows stored for ${hubTp.acked} PUBACKs); ratio to bare ${(perS / figures.bareEventsPerS).toFixed(2)} (goal >= 0.80)`,
      );
      console.log(
        `  PUBACK at ${RATE}/s: p50 ${ms(hubRate.p50Ms)}, p99 ${ms(hubRate.p99Ms)}, max ${ms(hubRate.maxMs)} (goal p99 <= 10 ms); p99 ratio to bare ${(hubRate.p99Ms / bareRate.p99Ms).toFixed(2)}`,
      );
      await hub.stop();
    }

    // Memory in a process of its own: what the earlier phases left behind is not the hub's.
    const { stdout } = await run(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "bench/hub.ts", "--memory", join(root, "idle")],
      { maxBuffer: 1024 * 1024, env: { ...process.env } },
    );
    const memory = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
      before: number;
      peak: number;
      connected: number;
    };
    figures.rssWithIdle = memory.peak;
    console.log(
      `memory, ${memory.connected} connected devices (a process of its own: the hub, the bench's provisioning):`,
    );
    console.log(
      `  RSS ${mb(memory.before)} before, ${mb(memory.peak)} with the devices (+${((memory.peak - memory.before) / 1024 / memory.connected).toFixed(1)} KiB/device) (goal <= 400 MB)`,
    );

    // Restart to ready: a data dir holding RESTART_EVENTS stored (and projected) events, from 1,000
    // kiosks, then the time from createHub to a listening hub.
    const restartDir = join(root, "restart");
    {
      const seeded = await startHub(restartDir, "normal", 1000);
      await seeded.hub.stop();
      const store = new SqliteStore({ path: join(restartDir, "onsite.db"), sync: "normal" });
      const t0 = Date.now() - 86_400_000;
      const BATCH = 10_000;
      let last = 0;
      for (let i = 0; i < RESTART_EVENTS; i += BATCH) {
        const rows = Array.from({ length: Math.min(BATCH, RESTART_EVENTS - i) }, (_, k) => {
          const n = i + k;
          const device = `k-${n % 1000}`;
          return {
            event: {
              v: 1 as const,
              type: "heartbeat" as const,
              device,
              counter: Math.floor(n / 1000),
              time: t0 + n,
            },
            source: { kind: "kiosk" as const, siteId: "B" },
            hubTime: t0 + n,
            clockOffsetMs: 0,
            visitId: null,
            subject: null,
          };
        });
        const seqs = await store.commitEvents(rows, []);
        last = seqs.at(-1) ?? last;
      }
      await store.saveProjection({ views: [], attribution: [], watermark: last });
      figures.restartEvents = await store.countEvents();
      await store.close();
    }
    const startAt = process.hrtime.bigint();
    const restarted = await createHub(
      {
        ...DEFAULT_CONFIG,
        dataDir: restartDir,
        mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0 },
        http: { ...DEFAULT_CONFIG.http, port: 0 },
        demo: { ...DEFAULT_CONFIG.demo, enabled: false },
        log: { level: "silent" },
      },
      { log: silentLogger() },
    );
    figures.restartMs = Number(process.hrtime.bigint() - startAt) / 1e6;
    await restarted.stop();
    console.log(`restart to ready with ${figures.restartEvents.toLocaleString("en")} stored events:`);
    console.log(`  ${figures.restartMs.toFixed(0)} ms (goal <= 2000 ms)`);

    await new Promise<void>((r) => bare.close(() => r()));
    await new Promise<void>((r) => bareServer.close(() => r()));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return figures;
}

/** `bench/hub.ts --memory <dir>`: a hub with IDLE_DEVICES connected, its RSS before and at the peak (one JSON line). */
async function memoryPhase(dir: string): Promise<void> {
  const { hub, creds } = await startHub(dir, "full", IDLE_DEVICES);
  if (typeof global.gc === "function") global.gc();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  const idle = await load(
    { port: hub.mqttPort, devices: creds, mode: "idle", seconds: 4, counterBase: 0 },
    dir,
  );
  clearInterval(sampler);
  await hub.stop();
  process.stdout.write(`${JSON.stringify({ before, peak, connected: idle.connected })}\n`);
}

if (process.argv[2] === "--memory" && process.argv[3]) await memoryPhase(process.argv[3]);
