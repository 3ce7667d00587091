/**
 * A PUBACK only after the event is durable, for every copy of it: a device re-sends an event still in
 * flight (same counter, a second QoS 1 publish right behind the first), and the hub is killed with
 * SIGKILL the moment the first PUBACK reaches the device. Whichever copy was answered, the event must
 * be in the database after the kill. A hub in a child process, a real socket, the SQLite file.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { spawnHub } from "./child-hub.js";
import { tempDir } from "./helpers.js";

const TRIALS = 12;

async function post(port: number, token: string, path: string, body: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

describe("crash safety with duplicates in flight", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const args = ["--no-demo", "--data-dir", dir.path, "--mqtt-port", "0", "--http-port", "0"];

  it(`SIGKILL right after the first PUBACK of an event sent twice: acknowledged means stored (${TRIALS} trials)`, async () => {
    const first = await spawnHub(args);
    const token = first.adminToken ?? "";
    await post(first.httpPort, token, "/api/v1/sites", {
      id: "S1",
      name: "Plant",
      timeZone: "Asia/Shanghai",
    });
    const kiosk = await post(first.httpPort, token, "/api/v1/devices", {
      id: "kiosk-1",
      kind: "kiosk",
      siteId: "S1",
    });
    first.proc.kill("SIGKILL");
    await first.exited;

    const lost: number[] = [];
    let acked = 0;
    for (let counter = 1; counter <= TRIALS; counter++) {
      const hub = await spawnHub(args);
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
        clientId: "kiosk-1",
        username: "kiosk-1",
        password: String(kiosk.password),
        reconnectPeriod: 0,
      });
      const event = JSON.stringify({
        v: 1,
        type: "heartbeat",
        device: "kiosk-1",
        counter,
        time: Date.now(),
        queued: 1,
      });
      const firstAck = new Promise<void>((resolve) =>
        client.on("packetreceive", (p) => {
          if (p.cmd === "puback") {
            hub.proc.kill("SIGKILL");
            resolve();
          }
        }),
      );
      // Two copies of the same event, back to back, each its own QoS 1 publish.
      client.publish("onsite/v1/dev/kiosk-1/events", event, { qos: 1 });
      client.publish("onsite/v1/dev/kiosk-1/events", event, { qos: 1 });
      await Promise.race([firstAck, hub.exited]);
      await hub.exited;
      client.end(true);
      acked++;
      const db = new Database(join(dir.path, "onsite.db"), { readonly: true });
      const row = db
        .prepare("SELECT count(*) AS n FROM events WHERE device = ? AND counter = ?")
        .get("kiosk-1", counter) as {
        n: number;
      };
      db.close();
      if (row.n !== 1) lost.push(counter);
    }
    expect(acked).toBe(TRIALS);
    expect(lost).toEqual([]);
  }, 180_000);
});
