/**
 * The demo left running, faster: a hub as `npm start` builds it (BLE on the stand-in when
 * dbus-daemon exists), the demo at speed 60 with a short pause, and after each round the memory
 * after a full GC. Heap snapshots at chosen rounds, for diffing by constructor.
 *
 *   node --import tsx --expose-gc bench/demo-memory.ts --rounds 20 --snap 3,20 --out /tmp/x
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { pino } from "pino";
import { createHub } from "../hub/app.js";
import { DEFAULT_CONFIG, type HubConfig } from "../hub/config/config.js";
import { startDemo } from "../hub/demo/demo.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "20" },
    snap: { type: "string", default: "" },
    out: { type: "string", default: "" },
    ble: { type: "string", default: "virtual" },
    pause: { type: "string", default: "1500" },
  },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const rounds = Number(values.rounds);
const snaps = new Set(values.snap ? values.snap.split(",").map(Number) : []);
const out = values.out || mkdtempSync(join(tmpdir(), "onsite-mem-"));
mkdirSync(out, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), "onsite-mem-data-"));

const config: HubConfig = {
  ...DEFAULT_CONFIG,
  dataDir,
  mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0 },
  http: { ...DEFAULT_CONFIG.http, port: 0 },
  ble: { ...DEFAULT_CONFIG.ble, mode: values.ble as HubConfig["ble"]["mode"] },
  log: { level: "info" },
};
const log = pino({ level: "info" }, pino.destination({ dest: join(out, "hub.log"), sync: false }));
const hub = await createHub(config, { log });
const demo = await startDemo(hub, { speed: 60, pauseMs: Number(values.pause) });

const mb = (n: number) => (n / 1048576).toFixed(1);
const t0 = Date.now();
let seen = 0;
process.stdout.write("round\tmin\theapUsed\theapTotal\texternal\tarrayBuf\trss\tfailed\n");
while (seen < rounds) {
  await new Promise((r) => setTimeout(r, 50));
  if (demo.rounds.length === seen) continue;
  seen = demo.rounds.length;
  const failed = demo.rounds.at(-1)?.results.filter((r) => !r.ok).length ?? 0;
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  const m = process.memoryUsage();
  process.stdout.write(
    `${seen}\t${((Date.now() - t0) / 60000).toFixed(1)}\t${mb(m.heapUsed)}\t${mb(m.heapTotal)}\t${mb(m.external)}\t${mb(m.arrayBuffers)}\t${mb(m.rss)}\t${failed}\n`,
  );
  if (snaps.has(seen))
    process.stdout.write(`  snapshot ${writeHeapSnapshot(join(out, `round-${seen}.heapsnapshot`))}\n`);
}
await demo.stop();
await hub.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
