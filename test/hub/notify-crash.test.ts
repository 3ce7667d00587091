/**
 * Notifications survive the hub dying: five SOS alarms are raised while the webhook receiver is
 * down; the hub is killed with SIGKILL the moment the receiver (now up) gets its first delivery,
 * before the hub has recorded it; restarted, it delivers every notification — each at least once,
 * none lost, every signature valid. A hub in a child process, a real receiver on loopback.
 */
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { spawnHub } from "./child-hub.js";
import { eventually, tempDir } from "./helpers.js";

const SECRET = "crash-test-webhook-secret";

describe("notifications across a SIGKILL", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it("every notification is delivered at least once, none lost, after the hub is killed mid-delivery", async () => {
    const args = ["--no-demo", "--data-dir", dir.path, "--mqtt-port", "0", "--http-port", "0"];
    let hub = await spawnHub(args);
    const token = hub.adminToken ?? "";
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${hub.httpPort}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown> & unknown[];
    };

    // The receiver's port, taken now and left closed: deliveries fail until it listens.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));

    await call("POST", "/api/v1/sites", {
      id: "S1",
      name: "Plant",
      timeZone: "Asia/Shanghai",
      requiredPpe: [],
    });
    await call("POST", "/api/v1/engineers", {
      id: "E1",
      name: "Zhang Wei",
      company: "Shengda",
      certificates: [],
    });
    const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);
    await call("POST", "/api/v1/visits", {
      id: "V1",
      siteId: "S1",
      engineerId: "E1",
      window: { from: local(Date.now() - 3_600_000), to: local(Date.now() + 3_600_000) },
    });
    const badge = await call("POST", "/api/v1/devices", { id: "badge-1", kind: "badge", engineerId: "E1" });
    await call("POST", "/api/v1/webhooks", {
      url: `http://127.0.0.1:${port}/hook`,
      events: ["sos"],
      secret: SECRET,
    });

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
      clientId: "badge-1",
      username: "badge-1",
      password: String(badge.password),
      reconnectPeriod: 0,
    });
    const now = Date.now();
    const event = (counter: number, body: Record<string, unknown>) =>
      client.publishAsync(
        "onsite/v1/dev/badge-1/events",
        JSON.stringify({ v: 1, device: "badge-1", counter, time: now + counter * 1000, ...body }),
        { qos: 1 },
      );
    await event(1, { type: "arrival", source: "ble" });
    for (let i = 0; i < 5; i++) await event(2 + i, { type: "sos", kind: "hazard" });
    await client.endAsync();

    // Every SOS is in the outbox, failing: nothing listens yet.
    await eventually(async () => {
      const rows = (await call("GET", "/api/v1/notifications?status=pending")) as unknown as Array<{
        type: string;
        attempts: number;
      }>;
      return rows.filter((r) => r.type === "sos" && r.attempts >= 1).length === 5;
    }, 20_000);

    // The receiver comes up; the hub is killed as soon as the first delivery reaches it.
    const seen: string[] = [];
    const bad: string[] = [];
    let killed = false;
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        const sig = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
        if (req.headers["x-onsite-signature"] !== sig) bad.push(body);
        seen.push((JSON.parse(body) as { id: string }).id);
        if (!killed) {
          killed = true;
          hub.proc.kill("SIGKILL");
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(port, "127.0.0.1", () => r()));
    await hub.exited;
    expect(killed).toBe(true);

    hub = await spawnHub(args);
    try {
      await eventually(async () => {
        const rows = (await call("GET", "/api/v1/notifications")) as unknown as Array<{
          type: string;
          status: string;
        }>;
        return rows.filter((r) => r.type === "sos" && r.status === "delivered").length === 5;
      }, 60_000);
      const rows = (await call("GET", "/api/v1/notifications")) as unknown as Array<{
        id: string;
        type: string;
      }>;
      const ids = rows.filter((r) => r.type === "sos").map((r) => r.id);
      // At least once: every notification arrived; the one cut off by the kill arrived again, same id.
      expect(new Set(seen)).toEqual(new Set(ids));
      expect(seen.length).toBeGreaterThanOrEqual(ids.length);
      expect(bad).toEqual([]);
    } finally {
      hub.proc.kill("SIGTERM");
      await hub.exited;
      receiver.close();
    }
  }, 150_000);
});
