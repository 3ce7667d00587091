import { afterEach, describe, expect, it } from "vitest";
import { bluetoothOn, openBus } from "../../hub/adapters/ble/node-ble.js";
import {
  ACK_CHAR_UUID,
  BADGE_SERVICE_UUID,
  encodeDownlink,
  encodeFrame,
  fromHex,
  TIME_CHAR_UUID,
} from "../../protocol/index.js";
import { openVisit } from "../firmware/rig.js";
import { type BleRig, startBleRig } from "./ble-rig.js";
import { api, connect, eventually, send } from "./helpers.js";

const linked = (rig: BleRig, badge = "badge-1") =>
  rig.hub.radio.central?.linkedBadges().includes(badge) === true;
const eventsOf = async (rig: BleRig, visit = "V1") => rig.hub.ctx.store.eventsOfVisit(visit);
const rejected = (rig: BleRig, code: string) =>
  rig.hub.ctx.metrics.value("onsite_input_rejected_total", { boundary: "frame", code });
const health = async (rig: BleRig) => {
  const r = await api(rig.hub, "GET", "/healthz", undefined);
  return {
    status: r.status,
    ble: (r.body.parts as Record<string, { ok: boolean; detail: string }> | undefined)?.ble,
  };
};

describe("BLE: node-ble central against the BlueZ stand-in on a real D-Bus", () => {
  let rig: BleRig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  it("discovers a badge from its signed advert, records presence with RSSI, links over GATT", async () => {
    rig = await startBleRig();
    const { hub } = rig;
    await openVisit(hub);
    const b = await rig.addBadge();
    b.host.radio.rssi = -58;
    const session = await eventually(
      () => hub.presence.tracker.present().find((s) => s.badge === "badge-1"),
      8000,
    );
    expect(session.gateway).toBe("hub-radio");
    await eventually(() => linked(rig as BleRig), 8000);
    await b.press(); // the button: arrival
    const arrival = await eventually(
      async () => (await eventsOf(rig as BleRig)).find((e) => e.event.type === "arrival"),
      8000,
    );
    expect(arrival.source).toEqual({ kind: "badge", engineerId: "E1" });
    // Stored from the advert at once; the badge lets go of it once the GATT ack arrives.
    await eventually(() => b.badge.queue.length === 0, 5000);
    await eventually(async () => {
      hub.presence.flush();
      const r = await hub.ctx.store.listPresence({ badge: "badge-1" });
      return r[0]?.siteId === "S1" && r[0].rssi.length > 2 && r[0].rssi.every(([, v]) => v === -58);
    }, 15000);
    expect(await health(rig)).toMatchObject({ status: 200, ble: { ok: true } });
  });

  it("GATT: long frames arrive as notifications, each acked by counter; time sync and signals are written", async () => {
    const skew = -5 * 60_000;
    rig = await startBleRig();
    const { hub } = rig;
    await openVisit(hub);
    const b = await rig.addBadge({ clock: () => Date.now() + skew });
    await eventually(() => linked(rig as BleRig), 8000);
    // The hub's signed time sync corrected the badge clock.
    await eventually(() => Math.abs(b.badge.clockOffsetMs + skew) < 2000, 5000);
    b.badge.press(); // arrival
    b.badge.press(); // gear_confirmed: a long frame, GATT only
    b.badge.lateNotice();
    await eventually(
      async () => (await eventsOf(rig as BleRig)).length >= 3 && b.badge.queue.length === 0,
      8000,
    );
    const events = await eventsOf(rig);
    expect(events.map((e) => e.event.type)).toEqual(["arrival", "gear_confirmed", "late_notice"]);
    const gear = events[1]?.event;
    expect(gear?.type === "gear_confirmed" && gear.items).toEqual(["helmet", "safety_shoes"]);
    // Device time, corrected: within a few seconds of the hub's.
    for (const e of events) expect(Math.abs(e.event.time - e.hubTime)).toBeLessThan(3000);
    // The badge has each ack before the hub's write call returns and counts it: wait for the count.
    await eventually(() => hub.ctx.metrics.value("onsite_ble_writes_total", { type: "ack" }) >= 3, 3000);
    hub.ctx.bus.emit("device.command", {
      device: "badge-1",
      command: { v: 1, type: "signal", time: Date.now(), pattern: "cleanup_missing", repeat: 2 },
    });
    await eventually(() => b.badge.lastSignal === "cleanup_missing", 5000);
    // A signal for a badge out of range waits for its next link.
    b.host.setInRange(false);
    await eventually(() => !linked(rig as BleRig), 5000);
    hub.ctx.bus.emit("device.command", {
      device: "badge-1",
      command: { v: 1, type: "signal", time: Date.now(), pattern: "alarm", repeat: 1 },
    });
    b.host.setInRange(true);
    await eventually(() => b.badge.lastSignal === "alarm", 10_000);
  });

  it("a badge that leaves range with a backlog delivers it once, in order, judged by its own time", async () => {
    rig = await startBleRig();
    const { hub } = rig;
    await openVisit(hub);
    const b = await rig.addBadge();
    await eventually(() => linked(rig as BleRig), 8000);
    // Present first (arrival takes a few rotations), so that leaving makes a departure.
    await eventually(() => hub.presence.tracker.isPresent("badge-1", "hub-radio"), 8000);
    b.host.setInRange(false);
    await eventually(() => !linked(rig as BleRig), 5000);
    const departed = await eventually(
      async () => (await hub.ctx.store.listPresence({ badge: "badge-1", open: false }))[0],
      10_000,
    );
    expect(departed.departedAt).not.toBeNull();
    // Departure declared within the longest silence (3 s) plus one presence tick.
    expect((departed.detectedAt ?? 0) - (departed.departedAt ?? 0)).toBeLessThanOrEqual(3600);
    const pressedAt: number[] = [];
    for (const step of ["arrival", "gear", "work_started"]) {
      pressedAt.push(Date.now());
      b.badge.press();
      await new Promise((r) => setTimeout(r, 1100));
      expect(step).toBeTruthy();
    }
    expect(b.badge.queue.length).toBe(3);
    expect(await eventsOf(rig)).toHaveLength(0);
    b.host.setInRange(true);
    await eventually(
      async () => (await eventsOf(rig as BleRig)).length === 3 && b.badge.queue.length === 0,
      15_000,
    );
    const events = await eventsOf(rig);
    expect(events.map((e) => e.event.type)).toEqual(["arrival", "gear_confirmed", "work_started"]);
    events.forEach((e, i) => {
      // Its own time (whole seconds), not the time it reached the hub.
      expect(Math.abs(e.event.time - (pressedAt[i] as number))).toBeLessThan(1500);
      expect(e.hubTime - e.event.time).toBeGreaterThan(500);
    });
    const counters = events.map((e) => e.event.counter);
    expect([...counters].sort((x, y) => x - y)).toEqual(counters);
    // A second presence session began when it came back.
    await eventually(
      async () => (await hub.ctx.store.listPresence({ badge: "badge-1", open: true })).length === 1,
      5000,
    );
  });

  it("forged, altered and replayed frames are refused and counted; forged acks do not empty a badge's queue", async () => {
    rig = await startBleRig({ ble: { maxLinks: 0 } });
    const { hub, seeded } = rig;
    await openVisit(hub);
    const key = fromHex(seeded.badge.key);
    const rogue = await rig.rogue("D0:00:00:00:00:66");
    const frame = (counter: number, k = key) =>
      encodeFrame(
        {
          type: "arrival",
          badge: seeded.badge.badgeNo,
          counter,
          time: Math.floor(Date.now() / 1000),
          battery: 50,
        },
        k,
      );
    // Forged: signed with a key that is not the badge's.
    rogue.advertise(frame(500, new Uint8Array(16).fill(7)));
    await eventually(() => rejected(rig as BleRig, "bad_mac") >= 1, 5000);
    // Altered: a genuine frame with one bit flipped in its counter.
    const altered = frame(501);
    altered[9] = (altered[9] as number) ^ 0x01;
    rogue.advertise(altered);
    await eventually(() => rejected(rig as BleRig, "bad_mac") >= 2, 5000);
    // Genuine, then replayed: the same bytes again, even once the counter has moved far past the
    // replay window, are a duplicate (the store has them), never stored twice.
    const old = frame(502);
    rogue.advertise(old);
    await eventually(async () => (await eventsOf(rig as BleRig)).length === 1, 5000);
    rogue.advertise(frame(700));
    await eventually(async () => (await eventsOf(rig as BleRig)).length === 2, 5000);
    const dups = hub.ctx.metrics.value("onsite_events_duplicate_total", { boundary: "frame" });
    rogue.advertise(old);
    await eventually(
      () => hub.ctx.metrics.value("onsite_events_duplicate_total", { boundary: "frame" }) > dups,
      5000,
    );
    // A genuine frame the hub never heard, far behind the newest counter, is a real event: stored.
    rogue.advertise(frame(600));
    await eventually(async () => (await eventsOf(rig as BleRig)).length === 3, 5000);
    expect((await eventsOf(rig)).map((e) => e.event.counter).sort()).toEqual([502, 600, 700]);
    expect(rejected(rig, "replayed")).toBe(0);

    // A rogue central writes a forged ack and a stale time to a real badge over GATT.
    const b = await rig.addBadge({ address: "C4:11:22:33:44:02" });
    await eventually(() => b.radio.inRange(), 5000);
    b.host.setInRange(false);
    b.badge.press();
    b.host.setInRange(true);
    const rogueBus = openBus(rig.bus.address);
    const bluetooth = bluetoothOn(rogueBus);
    try {
      const adapter = await bluetooth.defaultAdapter();
      const dev = await eventually(() => adapter.getDevice("C4:11:22:33:44:02"), 5000);
      await dev.connect();
      const svc = await (await dev.gatt()).getPrimaryService(BADGE_SERVICE_UUID);
      const counter = Number(b.badge.queue[0] && new DataView(b.badge.queue[0].frame.buffer).getUint32(6));
      const forged = encodeDownlink(
        { type: "ack", badge: seeded.badge.badgeNo, counter, status: "accepted" },
        new Uint8Array(16).fill(9),
      );
      await (await svc.getCharacteristic(ACK_CHAR_UUID)).writeValue(Buffer.from(forged));
      // A genuinely signed time sync whose echoed counter the badge never used (a replay from
      // another session, or made up): refused.
      const stale = encodeDownlink(
        { type: "time", badge: seeded.badge.badgeNo, hubTime: 1000, counter: counter + 1000 },
        key,
      );
      await (await svc.getCharacteristic(TIME_CHAR_UUID)).writeValue(Buffer.from(stale));
      await dev.disconnect();
    } finally {
      rogueBus.disconnect();
    }
    expect(b.radio.refused).toBe(2);
    expect(b.badge.clockOffsetMs).toBe(0);
    expect(b.badge.queue).toHaveLength(1);
  }, 30_000);

  it("an adapter powered off degrades /healthz, MQTT keeps working, and discovery resumes when it is back", async () => {
    rig = await startBleRig();
    const { hub, seeded } = rig;
    await openVisit(hub);
    const b = await rig.addBadge();
    await eventually(() => linked(rig as BleRig), 8000);
    rig.bluez.setPowered(false);
    await eventually(async () => (await health(rig as BleRig)).status === 503, 5000);
    expect((await health(rig)).ble?.detail).toMatch(/hci0 powered off/);
    expect(linked(rig)).toBe(false);
    // MQTT is untouched: the kiosk's event is accepted meanwhile.
    const kiosk = await connect(hub, seeded.kiosk.id, seeded.kiosk.password);
    await send(kiosk, {
      v: 1,
      type: "checkin_confirmed",
      device: "kiosk-1",
      counter: 1,
      time: Date.now(),
      visit: "V1",
      engineer: "E1",
      consent: true,
    });
    await kiosk.endAsync();
    await eventually(
      async () => (await eventsOf(rig as BleRig)).some((e) => e.event.type === "checkin_confirmed"),
      5000,
    );
    rig.bluez.setPowered(true);
    await eventually(async () => (await health(rig as BleRig)).status === 200, 8000);
    await eventually(() => linked(rig as BleRig), 8000);
    b.badge.press();
    await eventually(
      async () => (await eventsOf(rig as BleRig)).some((e) => e.event.type === "arrival"),
      8000,
    );
  });

  it("BlueZ restarting and D-Bus going away are survived: reported, then recovered", async () => {
    rig = await startBleRig();
    const { hub } = rig;
    await openVisit(hub);
    const b = await rig.addBadge();
    await eventually(() => linked(rig as BleRig), 8000);

    await rig.bluez.stop();
    await eventually(
      async () => (await health(rig as BleRig)).ble?.detail.includes("BlueZ not running"),
      5000,
    );
    await rig.bluez.restart();
    await eventually(() => linked(rig as BleRig), 10_000);
    b.badge.press();
    await eventually(
      async () => (await eventsOf(rig as BleRig)).some((e) => e.event.type === "arrival"),
      8000,
    );

    await rig.bus.kill();
    await eventually(
      async () => (await health(rig as BleRig)).ble?.detail.includes("D-Bus unavailable"),
      8000,
    );
    expect((await api(hub, "GET", "/api/v1/sites", hub.adminToken)).status).toBe(200);
    await rig.bus.restart();
    await rig.bluez.restart();
    await eventually(() => linked(rig as BleRig), 20_000);
    b.badge.press();
    await eventually(
      async () => (await eventsOf(rig as BleRig)).some((e) => e.event.type === "gear_confirmed"),
      8000,
    );
    expect((await health(rig)).status).toBe(200);
  }, 60_000);

  it("a badge that never answers a connection is dropped without holding up another", async () => {
    rig = await startBleRig();
    const { hub } = rig;
    await openVisit(hub);
    const badge2 = await rig.provisionBadge("badge-2", 0x2222);
    const mute = await rig.addBadge({
      address: "C4:11:22:33:44:0F",
      device: badge2,
    });
    mute.host.radio.connectable = false;
    const ok = await rig.addBadge();
    // The answering badge links and delivers while the mute one's connects keep failing.
    await eventually(() => linked(rig as BleRig), 8000);
    ok.badge.press();
    await eventually(
      async () => (await eventsOf(rig as BleRig)).some((e) => e.event.type === "arrival"),
      5000,
    );
    expect(hub.ctx.metrics.total("onsite_ble_badges_dropped_total")).toBe(0);
    await eventually(() => hub.ctx.metrics.total("onsite_ble_badges_dropped_total") >= 1, 15_000);
    expect(linked(rig, "badge-2")).toBe(false);
    expect(linked(rig, "badge-1")).toBe(true);
    // Its adverts still count: presence is recorded without a link.
    expect(hub.presence.tracker.isPresent("badge-2", "hub-radio")).toBe(true);
  }, 30_000);

  it("with every link slot taken, an idle link is released so a waiting badge gets its turn", async () => {
    rig = await startBleRig({ ble: { maxLinks: 1 } });
    const { hub } = rig;
    await openVisit(hub);
    const badge2 = await rig.provisionBadge("badge-2", 0x2222);
    const first = await rig.addBadge();
    await eventually(() => linked(rig as BleRig, "badge-1"), 8000);
    const second = await rig.addBadge({
      address: "C4:11:22:33:44:22",
      device: badge2,
    });
    second.badge.press();
    second.badge.press(); // gear_confirmed: a long frame, it needs a link
    await eventually(() => second.badge.queue.length === 0, 20_000);
    expect(hub.radio.central?.linkedBadges()).toEqual(["badge-2"]);
    // And back: the first badge's long frame goes out once the second's link is idle.
    first.badge.press();
    first.badge.press();
    await eventually(() => first.badge.queue.length === 0, 20_000);
    const gear = (await eventsOf(rig))
      .filter((e) => e.event.type === "gear_confirmed")
      .map((e) => e.event.device);
    expect(gear.sort()).toEqual(["badge-1", "badge-2"]);
  }, 45_000);

  it("scans on every adapter; one powered off is reported while the other keeps hearing badges", async () => {
    rig = await startBleRig({ standIn: { adapters: ["hci0", "hci1"] } });
    const { hub } = rig;
    await openVisit(hub);
    await eventually(
      async () => (await health(rig as BleRig)).ble?.detail.startsWith("2 adapters scanning"),
      5000,
    );
    const b = await rig.addBadge();
    await eventually(
      () => rig?.bluez.adapter("hci1").devices.size === 1 && rig.bluez.adapter("hci0").devices.size === 1,
      5000,
    );
    rig.bluez.setPowered(false, "hci0");
    await eventually(
      async () => (await health(rig as BleRig)).ble?.detail === "adapter hci0 powered off",
      5000,
    );
    // hci1 still hears the badge and links it.
    await eventually(() => linked(rig as BleRig), 10_000);
    b.badge.press();
    await eventually(
      async () => (await eventsOf(rig as BleRig)).some((e) => e.event.type === "arrival"),
      8000,
    );
  }, 30_000);
});
