import { afterEach, describe, expect, it } from "vitest";
import { openVisit } from "../firmware/rig.js";
import { type BleRig, startBleRig } from "./ble-rig.js";
import { eventually } from "./helpers.js";

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
    b.peripheral.rssi = -58;
    const session = await eventually(() => hub.presence.tracker.present().find((s) => s.badge === "badge-1"), 8000);
    expect(session.gateway).toBe("hub-radio");
    await eventually(() => hub.radio.central?.linkedBadges().includes("badge-1"), 8000);
    b.badge.press(); // arrival
    await eventually(async () => (await hub.ctx.store.eventsOfVisit("V1")).some((e) => e.event.type === "arrival"), 8000);
    const rows = await hub.ctx.store.listPresence({ badge: "badge-1" });
    expect(rows[0]?.siteId).toBe("S1");
    await eventually(async () => {
      await hub.presence.flush();
      const r = await hub.ctx.store.listPresence({ badge: "badge-1" });
      return r[0] && r[0].rssi.length > 0 && r[0].rssi.every(([, v]) => v === -58);
    }, 15000);
  });
});
