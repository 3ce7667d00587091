/**
 * Telling people, on the dashboard, in Debian's Chromium: device health (online, stale, offline,
 * never heard; last seen with seconds; a badge's battery) kept fresh while the screen is open; the
 * notification outbox (delivered, pending, failed with the last error) with its filters and on the
 * visit's page; the site roll-call (who is there and why, a drill, an evacuation that — once
 * confirmed — texts everyone on the site's list, safe / missing marks, the end, past roll-calls)
 * and its printed result (PDF, read back with pdftotext, looked at as a PNG). In both languages, at
 * 1440×900 and 390×844, with axe-core and no sideways scrolling; screenshots in test-artifacts/.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { MqttClient } from "mqtt";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { DEFAULT_CONFIG } from "../../hub/config/config.js";
import type { RollCall } from "../../protocol/api.js";
import { api, connect, eventually, startHub, tempDir } from "../hub/helpers.js";
import { seriousFindings } from "./axe.js";
import { artifact, launch } from "./browser.js";
import { buildWorld, shanghai, type World } from "./world.js";

type Lang = "zh-CN" | "en";
type Size = "desktop" | "phone";
const SIZES = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } } as const;
const tag = (lang: Lang) => (lang === "en" ? "en" : "zh");
const MIN = 60_000;

describe("telling people, on the dashboard", { timeout: 180_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let w: World;
  let browser: Browser;
  let badge2: MqttClient;
  let ok: Server;
  let bad: Server;
  let sms: Server;
  const texts: Array<{ to: string; text: string }> = [];
  const contexts: BrowserContext[] = [];
  const base = () => `http://127.0.0.1:${hub.httpPort}/`;
  const listen = (s: Server) =>
    new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
  const receiver = (status: number, keep?: (body: string) => void) =>
    createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        keep?.(body);
        res.writeHead(status).end();
      });
    });

  beforeAll(async () => {
    dir = tempDir();
    ok = receiver(200);
    bad = receiver(500);
    sms = receiver(200, (body) => texts.push(JSON.parse(body) as { to: string; text: string }));
    const [okPort, badPort, smsPort] = [await listen(ok), await listen(bad), await listen(sms)];
    hub = await startHub(
      dir.path,
      {},
      {
        rules: { ...DEFAULT_CONFIG.rules, tickMs: 250 },
        notify: {
          sms: {
            url: `http://127.0.0.1:${smsPort}/send`,
            method: "POST",
            body: '{"to":"{{phone}}","text":{{text_json}}}',
          },
          maxAttempts: 2,
          retryBaseMs: 100,
        },
      },
    );
    w = await buildWorld(hub);
    // The site's list: a supervisor told of each SOS; a warden told of evacuations; the customer's
    // facilities manager, in her quiet hours now, told of acknowledgements (held back until they end).
    const hm = (ms: number) => shanghai(ms).slice(11, 16);
    const contacts = await api(hub, "PATCH", "/api/v1/sites/S1", w.tokens.admin, {
      contacts: [
        {
          id: "wang",
          name: "王经理",
          role: "supervisor",
          language: "zh-CN",
          phone: "+86 138 0000 0001",
          events: ["sos"],
          escalation: 1,
        },
        {
          id: "warden",
          name: "Li (warden)",
          role: "warden",
          language: "en",
          phone: "+86 138 0000 0002",
          events: ["evacuation"],
        },
        {
          id: "facilities",
          name: "Ms Chen (facilities)",
          role: "customer",
          language: "zh-CN",
          phone: "+86 138 0000 0003",
          events: ["alarm_acknowledged"],
          quietHours: { from: hm(Date.now() - 60 * MIN), to: hm(Date.now() + 120 * MIN) },
        },
      ],
    });
    expect(contacts.status).toBe(200);
    const secret = "a-webhook-secret-for-the-dashboard";
    for (const [port, events] of [
      [okPort, ["*"]],
      [badPort, ["sos"]],
    ] as const)
      expect(
        (
          await api(hub, "POST", "/api/v1/webhooks", w.tokens.admin, {
            url: `http://127.0.0.1:${port}/hook`,
            events,
            secret,
          })
        ).status,
      ).toBe(201);
    // More devices: a badge for E2 that reported a low battery and went quiet, a gateway never heard.
    const b2 = await hub.ctx.provisioning.provision({
      id: "badge-2",
      kind: "badge",
      engineerId: "E2",
      badgeNo: 0x2222,
    });
    await hub.ctx.provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" });
    badge2 = await connect(hub, "badge-2", b2.password);
    await w.ev(badge2, "badge-2", { type: "heartbeat", battery: 15 });
    await w.ev(w.badge, "badge-1", { type: "heartbeat", battery: 80 });
    await hub.ctx.ingest.settle();
    await badge2.endAsync();
    await eventually(async () => (await hub.ctx.store.getDevice("badge-2"))?.battery === 15);
    const d2 = await hub.ctx.store.getDevice("badge-2");
    if (d2) await hub.ctx.store.putDevice({ ...d2, lastSeenAt: Date.now() - 2 * MIN });
    // V1: on site (checked in, working), then an SOS; both badges heard at the site.
    await w.ev(w.badge, "badge-1", { type: "arrival", source: "ble" });
    await w.ev(w.kiosk, "kiosk-1", { type: "checkin_request", tag: "0A1B2C3D4E" });
    await w.ev(w.kiosk, "kiosk-1", { type: "checkin_confirmed", engineer: "E1", consent: true });
    await w.ev(w.badge, "badge-1", { type: "gear_confirmed", items: ["helmet", "safety_shoes"] });
    await w.ev(w.badge, "badge-1", { type: "work_started" });
    await w.ev(w.badge, "badge-1", { type: "sos", kind: "injury" });
    await hub.ctx.ingest.settle();
    const t0 = Date.now() - 10 * MIN;
    await hub.ctx.store.putPresence(
      ["badge-1", "badge-2"].map((b, i) => ({
        id: `P-${b}`,
        badge: b,
        gateway: "hub-radio",
        siteId: "S1",
        arrivedAt: t0 + i * MIN,
        lastHeardAt: Date.now(),
        departedAt: null,
        detectedAt: null,
        sightings: 40,
        rssi: [[t0, -60] as [number, number]],
        lastFrame: "01",
      })),
    );
    // The SOS told: the supervisor by text, both webhooks (one answers 500: failed after 2 attempts).
    await eventually(async () => {
      const all = await hub.ctx.store.listOutbox({ visitId: "V1" });
      return all.some((n) => n.status === "failed") && all.some((n) => n.status === "delivered");
    }, 10_000);
    const sos = (await api(hub, "GET", "/api/v1/alarms?visit=V1", w.tokens.supervisor))
      .body as unknown as Array<{
      at: number;
    }>;
    expect(
      (
        await api(hub, "POST", "/api/v1/alarms/ack", w.tokens.supervisor, {
          alarms: [{ visitId: "V1", alarmAt: sos[0]?.at }],
          note: "已电话联系",
        })
      ).status,
    ).toBe(200);
    browser = await launch();
  }, 90_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await w?.close();
    await hub?.stop();
    for (const s of [ok, bad, sms]) s?.close();
    dir?.cleanup();
  });

  async function open(token: string, lang: Lang, size: Size, hash: string): Promise<Page> {
    const context = await browser.newContext({ viewport: SIZES[size] });
    contexts.push(context);
    const page = await context.newPage();
    page.on("pageerror", (e) => {
      throw e;
    });
    await page.goto(base());
    await page.evaluate(
      `localStorage.setItem("onsite.token", ${JSON.stringify(token)}); localStorage.setItem("onsite.lang", ${JSON.stringify(lang)})`,
    );
    await page.goto(`${base()}${hash}`);
    await page.reload();
    await page.waitForSelector(hash.endsWith("/print") ? ".print-report" : "header.top", { timeout: 10_000 });
    return page;
  }
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: artifact(`${name}.png`), fullPage: true });
  const text = async (page: Page, selector: string) =>
    (await page.locator(selector).first().textContent()) ?? "";
  /** No sideways scrolling on a phone, no serious or critical axe finding: what is wrong, in words. */
  async function problems(page: Page, what: string): Promise<string[]> {
    const out: string[] = [];
    const width = await page.evaluate<number>("document.documentElement.scrollWidth");
    const viewport = page.viewportSize()?.width ?? 0;
    if (width > viewport) out.push(`${what}: ${width} px wide at ${viewport}`);
    for (const f of await seriousFindings(page))
      out.push(`${what}: ${f.impact} ${f.id} (${f.help}) at ${f.nodes.join(" | ")}`);
    return out;
  }

  const DEVICE_WORDS = {
    "zh-CN": {
      online: "在线",
      stale: "信号中断",
      offline: "离线",
      never: "从未连接",
      ago: /分钟前|秒钟前|现在/,
    },
    en: {
      online: "online",
      stale: "quiet (stale)",
      offline: "offline",
      never: "never heard",
      ago: /minutes? ago|seconds? ago|now/,
    },
  } as const;
  it.each([
    ["zh-CN", "desktop"],
    ["zh-CN", "phone"],
    ["en", "desktop"],
    ["en", "phone"],
  ] as const)(
    "shows each device's health in words, last seen with seconds and a badge's battery (%s, %s)",
    async (lang, size) => {
      const words = DEVICE_WORDS[lang];
      // A supervisor sees health (no provisioning); an admin sees it beside every device.
      const page = await open(w.tokens.supervisor, lang, size, "#/devices");
      await page.waitForSelector('tr[data-device="badge-2"]');
      expect(await page.locator("#provision").count()).toBe(0);
      expect(await text(page, 'tr[data-device="badge-1"] .health')).toBe(words.online);
      expect(await text(page, 'tr[data-device="kiosk-1"] .health')).toBe(words.online);
      expect(await text(page, 'tr[data-device="badge-2"] .health')).toBe(words.stale);
      expect(await text(page, 'tr[data-device="gw-1"] .health')).toBe(words.never);
      expect(await text(page, 'tr[data-device="badge-2"] .battery')).toContain("15%");
      expect(await page.locator('tr[data-device="badge-2"] .battery.low').count()).toBe(1);
      expect(await text(page, 'tr[data-device="badge-1"] .battery')).toContain("80%");
      expect(await text(page, 'tr[data-device="kiosk-1"] .battery-cell')).toBe("—");
      const seen = await text(page, 'tr[data-device="badge-2"] .seen');
      expect(seen).toMatch(words.ago);
      expect(seen).toMatch(/\d\d:\d\d:\d\d/);
      expect(await text(page, '#health-counts [data-health="stale"]')).toContain("1");
      const body = await text(page, "main");
      for (const code of ["stale", "never"]) if (lang === "zh-CN") expect(body).not.toContain(code);
      expect(await problems(page, `devices ${lang} ${size}`)).toEqual([]);
      await shot(page, `devices-health-${tag(lang)}-${size}`);
    },
  );

  it("keeps device health fresh while the screen is open: a badge gone silent turns offline without a reload", async () => {
    const page = await open(w.tokens.admin, "en", "desktop", "#/devices");
    await page.waitForSelector('tr[data-device="badge-2"][data-health="stale"]');
    // The admin's view: provisioning, revoke, and health beside every device.
    expect(await page.locator("#provision").count()).toBe(1);
    expect(await page.locator('[data-revoke="badge-2"]').count()).toBe(1);
    const d2 = await hub.ctx.store.getDevice("badge-2");
    if (d2) await hub.ctx.store.putDevice({ ...d2, lastSeenAt: Date.now() - 6 * MIN });
    await page.waitForSelector('tr[data-device="badge-2"][data-health="offline"]', { timeout: 15_000 });
    expect(await text(page, 'tr[data-device="badge-2"] .seen')).toMatch(/6 minutes ago/);
    await shot(page, "devices-health-admin-en-desktop");
    if (d2) await hub.ctx.store.putDevice({ ...d2, lastSeenAt: Date.now() - 2 * MIN });
  });

  const OUTBOX = {
    "zh-CN": {
      delivered: "已送达",
      pending: "待发送",
      failed: "发送失败",
      sos: "紧急求助",
      ack: "告警已确认",
      sms: "短信",
      none: "没有符合筛选条件的通知",
    },
    en: {
      delivered: "delivered",
      pending: "pending",
      failed: "failed",
      sos: "SOS",
      ack: "Alarm acknowledged",
      sms: "Text message",
      none: "No notifications match these filters",
    },
  } as const;
  it.each([
    ["zh-CN", "desktop"],
    ["zh-CN", "phone"],
    ["en", "desktop"],
    ["en", "phone"],
  ] as const)(
    "lists the outbox: delivered, pending until quiet hours end, failed with the last error; filters by status and site; on the visit's page (%s, %s)",
    async (lang, size) => {
      const o = OUTBOX[lang];
      const page = await open(w.tokens.dispatcher, lang, size, "#/notifications");
      await page.waitForSelector("tr[data-notification]");
      const found: string[] = [];
      // The failed webhook delivery: 2 attempts, the receiver's answer as the last error.
      const failed = page.locator('tr[data-status="failed"]').first();
      expect(await failed.locator(".outbox-status").textContent()).toBe(o.failed);
      expect(await failed.locator(".last-error").textContent()).toContain("webhook answered 500");
      expect(await failed.locator("[data-label]:nth-child(7)").textContent()).toContain("2");
      // The acknowledgement to the facilities manager waits for her quiet hours to end.
      const pending = page.locator('tr[data-status="pending"]').first();
      expect(await pending.textContent()).toContain(o.ack);
      expect(await pending.textContent()).toContain(o.sms);
      expect(await pending.textContent()).toContain("+86 138 0000 0003");
      expect(await pending.locator("[data-label]:nth-child(8)").textContent()).toMatch(/\d\d:\d\d:\d\d/);
      expect(await page.locator('tr[data-status="delivered"]').count()).toBeGreaterThanOrEqual(2);
      expect(await text(page, 'tr[data-status="delivered"] .outbox-status')).toBe(o.delivered);
      expect(await text(page, "table.notifications tbody")).toContain(o.sos);
      expect(await problems(page, `notifications ${lang} ${size}`)).toEqual(found);
      await shot(page, `notifications-${tag(lang)}-${size}`);
      // Filters, kept in the address.
      await page.selectOption("#filter-status", "failed");
      await page.waitForFunction(`location.hash.includes("status=failed")`);
      await page.waitForFunction(
        `document.querySelectorAll("tr[data-notification]").length > 0 && [...document.querySelectorAll("tr[data-notification]")].every((r) => r.dataset.status === "failed")`,
      );
      await page.selectOption("#filter-site", "S2");
      await page.waitForSelector("#outbox-empty");
      expect(await text(page, "#outbox-empty")).toContain(o.none);
      expect(page.url()).toMatch(/status=failed.*site=S2|site=S2.*status=failed/);
      // The visit's page: its own deliveries.
      await page.goto(`${base()}#/visit/V1`);
      await page.waitForSelector("#visit-notifications tr[data-notification]");
      const rows = await page.locator("#visit-notifications tr[data-notification]").count();
      expect(rows).toBe((await hub.ctx.store.listOutbox({ visitId: "V1" })).length);
      expect(await page.locator('#visit-notifications tr[data-status="failed"]').count()).toBeGreaterThan(0);
      expect(await problems(page, `visit notifications ${lang} ${size}`)).toEqual([]);
      await page
        .locator("#visit-notifications")
        .screenshot({ path: artifact(`visit-notifications-${tag(lang)}-${size}.png`) });
    },
  );

  const ROLLCALL = {
    "zh-CN": {
      drill: "点名演练",
      evacuation: "疏散点名",
      checkedIn: "已签到",
      heard: "现场接收到工牌信号",
      safe: "安全",
      missing: "失踪",
      signature: "安全员签字",
    },
    en: {
      drill: "Roll-call drill",
      evacuation: "Evacuation roll-call",
      checkedIn: "checked in",
      heard: "badge heard on site",
      safe: "Safe",
      missing: "Missing",
      signature: "Warden's signature",
    },
  } as const;
  it.each([
    ["zh-CN", "desktop", "evacuation"],
    ["en", "phone", "evacuation"],
    ["en", "desktop", "drill"],
    ["zh-CN", "phone", "drill"],
  ] as const)(
    "runs a roll-call (%s, %s, %s): who is there and why, start (an evacuation only once confirmed, then everyone on the list is texted), mark safe and missing, add someone found, end, print",
    async (lang, size, kind) => {
      const r = ROLLCALL[lang];
      const page = await open(w.tokens.supervisor, lang, size, "#/rollcall/S1");
      await page.waitForSelector('#present-list li[data-person="E2"]');
      const e1 = await text(page, '#present-list li[data-person="E1"]');
      expect(e1).toContain(r.checkedIn);
      expect(e1).toContain(r.heard);
      expect(e1).toContain("V1");
      expect(await text(page, '#present-list li[data-person="E2"]')).toContain(r.heard);
      expect(await page.locator('#present-list li[data-person="E3"]').count()).toBe(0);
      const before = (await hub.ctx.store.listRollCalls("S1", 50)).length;
      const textsBefore = texts.length;
      if (kind === "evacuation") {
        // Dismissed: nothing starts, nobody is told.
        let asked = "";
        page.once("dialog", (d) => {
          asked = d.message();
          void d.dismiss();
        });
        await page.click("#start-evacuation");
        await page.waitForTimeout(300);
        expect(asked).toContain("3");
        expect((await hub.ctx.store.listRollCalls("S1", 50)).length).toBe(before);
        page.once("dialog", (d) => void d.accept());
        await page.click("#start-evacuation");
      } else {
        await page.click("#start-drill");
      }
      await page.waitForSelector("#rollcall-current #rollcall-people");
      expect(await text(page, "#rollcall-current h2")).toContain(r[kind]);
      expect((await hub.ctx.store.listRollCalls("S1", 50)).length).toBe(before + 1);
      if (kind === "evacuation") {
        // Everyone on the site's list is texted at once, quiet hours or not.
        await eventually(() => texts.length >= textsBefore + 3, 10_000);
        expect(
          texts
            .slice(textsBefore)
            .map((t) => t.to)
            .sort(),
        ).toEqual(["+86 138 0000 0001", "+86 138 0000 0002", "+86 138 0000 0003"]);
      } else {
        await page.waitForTimeout(500);
        expect(texts.length).toBe(textsBefore);
      }
      expect(await page.locator("#rollcall-people tr[data-person]").count()).toBe(2);
      await page.click('#rollcall-people tr[data-person="E1"] [data-mark="safe"]');
      await page.waitForSelector('#rollcall-people tr[data-person="E1"][data-status="safe"]');
      await page.click('#rollcall-people tr[data-person="E2"] [data-mark="missing"]');
      await page.waitForSelector('#rollcall-people tr[data-person="E2"][data-status="missing"]');
      expect(
        await page
          .locator('#rollcall-people tr[data-person="E2"] [data-mark="missing"][aria-pressed="true"]')
          .count(),
      ).toBe(1);
      // Someone found who was not on the list.
      await page.selectOption('#add-person select[name="engineerId"]', "E3");
      await page.click('#add-person button[type="submit"]');
      await page.waitForSelector('#rollcall-people tr[data-person="E3"][data-status="safe"]');
      expect(await text(page, '#rollcall-counts [data-count="safe"]')).toContain("2");
      expect(await text(page, '#rollcall-counts [data-count="missing"]')).toContain("1");
      expect(await text(page, '#rollcall-people tr[data-person="E1"]')).toContain("Supervisor Wang");
      expect(await problems(page, `roll-call ${lang} ${size} ${kind}`)).toEqual([]);
      await shot(page, `rollcall-${kind}-${tag(lang)}-${size}`);
      const id = (await page.locator("#rollcall-current").getAttribute("data-rollcall")) ?? "";
      await page.click("#end-rollcall");
      await page.waitForSelector("#rollcall-current.ended");
      const stored = (await hub.ctx.store.getRollCall(id)) as RollCall;
      expect(stored.endedAt).not.toBeNull();
      expect(stored.people.map((p) => [p.engineerId, p.status]).sort()).toEqual([
        ["E1", "safe"],
        ["E2", "missing"],
        ["E3", "safe"],
      ]);
      // Ended: no more marks; it is among the site's roll-calls.
      expect(await page.locator("#rollcall-people [data-mark]").count()).toBe(0);
      expect(await page.locator(`#rollcall-list tr[data-rollcall="${id}"]`).count()).toBe(1);
      // The printable result, on A4.
      await page.click("#print-rollcall");
      await page.waitForSelector(".rollcall-print .print-people tbody tr");
      expect(await problems(page, `roll-call print ${lang} ${size}`)).toEqual([]);
      await page.emulateMedia({ media: "print" });
      const name = `rollcall-${kind}-${tag(lang)}-${size}`;
      const pdf = artifact(`${name}.pdf`);
      writeFileSync(pdf, await page.pdf({ format: "A4", printBackground: true, preferCSSPageSize: true }));
      execFileSync("pdftoppm", ["-png", "-r", "60", "-singlefile", pdf, artifact(`${name}-print`)]);
      const txt = execFileSync("pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" });
      for (const s of [
        r[kind],
        "Shenyang plant",
        "Zhang Wei",
        "李娜",
        r.safe,
        r.missing,
        "Supervisor Wang",
        r.signature,
      ])
        expect(txt).toContain(s);
      expect(txt).toMatch(/\d\d:\d\d:\d\d/);
      expect(txt).not.toContain(lang === "zh-CN" ? "退出登录" : "Sign out");
      // Nor the screen's own buttons.
      expect(txt).not.toContain(lang === "zh-CN" ? "返回" : "Back");
      if (lang === "en") expect(txt).not.toMatch(/\bPrint\b/);
      const info = execFileSync("pdfinfo", [pdf], { encoding: "utf8" });
      expect(info).toMatch(/Page size:.*\(A4\)/);
      expect(info).toMatch(/Pages:\s+1\n/);
    },
  );

  it("lets a dispatcher read roll-calls but not start one, and lists the site's past roll-calls, newest first", async () => {
    const page = await open(w.tokens.dispatcher, "en", "desktop", "#/rollcall/S1");
    await page.waitForSelector("#rollcall-list tbody tr");
    expect(await page.locator("#start-drill, #start-evacuation").count()).toBe(0);
    const listed = await page.$$eval("#rollcall-list tr[data-rollcall]", (rs) =>
      rs.map((r) => r.getAttribute("data-rollcall")),
    );
    const stored = (await hub.ctx.store.listRollCalls("S1", 50)).sort((a, b) => b.startedAt - a.startedAt);
    expect(listed).toEqual(stored.map((rc) => rc.id));
    expect(await text(page, "#rollcall-list tbody")).toContain("Evacuation roll-call");
    expect(await text(page, "#rollcall-list tbody")).toContain("Roll-call drill");
    // A past one opens, read-only.
    await page.click(`#rollcall-list tr[data-rollcall="${listed.at(-1)}"] a >> nth=0`);
    await page.waitForSelector(`#rollcall-current[data-rollcall="${listed.at(-1)}"]`);
    expect(await page.locator("#end-rollcall").count()).toBe(0);
    // The other site has none.
    await page.selectOption("#rollcall-site", "S2");
    await page.waitForFunction(`location.hash === "#/rollcall/S2"`);
    await page.waitForSelector("#present-none");
    expect(await problems(page, "roll-call S2 dispatcher")).toEqual([]);
    await shot(page, "rollcall-dispatcher-en-desktop");
  });
});
