import { afterEach, describe, expect, it } from "vitest";
import { openVisit } from "../firmware/rig.js";
import { type BleRig, startBleRig } from "./ble-rig.js";
import { eventually } from "./helpers.js";

const linked = (rig: BleRig) => rig.hub.radio.central?.linkedBadges().includes("badge-1") === true;

/** Signal listeners on the central's D-Bus connection (dbus-next keeps one per subscription). */
function busListeners(rig: BleRig): number {
  const signals = (rig.hub.radio.central as unknown as { dbus?: { _signals: NodeJS.EventEmitter } }).dbus
    ?._signals;
  if (!signals) throw new Error("the central has no bus");
  return signals.eventNames().reduce((n, e) => n + signals.listenerCount(e), 0);
}

describe("BLE: the central lets go of each link's node-ble objects", () => {
  let rig: BleRig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  it("links that come and go leave no D-Bus subscriptions behind", { timeout: 60_000 }, async () => {
    rig = await startBleRig();
    await openVisit(rig.hub);
    const b = await rig.addBadge();
    await eventually(() => linked(rig as BleRig), 8000);
    const once = busListeners(rig);
    for (let i = 0; i < 3; i++) {
      b.host.setInRange(false);
      await eventually(() => !linked(rig as BleRig), 8000);
      b.host.setInRange(true);
      await eventually(() => linked(rig as BleRig), 8000);
    }
    // Before the fix: every link added the device's and each characteristic's subscription (5 more).
    expect(busListeners(rig)).toBe(once);
  });
});
