/** A manual look (not a test): the world in a hub, screenshots of the named screens at both sizes. `npx tsx test/web/look.ts [hash...]` */
import { startHub, tempDir } from "../hub/helpers.js";
import { launch } from "./browser.js";
import { buildWorld, playV1 } from "./world.js";

const dir = tempDir();
const hub = await startHub(dir.path);
const w = await buildWorld(hub);
await playV1(hub, w);
const browser = await launch();
const out = process.env.LOOK_DIR ?? "/tmp/look";
const lang = process.env.LOOK_LANG ?? "zh-CN";
for (const [width, height] of [
  [1440, 900],
  [390, 844],
] as const) {
  const page = await browser.newPage({ viewport: { width, height } });
  page.on("console", (m) => m.type() === "error" && console.log("console:", m.text()));
  page.on("pageerror", (e) => console.log("pageerror:", e.message));
  await page.goto(`http://127.0.0.1:${hub.httpPort}/`);
  await page.evaluate(
    `localStorage.setItem("onsite.token", ${JSON.stringify(w.tokens.admin)}); localStorage.setItem("onsite.lang", ${JSON.stringify(lang)})`,
  );
  for (const hash of process.argv.slice(2).length ? process.argv.slice(2) : ["#/board"]) {
    await page.goto(`http://127.0.0.1:${hub.httpPort}/${hash}`);
    await page.reload();
    await page.waitForTimeout(1200);
    const name = `${hash.replace(/[^a-z0-9]+/gi, "_")}-${width}.png`;
    await page.screenshot({ path: `${out}/${name}`, fullPage: true });
    const sw = await page.evaluate<number>("document.documentElement.scrollWidth");
    console.log(name, "scrollWidth", sw);
  }
  await page.close();
}
await browser.close();
await w.close();
await hub.stop();
dir.cleanup();
