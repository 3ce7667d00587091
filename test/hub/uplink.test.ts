/**
 * Site to central (gateway mode), on two real hubs over MQTT: the central tier is down while the
 * site's kiosk sends 1,000 events spread over ten minutes and a dispatcher records visit events; the
 * site hub itself restarts in between. Once the central hub is back, every event arrives there
 * once, in the site's order; sending the whole log again changes nothing; a relay for another
 * site's kiosk or visit is refused by name.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../hub/adapters/store/sqlite/sqlite-store.js";
import type { Hub } from "../../hub/app.js";
import type { HubConfig } from "../../hub/config/config.js";
import { DEFAULT_CONFIG } from "../../hub/config/config.js";
import { defaultSite } from "../../hub/core/model.js";
import { encodeGatewayEvents } from "../../protocol/index.js";
import { freePort } from "../cluster/engines.js";
import { openVisit } from "../firmware/rig.js";
import { connect, ENGINEER, eventually, newToken, SITE, send, startHub, tempDir } from "./helpers.js";

const N = 1000;

describe("site to central, durable both ways", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("1,000 events made while the central tier is down arrive there once, in order, across a site restart", async () => {
    const port = await freePort();
    const centralDir = tempDir();
    const siteDir = tempDir();
    cleanups.push(
      () => centralDir.cleanup(),
      () => siteDir.cleanup(),
    );
    const mqtt: HubConfig["mqtt"] = { ...DEFAULT_CONFIG.mqtt, port, ratePerSecond: 5000, rateBurst: 5000 };

    // The central tier knows the site, its kiosk, the gateway and the visit; then it goes down.
    let central: Hub = await startHub(centralDir.path, {}, { mqtt });
    await central.ctx.store.putSite(SITE);
    await central.ctx.store.putSite(defaultSite({ id: "S2", name: "Other site", timeZone: "Asia/Shanghai" }));
    await central.ctx.store.putEngineer(ENGINEER);
    await central.ctx.provisioning.provision({ id: "kiosk-1", kind: "kiosk", siteId: "S1" });
    await central.ctx.provisioning.provision({ id: "kiosk-9", kind: "kiosk", siteId: "S2" });
    const gw = await central.ctx.provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" });
    await openVisit(central);
    await central.stop();

    // The site hub: its own kiosk and the same visit; it forwards to the central hub as gw-1.
    const siteConfig = {
      mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0, ratePerSecond: 5000, rateBurst: 5000 },
      ble: {
        ...DEFAULT_CONFIG.ble,
        mode: "off" as const,
        forward: { url: `mqtt://127.0.0.1:${port}`, gatewayId: "gw-1", password: gw.password },
      },
    };
    let site: Hub = await startHub(siteDir.path, {}, siteConfig);
    cleanups.push(() => site.stop());
    await site.ctx.store.putSite(SITE);
    await site.ctx.store.putEngineer(ENGINEER);
    const kiosk = await site.ctx.provisioning.provision({ id: "kiosk-1", kind: "kiosk", siteId: "S1" });
    await openVisit(site);
    const plan = await site.ctx.store.getVisit("V1");
    if (plan) site.ctx.visits.plansChanged([plan]);

    // The kiosk's heartbeats over the last ten minutes, in two halves with a site restart between.
    const t0 = Date.now() - 10 * 60_000;
    const sendHalf = async (from: number, to: number) => {
      const client = await connect(site, "kiosk-1", kiosk.password);
      for (let i = from; i < to; i += 50)
        await Promise.all(
          Array.from({ length: Math.min(50, to - i) }, (_, k) =>
            send(client, {
              v: 1,
              type: "heartbeat",
              device: "kiosk-1",
              counter: i + k + 1,
              time: t0 + (i + k) * 600,
            }),
          ),
        );
      await client.endAsync();
    };
    await sendHalf(0, N / 2);
    // A dispatcher's events for the visit, recorded at the site.
    for (let i = 0; i < 3; i++)
      expect(
        (
          await site.ctx.ingest.submitOperatorEvent(
            { type: "kit_checked", complete: false, missing: [`item-${i}`] },
            "dispatcher",
            "V1",
          )
        ).status,
      ).toBe("accepted");
    await site.ctx.ingest.settle();
    expect((await site.uplink?.backlog())?.events).toBe(N / 2 + 3);
    await site.stop();
    site = await startHub(siteDir.path, {}, siteConfig);
    await sendHalf(N / 2, N);
    await site.ctx.ingest.settle();
    expect((await site.uplink?.backlog())?.events).toBe(N + 3);
    // The site's own rules did not wait for the central tier.
    expect((await site.ctx.store.eventsOfVisit("V1")).length).toBe(3);

    // The central tier comes back: everything arrives, once.
    central = await startHub(centralDir.path, {}, { mqtt });
    cleanups.push(() => central.stop());
    await eventually(async () => (await site.uplink?.backlog())?.events === 0, 30_000);
    await central.ctx.ingest.settle();
    const all = await central.ctx.store.eventsAfter(0, 10 * N);
    const heartbeats = all.filter((e) => e.event.device === "kiosk-1");
    expect(heartbeats.map((e) => e.event.counter)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const operator = all.filter((e) => e.event.device === "gw-1_op-dispatcher");
    expect(operator.map((e) => e.event.type)).toEqual(["kit_checked", "kit_checked", "kit_checked"]);
    // Kept with the site's receive time and attributed to the visit at the central hub too.
    expect((await central.ctx.store.eventsOfVisit("V1")).map((e) => e.event.device)).toEqual([
      "gw-1_op-dispatcher",
      "gw-1_op-dispatcher",
      "gw-1_op-dispatcher",
    ]);
    const count = await central.ctx.store.countEvents();
    expect(count).toBe(N + 3);

    // The whole log sent again (the cursor lost, as with a site database restored from before it
    // moved): stored once all the same.
    await site.stop();
    {
      const db = new SqliteStore({ path: `${siteDir.path}/onsite.db` });
      await db.setUplinkCursor("central", 0);
      await db.close();
    }
    site = await startHub(siteDir.path, {}, siteConfig);
    await eventually(
      () => central.ctx.metrics.value("onsite_events_duplicate_total", { boundary: "relay" }) >= N,
      30_000,
    );
    await eventually(async () => (await site.uplink?.backlog())?.events === 0, 30_000);
    expect(await central.ctx.store.countEvents()).toBe(N + 3);

    // A gateway speaks only for its own site: another site's kiosk, another site's visit.
    const foreign = await central.ctx.ingest.submitRelayedEvents(
      "gw-1",
      encodeGatewayEvents({
        v: 1,
        gateway: "gw-1",
        events: [
          {
            event: { v: 1, type: "heartbeat", device: "kiosk-9", counter: 1, time: Date.now() },
            hubTime: Date.now(),
            clockOffsetMs: 0,
          },
          {
            event: {
              v: 1,
              type: "kit_checked",
              device: "op-x",
              counter: 1,
              time: Date.now(),
              visit: "V-NONE",
              complete: true,
            },
            hubTime: Date.now(),
            clockOffsetMs: 0,
          },
        ],
      }),
    );
    expect(foreign).toMatchObject([
      { status: "rejected", field: "/events/0/event/device" },
      { status: "rejected", field: "/events/1/event/visit" },
    ]);
    expect(await central.ctx.store.countEvents()).toBe(N + 3);
  }, 120_000);
});

describe("central to site: the site's picture flows down", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("visits and site configuration booked centrally reach the site hub, and their changes follow", async () => {
    const centralDir = tempDir();
    const siteDir = tempDir();
    cleanups.push(
      () => centralDir.cleanup(),
      () => siteDir.cleanup(),
    );
    const central: Hub = await startHub(centralDir.path);
    cleanups.push(() => central.stop());
    await central.ctx.store.putSite({ ...SITE, requiredPpe: ["helmet", "gloves"] });
    await central.ctx.store.putEngineer(ENGINEER);
    const gw = await central.ctx.provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" });
    await openVisit(central, "V1");
    await openVisit(central, "V2");

    // The site hub starts knowing nothing of the site.
    const site: Hub = await startHub(
      siteDir.path,
      {},
      {
        ble: {
          ...DEFAULT_CONFIG.ble,
          mode: "off",
          forward: { url: `mqtt://127.0.0.1:${central.mqttPort}`, gatewayId: "gw-1", password: gw.password },
        },
      },
    );
    cleanups.push(() => site.stop());
    await eventually(async () => (await site.ctx.store.getVisit("V2")) !== undefined, 10_000);
    expect((await site.ctx.store.getSite("S1"))?.requiredPpe).toEqual(["helmet", "gloves"]);
    expect((await site.ctx.store.getEngineer("E1"))?.name).toBe(ENGINEER.name);
    expect((await site.ctx.store.visitChanges("V1")).map((c) => [c.kind, c.by])).toEqual([
      ["created", "central"],
    ]);
    // The site's rules know the visit: its view is there.
    await eventually(
      async () =>
        (await site.ctx.visits.summary((await site.ctx.store.getVisit("V1")) as never)) !== undefined,
    );

    // Changed centrally: rescheduled, cancelled, the PPE rule changed.
    const v1 = await central.ctx.store.getVisit("V1");
    const v2 = await central.ctx.store.getVisit("V2");
    if (!v1 || !v2) throw new Error("no visits");
    const later = { ...v1, window: { from: v1.window.from + 3_600_000, to: v1.window.to + 3_600_000 } };
    await central.ctx.store.updateVisit(later, { at: Date.now(), by: "disp", kind: "rescheduled" });
    await central.ctx.store.updateVisit(
      { ...v2, cancelledAt: Date.now(), cancelReason: "customer away" },
      { at: Date.now(), by: "disp", kind: "cancelled" },
    );
    await central.ctx.store.putSite({ ...SITE, requiredPpe: ["helmet"] });
    await central.gatewaySync.tick();
    await eventually(async () => (await site.ctx.store.getVisit("V2"))?.cancelledAt !== undefined, 10_000);
    expect((await site.ctx.store.getVisit("V1"))?.window).toEqual(later.window);
    expect((await site.ctx.store.visitChanges("V1")).map((c) => c.kind)).toEqual(["created", "rescheduled"]);
    expect((await site.ctx.store.visitChanges("V2")).map((c) => c.kind)).toEqual(["created", "cancelled"]);
    expect((await site.ctx.store.getSite("S1"))?.requiredPpe).toEqual(["helmet"]);

    // Only the gateway gets its site's picture (contacts included), not an observer of everything.
    const observer = await connect(central, "api", await newToken(central, "supervisor", "watch"), "watcher");
    const seen: string[] = [];
    observer.on("message", (topic) => seen.push(topic));
    await observer.subscribeAsync("onsite/v1/#", { qos: 1 });
    await central.ctx.store.putSite({ ...SITE, requiredPpe: ["helmet"], name: "Shenyang plant, hall 2" });
    await central.gatewaySync.tick();
    await eventually(
      async () => (await site.ctx.store.getSite("S1"))?.name === "Shenyang plant, hall 2",
      10_000,
    );
    expect(seen.filter((t) => t.endsWith("/sync"))).toEqual([]);
    await observer.endAsync();

    // The same picture again changes nothing.
    const versions = (await site.ctx.store.siteVersions("S1")).length;
    await central.gatewaySync.tick();
    await new Promise((r) => setTimeout(r, 300));
    expect((await site.ctx.store.siteVersions("S1")).length).toBe(versions);
    expect((await site.ctx.store.visitChanges("V1")).length).toBe(2);
  }, 60_000);
});

describe("site to central: what the central hub would refuse", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("large events go in batches the central hub takes, and a dispatcher of the same name at both ends is not confused", async () => {
    const centralDir = tempDir();
    const siteDir = tempDir();
    cleanups.push(
      () => centralDir.cleanup(),
      () => siteDir.cleanup(),
    );
    // Default limits on the central hub: 16 KiB per publish.
    const central: Hub = await startHub(centralDir.path);
    cleanups.push(() => central.stop());
    await central.ctx.store.putSite(SITE);
    await central.ctx.store.putEngineer(ENGINEER);
    const gw = await central.ctx.provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" });
    await openVisit(central);
    const plan = await central.ctx.store.getVisit("V1");
    if (plan) central.ctx.visits.plansChanged([plan]);
    // The central tier's own dispatcher records something first (its op-dispatcher is now known there).
    expect(
      (
        await central.ctx.ingest.submitOperatorEvent(
          { type: "kit_checked", complete: true },
          "dispatcher",
          "V1",
        )
      ).status,
    ).toBe("accepted");

    const site: Hub = await startHub(
      siteDir.path,
      {},
      {
        ble: {
          ...DEFAULT_CONFIG.ble,
          mode: "off",
          forward: { url: `mqtt://127.0.0.1:${central.mqttPort}`, gatewayId: "gw-1", password: gw.password },
        },
      },
    );
    cleanups.push(() => site.stop());
    await eventually(async () => (await site.ctx.store.getVisit("V1")) !== undefined, 10_000);
    // Twelve kit lists of 50 items of 80 characters: about 4.5 KB each, 54 KB in all.
    const item = (i: number, k: number) => `${String(i).padStart(3, "0")}-${k}-${"x".repeat(74)}`;
    for (let i = 0; i < 12; i++)
      expect(
        (
          await site.ctx.ingest.submitOperatorEvent(
            {
              type: "kit_checked",
              complete: false,
              missing: Array.from({ length: 50 }, (_, k) => item(i, k)),
            },
            "dispatcher",
            "V1",
          )
        ).status,
      ).toBe("accepted");
    await eventually(async () => (await site.uplink?.backlog())?.events === 0, 20_000);
    await central.ctx.ingest.settle();
    const relayed = (await central.ctx.store.eventsOfVisit("V1")).filter(
      (e) => e.event.device === "gw-1_op-dispatcher",
    );
    expect(relayed).toHaveLength(12);
    // The central dispatcher's own event is still its own, once.
    expect(
      (await central.ctx.store.eventsOfVisit("V1")).filter((e) => e.event.device === "op-dispatcher"),
    ).toHaveLength(1);
    expect(central.ctx.metrics.value("onsite_mqtt_cut_off_total", { reason: "too_large" })).toBe(0);
  }, 60_000);
});
