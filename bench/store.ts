/**
 * The store under the hub's write pattern: `commitEvents` batches of 1, 10 and 100 events (each with
 * its devices' state), one after another as group commit issues them; then the reads a projection
 * makes. SQLite (store.sync full and normal) and PostgreSQL on loopback (a throwaway cluster, the
 * server's default synchronous_commit=on), in the same run, printed as ratios to SQLite full. Also
 * four hubs' worth of committers on one PostgreSQL. Bounded in batches and in time.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PostgresStore } from "../hub/adapters/store/postgres/postgres-store.js";
import { SqliteStore } from "../hub/adapters/store/sqlite/sqlite-store.js";
import { createHub } from "../hub/app.js";
import { DEFAULT_CONFIG } from "../hub/config/config.js";
import { defaultSite } from "../hub/core/model.js";
import type { DeviceStateUpdate, Store, StoredEvent } from "../hub/core/ports.js";
import { silentLogger } from "../hub/log.js";
import type { DeviceEvent } from "../protocol/index.js";
import { startPostgres } from "../test/setup/postgres.js";
import type { LoadResult, LoadSpec } from "./load-client.js";
import { fmt, percentile } from "./measure.js";

const MAX_MS = Number(process.env.BENCH_STORE_MS ?? 1500);
const MAX_BATCHES = 6000;
const ROUNDS = 3;
const SIZES = [1, 10, 100];
const T0 = 1_764_072_000_000;
const HUB_SECONDS = Number(process.env.BENCH_STORE_HUB_SECONDS ?? 3);
const HUB_RATE = 2000;
const HUB_ROUNDS = 3;

type HubRun = Awaited<ReturnType<typeof wholeHub>>;

const event = (device: string, counter: number): StoredEvent => ({
  event: { v: 1, type: "heartbeat", device, counter, time: T0 + counter, queued: 0 } as DeviceEvent,
  source: { kind: "kiosk", siteId: "S1" },
  hubTime: T0 + counter,
  clockOffsetMs: 0,
  visitId: null,
  subject: null,
});

interface Figure {
  batches: number;
  batchesPerS: number;
  eventsPerS: number;
  p50Ms: number;
  p99Ms: number;
}

/** Commits sequential batches of `size` from 10 devices into `store`, until `maxBatches` or `ms`. */
async function commits(store: Store, size: number, tag: string, ms = MAX_MS, maxBatches = MAX_BATCHES) {
  const devices = Array.from({ length: 10 }, (_, i) => `${tag}-${i}`);
  const next = counters.get(tag) ?? 0;
  let counter = next;
  const batch = (): [StoredEvent[], DeviceStateUpdate[]] => {
    const events = Array.from({ length: size }, (_, i) => event(devices[i % 10] as string, counter++));
    const states = devices.slice(0, Math.min(size, 10)).map((id) => ({
      id,
      replay: { highest: counter, seen: 1n },
      lastSeenAt: T0 + counter,
      clockOffsetMs: 0,
      battery: null,
    }));
    return [events, states];
  };
  if (next === 0) for (let i = 0; i < 20; i++) await store.commitEvents(...batch()); // warm-up
  const lat: number[] = [];
  const start = performance.now();
  while (lat.length < maxBatches && performance.now() - start < ms) {
    const t = performance.now();
    await store.commitEvents(...batch());
    lat.push(performance.now() - t);
  }
  counters.set(tag, counter);
  return { lat, seconds: (performance.now() - start) / 1000 };
}
const counters = new Map<string, number>();

/**
 * Each store in turn, in ROUNDS rounds (so a change in the machine's load falls on all of them), for
 * MAX_MS each in all; the figure is over all its rounds.
 */
async function interleaved(stores: Array<[string, Store]>, size: number): Promise<Figure[]> {
  const acc = stores.map(() => ({ lat: [] as number[], seconds: 0 }));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, [, store]] of stores.entries()) {
      const got = await commits(store, size, `s${i}x${size}`, MAX_MS / ROUNDS, MAX_BATCHES / ROUNDS);
      const a = acc[i] as (typeof acc)[number];
      a.lat.push(...got.lat);
      a.seconds += got.seconds;
    }
  }
  return acc.map(({ lat, seconds }) => {
    lat.sort((a, b) => a - b);
    return {
      batches: lat.length,
      batchesPerS: lat.length / seconds,
      eventsPerS: (lat.length * size) / seconds,
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
    };
  });
}

