import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import {
  type DeviceCommand,
  decodeCommandPayload,
  encodeFrame,
  fromHex,
  toHex,
} from "../../protocol/index.js";
import { connect, eventually, type SeededDevices, seed, send, startHub, tempDir } from "./helpers.js";

/**
 * Every kind of bad device input is refused with a clear reason, counted, and never loses what was
 * accepted before it. One hub for the whole file; each case checks the counters move.
 */
describe("bad input at the MQTT boundary", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let devices: SeededDevices;
  let kiosk: MqttClient;
  let gatewayPassword: string;
  const acks: DeviceCommand[] = [];
  const now = Date.now();
  let counter = 0;
  const good = () =>
    ({
      v: 1,
      type: "heartbeat",
      device: "kiosk-1",
      counter: ++counter,
      time: Date.now(),
      queued: 3,
    }) as const;
  const rejected = (code: string) =>
    hub.ctx.metrics.value("onsite_input_rejected_total", {
      boundary: code.startsWith("frame:") ? "frame" : "mqtt",
      code: code.replace(/^frame:/, ""),
    });
  const refused = (reason: string) => hub.ctx.metrics.value("onsite_mqtt_refused_total", { reason });

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(
      dir.path,
      {},
      { mqtt: { host: "127.0.0.1", port: 0, maxPayloadBytes: 4096, ratePerSecond: 1000, rateBurst: 1000 } },
    );
    devices = await seed(hub);
    gatewayPassword = (await hub.ctx.provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" }))
      .password;
    kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    await kiosk.subscribeAsync("onsite/v1/dev/kiosk-1/cmd", { qos: 1 });
    kiosk.on("message", (_t, p) => acks.push(decodeCommandPayload(p)));
    for (let i = 0; i < 5; i++) await send(kiosk, good());
    await hub.ctx.ingest.settle();
  });

  afterAll(async () => {
    await kiosk.endAsync();
    await hub.stop();
    dir.cleanup();
  });

  async function stillIntact() {
    expect(await hub.ctx.store.countEvents()).toBeGreaterThanOrEqual(5);
    // The connection that sent good data still works.
    await send(kiosk, good());
  }

  it.each([
    ["malformed JSON", '{"v":1,', "bad_json", /not valid JSON/],
    [
      "schema mismatch",
      JSON.stringify({
        v: 1,
        type: "completion_confirmed",
        device: "kiosk-1",
        counter: 999,
        time: now,
        resolved: true,
        rating: 9,
      }),
      "schema",
      /\/rating/,
    ],
    [
      "unknown event type",
      JSON.stringify({ v: 1, type: "teleport", device: "kiosk-1", counter: 998, time: now }),
      "unknown_type",
      /teleport/,
    ],
    [
      "another device's id in the body",
      JSON.stringify({ v: 1, type: "heartbeat", device: "badge-1", counter: 997, time: now }),
      "device_mismatch",
      /badge-1/,
    ],
  ])("%s: acknowledged, not stored, reason sent back to the device", async (_name, payload, code, reason) => {
    const before = await hub.ctx.store.countEvents();
    const rejectedBefore = rejected(code);
    await kiosk.publishAsync("onsite/v1/dev/kiosk-1/events", payload, { qos: 1 });
    const ack = await eventually(() =>
      acks.find((a) => a.type === "ack" && a.status === "rejected" && reason.test(a.reason ?? "")),
    );
    expect(ack).toBeDefined();
    expect(rejected(code)).toBe(rejectedBefore + 1);
    expect(await hub.ctx.store.countEvents()).toBe(before);
    await stillIntact();
  });

  it("a stored counter far behind the newest is a duplicate, never refused; an unstored one is stored", async () => {
    for (let i = 0; i < 70; i++) await send(kiosk, good());
    await hub.ctx.ingest.settle();
    const before = await hub.ctx.store.countEvents();
    const rejectedBefore = hub.ctx.metrics.total("onsite_input_rejected_total");
    const dupBefore = hub.ctx.metrics.total("onsite_events_duplicate_total");
    const acksBefore = acks.length;
    // Counter 1 was stored long ago (70 counters back, outside the 64-wide window): a duplicate.
    await send(kiosk, { v: 1, type: "heartbeat", device: "kiosk-1", counter: 1, time: Date.now() });
    // So is the newest one.
    await send(kiosk, { v: 1, type: "heartbeat", device: "kiosk-1", counter, time: Date.now() });
    await eventually(() => hub.ctx.metrics.total("onsite_events_duplicate_total") === dupBefore + 2);
    expect(await hub.ctx.store.countEvents()).toBe(before);
    // A counter the device never delivered, however old, is a real event: stored.
    counter += 200;
    await send(kiosk, { v: 1, type: "heartbeat", device: "kiosk-1", counter, time: Date.now() });
    await send(kiosk, {
      v: 1,
      type: "heartbeat",
      device: "kiosk-1",
      counter: counter - 150,
      time: Date.now(),
    });
    await hub.ctx.ingest.settle();
    expect(await hub.ctx.store.countEvents()).toBe(before + 2);
    expect(hub.ctx.metrics.total("onsite_input_rejected_total")).toBe(rejectedBefore);
    expect(acks.slice(acksBefore).filter((a) => a.type === "ack" && a.status === "rejected")).toEqual([]);
  });

  it("an oversize payload closes the connection without storing anything", async () => {
    const c = await connect(hub, devices.kiosk.id, devices.kiosk.password, "kiosk-1");
    const before = await hub.ctx.store.countEvents();
    const closed = new Promise<void>((r) => c.once("close", () => r()));
    c.publish("onsite/v1/dev/kiosk-1/events", "x".repeat(5000), { qos: 1 });
    await closed;
    expect(refused("too_large")).toBe(1);
    expect(await hub.ctx.store.countEvents()).toBe(before);
    await c.endAsync(true);
    kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    await kiosk.subscribeAsync("onsite/v1/dev/kiosk-1/cmd", { qos: 1 });
    kiosk.on("message", (_t, p) => acks.push(decodeCommandPayload(p)));
    await stillIntact();
  });

  it("publishing to another device's topic is refused and disconnects", async () => {
    const c = await connect(hub, devices.kiosk.id, devices.kiosk.password, "kiosk-1");
    const closed = new Promise<void>((r) => c.once("close", () => r()));
    c.publish("onsite/v1/dev/badge-1/events", JSON.stringify({ ...good(), device: "badge-1" }), { qos: 1 });
    await closed;
    expect(refused("foreign_topic")).toBeGreaterThanOrEqual(1);
    await c.endAsync(true);
    kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    kiosk.on("message", (_t, p) => acks.push(decodeCommandPayload(p)));
    await kiosk.subscribeAsync("onsite/v1/dev/kiosk-1/cmd", { qos: 1 });
  });

  it("subscribing to another device's commands is refused (SUBACK 128)", async () => {
    // mqtt.js turns a SUBACK with return code 128 into a rejected subscription.
    await expect(kiosk.subscribeAsync("onsite/v1/dev/badge-1/cmd", { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    expect(refused("foreign_subscribe")).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ["unknown device", "ghost", "whatever", "ghost", "bad_credentials"],
    ["wrong password", "kiosk-1", "not-the-password", "kiosk-1", "bad_credentials"],
    ["client id not the device id", "kiosk-1", "", "someone-else", "client_id"],
    ["anonymous", "", "", "anon-1", "anonymous"],
  ])("%s cannot connect", async (_n, user, password, clientId, reason) => {
    const before = refused(reason);
    const pw = user === "kiosk-1" && password === "" ? devices.kiosk.password : password;
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
        clientId,
        ...(user ? { username: user, password: pw } : {}),
        reconnectPeriod: 0,
        connectTimeout: 3000,
      }),
    ).rejects.toThrow(/Bad username or password|Not authorized/);
    expect(refused(reason)).toBe(before + 1);
  });

  it("gateway frames: valid ones are accepted; bad MAC and unknown badge refused and counted", async () => {
    const gw = await connect(hub, "gw-1", gatewayPassword);
    const key = fromHex(devices.badge.key);
    const frame = (counter: number, k = key, badge = devices.badge.badgeNo) =>
      toHex(
        encodeFrame({ type: "arrival", badge, counter, time: Math.floor(Date.now() / 1000), battery: 90 }, k),
      );
    const forged = frame(2, fromHex("00".repeat(16)));
    const before = await hub.ctx.store.countEvents();
    const badMac = rejected("frame:bad_mac");
    const unknown = rejected("frame:unknown_device");
    await gw.publishAsync(
      "onsite/v1/gw/gw-1/frames",
      JSON.stringify({
        v: 1,
        gateway: "gw-1",
        frames: [
          { hex: frame(1), rssi: -60, rxTime: Date.now() },
          { hex: forged, rxTime: Date.now() },
          { hex: frame(3, key, 0x9999), rxTime: Date.now() },
        ],
      }),
      { qos: 1 },
    );
    await hub.ctx.ingest.settle();
    expect(await hub.ctx.store.countEvents()).toBe(before + 1);
    expect(rejected("frame:bad_mac")).toBe(badMac + 1);
    expect(rejected("frame:unknown_device")).toBe(unknown + 1);
    // The same frame relayed again is a duplicate: nothing new is stored.
    await gw.publishAsync(
      "onsite/v1/gw/gw-1/frames",
      JSON.stringify({ v: 1, gateway: "gw-1", frames: [{ hex: frame(1), rxTime: Date.now() }] }),
      { qos: 1 },
    );
    await hub.ctx.ingest.settle();
    expect(await hub.ctx.store.countEvents()).toBe(before + 1);
    await gw.endAsync();
  });

  it("/metrics exposes the refusals", async () => {
    const text = await (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`)).text();
    expect(text).toMatch(/onsite_input_rejected_total\{boundary="mqtt",code="bad_json"\} 1/);
    expect(text).toMatch(/onsite_mqtt_refused_total\{reason="too_large"\} 1/);
    expect(text).toMatch(/# TYPE onsite_commit_seconds histogram/);
  });
});
