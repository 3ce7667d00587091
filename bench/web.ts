/**
 * The dashboard's board under live updates, in Debian's Chromium: 500 visits today over 5 sites,
 * then updates that each change one visit, sent the real way (an operator's late notice through
 * the API, ingest, projection, the live stream's row). Per update, in the page: patch and render
 * (from the stream message to Preact's commit) and until the next frame (style, layout, paint
 * included). The budget is 100 ms per update. Bounded in updates and time; loopback only.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { webRoot } from "../hub/adapters/http/web.js";
import { createHub } from "../hub/app.js";
import { DEFAULT_CONFIG } from "../hub/config/config.js";
import { defaultSite, type VisitPlan } from "../hub/core/index.js";
import { resolveWindow } from "../hub/core/time.js";
import { silentLogger } from "../hub/log.js";

const VISITS = Number(process.env.BENCH_WEB_VISITS ?? 500);
const UPDATES = Number(process.env.BENCH_WEB_UPDATES ?? 100);
const SITES = 5;
const ZONE = "Asia/Shanghai";
const shanghai = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

export async function benchWeb(): Promise<void> {
  if (!existsSync(`${webRoot()}index.html`))
    execFileSync("npx", ["vite", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], {
      stdio: "inherit",
    });
  const dir = mkdtempSync(join(tmpdir(), "onsite-bench-web-"));
  const hub = await createHub(
    {
      ...DEFAULT_CONFIG,
      dataDir: dir,
      mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0 },
      http: { ...DEFAULT_CONFIG.http, port: 0 },
      store: { sync: "normal" },
      demo: { ...DEFAULT_CONFIG.demo, enabled: false },
      ble: { ...DEFAULT_CONFIG.ble, mode: "off" },
      log: { level: "silent" },
    },
    { log: silentLogger() },
  );
  let browser: Browser | undefined;
  try {
    const store = hub.ctx.store;
    for (let s = 1; s <= SITES; s++)
      await store.putSite(defaultSite({ id: `S${s}`, name: `现场 ${s}`, timeZone: ZONE }));
    const engineers = Math.ceil(VISITS / 10);
    for (let e = 1; e <= engineers; e++)
      await store.putEngineer({ id: `E${e}`, name: `工程师 ${e}`, company: "盛达", certificates: [] });
    // Today's windows, spread from the start of the Shanghai day, all within it.
    const day = shanghai(Date.now()).slice(0, 10);
    const start = Date.parse(`${day}T00:00:00+08:00`);
    const plans: VisitPlan[] = [];
    for (let i = 0; i < VISITS; i++) {
      const from = start + ((i * 17) % (22 * 60)) * 60_000;
      plans.push({
        id: `V${i}`,
        siteId: `S${(i % SITES) + 1}`,
        engineerId: `E${(i % engineers) + 1}`,
        window: resolveWindow(shanghai(from), shanghai(from + 60 * 60_000), ZONE),
        createdAt: Date.now(),
      });
    }
    await store.insertVisits(plans);
    hub.ctx.visits.plansChanged(plans);
    await hub.ctx.ingest.settle();

    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const base = `http://127.0.0.1:${hub.httpPort}/`;
    await page.goto(base);
    await page.evaluate(`localStorage.setItem("onsite.token", ${JSON.stringify(hub.adminToken)})`);
    const t0 = Date.now();
    await page.goto(`${base}#/board?day=${day}`);
    await page.reload();
    await page.waitForFunction(
      `document.querySelectorAll("tr[data-visit]").length === ${VISITS}`,
      undefined,
      {
        timeout: 60_000,
      },
    );
    const firstRender = Date.now() - t0;
    await page.waitForSelector(".status.live");
    // In the page: each row patch's measure (stream message → commit) and the time to the next frame.
    await page.evaluate(`
      window.__bench = { render: [], frame: [] };
      new PerformanceObserver((list) => {
        for (const m of list.getEntries()) {
          window.__bench.render.push(m.duration);
          const start = m.startTime;
          requestAnimationFrame(() => setTimeout(() => window.__bench.frame.push(performance.now() - start), 0));
        }
      }).observe({ entryTypes: ["measure"] });
    `);
    const deadline = Date.now() + 120_000;
    for (let i = 0; i < UPDATES && Date.now() < deadline; i++) {
      const id = `V${(i * 37) % VISITS}`;
      await fetch(`${base}api/v1/visits/${id}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "late_notice", eta: Date.now() + 30 * 60_000, reason: "traffic" }),
      });
      await page.waitForFunction(`window.__bench.frame.length >= ${i + 1}`, undefined, { timeout: 10_000 });
    }
    const { render, frame } = (await page.evaluate("window.__bench")) as {
      render: number[];
      frame: number[];
    };
    const rows = await page.evaluate<number>(`document.querySelectorAll("tr[data-visit]").length`);
    const line = (name: string, xs: number[]) =>
      console.log(
        `  ${name.padEnd(34)} p50 ${pct(xs, 50).toFixed(1)} ms  p95 ${pct(xs, 95).toFixed(1)} ms  max ${Math.max(...xs).toFixed(1)} ms  (budget 100 ms: ${(pct(xs, 95) / 100).toFixed(2)}×)`,
      );
    console.log(`  board of ${rows} visits over ${SITES} sites, first load and render ${firstRender} ms`);
    console.log(`  ${render.length} live updates, each one visit's row from the stream:`);
    line("patch + render (to commit)", render);
    line("to the next frame (style, paint)", frame);
  } finally {
    await browser?.close();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
