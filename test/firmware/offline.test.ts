import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Badge } from "../../firmware/badge/badge.js";
import { GatewayRadio } from "../../firmware/badge/radio.js";
import { BADGE_PROFILE } from "../../hardware/profiles/badge.js";
import { LightIO } from "../../hardware/virtual/light-io.js";
import type { Hub } from "../../hub/app.js";
import { resolveWindow } from "../../hub/core/time.js";
import { fromHex } from "../../protocol/index.js";
import { eventually, seed, startHub, tempDir } from "../hub/helpers.js";
import { startKioskRig } from "./rig.js";

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("devices keep working while the hub is down", { timeout: 90_000 }, () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it("kiosk (rebooted meanwhile) and badge deliver every event once, in order, judged by its own time", async () => {
    const mqttPort = await freePort();
    const patch = {
      mqtt: { host: "127.0.0.1", port: mqttPort, maxPayloadBytes: 16_384, ratePerSecond: 50, rateBurst: 500 },
    };
    let hub: Hub = await startHub(dir.path, {}, patch);
    const devices = await seed(hub);
    const gw = await hub.ctx.provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" });
    // The promised window closes 4 s from now: while the hub is down.
    const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 23);
    const now = Date.now();
    const window = resolveWindow(
      `${local(now - 600_000)}+08:00`,
      `${local(now + 4000)}+08:00`,
      "Asia/Shanghai",
    );
    await hub.ctx.store.insertVisits([{ id: "V1", siteId: "S1", engineerId: "E1", window }]);

    const radio = new GatewayRadio({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      gatewayId: "gw-1",
      password: gw.password,
    });
    await radio.start();
    const io = new LightIO();
    const badge = await Badge.start({
      io,
      profile: { ...BADGE_PROFILE, presenceIntervalS: 3600 },
      deviceId: "badge-1",
      badgeNo: devices.badge.badgeNo,
      key: fromHex(devices.badge.key),
      radio,
      stateDir: join(dir.path, "badge"),
      ppe: ["helmet", "safety_shoes"],
    });
    let rig = await startKioskRig(hub, "light", devices.kiosk.password, dir.path);
    await rig.waitLcd(/Welcome!/);

    // The hub goes away.
    await hub.stop();
    await eventually(() => !rig.kiosk.link.connected && !radio.inRange(devices.badge.badgeNo));
    const arrivedAt = Date.now();
    badge.press(); // arrival, inside the window
    badge.press(); // gear
    rig.tap("0A1B2C3D4E"); // the badge tapped at the kiosk
    await eventually(() => rig.kiosk.link.queue.length === 1);
    expect(badge.queue.map((q) => q.type)).toEqual(["arrival", "gear_confirmed"]);

    // The kiosk reboots while the hub is still down: its queue is on disk.
    await rig.stop();
    rig = await startKioskRig(hub, "light", devices.kiosk.password, dir.path);
    expect(rig.kiosk.link.queue.length).toBe(1);
    await new Promise((r) => setTimeout(r, Math.max(0, window.to - Date.now() + 500)));

    // The hub comes back, after the window has closed.
    hub = await startHub(dir.path, {}, patch);
    await eventually(() => rig.kiosk.link.queue.length === 0 && badge.queue.length === 0, 15_000);
    await hub.ctx.ingest.settle();
    const view = await eventually(async () => {
      const v = await hub.ctx.visits.view("V1");
      return v && v.timeline.length === 3 ? v : undefined;
    }, 10_000);
    expect(view.timeline.map((e) => [e.type, e.ref.device, e.ref.counter])).toEqual([
      ["arrival", "badge-1", 1],
      ["gear_confirmed", "badge-1", 2],
      ["checkin_request", "kiosk-1", 1],
    ]);
    // Judged by when it happened, not when it arrived: on time, and marked as late data.
    expect(view.arrival?.verdict.class).toBe("on_time");
    expect(Math.abs((view.arrival?.at ?? 0) - arrivedAt)).toBeLessThan(1500);
    expect(view.timeline.every((e) => e.hubTime > window.to)).toBe(true);
    expect(view.violations).toEqual([]);
    expect(await hub.ctx.store.countEvents()).toBe(3);
    // The kiosk picks up where it left off: the hub asks the customer now.
    await rig.waitLcd(/Zhang Wei\nOn time OK\?/, 10_000);

    await rig.stop();
    await badge.stop();
    await radio.stop();
    await hub.stop();
  });
});
