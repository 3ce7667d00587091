import type { MqttClient } from "mqtt";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import type { DeviceEvent } from "../../protocol/index.js";
import { openVisit } from "../firmware/rig.js";
import { connect, newToken, type SeededDevices, seed, send, startHub, tempDir } from "../hub/helpers.js";
import { artifact, launch } from "./browser.js";

describe("supervisor dashboard in Chromium", { timeout: 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let devices: SeededDevices;
  let browser: Browser;
  let page: Page;
  let badge: MqttClient;
  let kiosk: MqttClient;
  let supervisor: string;
  let kioskToken: string;
  let dispatcher: string;
  const n = new Map<string, number>();
  const ev = (device: string, body: Record<string, unknown>) => {
    const counter = (n.get(device) ?? 0) + 1;
    n.set(device, counter);
    return { v: 1, device, counter, time: Date.now(), ...body } as DeviceEvent;
  };

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    devices = await seed(hub);
    await openVisit(hub);
    supervisor = await newToken(hub, "supervisor", "Supervisor Wang");
    dispatcher = await newToken(hub, "dispatcher", "Dispatcher Li");
    kioskToken = await newToken(hub, "kiosk", "tablet", "S1");
    badge = await connect(hub, devices.badge.id, devices.badge.password);
    kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await badge?.endAsync();
    await kiosk?.endAsync();
    await hub?.stop();
    dir?.cleanup();
  });

  const url = () => `http://127.0.0.1:${hub.httpPort}/`;
  const row = () => page.locator('tr[data-visit="V1"]');

  it("refuses a wrong token, and a kiosk token", async () => {
    await page.goto(url());
    // Each answer replaces the message of the one before: wait for the new text, do not race it.
    const loginError = (pattern: RegExp) =>
      page.waitForFunction(
        `new RegExp(${JSON.stringify(pattern.source)}).test(document.querySelector("#login-error")?.textContent ?? "")`,
        undefined,
        { timeout: 5000 },
      );
    await page.fill("#token", "not-a-token");
    await page.click('#login button[type="submit"]');
    await loginError(/令牌无效|refused/);
    await page.fill("#token", kioskToken);
    await page.click('#login button[type="submit"]');
    await loginError(/无权|may not/);
    expect(await page.locator("#login-error").textContent()).not.toMatch(/令牌无效|refused/);
  });

  it("logs in, switches language (remembered), shows the site's visit", async () => {
    await page.fill("#token", supervisor);
    await page.click('#login button[type="submit"]');
    await page.waitForSelector('tr[data-visit="V1"]');
    expect(await row().locator(".state").textContent()).toBe("已安排");
    await page.selectOption("#lang", "en");
    expect(await row().locator(".state").textContent()).toBe("scheduled");
    await page.reload();
    await page.waitForSelector('tr[data-visit="V1"]');
    expect(await row().locator(".state").textContent()).toBe("scheduled");
    await page.waitForSelector(".status.live");
  });

  it("follows the visit live as MQTT events arrive, each within 1 s, with no reload", async () => {
    const step = async (client: MqttClient, event: DeviceEvent, expected: string) => {
      await send(client, event);
      const t0 = Date.now();
      await page.waitForFunction(
        `document.querySelector('tr[data-visit="V1"] .state')?.textContent === ${JSON.stringify(expected)}`,
        undefined,
        {
          timeout: 1000,
        },
      );
      return Date.now() - t0;
    };
    const times = [
      await step(badge, ev("badge-1", { type: "arrival", source: "ble" }), "arrived"),
      await step(kiosk, ev("kiosk-1", { type: "checkin_request", tag: "0A1B2C3D4E" }), "arrived"),
      await step(
        kiosk,
        ev("kiosk-1", { type: "checkin_confirmed", engineer: "E1", consent: true }),
        "checked in",
      ),
      await step(
        badge,
        ev("badge-1", { type: "gear_confirmed", items: ["helmet", "safety_shoes"] }),
        "checked in",
      ),
      await step(badge, ev("badge-1", { type: "work_started" }), "working"),
    ];
    expect(Math.max(...times)).toBeLessThan(1000);
    expect(await row().locator(".arrival").textContent()).toBe("on time");
  });

  it("an SOS and a departure without clean-up appear within 1 s, first and loud, until acknowledged", async () => {
    await send(badge, ev("badge-1", { type: "sos", kind: "injury" }));
    await page.waitForSelector(".alarm.sos", { timeout: 1000 });
    await send(
      kiosk,
      ev("kiosk-1", {
        type: "completion_submitted",
        cause: "seal",
        parts: [],
        workDone: "replaced",
        advice: "",
      }),
    );
    await send(kiosk, ev("kiosk-1", { type: "completion_confirmed", resolved: true, rating: 5 }));
    await send(badge, ev("badge-1", { type: "departure", source: "ble" }));
    await page.waitForSelector(".alarm.departed_without_cleanup", { timeout: 1000 });
    await page.waitForFunction(
      `document.querySelector('tr[data-visit="V1"] .violations')?.textContent?.includes("departed_without_cleanup")`,
      undefined,
      {
        timeout: 1000,
      },
    );
    const first = await page.locator(".alarms .alarm").first().getAttribute("class");
    expect(first).toContain("sos");
    await page.screenshot({ path: artifact("dashboard-alarms.png"), fullPage: true });
    await page.locator(".alarm.sos button").click();
    await page.waitForSelector(".alarm.sos", { state: "detached", timeout: 2000 });
    await page.locator(".alarm.departed_without_cleanup button").click();
    await page.waitForSelector(".alarms", { state: "detached", timeout: 2000 });
    expect((await hub.ctx.store.alarmAcks("V1")).map((a) => a.by)).toEqual([
      "Supervisor Wang",
      "Supervisor Wang",
    ]);
  });

  it("shows the visit's timeline and evidence, punctuality charts, and dispatch with per-row CSV errors", async () => {
    // Radio evidence as the BLE central records it (tested end to end in test/hub/ble.test.ts).
    const t0 = Date.now() - 20 * 60_000;
    await hub.ctx.store.putPresence([
      {
        id: "P1",
        badge: "badge-1",
        gateway: "hub-radio",
        siteId: "S1",
        arrivedAt: t0,
        lastHeardAt: t0 + 600_000,
        departedAt: t0 + 600_000,
        detectedAt: t0 + 612_000,
        sightings: 301,
        rssi: [
          [t0, -71],
          [t0 + 300_000, -58],
          [t0 + 600_000, -88],
        ],
        lastFrame: "01",
      },
    ]);
    await row().click();
    await page.waitForSelector(".visit-detail .timeline");
    expect(await page.locator(".timeline tbody tr").count()).toBe(9);
    expect(await page.locator(".evidence").textContent()).toContain("badge-1#");
    const presence = await page.locator("table.presence tbody").textContent();
    expect(presence).toContain("hub-radio");
    expect(presence).toContain("301");
    expect(presence).toContain("-88 … -71 … -58");
    expect(await page.locator("table.presence svg.spark").count()).toBe(1);
    await page.click('[data-view="punctuality"]');
    expect(await page.locator("#on-time-share").textContent()).toBe("100%");
    expect(await page.locator(".punctuality svg").count()).toBe(2);
    // Dispatch needs a dispatcher's token.
    await page.click("#signout");
    await page.fill("#token", dispatcher);
    await page.click('#login button[type="submit"]');
    await page.waitForSelector('[data-view="dispatch"]');
    await page.click('[data-view="dispatch"]');
    await page.fill(
      "#csv-text",
      "id,site_id,engineer_id,date,from,to\nC-1,S1,E1,2026-12-01,09:00,11:00\nC-2,S1,E9,2026-12-01,09:00,11:00\n",
    );
    // A live update re-renders the page meanwhile: what was typed stays.
    const csv = await page.locator("#csv-text").inputValue();
    const rendered = await page.evaluateHandle("document.querySelector('#csv-text')");
    hub.ctx.bus.emit("presence.changed", {
      kind: "arrived",
      session: {
        id: "P2",
        badge: "badge-1",
        gateway: "hub-radio",
        siteId: "S1",
        arrivedAt: Date.now(),
        lastHeardAt: Date.now(),
        departedAt: null,
        detectedAt: null,
        sightings: 1,
        rssi: [],
        lastFrame: "01",
      },
    });
    await page.waitForFunction((el) => !(el as { isConnected: boolean }).isConnected, rendered, {
      timeout: 5000,
    });
    expect(await page.locator("#csv-text").inputValue()).toBe(csv);
    await page.click('#import-csv button[type="submit"]');
    await page.waitForSelector("table.errors");
    expect(await page.locator("table.errors tbody").textContent()).toContain("engineer_id");
    await page.screenshot({ path: artifact("dashboard-dispatch.png"), fullPage: true });
    await page.click('[data-view="board"]');
    await page.screenshot({ path: artifact("dashboard.png"), fullPage: true });
  });

  it("shows a lost connection and recovers by itself", async () => {
    await page.waitForSelector(".status.live");
    hub.http.app.server.closeAllConnections();
    await page.waitForSelector(".status.down", { timeout: 5000 });
    await page.waitForSelector(".status.live", { timeout: 10_000 });
  });

  it("says when the hub's radio is not well, and stops saying it when it recovers", async () => {
    hub.ctx.health.set("ble", { ok: false, detail: "adapter hci0 powered off" });
    await page.click('[data-view="board"]');
    await page.waitForSelector("#radio", { timeout: 5000 });
    expect(await page.locator("#radio").textContent()).toContain("adapter hci0 powered off");
    hub.ctx.health.set("ble", { ok: true, detail: "1 adapter scanning, 0 linked" });
    await page.click('[data-view="board"]');
    await page.waitForSelector("#radio", { state: "detached", timeout: 5000 });
    hub.ctx.health.delete("ble");
  });
});
