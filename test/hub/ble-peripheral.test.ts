/**
 * The badge side of BLE on BlueZ's peripheral API: the badge program registers its advertisement
 * and GATT application with its own bluetoothd (a stand-in host on a private D-Bus) and the hub's
 * node-ble central reaches it over the shared air. Here: what bluetoothd refuses, and what the
 * badge does when its adapter or its bluetoothd goes away.
 */
import { afterEach, describe, expect, it } from "vitest";
import { callMethod, connectBus, errorName, type MessageBus } from "../../firmware/badge/bluez/dbus.js";
import { Advertisement } from "../../firmware/badge/bluez/objects.js";
import { bluetoothOn, openBus } from "../../hub/adapters/ble/node-ble.js";
import {
  ACK_CHAR_UUID,
  BADGE_SERVICE_UUID,
  COMPANY_ID,
  EVENT_CHAR_UUID,
  encodeDownlink,
  fromHex,
  TIME_CHAR_UUID,
} from "../../protocol/index.js";
import { openVisit } from "../firmware/rig.js";
import { type BleRig, startBleRig } from "./ble-rig.js";
import { eventually } from "./helpers.js";

const linked = (rig: BleRig, badge = "badge-1") =>
  rig.hub.radio.central?.linkedBadges().includes(badge) === true;
const eventsOf = async (rig: BleRig) => rig.hub.ctx.store.eventsOfVisit("V1");

/** A raw BlueZ client on a badge host's bus, to call the manager interfaces directly. */
async function client(address: string): Promise<MessageBus> {
  return connectBus(address);
}

const manager = (bus: MessageBus, iface: string, member: string, signature: string, body: unknown[]) =>
  callMethod(bus, { destination: "org.bluez", path: "/org/bluez/hci0", iface, member, signature, body });

const refusal = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return "no error";
  } catch (e) {
    return `${errorName(e)}: ${(e as { text?: string }).text ?? ""}`;
  }
};