/** Chunks of 1,000 events read back in commit order (the recovery path), until MAX_MS. */
async function reads(store: Store): Promise<number> {
  const total = await store.countEvents();
  let read = 0;
  let after = 0;
  const start = performance.now();
  while (performance.now() - start < MAX_MS) {
    const chunk = await store.eventsAfter(after, 1000);
    read += chunk.length;
    after = chunk.length === 0 || after > total ? 0 : (chunk[chunk.length - 1]?.seq ?? 0);
  }
  return read / ((performance.now() - start) / 1000);
}

/** The load generator (bench/load-client.ts) in its own process, as bench/hub.ts runs it. */
async function load(spec: LoadSpec, dir: string): Promise<LoadResult> {
  const file = join(dir, `spec-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "bench/load-client.ts", file],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout) as LoadResult;
}

/**
 * A whole hub on `url` (or SQLite in `dir`): 100 kiosks with 16 in flight each, then HUB_RATE/s from
 * the same 100 (200 connections from one address: the broker's per-address connect budget).
 */
async function wholeHub(dir: string, url: string | undefined) {
  const hub = await createHub(
    {
      ...DEFAULT_CONFIG,
      dataDir: dir,
      mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0, ratePerSecond: 100_000, rateBurst: 100_000 },
      http: { ...DEFAULT_CONFIG.http, port: 0 },
      store: url === undefined ? { sync: "full" } : { sync: "full", url },
      demo: { ...DEFAULT_CONFIG.demo, enabled: false },
      ble: { ...DEFAULT_CONFIG.ble, mode: "off" },
      log: { level: "silent" },
    },
    { log: silentLogger() },
  );
  try {
    await hub.ctx.store.putSite(defaultSite({ id: "B", name: "Bench", timeZone: "UTC" }));
    const devices: Array<{ id: string; password: string }> = [];
    for (let i = 0; i < 100; i++) {
      const id = `k-${i}`;
      const p = await hub.ctx.provisioning.provision({ id, kind: "kiosk", siteId: "B" });
      devices.push({ id, password: p.password });
    }
    const port = hub.mqttPort;
    const tp = await load(
      {
        port,
        devices: devices.slice(0, 100),
        mode: "throughput",
        window: 16,
        seconds: HUB_SECONDS,
        counterBase: 0,
      },
      dir,
    );
    await hub.ctx.ingest.settle(); // the throughput phase's projection backlog is done first
    const rate = await load(
      { port, devices, mode: "rate", rate: HUB_RATE, seconds: HUB_SECONDS, counterBase: 1_000_000 },
      dir,
    );
    await hub.ctx.ingest.settle();
    return { perS: tp.acked / tp.seconds, stored: await hub.ctx.store.countEvents(), rate };
  } finally {
    await hub.stop();
  }
}

const line = (name: string, f: Figure, base?: Figure) =>
  `  ${name.padEnd(24)} ${fmt(f.batchesPerS).padStart(7)} batches/s ${fmt(f.eventsPerS).padStart(7)} events/s  ` +
  `p50 ${f.p50Ms.toFixed(2)} ms  p99 ${f.p99Ms.toFixed(2)} ms` +
  (base ? `  ratio ${(f.batchesPerS / base.batchesPerS).toFixed(2)}` : "");

export async function benchStore(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "onsite-bench-store-"));
  const cluster = await startPostgres();
  const figures: Record<string, number> = {};
  try {
    const url = await cluster.createDatabase("bench");
    const stores: Array<[string, Store]> = [
      ["SQLite, sync=full", new SqliteStore({ path: join(root, "full.db"), sync: "full" })],
      ["SQLite, sync=normal", new SqliteStore({ path: join(root, "normal.db"), sync: "normal" })],
      [`PostgreSQL ${cluster.version}, loopback`, await PostgresStore.open({ url })],
    ];
    console.log(`commitEvents, one batch at a time (ratio: to SQLite sync=full):`);
    for (const size of SIZES) {
      console.log(` batches of ${size}:`);
      const got = await interleaved(stores, size);
      for (const [i, [name]] of stores.entries()) {
        const f = got[i] as Figure;
        figures[`${name} x${size}`] = f.batchesPerS;
        console.log(line(name, f, got[0]));
      }
    }

    console.log(`four hubs' committers on one PostgreSQL (batches of 10, one advisory lock for all):`);
    const four = await Promise.all([0, 1, 2, 3].map(() => PostgresStore.open({ url, max: 2 })));
    const start = performance.now();
    const each = await Promise.all(four.map((s, i) => commits(s, 10, `h${i}`)));
    const seconds = (performance.now() - start) / 1000;
    const total = each.reduce((n, f) => n + f.lat.length, 0) / seconds;
    const p99 = Math.max(
      ...each.map((f) =>
        percentile(
          [...f.lat].sort((a, b) => a - b),
          99,
        ),
      ),
    );
    const single = figures[`${stores[2]?.[0]} x10`] ?? 1;
    figures.pgFourHubsBatchesPerS = total;
    console.log(
      `  ${fmt(total)} batches/s together (${fmt(total * 10)} events/s), ratio to one committer ${(total / single).toFixed(2)}; ` +
        `p99 per hub ${p99.toFixed(2)} ms`,
    );
    for (const s of four) await s.close();

    console.log(`eventsAfter in chunks of 1,000 (the recovery read), events/s:`);
    let baseRead: number | undefined;
    for (const [name, store] of stores) {
      const perS = await reads(store);
      baseRead ??= perS;
      figures[`${name} read`] = perS;
      console.log(`  ${name.padEnd(24)} ${fmt(perS).padStart(7)}  ratio ${(perS / baseRead).toFixed(2)}`);
    }
    for (const [, store] of stores) await store.close();

    console.log(
      `the whole hub (MQTT, ingest, group commit, projection), store.sync=full vs PostgreSQL, ${HUB_SECONDS} s each:`,
    );
    // Alternating, in HUB_ROUNDS rounds: the machine's load moves, and falls on both alike.
    const kinds = [
      { name: "SQLite, sync=full", url: undefined as string | undefined, runs: [] as HubRun[] },
      { name: `PostgreSQL ${cluster.version}`, url: undefined as string | undefined, runs: [] as HubRun[] },
    ];
    for (let r = 0; r < HUB_ROUNDS; r++) {
      for (const [i, k] of kinds.entries()) {
        const url = i === 0 ? undefined : await cluster.createDatabase(`hub_${r}`);
        const h = await wholeHub(join(root, `hub-${i}-${r}`), url);
        k.runs.push(h);
        console.log(
          `  round ${r + 1} ${k.name.padEnd(20)} ${fmt(h.perS).padStart(7)} durable events/s (${h.stored} rows); ` +
            `at ${HUB_RATE}/s PUBACK p50 ${h.rate.p50Ms.toFixed(2)} ms, p99 ${h.rate.p99Ms.toFixed(2)} ms`,
        );
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const [sq, pgk] = kinds.map((k) => ({
      perS: median(k.runs.map((h) => h.perS)),
      p50: median(k.runs.map((h) => h.rate.p50Ms)),
      p99: median(k.runs.map((h) => h.rate.p99Ms)),
    })) as [{ perS: number; p50: number; p99: number }, { perS: number; p50: number; p99: number }];
    figures.hubSqliteEventsPerS = sq.perS;
    figures.hubPgEventsPerS = pgk.perS;
    console.log(
      `  medians: throughput ratio PostgreSQL/SQLite ${(pgk.perS / sq.perS).toFixed(2)}; PUBACK p50 ${pgk.p50.toFixed(2)} vs ${sq.p50.toFixed(2)} ms, ` +
        `p99 ${pgk.p99.toFixed(2)} vs ${sq.p99.toFixed(2)} ms`,
    );
  } finally {
    await cluster.stop();
    rmSync(root, { recursive: true, force: true });
  }
  return figures;
}
