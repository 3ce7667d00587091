/**
 * The record is the truth whatever the delivery order: a badge's and a kiosk's offline backlog of
 * 500 events over the last hour, across 10 visits, delivered in one shuffled burst (JSON over MQTT,
 * and badge frames relayed by a gateway), and a badge backlog that arrives after the kiosk's newer
 * events. Against a real hub: aedes on a port, mqtt.js clients, a SQLite file.
 */
import type { MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { DEFAULT_CONFIG } from "../../hub/config/config.js";
import { judge, projectVisit, refKey, type StoredEvent, type VisitPlan } from "../../hub/core/index.js";
import {
  type BadgeFrame,
  CLEANUP_ITEMS,
  type DeviceCommand,
  type DeviceEvent,
  decodeCommandPayload,
  encodeFrame,
  encodeGatewayFrames,
  fromHex,
  toHex,
} from "../../protocol/index.js";
import { connect, eventually, type SeededDevices, seed, startHub, tempDir } from "./helpers.js";

const MIN = 60_000;
const VISITS = 10;
const TAG = "0A1B2C3D4E";

interface Planned {
  /** The visit the event was made for. */
  visit: string;
  by: "badge" | "kiosk";
  event: DeviceEvent;
}

/** Ten back-to-back visits of one engineer at one site over the last hour, 50 events each. */
function itinerary(now: number): { plans: VisitPlan[]; events: Planned[] } {
  const start = now - 62 * MIN;
  const plans: VisitPlan[] = [];
  const events: Planned[] = [];
  let badge = 0;
  let kiosk = 0;
  for (let k = 0; k < VISITS; k++) {
    const from = start + k * 6 * MIN;
    const id = `V${k + 1}`;
    plans.push({
      id,
      siteId: "S1",
      engineerId: "E1",
      window: { from, to: from + 5 * MIN },
      createdAt: start - MIN,
    });
    const b = (at: number, body: Record<string, unknown>) =>
      events.push({
        visit: id,
        by: "badge",
        event: {
          v: 1,
          device: "badge-1",
          counter: ++badge,
          time: Math.round(at / 1000) * 1000,
          ...body,
        } as DeviceEvent,
      });
    const kk = (at: number, body: Record<string, unknown>) =>
      events.push({
        visit: id,
        by: "kiosk",
        event: { v: 1, device: "kiosk-1", counter: ++kiosk, time: at, ...body } as DeviceEvent,
      });
    const t = from + 20_000;
    b(t, { type: "arrival", source: "ble" });
    kk(t + 20_000, { type: "checkin_request", tag: TAG });
    kk(t + 40_000, {
      type: "checkin_confirmed",
      engineer: "E1",
      consent: true,
      ...(k % 2 ? { visit: id } : {}),
    });
    b(t + 60_000, { type: "gear_confirmed", items: ["helmet", "safety_shoes"] });
    b(t + 70_000, { type: "work_started" });
    // The engineer works: the badge reports kit checks and repeated gear confirmations.
    for (let i = 0; i < 41; i++) {
      const at = t + 80_000 + i * 4_000;
      b(at, i % 2 ? { type: "kit_checked", complete: true } : { type: "gear_confirmed", items: ["helmet"] });
    }
    kk(t + 250_000, {
      type: "completion_submitted",
      cause: "worn seal",
      parts: [{ name: "seal", quantity: 1 }],
      workDone: "replaced the seal",
      advice: "check yearly",
      ...(k % 3 ? { visit: id } : {}),
    });
    kk(t + 255_000, { type: "completion_confirmed", resolved: true, rating: 5, visit: id });
    kk(t + 260_000, { type: "cleanup_signed_off", items: [...CLEANUP_ITEMS], visit: id });
    b(t + 270_000, { type: "departure", source: "ble" });
  }
  return { plans, events };
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe("a backlog delivered late and out of order", { timeout: 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let devices: SeededDevices;
  let badge: MqttClient;
  let kiosk: MqttClient;
  const acks: DeviceCommand[] = [];

  beforeEach(async () => {
    dir = tempDir();
    // The burst (450 badge and 50 kiosk events) fits the default budget (burst 500 per device); the
    // re-send of the whole backlog in the first case needs room for a second one.
    hub = await startHub(dir.path, {}, { mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0, rateBurst: 1000 } });
    devices = await seed(hub);
    badge = await connect(hub, devices.badge.id, devices.badge.password);
    kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    for (const c of [badge, kiosk]) {
      await c.subscribeAsync(`onsite/v1/dev/${c.options.clientId}/cmd`, { qos: 1 });
      c.on("message", (_t, p) => acks.push(decodeCommandPayload(p)));
    }
    acks.length = 0;
  });
  afterEach(async () => {
    await badge.endAsync();
    await kiosk.endAsync();
    await hub.stop();
    dir.cleanup();
  });

  const book = async (plans: VisitPlan[]) => {
    await hub.ctx.store.insertVisits(plans);
    hub.ctx.visits.plansChanged(plans);
    await hub.ctx.ingest.settle();
  };
  const publish = (p: Planned) =>
    (p.by === "badge" ? badge : kiosk).publishAsync(
      `onsite/v1/dev/${p.event.device}/events`,
      JSON.stringify(p.event),
      { qos: 1 },
    );

  /** Lost and misattributed events, and each visit's verdicts against its own events in order. */
  const audit = async (plans: VisitPlan[], events: Planned[]) => {
    await hub.ctx.ingest.settle();
    const stored = await hub.ctx.store.eventsAfter(0, 10_000);
    const byKey = new Map(stored.map((e) => [refKey(e), e]));
    const lost = events.filter((p) => !byKey.has(`${p.event.device}#${p.event.counter}`));
    const misattributed = events.filter(
      (p) => byKey.get(`${p.event.device}#${p.event.counter}`)?.visitId !== p.visit,
    );
    const verdicts = [];
    for (const plan of plans) {
      const ctx = await hub.ctx.visits.context(plan);
      if (!ctx) throw new Error("no context");
      const own = events
        .filter((p) => p.visit === plan.id)
        .map((p) => byKey.get(`${p.event.device}#${p.event.counter}`))
        .filter((e): e is StoredEvent => e !== undefined);
      const { timeline: _t, ...want } = projectVisit(ctx, own, hub.ctx.clock.now());
      const got = await hub.ctx.visits.summary(plan);
      verdicts.push({
        id: plan.id,
        same: JSON.stringify(got) === JSON.stringify(judge(want, ctx, hub.ctx.clock.now())),
      });
    }
    return { lost: lost.length, misattributed: misattributed.length, verdicts, stored: stored.length };
  };

  it("500 events over MQTT (badge and kiosk), shuffled in one burst: none lost, none misattributed, none refused", async () => {
    const { plans, events } = itinerary(Date.now());
    expect(events).toHaveLength(500);
    await book(plans);
    await Promise.all(shuffle(events, 7).map(publish));
    const r = await audit(plans, events);
    expect({ lost: r.lost, misattributed: r.misattributed, stored: r.stored }).toEqual({
      lost: 0,
      misattributed: 0,
      stored: 500,
    });
    expect(r.verdicts.filter((v) => !v.same)).toEqual([]);
    for (const p of plans) {
      const v = await hub.ctx.visits.summary(p);
      expect([p.id, v?.state, v?.complete, v?.violations]).toEqual([p.id, "departed", true, []]);
    }
    expect(acks.filter((a) => a.type === "ack" && a.status === "rejected")).toEqual([]);
    expect(hub.ctx.metrics.total("onsite_input_rejected_total")).toBe(0);
    // Sent again, every event is a duplicate: none is refused, none stored twice.
    await Promise.all(shuffle(events, 8).map(publish));
    await hub.ctx.ingest.settle();
    expect(await hub.ctx.store.countEvents()).toBe(500);
    expect(hub.ctx.metrics.total("onsite_events_duplicate_total")).toBe(500);
    expect(acks.filter((a) => a.type === "ack" && a.status === "rejected")).toEqual([]);
  });

  it("a badge backlog delivered in order after the kiosk's newer events lands in its own visits", async () => {
    const { plans, events } = itinerary(Date.now());
    await book(plans);
    // The kiosk was online all along: its events arrive as they happen.
    for (const p of events.filter((e) => e.by === "kiosk")) await publish(p);
    await hub.ctx.ingest.settle();
    // The badge was out of range all hour: its 450 events arrive afterwards, oldest first.
    await Promise.all(events.filter((e) => e.by === "badge").map(publish));
    const r = await audit(plans, events);
    expect({ lost: r.lost, misattributed: r.misattributed }).toEqual({ lost: 0, misattributed: 0 });
    expect(r.verdicts.filter((v) => !v.same)).toEqual([]);
    for (const p of plans) {
      const v = await hub.ctx.visits.summary(p);
      expect(v?.workStartedAt).not.toBeNull();
      expect(v?.arrival?.verdict.class).toBe("on_time");
    }
  });

  it("the same backlog as badge frames relayed by a gateway, shuffled: none lost, none misattributed", async () => {
    const { plans, events } = itinerary(Date.now());
    await book(plans);
    const gw = await hub.ctx.provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" });
    const gateway = await connect(hub, "gw-1", gw.password);
    const key = fromHex(devices.badge.key);
    const frameOf = (e: DeviceEvent): BadgeFrame => {
      const h = { badge: devices.badge.badgeNo, counter: e.counter, time: e.time / 1000 };
      switch (e.type) {
        case "arrival":
        case "departure":
        case "work_started":
          return { ...h, type: e.type, battery: 80 };
        case "gear_confirmed":
          return { ...h, type: "gear_confirmed", items: e.items };
        case "kit_checked":
          return { ...h, type: "kit_checked", complete: e.complete };
        default:
          throw new Error(`no frame for ${e.type}`);
      }
    };
    const frames = shuffle(
      events.filter((p) => p.by === "badge"),
      11,
    ).map((p) => ({ hex: toHex(encodeFrame(frameOf(p.event), key)), rxTime: Date.now(), rssi: -60 }));
    const batches: Array<Promise<unknown>> = [];
    for (let i = 0; i < frames.length; i += 64) {
      batches.push(
        gateway.publishAsync(
          "onsite/v1/gw/gw-1/frames",
          encodeGatewayFrames({ v: 1, gateway: "gw-1", frames: frames.slice(i, i + 64) }),
          { qos: 1 },
        ),
      );
    }
    batches.push(
      ...shuffle(
        events.filter((p) => p.by === "kiosk"),
        12,
      ).map(publish),
    );
    await Promise.all(batches);
    await gateway.endAsync();
    const r = await audit(plans, events);
    expect({ lost: r.lost, misattributed: r.misattributed, stored: r.stored }).toEqual({
      lost: 0,
      misattributed: 0,
      stored: 500,
    });
    expect(r.verdicts.filter((v) => !v.same)).toEqual([]);
    expect(hub.ctx.metrics.total("onsite_input_rejected_total")).toBe(0);
  });
});

describe("a visit has a cap on its events", () => {
  it("past rules.maxEventsPerVisit, a device's events for that visit are refused by name, the rest kept", async () => {
    const dir = tempDir();
    const hub = await startHub(dir.path, {}, { rules: { ...DEFAULT_CONFIG.rules, maxEventsPerVisit: 100 } });
    try {
      const devices = await seed(hub);
      const now = Date.now();
      const plan: VisitPlan = {
        id: "V1",
        siteId: "S1",
        engineerId: "E1",
        window: { from: now - 60 * MIN, to: now },
      };
      await hub.ctx.store.insertVisits([plan]);
      hub.ctx.visits.plansChanged([plan]);
      const badge = await connect(hub, devices.badge.id, devices.badge.password);
      const acks: DeviceCommand[] = [];
      await badge.subscribeAsync("onsite/v1/dev/badge-1/cmd", { qos: 1 });
      badge.on("message", (_t, p) => acks.push(decodeCommandPayload(p)));
      const event = (counter: number) =>
        JSON.stringify({
          v: 1,
          type: "kit_checked",
          complete: true,
          device: "badge-1",
          counter,
          time: now - 50 * MIN + counter,
        });
      for (let c = 1; c <= 100; c++)
        await badge.publishAsync("onsite/v1/dev/badge-1/events", event(c), { qos: 1 });
      await hub.ctx.ingest.settle();
      for (let c = 101; c <= 110; c++)
        await badge.publishAsync("onsite/v1/dev/badge-1/events", event(c), { qos: 1 });
      await hub.ctx.ingest.settle();
      expect((await hub.ctx.store.eventsOfVisit("V1")).length).toBe(100);
      expect(
        hub.ctx.metrics.value("onsite_input_rejected_total", { boundary: "mqtt", code: "visit_full" }),
      ).toBe(10);
      await eventually(() => acks.filter((a) => a.type === "ack" && a.status === "rejected").length === 10);
      const ack = acks.find((a) => a.type === "ack" && a.status === "rejected");
      expect(ack).toMatchObject({
        counter: 101,
        reason: expect.stringContaining("V1 already holds 100 events"),
      });
      await badge.endAsync();
    } finally {
      await hub.stop();
      dir.cleanup();
    }
  });
});
