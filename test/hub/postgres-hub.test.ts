/**
 * A whole hub on PostgreSQL (a throwaway PostgreSQL 15 cluster): a visit played over MQTT and read
 * back from the database and from a restarted hub; `store.url` from a file, the environment and
 * `--store`; and SIGKILL mid-stream: every PUBACKed event is stored exactly once.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStore } from "../../hub/adapters/store/postgres/postgres-store.js";
import { ConfigError, loadConfig } from "../../hub/config/config.js";
import { resolveWindow } from "../../hub/core/time.js";
import type { DeviceEvent } from "../../protocol/index.js";
import { type PgCluster, startPostgres } from "../setup/postgres.js";
import { spawnHub } from "./child-hub.js";
import { connect, counterFor, eventually, seed, send, startHub, tempDir } from "./helpers.js";

const MIN = 60_000;
let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(async () => {
  await cluster?.stop();
});

const storeAt = (url: string) => ({ store: { sync: "full" as const, url } });

describe("store.url selects PostgreSQL", () => {
  it("from a file, ONSITE_STORE_URL or --store; anything but a postgres URL is refused by name", () => {
    const url = "postgres://onsite@db.example:5432/onsite";
    expect(loadConfig({ env: { ONSITE_STORE_URL: url } }).store).toEqual({ sync: "full", url });
    expect(loadConfig({ overrides: { "store.url": "postgresql://x@h/d" } }).store.url).toBe(
      "postgresql://x@h/d",
    );
    expect(loadConfig().store.url).toBeUndefined(); // SQLite stays the default
    expect(() => loadConfig({ env: { ONSITE_STORE_URL: "mysql://h/d" } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { ONSITE_STORE_URL: "mysql://h/d" } })).toThrow(
      /config store.url: expected a postgres:\/\/ or postgresql:\/\/ URL.*ONSITE_STORE_URL/,
    );
  });
});

describe("a hub on PostgreSQL", () => {
  it("plays a whole visit over MQTT; the view is in PostgreSQL and a restarted hub has it", async () => {
    const dir = tempDir();
    const url = await cluster.createDatabase("visit");
    const hub = await startHub(dir.path, {}, storeAt(url));
    const devices = await seed(hub);
    const now = Date.now();
    const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);
    const window = resolveWindow(local(now - 30 * MIN), local(now + 90 * MIN), "Asia/Shanghai");
    await hub.ctx.store.insertVisits([{ id: "V1", siteId: "S1", engineerId: "E1", window }]);
    const badge = await connect(hub, devices.badge.id, devices.badge.password);
    const kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    const next = counterFor();
    const ev = (device: "badge-1" | "kiosk-1", at: number, body: Record<string, unknown>) =>
      ({ v: 1, device, counter: next(device), time: at, ...body }) as DeviceEvent;
    const steps = [
      ev("badge-1", now, { type: "arrival", source: "ble" }),
      ev("kiosk-1", now + MIN, { type: "checkin_request", tag: "0A1B2C3D4E" }),
      ev("kiosk-1", now + 2 * MIN, { type: "checkin_confirmed", engineer: "E1", consent: true }),
      ev("badge-1", now + 3 * MIN, { type: "gear_confirmed", items: ["helmet", "safety_shoes"] }),
      ev("badge-1", now + 4 * MIN, { type: "work_started" }),
      ev("kiosk-1", now + 30 * MIN, {
        type: "completion_submitted",
        cause: "worn seal",
        parts: [{ name: "seal", quantity: 1 }],
        workDone: "replaced",
        advice: "check yearly",
      }),
      ev("kiosk-1", now + 31 * MIN, { type: "completion_confirmed", resolved: true, rating: 5 }),
      ev("kiosk-1", now + 32 * MIN, {
        type: "cleanup_signed_off",
        items: [
          "work_area_clean",
          "items_restored",
          "borrowed_returned",
          "waste_removed",
          "own_items_removed",
        ],
      }),
      ev("badge-1", now + 33 * MIN, { type: "departure", source: "ble" }),
    ];
    // Each PUBACK comes after the event's commit: the database has it the moment the ack is in.
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    for (const e of steps) {
      await send(e.device === "badge-1" ? badge : kiosk, e);
      const r = await check.query("SELECT 1 FROM events WHERE device = $1 AND counter = $2", [
        e.device,
        e.counter,
      ]);
      expect(r.rowCount).toBe(1);
    }
    // A re-send of a stored event is acknowledged and stored no second time.
    await send(badge, steps[0] as DeviceEvent);
    await hub.ctx.ingest.settle();
    const viewed = await eventually(async () => {
      const v = await hub.ctx.visits.view("V1");
      return v?.state === "departed" ? v : undefined;
    });
    expect(viewed.complete).toBe(true);
    expect(viewed.violations).toEqual([]);
    expect(viewed.arrival?.verdict.class).toBe("on_time");
    expect(viewed.timeline.every((e) => e.status === "applied")).toBe(true);
    await badge.endAsync();
    await kiosk.endAsync();
    await hub.stop();

    // What the hub left in PostgreSQL.
    const rows = await check.query<{ n: string; w: string; max: string }>(
      "SELECT count(*) AS n, (SELECT value FROM meta WHERE key = 'projection_watermark') AS w, max(seq) AS max FROM events",
    );
    expect(rows.rows[0]).toEqual({ n: "9", w: rows.rows[0]?.max, max: rows.rows[0]?.max });
    const stored = await check.query<{ doc: { state: string; complete: boolean } }>(
      "SELECT doc FROM views WHERE visit_id = 'V1'",
    );
    expect(stored.rows[0]?.doc).toMatchObject({ state: "departed", complete: true });
    await check.end();

    // No SQLite file was made: the data dir holds only the key vault. A restarted hub has it all.
    expect(existsSync(join(dir.path, "onsite.db"))).toBe(false);
    const again = await startHub(dir.path, {}, storeAt(url));
    expect(again.adminToken).toBeUndefined(); // the admin token is in the database already
    expect((await again.ctx.visits.view("V1"))?.state).toBe("departed");
    expect(await again.ctx.store.countEvents()).toBe(9);
    await again.stop();
    dir.cleanup();
  }, 60_000);

  it("rides out a PostgreSQL restart: nothing acknowledged that is not stored, and it goes on by itself", async () => {
    const dir = tempDir();
    const url = await cluster.createDatabase("restart");
    const hub = await startHub(dir.path, {}, storeAt(url));
    const devices = await seed(hub);
    const beat = (counter: number) =>
      ({ v: 1, type: "heartbeat", device: "kiosk-1", counter, time: Date.now(), queued: 1 }) as DeviceEvent;
    let kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    await send(kiosk, beat(1));
    const restarting = cluster.restart(1000);
    await new Promise((r) => setTimeout(r, 300)); // shutting down or down by now
    const acked = await Promise.race([
      send(kiosk, beat(2)).then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => setTimeout(() => r(false), 1500)),
    ]);
    await restarting;
    // As a device does: what got no PUBACK is sent again (on a new connection if the hub closed it).
    if (!kiosk.connected) {
      await kiosk.endAsync(true);
      kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    }
    await eventually(
      () =>
        send(kiosk, beat(2)).then(
          () => true,
          () => false,
        ),
      10_000,
    );
    await send(kiosk, beat(3));
    await kiosk.endAsync();
    await hub.stop();
    const store = await PostgresStore.open({ url });
    expect((await store.eventsAfter(0, 100)).map((e) => e.event.counter)).toEqual([1, 2, 3]);
    await store.close();
    expect(typeof acked).toBe("boolean"); // acknowledged or not while down: stored once either way
    dir.cleanup();
  }, 60_000);

  it("does not start on a database it cannot reach, and says why", async () => {
    const dir = tempDir();
    await expect(startHub(dir.path, {}, storeAt(cluster.url("no_such_db")))).rejects.toThrow(
      /database "no_such_db" does not exist/,
    );
    dir.cleanup();
  });
});

async function post(port: number, token: string, path: string, body: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

describe("crash safety on PostgreSQL", () => {
  it("after SIGKILL mid-stream, every event that got a PUBACK is stored exactly once, and the visit resumes", async () => {
    const DEVICES = 4;
    const dir = tempDir();
    const url = await cluster.createDatabase("crash");
    const args = [
      "--no-demo",
      "--data-dir",
      dir.path,
      "--store",
      url,
      "--mqtt-port",
      "0",
      "--http-port",
      "0",
    ];
    const first = await spawnHub([...args, "--log-level", "info"]);
    expect(first.output()).toContain('"store: PostgreSQL"');
    expect(first.output()).not.toContain(new URL(url).password); // the log names the server, not the password
    const token = first.adminToken ?? "";
    expect(token).not.toBe("");
    await post(first.httpPort, token, "/api/v1/sites", {
      id: "S1",
      name: "Plant",
      timeZone: "Asia/Shanghai",
      requiredPpe: [],
    });
    await post(first.httpPort, token, "/api/v1/engineers", {
      id: "E1",
      name: "Zhang Wei",
      company: "Shengda",
      certificates: [{ kind: "safety_training", validUntil: "2099-01-01" }],
    });
    const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);
    await post(first.httpPort, token, "/api/v1/visits", {
      id: "V1",
      siteId: "S1",
      engineerId: "E1",
      window: { from: local(Date.now() - 1_800_000), to: local(Date.now() + 3_600_000) },
    });
    const creds: Array<{ id: string; password: string }> = [];
    for (let i = 0; i < DEVICES; i++) {
      const p = await post(first.httpPort, token, "/api/v1/devices", {
        id: `kiosk-${i}`,
        kind: "kiosk",
        siteId: "S1",
      });
      creds.push({ id: `kiosk-${i}`, password: String(p.password) });
    }
    const connectAll = (port: number) =>
      Promise.all(
        creds.map((c) =>
          mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
            clientId: c.id,
            username: c.id,
            password: c.password,
            reconnectPeriod: 0,
          }),
        ),
      );
    const clients: MqttClient[] = await connectAll(first.mqttPort);
    await clients[0]?.publishAsync(
      "onsite/v1/dev/kiosk-0/events",
      JSON.stringify({
        v: 1,
        type: "arrival",
        device: "kiosk-0",
        counter: 1,
        time: Date.now(),
        source: "kiosk_tap",
        visit: "V1",
      }),
      { qos: 1 },
    );

    // All kiosks stream heartbeats at QoS 1; the hub is killed while they do.
    const acked = new Set<string>();
    let stop = false;
    const streams = clients.map(async (c, i) => {
      for (let n = 2; !stop && n < 200_000; n++) {
        const event = {
          v: 1,
          type: "heartbeat",
          device: `kiosk-${i}`,
          counter: n,
          time: Date.now(),
          queued: 1,
        };
        await new Promise<void>((resolve) => {
          const closed = () => resolve();
          c.once("close", closed);
          c.publish(`onsite/v1/dev/kiosk-${i}/events`, JSON.stringify(event), { qos: 1 }, (err) => {
            c.off("close", closed);
            if (!err) acked.add(`kiosk-${i}#${n}`);
            resolve();
          });
        });
        if (!c.connected) return;
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    first.proc.kill("SIGKILL");
    await first.exited;
    stop = true;
    await Promise.all(streams);
    for (const c of clients) await c.endAsync(true);
    expect(acked.size).toBeGreaterThan(100);

    // Restart on the same database: the visit goes on where it was.
    const second = await spawnHub(args);
    expect(second.adminToken).toBeUndefined();
    const after = await connectAll(second.mqttPort);
    await after[0]?.publishAsync(
      "onsite/v1/dev/kiosk-0/events",
      JSON.stringify({
        v: 1,
        type: "checkin_confirmed",
        device: "kiosk-0",
        counter: 500_000,
        time: Date.now(),
        visit: "V1",
        engineer: "E1",
        consent: true,
      }),
      { qos: 1 },
    );
    const visit = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${second.httpPort}/api/v1/visits/V1`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const v = (await res.json()) as { state: string; arrival: unknown };
      return v.state === "checked_in" ? v : undefined;
    });
    expect(visit.arrival).not.toBeNull();
    for (const c of after) await c.endAsync();
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);

    const store = await PostgresStore.open({ url });
    const stored = new Map<string, number>();
    for (let w = 0; ; ) {
      const batch = await store.eventsAfter(w, 10_000);
      if (batch.length === 0) break;
      for (const e of batch) {
        const k = `${e.event.device}#${e.event.counter}`;
        stored.set(k, (stored.get(k) ?? 0) + 1);
        w = e.seq ?? w;
      }
    }
    await store.close();
    expect([...acked].filter((k) => stored.get(k) !== 1)).toEqual([]);
    expect(Math.max(...stored.values())).toBe(1);
    dir.cleanup();
  }, 90_000);
});
