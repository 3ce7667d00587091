/**
 * What a visit's length costs, through the whole hub (MQTT, ingest, group commit, projection,
 * announcements): the same number of events as 2,700-event visits and as 10-event visits, each visit
 * an engineer's with its own badge on a real socket, 64 publishes in flight. Then an idle hub holding 2,000 open visits: the
 * longest event-loop stall while its rule timer runs. Bounded in events and time; loopback only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import mqtt from "mqtt";
import { SqliteStore } from "../hub/adapters/store/sqlite/sqlite-store.js";
import { createHub, type Hub } from "../hub/app.js";
import { DEFAULT_CONFIG, type HubConfig } from "../hub/config/config.js";
import {
  defaultSite,
  ManualClock,
  type StoredEvent,
  type VisitPlan,
  VisitService,
} from "../hub/core/index.js";
import { silentLogger } from "../hub/log.js";
import type { DeviceEvent } from "../protocol/index.js";
import { fmt } from "./measure.js";

const EVENTS = Number(process.env.BENCH_PROJECTION_EVENTS ?? 5_400);
const OPEN_VISITS = Number(process.env.BENCH_OPEN_VISITS ?? 2_000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 16);
const MIN = 60_000;

const config = (dataDir: string, patch: Partial<HubConfig> = {}): HubConfig => ({
  ...DEFAULT_CONFIG,
  dataDir,
  mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0, ratePerSecond: 100_000, rateBurst: 100_000 },
  http: { ...DEFAULT_CONFIG.http, port: 0 },
  store: { sync: "normal" },
  demo: { ...DEFAULT_CONFIG.demo, enabled: false },
  ble: { ...DEFAULT_CONFIG.ble, mode: "off" },
  log: { level: "silent" },
  ...patch,
});

/**
 * `visits` visits of as many engineers (each with a badge, at its own site) in the last hour,
 * `perVisit` events each, in order per badge.
 */
async function seedVisits(hub: Hub, visits: number, perVisit: number, now: number) {
  const { store, provisioning } = hub.ctx;
  const span = 60 * MIN;
  const plans: VisitPlan[] = [];
  const badges: Array<{ id: string; password: string }> = [];
  for (let v = 0; v < visits; v++) {
    await store.putSite(defaultSite({ id: `S${v}`, name: `S${v}`, timeZone: "UTC", requiredPpe: [] }));
    await store.putEngineer({
      id: `E${v}`,
      name: `E${v}`,
      company: "Bench",
      certificates: [{ kind: "safety_training", validUntil: "2099-12-31" }],
    });
    plans.push({ id: `V${v}`, siteId: `S${v}`, engineerId: `E${v}`, window: { from: now - span, to: now } });
    const b = await provisioning.provision({ id: `badge-${v}`, kind: "badge", engineerId: `E${v}` });
    badges.push({ id: `badge-${v}`, password: b.password });
  }
  await store.insertVisits(plans);
  hub.ctx.visits.plansChanged(plans);
  await hub.ctx.ingest.settle();
  // Round-robin over the badges, each badge's events in its own time order.
  const events: DeviceEvent[] = [];
  const step = span / (perVisit + 1);
  for (let i = 0; i < perVisit; i++) {
    for (let v = 0; v < visits; v++) {
      const body =
        i === 0
          ? { type: "arrival", source: "ble" }
          : i === perVisit - 1
            ? { type: "departure", source: "ble" }
            : { type: "kit_checked", complete: i % 2 === 0 };
      events.push({
        v: 1,
        device: `badge-${v}`,
        counter: i + 1,
        time: Math.round(now - span + (i + 1) * step),
        ...body,
      } as DeviceEvent);
    }
  }
  return { badges, events };
}

