import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { openVisit } from "../firmware/rig.js";
import { provisionSameBadge, startBleRig } from "./ble-rig.js";
import { ENGINEER, eventually, SITE, startHub, tempDir } from "./helpers.js";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("gateway mode while the central hub is down", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("frames wait on the site hub and reach the central hub in order once it is back", async () => {
    // The central hub knows the gateway and the badge, then goes down.
    const port = await freePort();
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const mqtt = { host: "127.0.0.1", port, maxPayloadBytes: 16_384, ratePerSecond: 50, rateBurst: 500 };
    const first: Hub = await startHub(dir.path, {}, { mqtt });
    await first.ctx.store.putSite(SITE);
    await first.ctx.store.putEngineer(ENGINEER);
    const gw = await first.ctx.provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" });
    await openVisit(first);
    const site = await startBleRig({
      ble: { forward: { url: `mqtt://127.0.0.1:${port}`, gatewayId: "gw-1", password: gw.password } },
    });
    cleanups.push(() => site.stop());
    await provisionSameBadge(first, site);
    await first.stop();

    await openVisit(site.hub);
    const b = await site.addBadge();
    await eventually(() => site.hub.radio.central?.linkedBadges().includes("badge-1"), 8000);
    b.badge.press(); // arrival
    b.badge.press(); // gear
    b.badge.press(); // work started
    await eventually(() => b.badge.queue.length === 0, 8000);
    const uplink = site.hub.uplink;
    // Waiting in the site's own log, not in memory: a restart of the site hub would not lose them.
    expect((await uplink?.backlog())?.events).toBeGreaterThanOrEqual(3);

    const central: Hub = await startHub(dir.path, {}, { mqtt });
    cleanups.push(() => central.stop());
    const types = async () => (await central.ctx.store.eventsOfVisit("V1")).map((e) => e.event.type);
    await eventually(async () => (await types()).length === 3, 15_000);
    expect(await types()).toEqual(["arrival", "gear_confirmed", "work_started"]);
    await eventually(async () => (await uplink?.backlog())?.events === 0, 5000);
  }, 40_000);
});
