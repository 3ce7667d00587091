import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createHub } from "../hub/app.js";
import { DEFAULT_CONFIG } from "../hub/config/config.js";
import { defaultSite } from "../hub/core/model.js";
import { silentLogger } from "../hub/log.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "prof-"));
const hub = await createHub(
  {
    ...DEFAULT_CONFIG,
    dataDir: dir,
    mqtt: {
      ...DEFAULT_CONFIG.mqtt,
      port: 0,
      ratePerSecond: 100000,
      rateBurst: 100000,
      connectsPerAddress: { burst: 100000, perSecond: 100000 },
    },
    http: { ...DEFAULT_CONFIG.http, port: 0 },
    store: { sync: "full", ...(process.env.W === "inline" ? { writer: "inline" as const } : {}) },
    demo: { ...DEFAULT_CONFIG.demo, enabled: false },
    log: { level: "silent" },
  },
  { log: silentLogger() },
);
await hub.ctx.store.putSite(defaultSite({ id: "B", name: "Bench", timeZone: "UTC" }));
const devices = [];
for (let i = 0; i < 100; i++)
  devices.push({
    id: `k-${i}`,
    password: (await hub.ctx.provisioning.provision({ id: `k-${i}`, kind: "kiosk", siteId: "B" })).password,
  });
const spec = join(dir, "spec.json");
writeFileSync(
  spec,
  JSON.stringify({ port: hub.mqttPort, devices, mode: "throughput", window: 16, seconds: 6, counterBase: 0 }),
);
const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/load-client.ts", spec], {
  maxBuffer: 1 << 24,
});
const r = JSON.parse(stdout);
console.log("acked/s", (r.acked / r.seconds).toFixed(0));
const m = await hub.ctx.metrics.render();
console.log(
  m
    .split("\n")
    .filter(
      (l) =>
        l.startsWith("onsite_commit_batch_size_sum") ||
        l.startsWith("onsite_commit_batch_size_count") ||
        l.startsWith("onsite_commit_seconds_sum") ||
        l.startsWith("onsite_commit_seconds_count"),
    )
    .join("\n"),
);
await hub.stop();