describe("badge on BlueZ's peripheral API (LEAdvertisingManager1, GattManager1) against the stand-in", () => {
  let rig: BleRig | undefined;
  const buses: MessageBus[] = [];
  afterEach(async () => {
    for (const b of buses.splice(0)) b.disconnect();
    await rig?.stop();
    rig = undefined;
  });

  it("registers one advertisement and one application; bluetoothd shows them as BlueZ does", async () => {
    rig = await startBleRig();
    const b = await rig.addBadge();
    await eventually(() => b.peripheral.onAir, 5000);
    const bus = await client(b.host.busAddress);
    buses.push(bus);
    const [active] = await callMethod(bus, {
      destination: "org.bluez",
      path: "/org/bluez/hci0",
      iface: "org.freedesktop.DBus.Properties",
      member: "GetAll",
      signature: "s",
      body: ["org.bluez.LEAdvertisingManager1"],
    });
    const props = active as Record<string, { signature: string; value: unknown }>;
    expect(props.ActiveInstances).toMatchObject({ signature: "y", value: 1 });
    expect(props.SupportedInstances).toMatchObject({ signature: "y", value: 4 });
    expect(b.peripheral.stats.registrations).toBe(2);
    // The hub's BlueZ resolves the badge's service with its four characteristics, by handle.
    await eventually(() => linked(rig as BleRig), 8000);
    const hubBus = openBus(rig.bus.address);
    try {
      const adapter = await bluetoothOn(hubBus).defaultAdapter();
      const dev = await adapter.getDevice(b.host.address);
      expect(await dev.getName()).toBe("onsite-badge");
      const svc = await (await dev.gatt()).getPrimaryService(BADGE_SERVICE_UUID);
      expect((await svc.characteristics()).sort()).toHaveLength(4);
      const event = await svc.getCharacteristic(EVENT_CHAR_UUID);
      expect((await event.getFlags()).sort()).toEqual(["notify", "read"]);
    } finally {
      hubBus.disconnect();
    }
  });

  it("refuses what BlueZ refuses: AlreadyExists, DoesNotExist, too long, no objects, too many advertisements", async () => {
    rig = await startBleRig({ standIn: { maxAdvertisements: 2 } });
    const b = await rig.addBadge();
    await eventually(() => b.peripheral.onAir, 5000);
    const bus = await client(b.host.busAddress);
    buses.push(bus);
    const adv = new Advertisement(COMPANY_ID, "x", 100, () => {});
    bus.export("/test/adv0", adv);
    const register = (path: string) =>
      manager(bus, "org.bluez.LEAdvertisingManager1", "RegisterAdvertisement", "oa{sv}", [path, {}]);
    await register("/test/adv0");
    expect(await refusal(register("/test/adv0"))).toBe("org.bluez.Error.AlreadyExists: Already Exists");
    // The badge's and this one take both instances: a third is refused.
    const third = new Advertisement(COMPANY_ID, "y", 100, () => {});
    bus.export("/test/adv1", third);
    expect(await refusal(register("/test/adv1"))).toBe(
      "org.bluez.Error.NotPermitted: Maximum advertisements reached",
    );
    expect(
      await refusal(
        manager(bus, "org.bluez.LEAdvertisingManager1", "UnregisterAdvertisement", "o", ["/test/nope"]),
      ),
    ).toBe("org.bluez.Error.DoesNotExist: Does Not Exist");
    await manager(bus, "org.bluez.LEAdvertisingManager1", "UnregisterAdvertisement", "o", ["/test/adv0"]);
    // 27 bytes of manufacturer data plus the flags do not fit a 31-byte legacy advert.
    third.setData(new Uint8Array(27));
    expect(await refusal(register("/test/adv1"))).toBe(
      "org.bluez.Error.Failed: Failed to parse advertisement.",
    );
    expect(
      await refusal(
        manager(bus, "org.bluez.GattManager1", "RegisterApplication", "oa{sv}", ["/test/empty", {}]),
      ),
    ).toMatch(/^org\.bluez\.Error\.Failed: No object received/);
    expect(
      await refusal(manager(bus, "org.bluez.GattManager1", "UnregisterApplication", "o", ["/test/empty"])),
    ).toBe("org.bluez.Error.DoesNotExist: Does Not Exist");
  });

  it("a badge refused for want of an advertising instance keeps trying, and goes on the air when one frees", async () => {
    rig = await startBleRig({ standIn: { maxAdvertisements: 1 } });
    // Someone else's advertisement holds the only instance of the badge's controller.
    const host = rig.bluez.host("C4:11:22:33:44:01");
    await host.ready;
    const squatter = await client(host.busAddress);
    buses.push(squatter);
    squatter.export("/squat/adv0", new Advertisement(COMPANY_ID, "squat", 100, () => {}));
    await manager(squatter, "org.bluez.LEAdvertisingManager1", "RegisterAdvertisement", "oa{sv}", [
      "/squat/adv0",
      {},
    ]);
    const b = await rig.addBadge({ host });
    await eventually(() => b.peripheral.stats.refusals >= 1, 5000);
    expect(b.peripheral.stats.lastError).toBe("org.bluez.Error.NotPermitted");
    expect(b.peripheral.onAir).toBe(false);
    // The squatter leaves the bus: BlueZ drops its advertisement, and the badge's retry gets in.
    squatter.disconnect();
    await eventually(() => b.peripheral.onAir, 10_000);
    await eventually(() => linked(rig as BleRig), 10_000);
  }, 30_000);

  it("a GATT write of the wrong length is refused with the BlueZ error a central sees; the badge counts it", async () => {
    rig = await startBleRig({ ble: { maxLinks: 0 } });
    const b = await rig.addBadge();
    await eventually(() => b.peripheral.onAir, 5000);
    const hubBus = openBus(rig.bus.address);
    try {
      const adapter = await bluetoothOn(hubBus).defaultAdapter();
      const dev = await eventually(() => adapter.getDevice(b.host.address), 5000);
      await dev.connect();
      const svc = await (await dev.gatt()).getPrimaryService(BADGE_SERVICE_UUID);
      const ack = await svc.getCharacteristic(ACK_CHAR_UUID);
      const key = fromHex(rig.seeded.badge.key);
      const good = encodeDownlink(
        { type: "ack", badge: rig.seeded.badge.badgeNo, counter: 1, status: "accepted" },
        key,
      );
      // The badge answers org.bluez.Error.InvalidValueLength; BlueZ sends ATT error 0x0d; the
      // central's BlueZ (5.5x and later) reports it as InvalidArguments "Invalid Length".
      const short = await refusal(ack.writeValue(Buffer.from(good.subarray(0, 10)), { type: "request" }));
      expect(short).toBe("org.bluez.Error.InvalidArguments: Invalid Length");
      expect(await refusal(ack.writeValue(Buffer.from(good), { type: "request" }))).toBe("no error");
      // The event characteristic takes no writes at all.
      const event = await svc.getCharacteristic(EVENT_CHAR_UUID);
      expect(await refusal(event.writeValue(Buffer.from(good), { type: "request" }))).toBe(
        "org.bluez.Error.NotSupported: Operation is not supported",
      );
      // A time sync that is garbage but the right length: taken, ignored, counted.
      const time = await svc.getCharacteristic(TIME_CHAR_UUID);
      expect(await refusal(time.writeValue(Buffer.alloc(26, 0xa5), { type: "request" }))).toBe("no error");
      await dev.disconnect();
    } finally {
      hubBus.disconnect();
    }
    expect(b.radio.refused).toBe(2);
    expect(b.badge.clockOffsetMs).toBe(0);
  }, 30_000);

  it("the badge's adapter powered off mid-run: off the air, links drop; powered on: back, and the backlog is delivered", async () => {
    rig = await startBleRig();
    const { hub } = rig;
    await openVisit(hub);
    const b = await rig.addBadge();
    await eventually(() => linked(rig as BleRig), 8000);
    b.host.standIn.setPowered(false);
    await eventually(() => !b.peripheral.onAir && !linked(rig as BleRig), 5000);
    b.badge.press(); // arrival, while the badge's radio is off
    b.badge.press(); // gear_confirmed
    await new Promise((r) => setTimeout(r, 1500));
    expect(b.badge.queue).toHaveLength(2);
    expect(await eventsOf(rig)).toHaveLength(0);
    b.host.standIn.setPowered(true);
    await eventually(() => b.peripheral.onAir, 5000);
    await eventually(
      async () => (await eventsOf(rig as BleRig)).length === 2 && b.badge.queue.length === 0,
      15_000,
    );
    expect((await eventsOf(rig)).map((e) => e.event.type)).toEqual(["arrival", "gear_confirmed"]);
  }, 40_000);

  it("the badge's bluetoothd restarting: the advertisement is Released, the badge registers again and is heard", async () => {
    rig = await startBleRig();
    const { hub } = rig;
    await openVisit(hub);
    const b = await rig.addBadge();
    await eventually(() => linked(rig as BleRig), 8000);
    await b.host.standIn.stop();
    await eventually(() => b.peripheral.stats.releases === 1 && !b.peripheral.onAir, 5000);
    await eventually(() => !linked(rig as BleRig), 5000);
    b.badge.press(); // arrival while bluetoothd is down: it waits
    await b.host.standIn.restart();
    await eventually(() => b.peripheral.onAir, 10_000);
    expect(b.peripheral.stats.registrations).toBe(4);
    await eventually(
      async () =>
        (await eventsOf(rig as BleRig)).some((e) => e.event.type === "arrival") && b.badge.queue.length === 0,
      15_000,
    );
  }, 40_000);
});
