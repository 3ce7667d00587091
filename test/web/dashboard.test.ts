/**
 * The supervisor's and dispatcher's web app in Debian's Chromium: sign-in, the board of any day
 * with filters and the summary across sites, live rows (no refetch), alarms acknowledged several
 * at once with a note, a visit's audit trail and timeline, its printed report (PDF, looked at as a
 * PNG), dispatch (book, reschedule, cancel, restore), management (sites, engineers, devices with
 * their QR code, tokens with the kiosk's link) and exports. In both languages, at 1440×900 and
 * 390×844, with axe-core; screenshots in test-artifacts/.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { DEFAULT_CONFIG } from "../../hub/config/config.js";
import { api, eventually, startHub, tempDir } from "../hub/helpers.js";
import { seriousFindings } from "./axe.js";
import { artifact, launch } from "./browser.js";
import { buildWorld, shanghaiDay, type World } from "./world.js";

type Lang = "zh-CN" | "en";
const SIZES = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } } as const;

describe("the dashboard in Chromium", { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let w: World;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const base = () => `http://127.0.0.1:${hub.httpPort}/`;

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path, {}, { rules: { ...DEFAULT_CONFIG.rules, tickMs: 250 } });
    w = await buildWorld(hub);
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await w?.close();
    await hub?.stop();
    dir?.cleanup();
  });

  /** A fresh browser profile signed in with `token`, in `lang`, at `size`. */
  async function open(token: string, lang: Lang, size: keyof typeof SIZES, hash = "#/board"): Promise<Page> {
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
    await page.waitForSelector(hash.endsWith("/report") ? ".print-report" : "header.top", {
      timeout: 10_000,
    });
    return page;
  }
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: artifact(`${name}.png`), fullPage: true });
  const noSideScroll = async (page: Page) =>
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(
      page.viewportSize()?.width ?? 0,
    );
  const text = async (page: Page, selector: string) =>
    (await page.locator(selector).first().textContent()) ?? "";

  it("refuses a wrong token and a kiosk token, then signs a supervisor in", async () => {
    const context = await browser.newContext({ viewport: SIZES.desktop });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(base());
    const loginError = (pattern: RegExp) =>
      page.waitForFunction(
        `new RegExp(${JSON.stringify(pattern.source)}).test(document.querySelector("#login-error")?.textContent ?? "")`,
        undefined,
        { timeout: 5000 },
      );
    await page.fill("#token", "not-a-token");
    await page.click('#login button[type="submit"]');
    await loginError(/令牌无效/);
    await page.fill("#token", w.tokens.kiosk);
    await page.click('#login button[type="submit"]');
    await loginError(/无权/);
    await shot(page, "login-zh-desktop");
    await page.fill("#token", w.tokens.supervisor);
    await page.click('#login button[type="submit"]');
    await page.waitForSelector('tr[data-visit="V1"]');
    expect(await text(page, "header .me")).toContain("Supervisor Wang · 主管");
    await page.selectOption("#lang", "en");
    await page.reload();
    await page.waitForSelector('tr[data-visit="V1"]');
    expect(await text(page, 'tr[data-visit="V1"] .state')).toBe("scheduled");
  });

  it("shows today's board per site: two Zhang Weis told apart, the at-risk warning where it happens, nothing 'missing' before it is due", async () => {
    const page = await open(w.tokens.supervisor, "zh-CN", "desktop");
    await page.waitForSelector('tr[data-visit="V3"]');
    expect(await text(page, 'tr[data-visit="V1"] .engineer a')).toMatch(/^Zhang Wei \(E1\)/);
    expect(await text(page, 'tr[data-visit="V3"] .engineer a')).toMatch(/^Zhang Wei \(E3\)/);
    // V2: not on site 20 min before its window closes, the site warns 30 min before.
    await page.waitForSelector('tr[data-visit="V2"] .warning', { timeout: 5000 });
    expect(await text(page, 'tr[data-visit="V2"] .warning')).toMatch(
      /工程师尚未到场，承诺时段将于 \d\d:\d\d 结束/,
    );
    expect(await text(page, "#sum-atRisk")).toMatch(/^1/);
    for (const cell of ["gear", "cleanup", "completion"])
      expect(await text(page, `tr[data-visit="V3"] .${cell}`)).toBe("—");
    const board = (await text(page, ".board-view")) ?? "";
    for (const code of ["scheduled", "missing", "helmet", "safety_shoes", "applied"])
      expect(board).not.toContain(code);
    // The sites' tables share their column widths.
    const widths = await page.$$eval("table.board", (ts) =>
      ts.map((t) =>
        [...t.querySelectorAll("th")].map((th) => Math.round(th.getBoundingClientRect().width)).join(","),
      ),
    );
    expect(new Set(widths).size).toBe(1);
    await shot(page, "board-zh-desktop");
  });

  it("follows a visit live: each MQTT event patches its row within 1 s, nothing is fetched again", async () => {
    const page = await open(w.tokens.supervisor, "en", "desktop");
    await page.waitForSelector(".status.live");
    const fetched: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/visits")) fetched.push(r.url());
    });
    const step = async (device: "badge" | "kiosk", body: Record<string, unknown>, expected: string) => {
      await w.ev(device === "badge" ? w.badge : w.kiosk, device === "badge" ? "badge-1" : "kiosk-1", body);
      const t0 = Date.now();
      await page.waitForFunction(
        `document.querySelector('tr[data-visit="V1"] .state')?.textContent === ${JSON.stringify(expected)}`,
        undefined,
        { timeout: 1000 },
      );
      return Date.now() - t0;
    };
    const times = [
      await step("badge", { type: "arrival", source: "ble" }, "arrived"),
      await step("kiosk", { type: "checkin_request", tag: "0A1B2C3D4E" }, "arrived"),
      await step("kiosk", { type: "checkin_confirmed", engineer: "E1", consent: true }, "checked in"),
    ];
    // Checked in: PPE is now due, and shown as a count, not as "missing".
    expect(await text(page, 'tr[data-visit="V1"] .gear')).toBe("0 of 2");
    times.push(
      await step("badge", { type: "gear_confirmed", items: ["helmet", "safety_shoes"] }, "checked in"),
    );
    times.push(await step("badge", { type: "work_started" }, "working"));
    expect(Math.max(...times)).toBeLessThan(1000);
    expect(await text(page, 'tr[data-visit="V1"] .arrival')).toBe("on time");
    expect(await text(page, 'tr[data-visit="V1"] .gear')).toBe("complete");
    expect(await text(page, "#sum-onSite")).toMatch(/^1/);
    expect(fetched).toEqual([]);
    await shot(page, "board-live-en-desktop");
  });

  it("raises an SOS and a departure without clean-up loud and first; a supervisor acknowledges both at once with a note", async () => {
    const page = await open(w.tokens.supervisor, "zh-CN", "desktop", "#/alarms");
    await w.ev(w.badge, "badge-1", { type: "sos", kind: "injury" });
    await page.waitForSelector("#alarm-bar.sos", { timeout: 1000 });
    await api(hub, "POST", "/api/v1/visits/V1/events", w.tokens.admin, {
      type: "completion_submitted",
      cause: "密封圈老化",
      parts: [{ name: "密封圈", partNo: "SR-220", quantity: 2 }],
      workDone: "更换了两个密封圈，试运行正常",
      advice: "建议每半年检查一次",
    });
    await w.ev(w.kiosk, "kiosk-1", { type: "completion_confirmed", resolved: true, rating: 5 });
    await w.ev(w.kiosk, "kiosk-1", {
      type: "cleanup_signed_off",
      items: ["work_area_clean", "items_restored"],
    });
    await w.ev(w.badge, "badge-1", { type: "departure", source: "ble" });
    await page.waitForSelector(".alarm-item.departed_without_cleanup", { timeout: 1000 });
    const kinds = await page.$$eval(".alarm-item", (els) => els.map((e) => e.className));
    expect(kinds[0]).toContain("sos");
    expect(await text(page, "#alarm-bar")).toContain("2 条未处理告警");
    expect(await text(page, ".alarm-item.departed_without_cleanup")).toContain("借用物品已归还");
    await shot(page, "alarms-zh-desktop");
    const phone = await open(w.tokens.supervisor, "zh-CN", "phone", "#/alarms");
    await phone.waitForSelector(".alarm-item.sos");
    await noSideScroll(phone);
    await shot(phone, "alarms-zh-phone");
    // An alarm opens its visit.
    await page.click('.alarm-item.sos a[href="#/visit/V1"]');
    await page.waitForSelector(".visit-detail h1");
    await page.goBack();
    await page.check("#select-all");
    await page.fill("#ack-note", "已电话联系工程师，现场安全");
    await page.click("#ack-selected");
    await page.waitForSelector("#alarm-bar", { state: "detached", timeout: 2000 });
    const acks = await hub.ctx.store.alarmAcksOf(["V1"]);
    expect(acks.map((a) => [a.by, a.note])).toEqual([
      ["Supervisor Wang", "已电话联系工程师，现场安全"],
      ["Supervisor Wang", "已电话联系工程师，现场安全"],
    ]);
    await page.waitForSelector(".alarm-item.acked q");
    expect(await text(page, ".alarm-item.acked")).toContain("Supervisor Wang 已于");
    // The other open page heard it too: its bar is gone.
    await phone.waitForSelector("#alarm-bar", { state: "detached", timeout: 2000 });
  });

  it("shows the visit: facts in words with seconds, violations with evidence, the audit trail, radio evidence, the timeline", async () => {
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
    for (const lang of ["zh-CN", "en"] as const) {
      for (const size of ["desktop", "phone"] as const) {
        const page = await open(w.tokens.supervisor, lang, size, "#/visit/V1");
        await page.waitForSelector(".visit-detail .timeline tbody tr");
        const body = await text(page, ".visit-detail");
        expect(body).toMatch(/\d\d:\d\d:\d\d/);
        if (lang === "zh-CN") {
          expect(body).toContain("客户确认签到");
          expect(body).toContain("未经客户清场签字即离开");
          expect(body).toContain("安全帽");
          expect(body).toContain("预约");
        } else {
          expect(body).toContain("Customer confirmed check-in");
          expect(body).toContain("Left before the clean-up sign-off");
          expect(body).toContain("Booked");
        }
        for (const code of ["checkin_confirmed", "departed_without_cleanup", "applied", "helmet"])
          expect(body).not.toContain(code);
        expect(await page.locator(".timeline tbody tr").count()).toBe(10);
        expect(await text(page, "table.presence tbody")).toContain("-88 … -71 … -58");
        if (size === "phone") await noSideScroll(page);
        await shot(page, `visit-${lang === "en" ? "en" : "zh"}-${size}`);
      }
    }
  });

  it("prints the visit report to a clean A4 PDF (rendered to PNG and read back)", async () => {
    for (const lang of ["zh-CN", "en"] as const) {
      const page = await open(w.tokens.supervisor, lang, "desktop", "#/visit/V1/report");
      await page.waitForSelector(".print-report .timeline tbody tr");
      await page.emulateMedia({ media: "print" });
      const tag = lang === "en" ? "en" : "zh";
      const pdf = artifact(`visit-report-${tag}.pdf`);
      writeFileSync(pdf, await page.pdf({ format: "A4", printBackground: true, preferCSSPageSize: true }));
      execFileSync("pdftoppm", ["-png", "-r", "60", pdf, artifact(`visit-report-${tag}`)]);
      const txt = execFileSync("pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" });
      if (lang === "zh-CN") {
        for (const s of [
          "上门服务报告",
          "密封圈老化",
          "建议每半年检查一次",
          "作业区域已清扫干净",
          "未签字",
          "时间线",
          "hub-radio",
        ])
          expect(txt).toContain(s);
      } else {
        for (const s of [
          "Visit report",
          "Cause",
          "Work area cleaned",
          "not signed off",
          "Timeline",
          "hub-radio",
        ])
          expect(txt).toContain(s);
      }
      // No navigation or alarm bar on paper; the page size is A4.
      expect(txt).not.toContain(lang === "zh-CN" ? "退出登录" : "Sign out");
      const info = execFileSync("pdfinfo", [pdf], { encoding: "utf8" });
      expect(info).toMatch(/Page size:.*\(A4\)/);
    }
  });

  const DISPATCH = {
    "zh-CN": {
      tag: "zh",
      visit: "T-1",
      ok: "C-1",
      bad: "C-2",
      note: "客户改约下午",
      reason: "客户临时出差",
      cancelled: "已取消",
    },
    en: {
      tag: "en",
      visit: "T-2",
      ok: "C-3",
      bad: "C-4",
      note: "Customer asked for the afternoon",
      reason: "Customer away",
      cancelled: "cancelled",
    },
  } as const;
  it.each(["zh-CN", "en"] as const)(
    "lets a dispatcher (%s) book a visit for tomorrow, find it with the date picker, reschedule, cancel and restore it, each in the audit trail",
    async (lang) => {
      const d = DISPATCH[lang];
      const page = await open(w.tokens.dispatcher, lang, "desktop", "#/dispatch");
      const tomorrow = shanghaiDay(Date.now() + 86_400_000);
      await page.selectOption('#create-visit select[name="siteId"]', "S2");
      await page.selectOption('#create-visit select[name="engineerId"]', "E2");
      await page.fill('#create-visit input[name="from"]', `${tomorrow}T09:00`);
      await page.fill('#create-visit input[name="to"]', `${tomorrow}T11:00`);
      await page.fill('#create-visit input[name="id"]', d.visit);
      await page.click('#create-visit button[type="submit"]');
      await page.waitForSelector("#create-result.ok");
      // CSV import with a bad row, while the live stream keeps patching rows: what was typed stays.
      await page.fill(
        "#csv-text",
        `id,site_id,engineer_id,date,from,to\n${d.ok},S1,E1,${tomorrow},13:00,14:00\n${d.bad},S1,E9,${tomorrow},09:00,11:00\n`,
      );
      await w.ev(w.badge, "badge-1", { type: "heartbeat", battery: 80 });
      await page.click('#import-csv button[type="submit"]');
      await page.waitForSelector("table.errors");
      expect(await text(page, "table.errors tbody")).toContain("engineer_id");
      await shot(page, `dispatch-${d.tag}-desktop`);
      await page.click('a[data-view="board"]');
      await page.waitForSelector("#day");
      await page.click("#day-next");
      await page.waitForSelector(`tr[data-visit="${d.visit}"]`);
      expect(await page.locator(`tr[data-visit="${d.ok}"]`).count()).toBe(1);
      await page.click(`tr[data-visit="${d.visit}"] a`);
      await page.waitForSelector("#edit-visit", { state: "attached" });
      await page.click(".visit-actions details:first-child summary");
      await page.fill('#edit-visit input[name="from"]', `${tomorrow}T14:00`);
      await page.fill('#edit-visit input[name="to"]', `${tomorrow}T16:00`);
      await page.selectOption('#edit-visit select[name="engineerId"]', "E3");
      await page.fill('#edit-visit input[name="note"]', d.note);
      await page.click('#edit-visit button[type="submit"]');
      await page.waitForSelector('.history li[data-change="reassigned"]');
      expect(await text(page, '.history li[data-change="reassigned"]')).toContain(d.note);
      expect(await text(page, '.history li[data-change="reassigned"]')).toMatch(/14:00:00/);
      await page.click(".visit-actions details.danger summary");
      await page.fill('#cancel-visit input[name="reason"]', d.reason);
      await page.click('#cancel-visit button[type="submit"]');
      await page.waitForSelector('.history li[data-change="cancelled"]');
      expect(await text(page, ".visit-detail h1")).toContain(d.cancelled);
      await shot(page, `visit-cancelled-${d.tag}-desktop`);
      await page.click('#restore-visit button[type="submit"]');
      await page.waitForSelector('.history li[data-change="restored"]');
      expect((await hub.ctx.store.visitChanges(d.visit)).map((c) => c.kind)).toEqual([
        "created",
        "reassigned",
        "cancelled",
        "restored",
      ]);
    },
  );

  it("filters the board by violation and shows a range of days", async () => {
    const page = await open(
      w.tokens.supervisor,
      "en",
      "desktop",
      "#/board?violation=departed_without_cleanup",
    );
    await page.waitForSelector('tr[data-visit="V1"]');
    expect(await page.locator("tr[data-visit]").count()).toBe(1);
    const today = shanghaiDay(Date.now());
    const tomorrow = shanghaiDay(Date.now() + 86_400_000);
    await page.goto(`${base()}#/range?from=${shanghaiDay(Date.now() - 86_400_000)}&to=${tomorrow}`);
    await page.waitForSelector("#range-total");
    expect(await page.locator(".range-day").count()).toBe(3);
    for (const id of ["V1", "V2", "V3", "V4", "V5", "T-1", "C-1"])
      expect(await page.locator(`tr[data-visit="${id}"]`).count()).toBe(1);
    expect(await text(page, ".range-day:nth-of-type(2) h2")).toContain(String(Number(today.slice(8))));
    await shot(page, "range-en-desktop");
  });

  const ADMIN = {
    "zh-CN": {
      tag2: "zh",
      site: "S3",
      siteName: "浦东仓库",
      engineer: "E4",
      engineerName: "王强",
      company: "盛达机电",
      expired: "已过期",
      badge: "badge-4",
      tag: "0A0B0C0D0E",
      tokenName: "前台平板",
    },
    en: {
      tag2: "en",
      site: "S4",
      siteName: "Pudong warehouse",
      engineer: "E5",
      engineerName: "Wang Qiang",
      company: "Shengda",
      expired: "expired",
      badge: "badge-5",
      tag: "0A0B0C0D0F",
      tokenName: "Front desk tablet",
    },
  } as const;
  it.each(["zh-CN", "en"] as const)(
    "lets an admin (%s) manage sites, engineers, devices (credentials once, with a QR code) and tokens (a kiosk's link opens its screen)",
    async (lang) => {
      const a = ADMIN[lang];
      const page = await open(w.tokens.admin, lang, "desktop", "#/sites");
      await page.click("#new-site");
      await page.fill('#site-form input[name="id"]', a.site);
      await page.fill('#site-form input[name="name"]', a.siteName);
      await page.fill('#site-form input[name="timeZone"]', "Asia/Shanghai");
      await page.check('#site-form input[name="requiredPpe"][value="harness"]');
      await page.uncheck('#site-form input[name="workingDays"][value="5"]');
      await page.check('#site-form input[name="certificatePolicy"][value="refuse"]');
      await page.fill('#site-form textarea[name="holidays"]', "2026-10-01\n2026-10-02");
      await page.click('#site-form button[type="submit"]');
      await page.waitForSelector("#sites-notice.ok");
      expect(await hub.ctx.store.getSite(a.site)).toMatchObject({
        name: a.siteName,
        requiredPpe: ["helmet", "safety_shoes", "harness"],
        workingDays: [1, 2, 3, 4],
        certificatePolicy: "refuse",
        holidays: ["2026-10-01", "2026-10-02"],
      });
      await shot(page, `sites-${a.tag2}-desktop`);
      await page.goto(`${base()}#/engineers`);
      await page.click("#new-engineer");
      await page.fill('#engineer-form input[name="id"]', a.engineer);
      await page.fill('#engineer-form input[name="name"]', a.engineerName);
      await page.fill('#engineer-form input[name="company"]', a.company);
      await page.click('#engineer-form button[type="submit"]');
      await page.waitForSelector("#engineers-notice.ok");
      expect((await hub.ctx.store.getEngineer(a.engineer))?.certificates[0]?.kind).toBe("safety_training");
      expect(await text(page, '[data-engineer="E3"] .cert')).toContain(a.expired);
      await shot(page, `engineers-${a.tag2}-desktop`);

      await page.goto(`${base()}#/devices`);
      await page.fill('#provision input[name="id"]', a.badge);
      await page.selectOption('#provision select[name="engineerId"]', a.engineer);
      await page.fill('#provision input[name="rfidTag"]', a.tag);
      await page.click('#provision button[type="submit"]');
      await page.waitForSelector("#credentials svg.qr");
      expect((await text(page, "#device-password")).length).toBeGreaterThanOrEqual(20);
      expect((await text(page, "#device-key")).length).toBe(32);
      await shot(page, `devices-${a.tag2}-desktop`);
      page.once("dialog", (d) => void d.accept());
      await page.click(`[data-revoke="${a.badge}"]`);
      await page.waitForFunction(
        `document.querySelector('tr[data-device="${a.badge}"]')?.classList.contains("revoked")`,
      );
      expect((await hub.ctx.store.getDevice(a.badge))?.revokedAt).not.toBeNull();

      await page.goto(`${base()}#/tokens`);
      await page.selectOption('#create-token select[name="role"]', "kiosk");
      await page.fill('#create-token input[name="name"]', a.tokenName);
      await page.selectOption('#create-token select[name="siteId"]', "S1");
      await page.click('#create-token button[type="submit"]');
      await page.waitForSelector("#new-token svg.qr");
      const link = (await page.locator("#kiosk-url").getAttribute("href")) ?? "";
      expect(link).toMatch(/\/kiosk\/S1#token=[^&]{20,}$/);
      await shot(page, `tokens-${a.tag2}-desktop`);
      // The kiosk screen opens signed in from its link, and takes the token out of the address.
      const kioskContext = await browser.newContext({ viewport: { width: 1024, height: 768 } });
      contexts.push(kioskContext);
      const kiosk = await kioskContext.newPage();
      await kiosk.goto(link);
      await kiosk.waitForSelector(".site-name");
      expect(kiosk.url()).not.toContain("token");
      const tokenId = await page
        .locator(`tr[data-token] >> text="${a.tokenName}"`)
        .locator("..")
        .getAttribute("data-token");
      page.once("dialog", (d) => void d.accept());
      await page.click(`[data-revoke-token="${tokenId}"]`);
      await eventually(
        async () => (await hub.ctx.store.listTokens()).find((k) => k.name === a.tokenName)?.revokedAt,
      );
    },
  );

  it("exports CSV that Excel reads as UTF-8 and XLSX, over any range, per site and per engineer", async () => {
    const from = shanghaiDay(Date.now() - 86_400_000);
    const to = shanghaiDay(Date.now() + 86_400_000);
    const res = await fetch(`${base()}api/v1/reports/visits.csv?from=${from}&to=${to}&site=S2`, {
      headers: { authorization: `Bearer ${w.tokens.supervisor}` },
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const csv = bytes.toString("utf8");
    expect(csv).toContain("李娜");
    expect(csv).toContain("徐汇办公楼");
    expect(csv).not.toContain("Shenyang plant");
    expect(res.headers.get("content-disposition")).toContain(`visits-${from}_${to}-S2.csv`);
    const byEngineer = await api(
      hub,
      "GET",
      `/api/v1/reports/visits.csv?from=${from}&to=${to}&engineer=E3`,
      w.tokens.supervisor,
    );
    // E3's visits: yesterday's V5, today's V3, and T-1 and T-2 reassigned to E3 for tomorrow.
    expect(
      byEngineer.text
        .trim()
        .split("\r\n")
        .slice(1)
        .map((l) => l.split(",")[0]),
    ).toEqual(["V5", "V3", "T-1", "T-2"]);
    const x = await fetch(`${base()}api/v1/reports/visits.xlsx?from=${from}&to=${to}&lang=zh-CN`, {
      headers: { authorization: `Bearer ${w.tokens.supervisor}` },
    });
    const file = artifact("visits.xlsx");
    writeFileSync(file, Buffer.from(await x.arrayBuffer()));
    const workbook = execFileSync("unzip", ["-p", file, "xl/workbook.xml"], { encoding: "utf8" });
    expect(workbook).toContain("上门记录");
    expect(workbook).toContain("按工程师");
    expect(workbook).toContain("按现场");
    const strings = execFileSync("unzip", ["-p", file, "xl/sharedStrings.xml"], { encoding: "utf8" });
    expect(strings).toContain("李娜");
    expect(strings).toContain("承诺时段开始");
    // The dashboard's own buttons download them.
    const page = await open(w.tokens.supervisor, "zh-CN", "desktop", "#/reports");
    await page.waitForSelector("#per-engineer tbody tr");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
    expect(download.suggestedFilename()).toMatch(/^visits-.*\.csv$/);
    const [xlsx] = await Promise.all([page.waitForEvent("download"), page.click("#xlsx")]);
    expect(xlsx.suggestedFilename()).toMatch(/\.xlsx$/);
    expect(await text(page, "#on-time-share")).toMatch(/^\d+%$/);
    await shot(page, "reports-zh-desktop");
  });

  it("every screen in both languages fits a phone and a tablet without sideways scrolling, and has no serious axe findings", async () => {
    const screens = [
      "#/board",
      "#/range",
      "#/alarms",
      "#/visit/V1",
      "#/visit/V1/report",
      "#/dispatch",
      "#/reports",
      "#/sites",
      "#/engineers",
      "#/devices",
      "#/notifications",
      "#/rollcall/S1",
      "#/tokens",
    ];
    const problems: string[] = [];
    for (const lang of ["zh-CN", "en"] as const) {
      for (const size of ["desktop", "phone"] as const) {
        const page = await open(w.tokens.admin, lang, size);
        for (const hash of screens) {
          await page.goto(`${base()}${hash}`);
          await page.waitForSelector("main h1");
          await page.waitForLoadState("networkidle");
          const width = await page.evaluate<number>("document.documentElement.scrollWidth");
          if (width > SIZES[size].width) problems.push(`${lang} ${size} ${hash}: ${width} px wide`);
          for (const f of await seriousFindings(page))
            problems.push(
              `${lang} ${size} ${hash}: ${f.impact} ${f.id} (${f.help}) at ${f.nodes.join(" | ")}`,
            );
          const name = hash.replace(/^#\//, "").replace(/\//g, "-");
          await shot(page, `screen-${name}-${lang === "en" ? "en" : "zh"}-${size}`);
        }
      }
    }
    const tablet = await open(w.tokens.admin, "zh-CN", "desktop");
    await tablet.setViewportSize({ width: 820, height: 1180 });
    for (const hash of ["#/board", "#/visit/V1", "#/alarms"]) {
      await tablet.goto(`${base()}${hash}`);
      await tablet.waitForSelector("main h1");
      const width = await tablet.evaluate<number>("document.documentElement.scrollWidth");
      if (width > 820) problems.push(`tablet ${hash}: ${width} px wide`);
    }
    await shot(tablet, "board-zh-tablet");
    expect(problems).toEqual([]);
  });

  it("is usable from the keyboard: tab to a visit and open it with Enter", async () => {
    const page = await open(w.tokens.supervisor, "en", "desktop");
    await page.waitForSelector('tr[data-visit="V1"]');
    const link = page.locator('tr[data-visit="V2"] td.engineer a');
    let focused = "";
    for (let i = 0; i < 60 && !focused.includes("V2"); i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate<string>(`document.activeElement?.getAttribute("href") ?? ""`);
    }
    expect(focused).toContain("V2");
    expect(await link.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.press("Enter");
    await page.waitForSelector(".visit-detail h1");
    expect(page.url()).toContain("#/visit/V2");
  });

  it("shows a lost connection and recovers by itself; says when the hub's radio is not well", async () => {
    const page = await open(w.tokens.supervisor, "en", "desktop");
    await page.waitForSelector(".status.live");
    hub.http.app.server.closeAllConnections();
    await page.waitForSelector(".status.down", { timeout: 5000 });
    await page.waitForSelector(".status.live", { timeout: 10_000 });
    hub.ctx.health.set("ble", { ok: false, detail: "adapter hci0 powered off" });
    await page.reload();
    await page.waitForSelector("#radio", { timeout: 5000 });
    expect(await text(page, "#radio")).toContain("adapter hci0 powered off");
    hub.ctx.health.delete("ble");
  });
});
