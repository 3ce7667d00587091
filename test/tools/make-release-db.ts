/**
 * Writes test/fixtures/onsite-0.1.0.db: a small database made by release 0.1.0 (schema version 2),
 * so later releases can test their migrations from it. Every table holds rows: sites, engineers,
 * visits, devices, events (two visits played over MQTT), views, tokens, presence, alarm_acks.
 * The hub runs in this process on a manual clock (2025-11-25, Shanghai), so the times are fixed;
 * the secrets it prints once go into onsite-0.1.0.json beside it (test data, not a real install).
 * Run once, from the release being captured: npx tsx test/tools/make-release-db.ts
 * It is committed; do not regenerate it with a later release (that would defeat its purpose).
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import { createHub } from "../../hub/app.js";
import { DEFAULT_CONFIG } from "../../hub/config/config.js";
import { defaultSite } from "../../hub/core/model.js";
import { ManualClock } from "../../hub/core/ports.js";
import { resolveWindow } from "../../hub/core/time.js";
import { silentLogger } from "../../hub/log.js";

const out = new URL("../fixtures/", import.meta.url);
const T0 = Date.parse("2025-11-25T01:30:00Z"); // 09:30 in Shanghai
const MIN = 60_000;
const BADGE_KEY = "00112233445566778899aabbccddeeff";

const dir = mkdtempSync(join(tmpdir(), "onsite-fixture-"));
const clock = new ManualClock(T0);
const hub = await createHub(
  {
    ...DEFAULT_CONFIG,
    dataDir: dir,
    mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0 },
    http: { ...DEFAULT_CONFIG.http, port: 0 },
    demo: { ...DEFAULT_CONFIG.demo, enabled: false },
    ble: { ...DEFAULT_CONFIG.ble, mode: "off" },
    log: { level: "silent" },
  },
  { clock, log: silentLogger() },
);
const { store, provisioning } = hub.ctx;
await store.putSite(
  defaultSite({ id: "S1", name: "Shenyang plant", timeZone: "Asia/Shanghai", requiredPpe: ["helmet"] }),
);
await store.putEngineer({
  id: "E1",
  name: "Zhang Wei",
  company: "Shengda",
  certificates: [{ kind: "safety_training", validUntil: "2099-12-31" }],
});
await store.insertVisits([
  {
    id: "V1",
    siteId: "S1",
    engineerId: "E1",
    window: resolveWindow("2025-11-25T09:00", "2025-11-25T11:00", "Asia/Shanghai"),
  },
  {
    id: "V2",
    siteId: "S1",
    engineerId: "E1",
    window: resolveWindow("2025-11-25T14:00", "2025-11-25T16:00", "Asia/Shanghai"),
  },
]);
const badge = await provisioning.provision({
  id: "badge-1",
  kind: "badge",
  engineerId: "E1",
  rfidTag: "0A1B2C3D4E",
  badgeNo: 0x1234,
  key: BADGE_KEY,
});
const kiosk = await provisioning.provision({ id: "kiosk-1", kind: "kiosk", siteId: "S1" });
const gateway = await provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" });
const supervisor = await provisioning.createToken("supervisor", "Supervisor Wang");
const kioskToken = await provisioning.createToken("kiosk", "kiosk screen S1", "S1");

const client = (id: string, password: string) =>
  mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
    clientId: id,
    username: id,
    password,
    reconnectPeriod: 0,
  });
const b = await client("badge-1", badge.password);
const k = await client("kiosk-1", kiosk.password);
const counters = new Map<string, number>();
const send = async (device: "badge-1" | "kiosk-1", at: number, body: Record<string, unknown>) => {
  const counter = (counters.get(device) ?? 0) + 1;
  counters.set(device, counter);
  clock.set(at + 500);
  await (device === "badge-1" ? b : k).publishAsync(
    `onsite/v1/dev/${device}/events`,
    JSON.stringify({ v: 1, device, counter, time: at, ...body }),
    { qos: 1 },
  );
};
// V1: a clean visit.
await send("badge-1", T0, { type: "arrival", source: "ble" });
await send("kiosk-1", T0 + MIN, { type: "checkin_request", tag: "0A1B2C3D4E" });
await send("kiosk-1", T0 + 2 * MIN, { type: "checkin_confirmed", engineer: "E1", consent: true });
await send("badge-1", T0 + 3 * MIN, { type: "gear_confirmed", items: ["helmet"] });
await send("badge-1", T0 + 4 * MIN, { type: "work_started" });
await send("kiosk-1", T0 + 30 * MIN, {
  type: "completion_submitted",
  cause: "worn seal",
  parts: [{ name: "seal", quantity: 1 }],
  workDone: "replaced",
  advice: "check yearly",
});
await send("kiosk-1", T0 + 31 * MIN, { type: "completion_confirmed", resolved: true, rating: 5 });
await send("kiosk-1", T0 + 32 * MIN, {
  type: "cleanup_signed_off",
  items: ["work_area_clean", "items_restored", "borrowed_returned", "waste_removed", "own_items_removed"],
});
await send("badge-1", T0 + 33 * MIN, { type: "departure", source: "ble" });
// V2: an SOS in the afternoon, acknowledged by the supervisor.
const T2 = T0 + 5 * 60 * MIN; // 14:30 in Shanghai
await send("badge-1", T2, { type: "arrival", source: "ble" });
await send("badge-1", T2 + 10 * MIN, { type: "sos", kind: "hazard" });
await send("kiosk-1", T2 + 11 * MIN, { type: "heartbeat", queued: 0 });
await hub.ctx.ingest.settle();
for (let i = 0; i < 200 && (await store.getView("V2"))?.alarms.length !== 1; i++)
  await new Promise((r) => setTimeout(r, 20));
const alarmAt = (await store.getView("V2"))?.alarms[0]?.at;
if (alarmAt === undefined) throw new Error("the SOS did not raise an alarm");
await store.putAlarmAck({ visitId: "V2", alarmAt, by: "Supervisor Wang", at: T2 + 12 * MIN });
await store.putPresence([
  {
    id: "pres-1",
    badge: "badge-1",
    gateway: "hub-radio",
    siteId: "S1",
    arrivedAt: T0 - MIN,
    lastHeardAt: T0 + 34 * MIN,
    departedAt: T0 + 34 * MIN,
    detectedAt: T0 + 35 * MIN,
    sightings: 412,
    rssi: [
      [T0 - MIN, -71],
      [T0 + 34 * MIN, -88],
    ],
    lastFrame: "0112340000000d000000000000000000",
  },
]);
await b.endAsync();
await k.endAsync();
const schemaVersion = (hub.ctx.store as unknown as { schemaVersion: number }).schemaVersion;
const views = { V1: (await store.getView("V1"))?.state, V2: (await store.getView("V2"))?.state };
await hub.stop();

// One self-contained file (no -wal beside it): VACUUM INTO writes a clean copy.
const target = join(out.pathname, "onsite-0.1.0.db");
rmSync(target, { force: true });
const db = new Database(join(dir, "onsite.db"), { readonly: true });
db.exec(`VACUUM INTO '${target.replaceAll("'", "''")}'`);
db.close();
copyFileSync(join(dir, "master.key"), join(out.pathname, "onsite-0.1.0.master.key"));
writeFileSync(
  join(out.pathname, "onsite-0.1.0.json"),
  `${JSON.stringify(
    {
      release: "0.1.0",
      schemaVersion,
      madeAt: new Date(T0).toISOString(),
      secrets: {
        adminToken: hub.adminToken,
        supervisorToken: supervisor.token,
        kioskToken: kioskToken.token,
        passwords: { "badge-1": badge.password, "kiosk-1": kiosk.password, "gw-1": gateway.password },
        badgeKey: BADGE_KEY,
      },
      views,
    },
    null,
    2,
  )}\n`,
);
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`wrote ${target} (schema ${schemaVersion}; views ${JSON.stringify(views)})\n`);
