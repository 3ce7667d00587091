import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { connect, eventually, type SeededDevices, seed, send, startHub, tempDir } from "../hub/helpers.js";
import { type KioskRig, openVisit, startKioskRig } from "./rig.js";

/**
 * The kiosk program on an emulated Uno running the real StandardFirmata, end to end against a real
 * hub: RFID tap and button presses go through StandardFirmata, firmata-io and johnny-five, reach the
 * hub as events, and the LCD text read back from the emulated PCF8574 backpack shows the hub's answer.
 */
describe("kiosk on the emulated Uno", { timeout: 180_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let devices: SeededDevices;
  let rig: KioskRig;
  let badge: MqttClient;
  let n = 0;

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    devices = await seed(hub);
    await openVisit(hub);
    badge = await connect(hub, devices.badge.id, devices.badge.password);
    rig = await startKioskRig(hub, "emulated", devices.kiosk.password, dir.path);
  }, 60_000);
  afterAll(async () => {
    await rig?.stop();
    await badge?.endAsync();
    await hub?.stop();
    dir?.cleanup();
  });

  const view = () => hub.ctx.store.getView("V1");
  const engineer = (body: Record<string, unknown>) =>
    send(badge, { v: 1, device: "badge-1", counter: ++n, time: Date.now(), ...body } as never);

  it("greets, then a badge tap shows who it is and the arrival result", async () => {
    await rig.waitLcd(/Welcome!\nTap badge here/);
    rig.tap("0A1B2C3D4E", true);
    expect(await rig.waitLcd(/Zhang Wei\nOn time OK\?/)).toBeTruthy();
    expect(rig.kiosk.state).toBe("confirm_checkin");
    expect(rig.board.output(5)).toBe(true); // green LED: the customer is asked
    expect((await view())?.arrival?.source).toBe("kiosk_tap");
  });

  it("the customer confirms check-in with the button", async () => {
    await rig.press("confirm");
    await eventually(async () => (await view())?.state === "checked_in");
    expect(await rig.waitLcd(/Please wait:\nPPE check/)).toBeTruthy();
  });

  it("after the work, the customer confirms completion with a rating", async () => {
    await engineer({ type: "gear_confirmed", items: ["helmet", "safety_shoes"] });
    await engineer({ type: "work_started" });
    await engineer({
      type: "completion_submitted",
      cause: "worn seal",
      parts: [{ name: "seal", quantity: 1 }],
      workDone: "replaced",
      advice: "yearly check",
    });
    await rig.waitLcd(/Job done\?/);
    await rig.press("confirm"); // resolved
    await rig.waitLcd(/Rating: 5\/5/);
    await rig.press("next"); // 1
    await rig.press("next"); // 2
    await rig.waitLcd(/Rating: 2\/5/);
    await rig.press("confirm");
    await eventually(async () => (await view())?.completion?.rating === 2);
    expect((await view())?.completion?.resolved).toBe(true);
  });

  it("signs off the clean-up checklist item by item, then thanks", async () => {
    for (let i = 0; i < 5; i++) {
      const item = await eventually(() => rig.kiosk.cleanupItem);
      // The emulated LCD is slow to draw under load: wait until it shows what the program printed.
      await rig.waitSettled();
      expect(rig.lcd()).toMatch(/^Please check:\n/);
      await rig.press("confirm");
      await eventually(async () => (await view())?.cleanup.signed.includes(item as never));
    }
    expect(await rig.waitLcd(/All signed off\nThank you!/)).toBeTruthy();
    expect((await view())?.complete).toBe(true);
  });

  it("tapping out says goodbye and the visit is clean", async () => {
    rig.tap("0A1B2C3D4E");
    await rig.waitLcd(/Goodbye/);
    const v = await view();
    expect(v?.state).toBe("departed");
    expect(v?.violations).toEqual([]);
  });
});
