import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame, fromHex } from "../../protocol/index.js";
import { openVisit } from "../firmware/rig.js";
import { provisionSameBadge, startBleRig } from "./ble-rig.js";
import { ENGINEER, eventually, SITE, startHub, tempDir } from "./helpers.js";

describe("gateway mode: a site hub forwards verified badge frames to a central hub", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("the central hub stores the badge's events and presence, and verifies every frame again", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const central = await startHub(dir.path);
    cleanups.push(() => central.stop());
    await central.ctx.store.putSite(SITE);
    await central.ctx.store.putEngineer(ENGINEER);
    const gw = await central.ctx.provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" });
    await openVisit(central);

    // The site hub: the badge is provisioned there too, with the key it carries.
    const site = await startBleRig({
      ble: {
        forward: { url: `mqtt://127.0.0.1:${central.mqttPort}`, gatewayId: "gw-1", password: gw.password },
      },
    });
    cleanups.push(() => site.stop());
    await provisionSameBadge(central, site);
    await openVisit(site.hub);
    const b = await site.addBadge();
    await eventually(() => site.hub.radio.central?.linkedBadges().includes("badge-1"), 8000);
    b.badge.press(); // arrival (advert and GATT)
    b.badge.press(); // gear (GATT only)
    const types = async () => (await central.ctx.store.eventsOfVisit("V1")).map((e) => e.event.type);
    await eventually(async () => (await types()).length === 2, 8000);
    expect(await types()).toEqual(["arrival", "gear_confirmed"]);
    expect((await site.hub.ctx.store.eventsOfVisit("V1")).map((e) => e.event.type)).toEqual(await types());
    // Presence at the central hub is per gateway, at the gateway's site.
    const p = await eventually(
      () => central.presence.tracker.present().find((s) => s.gateway === "gw-1"),
      5000,
    );
    expect(p.badge).toBe("badge-1");
    await eventually(async () => (await central.ctx.store.listPresence({ siteId: "S1" })).length === 1, 5000);

    // The gateway vouches for nothing: a frame it relays that does not verify is refused.
    const forged = encodeFrame(
      {
        type: "sos",
        badge: site.seeded.badge.badgeNo,
        counter: 9999,
        time: Math.floor(Date.now() / 1000),
        battery: 9,
      },
      fromHex("00".repeat(16)),
    );
    // A compromised site box relays it anyway.
    site.hub.uplink?.live(forged, { at: Date.now(), gateway: "hub-radio", rssi: -50 });
    await eventually(
      () =>
        central.ctx.metrics.value("onsite_input_rejected_total", { boundary: "frame", code: "bad_mac" }) ===
        1,
      5000,
    );
    expect(await types()).not.toContain("sos");
  });
});
