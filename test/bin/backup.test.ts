/**
 * `onsite backup` while events flow into a running hub (a child process, as installed), and
 * `onsite restore`: it refuses under a running hub and anything that is not an intact onsite
 * database of a known schema, and puts a backup back so the hub starts on it.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { type ChildHub, spawnHub } from "../hub/child-hub.js";
import { tempDir } from "../hub/helpers.js";
import { onsite } from "./cli-run.js";

const KIOSKS = 3;

async function post(hub: ChildHub, path: string, body: unknown) {
  const res = await fetch(`http://127.0.0.1:${hub.httpPort}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${hub.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

function eventKeys(path: string): Set<string> {
  const db = new Database(path, { readonly: true });
  const rows = db
    .prepare<[], { device: string; counter: number }>("SELECT device, counter FROM events")
    .all();
  db.close();
  return new Set(rows.map((r) => `${r.device}#${r.counter}`));
}

describe("backup and restore", { timeout: 90_000 }, () => {
  const dir = tempDir();
  const data = join(dir.path, "data");
  const file = join(dir.path, "backup.db");
  // As fast as the kiosks can: lift the per-device rate limit (50/s, burst 500) that would cut them off.
  const config = join(dir.path, "hub.json");
  const hubArgs = [
    "-c",
    config,
    "--no-demo",
    "--ble",
    "off",
    "--data-dir",
    data,
    "--mqtt-port",
    "0",
    "--http-port",
    "0",
  ];
  afterAll(() => dir.cleanup());

  it("a backup taken while events flow holds every event PUBACKed before it began; restore refuses under the running hub, then puts it back", async () => {
    writeFileSync(
      config,
      JSON.stringify({ version: 1, mqtt: { ratePerSecond: 10_000, rateBurst: 100_000 } }),
    );
    const hub = await spawnHub(hubArgs);
    await post(hub, "/api/v1/sites", { id: "S1", name: "Plant", timeZone: "Asia/Shanghai" });
    const clients: MqttClient[] = [];
    for (let i = 0; i < KIOSKS; i++) {
      const p = await post(hub, "/api/v1/devices", { id: `kiosk-${i}`, kind: "kiosk", siteId: "S1" });
      clients.push(
        await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
          clientId: `kiosk-${i}`,
          username: `kiosk-${i}`,
          password: String(p.password),
          reconnectPeriod: 0,
        }),
      );
    }
    // Heartbeats at QoS 1 from every kiosk, one after another, until told to stop (bounded).
    const acked = new Set<string>();
    let stop = false;
    const streams = clients.map(async (c, i) => {
      const closed = new Promise<void>((resolve) => c.once("close", () => resolve()));
      for (let n = 1; !stop && n < 100_000 && c.connected; n++) {
        const event = {
          v: 1,
          type: "heartbeat",
          device: `kiosk-${i}`,
          counter: n,
          time: Date.now(),
          queued: 0,
        };
        const puback = c
          .publishAsync(`onsite/v1/dev/kiosk-${i}/events`, JSON.stringify(event), { qos: 1 })
          .then(() => acked.add(`kiosk-${i}#${n}`));
        await Promise.race([puback, closed]);
      }
      if (!stop) throw new Error(`kiosk-${i} was disconnected`);
    });
    try {
      for (let i = 0; acked.size < 300; i++) {
        if (i > 1000) throw new Error(`only ${acked.size} events acknowledged in 20 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const before = new Set(acked);
      const made = await onsite(["backup", file, "--data-dir", data]);
      const afterBackup = acked.size;
      expect([made.code, made.stderr]).toEqual([0, ""]);
      expect(made.stdout).toMatch(
        new RegExp(`^backed up .*onsite\\.db to ${file}: schema \\d+, \\d+ events`),
      );
      // Events kept flowing while the backup ran.
      expect(afterBackup).toBeGreaterThan(before.size);
      const inBackup = eventKeys(file);
      expect([...before].filter((k) => !inBackup.has(k))).toEqual([]);

      const underHub = await onsite(["restore", file, "--data-dir", data]);
      expect(underHub.code).toBe(1);
      expect(underHub.stderr).toMatch(
        /onsite: .*onsite\.db is in use: a hub is running on .*; stop it first/,
      );
    } finally {
      stop = true;
      await Promise.all(streams);
      for (const c of clients) await c.endAsync();
      hub.proc.kill("SIGTERM");
    }
    expect(await hub.exited).toBe(0);
    const live = eventKeys(join(data, "onsite.db"));
    const backedUp = eventKeys(file);
    expect(live.size).toBeGreaterThan(backedUp.size);

    const restored = await onsite(["restore", file, "--data-dir", data]);
    expect([restored.code, restored.stderr]).toEqual([0, ""]);
    expect(restored.stdout).toContain(`restored ${file} into ${join(data, "onsite.db")}: schema`);
    const previous = /kept as (\S+)/.exec(restored.stdout)?.[1] ?? "";
    expect(eventKeys(previous).size).toBe(live.size);
    expect(eventKeys(join(data, "onsite.db"))).toEqual(backedUp);

    // The hub starts on the restored database; the admin token of before still works.
    const again = await spawnHub(hubArgs);
    try {
      expect(again.adminToken).toBeUndefined();
      const health = (await (await fetch(`http://127.0.0.1:${again.httpPort}/healthz`)).json()) as {
        events: number;
      };
      expect(health.events).toBe(backedUp.size);
    } finally {
      again.proc.kill("SIGTERM");
      expect(await again.exited).toBe(0);
    }
  });

  it("restore refuses what is not an intact onsite database of a known schema, or one sealed with another key", async () => {
    const fresh = join(dir.path, "fresh");
    const text = join(dir.path, "notes.txt");
    writeFileSync(text, "not a database at all, just some text to fill a header\n");
    const other = join(dir.path, "other.db");
    const o = new Database(other);
    o.exec("CREATE TABLE t (x)");
    o.close();
    const newer = join(dir.path, "newer.db");
    copyFileSync(file, newer);
    const n = new Database(newer);
    n.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 0)").run();
    n.close();

    const cases: Array<[string[], number, RegExp]> = [
      [["restore", join(dir.path, "nope.db")], 2, /no such file: .*nope\.db/],
      [["restore", text], 1, /notes\.txt is not an SQLite database/],
      [["restore", other], 1, /other\.db is not an onsite database \(no schema_migrations table\)/],
      [["restore", newer], 1, /newer\.db has schema version 99, newer than this release knows/],
      [["backup", file, "--data-dir", data], 1, /backup\.db exists; --force overwrites it/],
      [["backup", join(dir.path, "x.db"), "--data-dir", fresh], 2, /no database at .*fresh\/onsite\.db/],
      // A data dir without the install's master key cannot open the backup's badge keys.
      [["restore", file, "--data-dir", fresh], 1, /master\.key does not exist: copy the master\.key/],
    ];
    // The backup holds badge-free kiosks only; give it a sealed key to check.
    const sealed = new Database(file);
    sealed
      .prepare(
        "UPDATE devices SET sealed_key = 'gcm1.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA' WHERE id = 'kiosk-0'",
      )
      .run();
    sealed.close();
    for (const [args, code, message] of cases) {
      const r = await onsite([...args, ...(args.includes("--data-dir") ? [] : ["--data-dir", fresh])]);
      expect([args[0], r.code]).toEqual([args[0], code]);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    }
    mkdirSync(fresh, { recursive: true });
    writeFileSync(join(fresh, "master.key"), "ab".repeat(32));
    const foreign = await onsite(["restore", file, "--data-dir", fresh]);
    expect([foreign.code, foreign.stderr]).toEqual([
      1,
      expect.stringMatching(/do not open with .*fresh\/master\.key/),
    ]);
    const forced = await onsite(["restore", file, "--data-dir", fresh, "--force"]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).not.toContain("kept as");
  });
});
