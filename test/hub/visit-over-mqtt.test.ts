import type { MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { resolveWindow } from "../../hub/core/time.js";
import { type DeviceCommand, type DeviceEvent, decodeCommandPayload } from "../../protocol/index.js";
import {
  api,
  connect,
  counterFor,
  eventually,
  type SeededDevices,
  seed,
  send,
  startHub,
  tempDir,
} from "./helpers.js";

const MIN = 60_000;

describe("one whole visit through MQTT", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let devices: SeededDevices;
  let badge: MqttClient;
  let kiosk: MqttClient;
  const commands: Array<{ device: string; command: DeviceCommand }> = [];
  const next = counterFor();
  let now: number;

  beforeEach(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    devices = await seed(hub);
    now = Date.now();
    const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);
    const window = resolveWindow(local(now - 30 * MIN), local(now + 90 * MIN), "Asia/Shanghai");
    await hub.ctx.store.insertVisits([{ id: "V1", siteId: "S1", engineerId: "E1", window }]);
    badge = await connect(hub, devices.badge.id, devices.badge.password);
    kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    commands.length = 0;
    for (const [client, id] of [
      [badge, "badge-1"],
      [kiosk, "kiosk-1"],
    ] as const) {
      await client.subscribeAsync(`onsite/v1/dev/${id}/cmd`, { qos: 1 });
      client.on("message", (_t, payload) =>
        commands.push({ device: id, command: decodeCommandPayload(payload) }),
      );
    }
  });

  afterEach(async () => {
    await badge.endAsync();
    await kiosk.endAsync();
    await hub.stop();
    dir.cleanup();
  });

  const ev = (device: "badge-1" | "kiosk-1", at: number, body: Record<string, unknown>) =>
    ({ v: 1, device, counter: next(device), time: at, ...body }) as DeviceEvent;

  async function play(events: DeviceEvent[]) {
    for (const e of events) await send(e.device === "badge-1" ? badge : kiosk, e);
    await hub.ctx.ingest.settle();
  }

  const firstSteps = () => [
    ev("badge-1", now, { type: "arrival", source: "ble" }),
    ev("kiosk-1", now + MIN, { type: "checkin_request", tag: "0A1B2C3D4E" }),
    ev("kiosk-1", now + 2 * MIN, { type: "checkin_confirmed", engineer: "E1", consent: true }),
    ev("badge-1", now + 3 * MIN, { type: "gear_confirmed", items: ["helmet", "safety_shoes"] }),
    ev("badge-1", now + 4 * MIN, { type: "work_started" }),
    ev("kiosk-1", now + 30 * MIN, {
      type: "completion_submitted",
      cause: "worn seal",
      parts: [{ name: "seal", quantity: 1 }],
      workDone: "replaced",
      advice: "check yearly",
    }),
    ev("kiosk-1", now + 31 * MIN, { type: "completion_confirmed", resolved: true, rating: 5 }),
  ];

  it("on time → check-in → gear → work → completion → clean-up → departure is a clean visit", async () => {
    await play([
      ...firstSteps(),
      ev("kiosk-1", now + 32 * MIN, {
        type: "cleanup_signed_off",
        items: [
          "work_area_clean",
          "items_restored",
          "borrowed_returned",
          "waste_removed",
          "own_items_removed",
        ],
      }),
      ev("badge-1", now + 33 * MIN, { type: "departure", source: "ble" }),
    ]);
    const view = await eventually(async () => {
      const v = await hub.ctx.visits.view("V1");
      return v?.state === "departed" ? v : undefined;
    });
    expect(view.complete).toBe(true);
    expect(view.violations).toEqual([]);
    expect(view.arrival?.verdict.class).toBe("on_time");
    expect(view.timeline.every((e) => e.status === "applied")).toBe(true);
    expect(await hub.ctx.store.countEvents()).toBe(9);
    // The kiosk was told who tapped in and the arrival result, and said goodbye at the end.
    await eventually(() =>
      commands.some((c) => c.command.type === "display" && c.command.prompt === "goodbye"),
    );
    const checkinPrompt = commands.find(
      (c) => c.command.type === "display" && c.command.prompt === "checkin_confirm",
    );
    expect(checkinPrompt?.command).toMatchObject({ lines: ["Zhang Wei", "On time OK?"], visit: "V1" });
    expect(commands.filter((c) => c.device === "badge-1" && c.command.type === "signal")).toEqual([]);
  });

  it("departure before clean-up gives departed_without_cleanup and buzzes that badge", async () => {
    await play([...firstSteps(), ev("badge-1", now + 33 * MIN, { type: "departure", source: "ble" })]);
    const view = await eventually(async () => {
      const v = await hub.ctx.visits.view("V1");
      return v?.state === "departed" ? v : undefined;
    });
    expect(view.violations.map((v) => v.kind)).toEqual(["departed_without_cleanup"]);
    const buzz = await eventually(() =>
      commands.find((c) => c.device === "badge-1" && c.command.type === "signal"),
    );
    expect(buzz.command).toMatchObject({ type: "signal", pattern: "cleanup_missing" });
  });

  it("a departure before clean-up keeps the site's retained status in incident until acknowledged", async () => {
    const left = now + 33 * MIN;
    await play([...firstSteps(), ev("badge-1", left, { type: "departure", source: "ble" })]);
    const retained = async (topic: string, want: (m: Record<string, unknown>) => boolean) => {
      // A late subscriber: what it receives is the retained message.
      const observer = await connect(hub, "api", hub.adminToken ?? "", `observer-${Math.random()}`);
      let last: Record<string, unknown> | undefined;
      observer.on("message", (_t, payload) => {
        last = JSON.parse(payload.toString()) as Record<string, unknown>;
      });
      await observer.subscribeAsync(topic, { qos: 1 });
      try {
        return await eventually(() => (last && want(last) ? last : undefined));
      } finally {
        await observer.endAsync();
      }
    };
    const site = await retained("onsite/v1/site/S1/status", (m) => m.condition === "incident");
    expect(site).toMatchObject({ activeAlarms: [{ visit: "V1", at: left }] });
    expect(await retained("onsite/v1/site/S1/visit/V1/status", (m) => m.state === "departed")).toMatchObject({
      violations: ["departed_without_cleanup"],
      alarms: 1,
    });
    // Still an incident later on, while nobody has acknowledged it.
    await hub.ctx.announcer.publishSite("S1");
    expect((await retained("onsite/v1/site/S1/status", () => true)).condition).toBe("incident");
    const ack = await api(hub, "POST", "/api/v1/visits/V1/alarms/ack", hub.adminToken, { alarmAt: left });
    expect(ack.status).toBe(200);
    expect(await retained("onsite/v1/site/S1/status", (m) => m.condition === "normal")).toMatchObject({
      activeAlarms: [],
    });
  });

  it("publishes retained visit and site status that a late subscriber receives", async () => {
    await play(firstSteps().slice(0, 3));
    const observer = await connect(hub, "api", hub.adminToken ?? "", "observer-1");
    const got = new Map<string, unknown>();
    observer.on("message", (topic, payload) => got.set(topic, JSON.parse(payload.toString())));
    await observer.subscribeAsync("onsite/v1/site/#", { qos: 1 });
    const visit = await eventually(
      () => got.get("onsite/v1/site/S1/visit/V1/status") as { state: string } | undefined,
    );
    expect(visit.state).toBe("checked_in");
    expect(await eventually(() => got.get("onsite/v1/site/S1/status"))).toMatchObject({
      site: "S1",
      condition: "normal",
    });
    await observer.endAsync();
  });

  it("answers a heartbeat with a time sync and records the device's clock offset", async () => {
    const skew = -42_000;
    await play([ev("kiosk-1", Date.now() + skew, { type: "heartbeat", queued: 0 })]);
    const sync = await eventually(() => commands.find((c) => c.command.type === "time_sync"));
    expect(sync.device).toBe("kiosk-1");
    const offset = (await hub.ctx.store.getDevice("kiosk-1"))?.clockOffsetMs ?? 0;
    expect(offset).toBeGreaterThan(41_000);
    expect(offset).toBeLessThan(44_000);
  });
});
