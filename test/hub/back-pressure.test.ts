/**
 * Back-pressure between ingest and projection, on a real hub (aedes on a port, mqtt.js, SQLite):
 * with the projection stalled, a device's visit events are held before their commit — no PUBACK,
 * nothing buffered without bound — once the backlog passes `rules.projectionBacklog.high`; an SOS
 * still goes through at once; when the projection moves again everything held is stored and
 * projected, none lost.
 */
import type { MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../hub/adapters/store/sqlite/sqlite-store.js";
import type { Hub } from "../../hub/app.js";
import { DEFAULT_CONFIG } from "../../hub/config/config.js";
import type { DeviceEvent } from "../../protocol/index.js";
import { connect, eventually, seed, startHub, tempDir } from "./helpers.js";

const HIGH = 20;

let dir: ReturnType<typeof tempDir>;
let hub: Hub;
let badge: MqttClient;
let release: () => void;

beforeEach(async () => {
  dir = tempDir();
  const store = new SqliteStore({ path: `${dir.path}/onsite.db`, sync: "normal" });
  // The projection's writes wait for the test: the pump stalls on its first step.
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const save = store.saveProjection.bind(store);
  let stall = false;
  store.saveProjection = async (w) => {
    if (stall) await gate;
    return save(w);
  };
  hub = await startHub(
    dir.path,
    { store },
    { rules: { ...DEFAULT_CONFIG.rules, projectionBacklog: { high: HIGH, low: HIGH / 2 } } },
  );
  const devices = await seed(hub);
  const now = Date.now();
  const plan = {
    id: "V1",
    siteId: "S1",
    engineerId: "E1",
    window: { from: now - 60_000, to: now + 3_600_000 },
  };
  await hub.ctx.store.insertVisits([plan]);
  hub.ctx.visits.plansChanged([plan]);
  await hub.ctx.ingest.settle();
  stall = true;
  badge = await connect(hub, devices.badge.id, devices.badge.password);
});

afterEach(async () => {
  release();
  await badge.endAsync();
  await hub.stop();
  dir.cleanup();
});

let counter = 0;
const event = (body: Record<string, unknown>): DeviceEvent =>
  ({ v: 1, device: "badge-1", counter: ++counter, time: Date.now(), visit: "V1", ...body }) as DeviceEvent;

/** Publishes at QoS 1; resolves to true on PUBACK, false if none came within `ms`. */
async function acked(e: DeviceEvent, ms: number): Promise<{ ok: boolean; done: Promise<void> }> {
  const done = badge
    .publishAsync("onsite/v1/dev/badge-1/events", JSON.stringify(e), { qos: 1 })
    .then(() => undefined);
  const ok = await Promise.race([
    done.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
  return { ok, done };
}

describe("back-pressure", () => {
  it("holds bulk events before their commit while the projection is behind; SOS goes through; none lost", async () => {
    const sent: DeviceEvent[] = [];
    let held: Promise<void> | undefined;
    for (let i = 0; i < HIGH * 3 && !held; i++) {
      const e = event({ type: "kit_checked", complete: false, missing: [`item ${i}`] });
      sent.push(e);
      const r = await acked(e, 1000);
      if (!r.ok) held = r.done;
    }
    expect(held).toBeDefined();
    // Acknowledged: at least the high mark, and not the whole burst.
    const stored = await hub.ctx.store.countEvents();
    expect(stored).toBeGreaterThanOrEqual(HIGH);
    expect(stored).toBe(sent.length - 1);
    expect(hub.ctx.visits.backlog).toBeGreaterThan(HIGH);
    // The held one stays held while the projection stalls.
    const stillHeld = await Promise.race([
      (held as Promise<void>).then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 500)),
    ]);
    expect(stillHeld).toBe(true);
    // An SOS is not held.
    const sos = event({ type: "sos", kind: "injury" });
    expect((await acked(sos, 2000)).ok).toBe(true);
    expect(await hub.ctx.store.countEvents()).toBe(sent.length);

    release();
    await held;
    await hub.ctx.ingest.settle();
    expect(await hub.ctx.store.countEvents()).toBe(sent.length + 1);
    expect(hub.ctx.visits.backlog).toBe(0);
    const view = await eventually(async () => {
      const v = await hub.ctx.visits.summary("V1");
      return v?.alarms.length === 1 && v.kitChecked?.missing[0] === `item ${sent.length - 1}` ? v : undefined;
    });
    expect(view.alarms[0]?.sosKind).toBe("injury");
    const metrics = await hub.ctx.metrics.render();
    expect(metrics).toMatch(/onsite_ingest_held_total\{boundary="mqtt"\} [1-9]/);
  });
});
