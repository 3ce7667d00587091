import { join } from "node:path";
import Database from "better-sqlite3";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { spawnHub } from "./child-hub.js";
import { tempDir } from "./helpers.js";

const DEVICES = 4;

async function post(port: number, token: string, path: string, body: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

describe("crash safety", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it("after SIGKILL mid-stream, every event that got a PUBACK is stored exactly once, and the visit resumes", async () => {
    const args = [
      "--no-demo",
      "--data-dir",
      dir.path,
      "--mqtt-port",
      "0",
      "--http-port",
      "0",
      "--log-level",
      "info",
    ];
    const first = await spawnHub(args);
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

    // One kiosk records the badge tap (arrival) before the crash.
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
    const tap = {
      v: 1,
      type: "checkin_request",
      device: "kiosk-0",
      counter: 1,
      time: Date.now(),
      tag: "0A1B2C3D4E",
    };
    await clients[0]?.publishAsync(
      "onsite/v1/dev/kiosk-0/events",
      JSON.stringify({ ...tap, type: "arrival", source: "kiosk_tap", tag: undefined, visit: "V1" }),
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
          c.publish(`onsite/v1/dev/kiosk-${i}/events`, JSON.stringify(event), { qos: 1 }, (err) => {
            if (!err) acked.add(`kiosk-${i}#${n}`);
            resolve();
          });
          c.once("close", () => resolve());
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

    // Restart on the same data: the visit goes on where it was.
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
    const visit = await (async () => {
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`http://127.0.0.1:${second.httpPort}/api/v1/visits/V1`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const v = (await res.json()) as { state: string; arrival: unknown };
        if (v.state === "checked_in") return v;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("visit did not resume");
    })();
    expect(visit.arrival).not.toBeNull();
    for (const c of after) await c.endAsync();
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);

    const db = new Database(join(dir.path, "onsite.db"), { readonly: true });
    const rows = db
      .prepare<[], { device: string; counter: number }>("SELECT device, counter FROM events")
      .all();
    db.close();
    const stored = new Map<string, number>();
    for (const r of rows)
      stored.set(`${r.device}#${r.counter}`, (stored.get(`${r.device}#${r.counter}`) ?? 0) + 1);
    const missing = [...acked].filter((k) => stored.get(k) !== 1);
    expect(missing).toEqual([]);
    expect(Math.max(...stored.values())).toBe(1);
  }, 60_000);
});
