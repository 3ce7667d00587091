import type { MqttClient } from "mqtt";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import type { DeviceEvent } from "../../protocol/index.js";
import { openVisit } from "../firmware/rig.js";
import {
  api,
  connect,
  eventually,
  newToken,
  type SeededDevices,
  seed,
  send,
  startHub,
  tempDir,
} from "../hub/helpers.js";
import { artifact, launch } from "./browser.js";

describe("customer kiosk screen in Chromium", { timeout: 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let devices: SeededDevices;
  let browser: Browser;
  let page: Page;
  let badge: MqttClient;
  let kioskToken: string;
  let counter = 0;
  const engineer = (body: Record<string, unknown>) =>
    send(badge, { v: 1, device: "badge-1", counter: ++counter, time: Date.now(), ...body } as DeviceEvent);
  const view = () => hub.ctx.visits.view("V1");

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    devices = await seed(hub);
    await openVisit(hub);
    kioskToken = await newToken(hub, "kiosk", "tablet", "S1");
    badge = await connect(hub, devices.badge.id, devices.badge.password);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await badge?.endAsync();
    await hub?.stop();
    dir?.cleanup();
  });

  it("asks for its token once, then greets politely in Chinese", async () => {
    await page.goto(`http://127.0.0.1:${hub.httpPort}/kiosk/S1`);
    await page.fill("#kt", kioskToken);
    await page.click('#kiosk-login button[type="submit"]');
    await page.waitForSelector("text=您好！");
    expect(await page.locator("main").textContent()).toContain("欢迎");
  });

  it("shows the engineer who arrived and lets the customer confirm check-in", async () => {
    await engineer({ type: "arrival", source: "ble" });
    await page.waitForSelector("text=Zhang Wei");
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).toContain("Shengda");
    expect(text).toContain("准时到达");
    expect(text).toContain("请确认是否允许进入作业区域");
    expect(await page.locator(".avatar").textContent()).toBe("ZW");
    await page.screenshot({ path: artifact("kiosk-checkin.png") });
    await page.click("button[data-act=checkin-yes]");
    await eventually(async () => (await view())?.checkin?.consent === true);
    expect((await view())?.timeline.find((e) => e.type === "checkin_confirmed")?.source).toEqual({
      kind: "kiosk",
      siteId: "S1",
    });
    await page.waitForSelector("text=请稍等");
  });

  it("the customer confirms completion with a rating, then signs off the clean-up item by item", async () => {
    await engineer({ type: "gear_confirmed", items: ["helmet", "safety_shoes"] });
    await engineer({ type: "work_started" });
    await api(hub, "POST", "/api/v1/visits/V1/events", hub.adminToken, {
      type: "completion_submitted",
      cause: "worn seal",
      parts: [{ name: "seal", quantity: 1 }],
      workDone: "更换了密封件",
      advice: "每年检查",
    });
    await page.waitForSelector("text=请确认服务是否完成");
    await page.click("button[data-act=resolved]");
    await page.click('button[data-rate="4"]');
    await eventually(async () => (await view())?.completion?.rating === 4);
    await page.waitForSelector(".checklist");
    for (let i = 0; i < 5; i++) {
      await page.locator(".checklist button[data-item]").first().click();
      await eventually(async () => (await view())?.cleanup.signed.length === i + 1);
    }
    await page.waitForSelector("text=谢谢您的确认");
    expect((await view())?.complete).toBe(true);
    await page.screenshot({ path: artifact("kiosk-thanks.png") });
  });

  it("switches to English and says goodbye after the engineer leaves; never shows other customers", async () => {
    await page.click("button[data-act=lang]");
    await page.waitForSelector("text=Thank you for confirming");
    await engineer({ type: "departure", source: "ble" });
    await page.waitForSelector("text=goodbye");
    expect((await view())?.violations).toEqual([]);
    const other = await api(hub, "GET", "/api/v1/kiosk/S2/state", kioskToken);
    expect(other.status).toBe(404);
    expect((await api(hub, "GET", "/api/v1/visits", kioskToken)).status).toBe(403);
  });
});
