/**
 * The attacker on the site network, against the real broker and API: oversized length claims
 * before and after login (the hub's memory measured), reconnect flooding, password guessing,
 * revoked sessions, another site's visits and badges, refused events kept from observers.
 * Every refusal has a named reason and a counter.
 */
import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { DEFAULT_CONFIG } from "../../hub/config/config.js";
import { defaultSite } from "../../hub/core/model.js";
import { type DeviceCommand, decodeCommandPayload } from "../../protocol/index.js";
import { spawnHub } from "./child-hub.js";
import {
  api,
  connect,
  ENGINEER,
  eventually,
  newToken,
  type SeededDevices,
  seed,
  startHub,
  tempDir,
} from "./helpers.js";
import { claimHeader, rawClient, rawLogin } from "./raw-mqtt.js";

const MiB = 1024 * 1024;
const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;

describe("oversized length claims", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it("eight connections claiming 128 MiB before login, and a 32 MiB claim after, leave the hub's memory where it was", async () => {
    const hub = await spawnHub(["--no-demo", "--data-dir", dir.path, "--mqtt-port", "0", "--http-port", "0"]);
    try {
      const token = hub.adminToken ?? "";
      const post = (path: string, body: unknown) =>
        fetch(`http://127.0.0.1:${hub.httpPort}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<Record<string, unknown>>);
      await post("/api/v1/sites", { id: "S1", name: "Plant", timeZone: "Asia/Shanghai" });
      const kiosk = await post("/api/v1/devices", { id: "kiosk-1", kind: "kiosk", siteId: "S1" });
      await new Promise((r) => setTimeout(r, 1500));
      const idle = rssOf(hub.proc.pid ?? 0);

      // Before login: a PUBLISH first, or a CONNECT, each claiming 128 MiB, then zeros as fast as the socket takes them.
      const attackers = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const c = await rawClient(hub.mqttPort);
          c.socket.write(claimHeader(i % 2 === 0 ? 3 : 1, 128 * MiB));
          const zeros = Buffer.alloc(MiB);
          for (let k = 0; k < 16 && !c.socket.destroyed; k++) c.socket.write(zeros);
          return c;
        }),
      );
      await Promise.all(attackers.map((c) => c.closed));
      // After login: a device claims 32 MiB for one PUBLISH.
      const { client, returnCode } = await rawLogin(hub.mqttPort, {
        clientId: "kiosk-1",
        username: "kiosk-1",
        password: String(kiosk.password),
      });
      expect(returnCode).toBe(0);
      client.socket.write(claimHeader(3, 32 * MiB));
      for (let k = 0; k < 8 && !client.socket.destroyed; k++) client.socket.write(Buffer.alloc(MiB));
      await client.closed;
      await new Promise((r) => setTimeout(r, 500));
      const after = rssOf(hub.proc.pid ?? 0);
      expect(
        after - idle,
        `RSS ${Math.round(idle / MiB)} MB idle, ${Math.round(after / MiB)} MB after`,
      ).toBeLessThan(10 * MiB);
      const metrics = await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/onsite_mqtt_cut_off_total\{reason="connect_first"\} 4/);
      expect(metrics).toMatch(/onsite_mqtt_cut_off_total\{reason="packet_too_large"\} 5/);
    } finally {
      hub.proc.kill("SIGTERM");
      await hub.exited;
    }
  }, 60_000);
});

describe("the attacker, against an in-process hub", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let devices: SeededDevices;
  const refused = (reason: string) => hub.ctx.metrics.value("onsite_mqtt_refused_total", { reason });

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(
      dir.path,
      {},
      { mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0, ratePerSecond: 50, rateBurst: 100 } },
    );
    devices = await seed(hub);
    await hub.ctx.store.putSite(defaultSite({ id: "S2", name: "Other plant", timeZone: "Asia/Shanghai" }));
    await hub.ctx.store.putEngineer({ ...ENGINEER, id: "E2", name: "Li Na" });
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  it("a device reconnecting over and over gets no more than its budget (burst + time × rate)", async () => {
    const id = "kiosk-flood";
    const { password } = await hub.ctx.provisioning.provision({ id, kind: "kiosk", siteId: "S1" });
    const before = await hub.ctx.store.countEvents();
    const start = Date.now();
    let counter = 1000;
    let connects = 0;
    while (Date.now() - start < 4000) {
      const c = await mqtt
        .connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
          clientId: id,
          username: id,
          password,
          reconnectPeriod: 0,
        })
        .catch(() => undefined);
      if (!c) continue;
      connects++;
      const closed = new Promise<void>((r) => c.once("close", () => r()));
      const sends = Array.from({ length: 60 }, () =>
        c
          .publishAsync(
            `onsite/v1/dev/${id}/events`,
            JSON.stringify({ v: 1, type: "heartbeat", device: id, counter: ++counter, time: Date.now() }),
            { qos: 1 },
          )
          .catch(() => undefined),
      );
      await Promise.race([Promise.all(sends), closed]);
      await c.endAsync(true);
    }
    await hub.ctx.ingest.settle();
    const elapsed = (Date.now() - start) / 1000;
    const accepted = (await hub.ctx.store.countEvents()) - before;
    expect(accepted).toBeLessThanOrEqual(100 + Math.ceil(elapsed * 50));
    expect(accepted).toBeGreaterThan(50);
    expect(refused("rate_limited")).toBeGreaterThan(0);
    // Reconnecting faster than the per-id pace is refused too (10 at once, then one every 2 s).
    expect(refused("connect_rate")).toBeGreaterThan(0);
    expect(connects).toBeLessThanOrEqual(10 + Math.ceil(elapsed / 2));
  }, 30_000);

  it("password guessing is slowed, then locked out from that address; the device itself still gets in", async () => {
    const attempts = 30;
    const start = Date.now();
    const results = await Promise.all(
      Array.from({ length: attempts }, () =>
        rawLogin(
          hub.mqttPort,
          { clientId: "kiosk-1", username: "kiosk-1", password: "guess" },
          "127.0.0.2",
        ).then(({ client, returnCode }) => {
          client.socket.destroy();
          return returnCode;
        }),
      ),
    );
    const seconds = (Date.now() - start) / 1000;
    const checked = refused("bad_credentials");
    // Each guess is refused: wrong password (4), locked out (5) or too many connects (3).
    expect(results.filter((c) => c !== 3 && c !== 4 && c !== 5)).toEqual([]);
    expect(checked).toBeLessThanOrEqual(10);
    expect(refused("login_locked_client") + refused("connect_rate")).toBeGreaterThanOrEqual(attempts - 10);
    await new Promise((r) => setTimeout(r, 2100)); // one more connect allowed from that address
    expect(hub.ctx.metrics.value("onsite_security_alerts_total", { kind: "client_locked" })).toBe(1);
    expect(checked / seconds).toBeLessThan(10);
    // Locked from the guesser's address, even with the right password; the kiosk's own address is not.
    const fromAttacker = await rawLogin(
      hub.mqttPort,
      { clientId: "kiosk-1", username: "kiosk-1", password: devices.kiosk.password },
      "127.0.0.2",
    );
    fromAttacker.client.socket.destroy();
    expect(fromAttacker.returnCode).toBe(5);
    const own = await rawLogin(hub.mqttPort, {
      clientId: "kiosk-1",
      username: "kiosk-1",
      password: devices.kiosk.password,
    });
    own.client.socket.destroy();
    expect(own.returnCode).toBe(0);
  }, 60_000);

  it("revoking a device, or a token, ends its live sessions within a second", async () => {
    const p = await hub.ctx.provisioning.provision({ id: "kiosk-r", kind: "kiosk", siteId: "S1" });
    const device = await connect(hub, "kiosk-r", p.password);
    const deviceClosed = new Promise<number>((r) => device.once("close", () => r(Date.now())));
    const t0 = Date.now();
    const res = await api(hub, "POST", "/api/v1/devices/kiosk-r/revoke", hub.adminToken);
    expect(res.status).toBe(200);
    expect((await deviceClosed) - t0).toBeLessThan(1000);

    const supervisor = await newToken(hub, "supervisor", "leaked laptop");
    const observer = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
      username: "api",
      password: supervisor,
      reconnectPeriod: 0,
    });
    const stream = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/stream?access_token=${supervisor}`);
    const reader = stream.body?.getReader();
    const streamEnded = (async () => {
      for (;;) if ((await reader?.read())?.done !== false) return Date.now();
    })();
    const observerClosed = new Promise<number>((r) => observer.once("close", () => r(Date.now())));
    const list = (await api(hub, "GET", "/api/v1/tokens", hub.adminToken)).body as unknown as Array<{
      id: string;
      name: string;
    }>;
    const id = list.find((t) => t.name === "leaked laptop")?.id;
    const t1 = Date.now();
    expect((await api(hub, "POST", `/api/v1/tokens/${id}/revoke`, hub.adminToken)).status).toBe(200);
    expect((await observerClosed) - t1).toBeLessThan(1000);
    expect((await streamEnded) - t1).toBeLessThan(1000);
    expect((await api(hub, "GET", "/api/v1/sites", supervisor)).status).toBe(401);
    expect(refused("revoked_session")).toBeGreaterThanOrEqual(2);
  });

  it("a kiosk of site A naming a visit of site B is refused with the field named, and nothing is stored", async () => {
    const now = Date.now();
    const v2 = {
      id: "V-B",
      siteId: "S2",
      engineerId: "E1",
      window: { from: now - 3_600_000, to: now + 3_600_000 },
    };
    await hub.ctx.store.insertVisits([v2]);
    const kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    const acks: DeviceCommand[] = [];
    await kiosk.subscribeAsync("onsite/v1/dev/kiosk-1/cmd", { qos: 1 });
    kiosk.on("message", (_t, m) => acks.push(decodeCommandPayload(m)));
    for (let i = 0; i < 20; i++) {
      await kiosk.publishAsync(
        "onsite/v1/dev/kiosk-1/events",
        JSON.stringify({
          v: 1,
          type: "checkin_confirmed",
          device: "kiosk-1",
          counter: 5000 + i,
          time: now,
          visit: "V-B",
          engineer: "E1",
          consent: true,
        }),
        { qos: 1 },
      );
    }
    await hub.ctx.ingest.settle();
    expect(await hub.ctx.store.eventsOfVisit("V-B")).toEqual([]);
    expect(
      hub.ctx.metrics.value("onsite_input_rejected_total", { boundary: "mqtt", code: "foreign_visit" }),
    ).toBe(20);
    await eventually(() => acks.filter((a) => a.type === "ack" && a.status === "rejected").length === 20);
    expect(acks.find((a) => a.type === "ack")).toMatchObject({ status: "rejected", field: "/visit" });
    await kiosk.endAsync();
  });

  it("a gateway follows only its own site's badges", async () => {
    const gw = await hub.ctx.provisioning.provision({ id: "gw-1", kind: "gateway", siteId: "S1" });
    await hub.ctx.provisioning.provision({ id: "badge-2", kind: "badge", engineerId: "E2" });
    const now = Date.now();
    await hub.ctx.store.insertVisits([
      { id: "V-E1", siteId: "S1", engineerId: "E1", window: { from: now, to: now + 3_600_000 } },
      { id: "V-E2", siteId: "S2", engineerId: "E2", window: { from: now, to: now + 3_600_000 } },
    ]);
    const gateway = await connect(hub, "gw-1", gw.password);
    const own = await gateway.subscribeAsync("onsite/v1/dev/badge-1/cmd", { qos: 1 });
    expect(own.map((g) => g.qos)).toEqual([1]);
    // mqtt.js turns a SUBACK with return code 128 into a rejected subscription.
    await expect(gateway.subscribeAsync("onsite/v1/dev/badge-2/cmd", { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    expect(refused("foreign_badge")).toBe(1);
    await gateway.endAsync();
  });

  it("observers see each accepted event once; refused ones and duplicates are not relayed as facts", async () => {
    const supervisor = await newToken(hub, "supervisor", "wall screen");
    const observer = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
      username: "api",
      password: supervisor,
      reconnectPeriod: 0,
    });
    const seen: string[] = [];
    await observer.subscribeAsync("onsite/v1/dev/+/events", { qos: 1 });
    observer.on("message", (_t, m) => seen.push(m.toString()));
    const kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    const good = JSON.stringify({
      v: 1,
      type: "heartbeat",
      device: "kiosk-1",
      counter: 9000,
      time: Date.now(),
    });
    await kiosk.publishAsync("onsite/v1/dev/kiosk-1/events", good, { qos: 1 });
    await kiosk.publishAsync("onsite/v1/dev/kiosk-1/events", good, { qos: 1 });
    await kiosk.publishAsync(
      "onsite/v1/dev/kiosk-1/events",
      JSON.stringify({ v: 1, type: "heartbeat", device: "kiosk-1", counter: "x" }),
      { qos: 1 },
    );
    await kiosk.publishAsync("onsite/v1/dev/kiosk-1/events", "{not json", { qos: 1 });
    await eventually(() => seen.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([good]);
    await kiosk.endAsync();
    await observer.endAsync();
  });
});