async function drive(hub: Hub, badges: Array<{ id: string; password: string }>, events: DeviceEvent[]) {
  const clients = new Map<string, mqtt.MqttClient>();
  for (const b of badges) {
    clients.set(
      b.id,
      await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
        clientId: b.id,
        username: b.id,
        password: b.password,
        reconnectPeriod: 0,
      }),
    );
  }
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  // 64 publishes in flight, whatever the number of badges; each badge's events go out in order.
  let next = 0;
  const worker = async () => {
    while (next < events.length) {
      const e = events[next++] as DeviceEvent;
      await clients
        .get(e.device)
        ?.publishAsync(`onsite/v1/dev/${e.device}/events`, JSON.stringify(e), { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  await hub.ctx.ingest.settle();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  for (const c of clients.values()) await c.endAsync();
  return { perSecond: events.length / seconds, cpuUsPerEvent: (used.user + used.system) / events.length };
}

async function visitLength(perVisit: number, visits: number) {
  const dir = mkdtempSync(join(tmpdir(), "onsite-bench-projection-"));
  const hub = await createHub(config(dir), { log: silentLogger() });
  try {
    const { badges, events } = await seedVisits(hub, visits, perVisit, Date.now());
    return await drive(hub, badges, events);
  } finally {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A store holding `OPEN_VISITS` visits checked in and working, 20 events each, projected. */
async function openVisitsStore(dir: string, now: number): Promise<void> {
  const store = new SqliteStore({ path: join(dir, "onsite.db"), sync: "normal" });
  const visits = new VisitService({ store, clock: new ManualClock(now), maxLiveRecords: 20_000 });
  await visits.start();
  const plans: VisitPlan[] = [];
  for (let s = 0; s < OPEN_VISITS / 10; s++) {
    await store.putSite(defaultSite({ id: `S${s}`, name: `S${s}`, timeZone: "UTC", requiredPpe: [] }));
  }
  for (let v = 0; v < OPEN_VISITS; v++) {
    await store.putEngineer({
      id: `E${v}`,
      name: `E${v}`,
      company: "Bench",
      certificates: [{ kind: "safety_training", validUntil: "2099-12-31" }],
    });
    // Half are on site; half are booked for later today (their deadlines are hours away).
    const later = v % 2 === 1;
    const from = later ? now + 2 * 60 * MIN : now - 30 * MIN;
    plans.push({
      id: `V${v}`,
      siteId: `S${v % (OPEN_VISITS / 10)}`,
      engineerId: `E${v}`,
      window: { from, to: from + 4 * 60 * MIN },
    });
  }
  await store.insertVisits(plans);
  visits.plansChanged(plans);
  await visits.idle();
  const rows: StoredEvent[] = [];
  for (const [v, p] of plans.entries()) {
    if (v % 2 === 1) continue;
    for (let i = 0; i < 20; i++) {
      const event = (
        i === 0
          ? { v: 1, type: "arrival", source: "ble", device: `b${v}`, counter: i + 1, time: now - 20 * MIN }
          : {
              v: 1,
              type: "kit_checked",
              complete: true,
              device: `b${v}`,
              counter: i + 1,
              time: now - 20 * MIN + i * 1000,
            }
      ) as DeviceEvent;
      rows.push({
        event,
        source: { kind: "badge", engineerId: p.engineerId },
        hubTime: now,
        clockOffsetMs: 0,
        visitId: null,
        subject: p.engineerId,
      });
    }
  }
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
    const seqs = await store.commitEvents(chunk, []);
    visits.committed(chunk.map((r, k) => ({ ...r, seq: seqs[k] ?? 0 })));
    await visits.idle();
  }
  await visits.stop();
  await store.close();
}

async function idleStall() {
  const dir = mkdtempSync(join(tmpdir(), "onsite-bench-idle-"));
  try {
    await openVisitsStore(dir, Date.now());
    const startAt = process.hrtime.bigint();
    const hub = await createHub(config(dir, { rules: { ...DEFAULT_CONFIG.rules, tickMs: 1000 } }), {
      log: silentLogger(),
    });
    const ready = Number(process.hrtime.bigint() - startAt) / 1e6;
    // Let start-up garbage go first: the figure is for the idle hub.
    await new Promise((r) => setTimeout(r, 2000));
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    h.disable();
    await hub.stop();
    return { ready, maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bareStall() {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await new Promise((r) => setTimeout(r, 3000));
  h.disable();
  return h.max / 1e6;
}

export async function benchProjection(): Promise<void> {
  // The same events, as many 10-event visits, and as 2,700-event visits (64 badges either way at most).
  const short = await visitLength(10, Math.round(EVENTS / 10));
  const long = await visitLength(2700, Math.max(1, Math.round(EVENTS / 2700)));
  console.log(
    `visit length: ${fmt(long.perSecond)} events/s with 2,700-event visits, ${fmt(short.perSecond)}/s with 10-event visits; ratio ${(long.perSecond / short.perSecond).toFixed(2)} (goal ≥ 0.8)`,
  );
  console.log(
    `CPU per event: ${long.cpuUsPerEvent.toFixed(0)} µs at 2,700 events per visit, ${short.cpuUsPerEvent.toFixed(0)} µs at 10; ratio ${(long.cpuUsPerEvent / short.cpuUsPerEvent).toFixed(2)}`,
  );
  const bare = await bareStall();
  const idle = await idleStall();
  console.log(
    `idle hub with ${OPEN_VISITS} open visits (rule timer every 1 s): longest event-loop stall ${idle.maxMs.toFixed(1)} ms, p99 ${idle.p99Ms.toFixed(1)} ms over ${IDLE_SECONDS} s (goal < 20 ms); bare loop ${bare.toFixed(1)} ms; start to ready ${idle.ready.toFixed(0)} ms`,
  );
}
