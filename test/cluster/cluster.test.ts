/**
 * Three hub nodes as one cluster on real engines on loopback, each started here in a temp dir:
 * PostgreSQL 15 (test/setup/postgres.ts), redis-server, HAProxy (MQTT in TCP mode, the API in HTTP
 * mode) in front, the nodes as child processes (`onsite hub --cluster … --store …`). Devices
 * (mqtt.js) go through HAProxy and straight to the nodes. What is checked: one leader; retained
 * status and commands published by one node reach clients on the others; a live stream on one node
 * carries a change made through another; SIGKILL of the leader mid-stream of QoS 1 events loses no
 * PUBACKed event, stores none twice, sends one notification per SOS, and another node takes the
 * lead and the timers (a no-show notified once); a Redis restart is ridden out.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../hub/config/config.js";
import { topics } from "../../protocol/index.js";
import { type ChildHub, spawnHub } from "../hub/child-hub.js";
import { type PgCluster, startPostgres } from "../setup/postgres.js";
import { type Haproxy, type RedisServer, startHaproxy, startRedis } from "./engines.js";

const SECRET = "cluster-webhook-secret";
const NAMES = ["a", "b", "c"] as const;

let pgc: PgCluster;
let redis: RedisServer;
let proxy: Haproxy;
let dbUrl: string;
const nodes: ChildHub[] = [];
const dirs: string[] = [];
let token = "";
let hookServer: Server;
/** Webhook deliveries received: type and visit of each. */
const deliveries: Array<{ type: string; visitId?: string; id: string; at: number }> = [];
const creds = new Map<string, string>();
/** The no-show visit's window end (its notification is the new leader's timer). */
let v2End = 0;
/** When the first leader was SIGKILLed. */
let killedAt = 0;
const clients: MqttClient[] = [];

const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);

async function call(port: number, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} on ${port}: ${res.status} ${text}`);
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

async function eventually<T>(f: () => Promise<T | undefined>, ms = 15_000, what = "condition"): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - started > ms)
      throw new Error(`${what} not met in ${ms} ms${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Each live node's answer to /healthz's cluster part: "<node> leader|follower". */
async function roles(): Promise<Array<string | undefined>> {
  return Promise.all(
    nodes.map(async (n) => {
      if (n.proc.exitCode !== null || n.proc.signalCode !== null) return undefined;
      const res = await fetch(`http://127.0.0.1:${n.httpPort}/healthz`).catch(() => undefined);
      if (!res) return undefined;
      const h = (await res.json()) as { parts?: { cluster?: { detail?: string } } };
      return h.parts?.cluster?.detail;
    }),
  );
}

async function leaderIndex(ms = 15_000): Promise<number> {
  return eventually(
    async () => {
      const r = await roles();
      const leaders = r.flatMap((d, i) => (d?.includes(" leader") ? [i] : []));
      return leaders.length === 1 ? leaders[0] : undefined;
    },
    ms,
    "exactly one leader",
  );
}

function device(id: string, port: number, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt
    .connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: id,
      username: id,
      password: creds.get(id) ?? "",
      reconnectPeriod: 0,
      ...extra,
    })
    .then((c) => {
      clients.push(c);
      return c;
    });
}

function observer(port: number): Promise<MqttClient> {
  return mqtt
    .connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: `obs-${Math.random().toString(36).slice(2)}`,
      username: "api",
      password: token,
      reconnectPeriod: 0,
    })
    .then((c) => {
      clients.push(c);
      return c;
    });
}

let counter = 1000;
function event(dev: string, body: Record<string, unknown>) {
  return JSON.stringify({ v: 1, device: dev, counter: counter++, time: Date.now(), ...body });
}

/** Messages on a topic, as they arrive. */
function collect(c: MqttClient, topic: string): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  c.on("message", (t, payload) => {
    if (t === topic && payload.length > 0)
      got.push(JSON.parse(payload.toString()) as Record<string, unknown>);
  });
  return got;
}

beforeAll(async () => {
  pgc = await startPostgres();
  dbUrl = await pgc.createDatabase("cluster");
  redis = await startRedis();
  hookServer = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString();
    });
    req.on("end", () => {
      const b = JSON.parse(body) as { type: string; visitId?: string; id: string };
      deliveries.push({
        type: b.type,
        id: b.id,
        at: Date.now(),
        ...(b.visitId ? { visitId: b.visitId } : {}),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, "127.0.0.1", () => r()));
  const configDir = mkdtempSync(join(tmpdir(), "onsite-cluster-cfg-"));
  dirs.push(configDir);
  const configFile = join(configDir, "hub.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      version: 1,
      rules: { tickMs: 250 },
      // The URL comes from --cluster (node a) or ONSITE_CLUSTER_URL (b, c).
      cluster: { leaderRetryMs: 500, followMs: 50 },
      notify: { retryBaseMs: 200 },
    }),
  );
  const args = (dir: string) => [
    "--config",
    configFile,
    "--no-demo",
    "--ble",
    "off",
    "--data-dir",
    dir,
    "--store",
    dbUrl,
    "--mqtt-port",
    "0",
    "--http-port",
    "0",
    "--log-level",
    "info",
  ];
  for (const _ of NAMES) dirs.push(mkdtempSync(join(tmpdir(), "onsite-cluster-node-")));
  const nodeDirs = dirs.slice(1);
  // The first node makes the schema, the admin token and the key vault the others share.
  const first = await spawnHub([...args(nodeDirs[0] as string), "--cluster", redis.url]);
  token = first.adminToken ?? "";
  nodes.push(first);
  for (const d of nodeDirs.slice(1))
    copyFileSync(join(nodeDirs[0] as string, "master.key"), join(d, "master.key"));
  nodes.push(
    ...(await Promise.all(
      nodeDirs.slice(1).map((d) => spawnHub(args(d), { ONSITE_CLUSTER_URL: redis.url })),
    )),
  );
  proxy = await startHaproxy(
    nodes.map((n, i) => ({ name: NAMES[i] as string, mqttPort: n.mqttPort, httpPort: n.httpPort })),
  );

  // Everything is set up through HAProxy: whichever node answers, every node has it.
  const p = proxy.httpPort;
  await call(p, "POST", "/api/v1/sites", {
    id: "S1",
    name: "Plant",
    timeZone: "Asia/Shanghai",
    requiredPpe: [],
  });
  await call(p, "POST", "/api/v1/engineers", {
    id: "E1",
    name: "Zhang Wei",
    company: "Shengda",
    certificates: [{ kind: "safety_training", validUntil: "2099-01-01" }],
  });
  await call(p, "POST", "/api/v1/engineers", {
    id: "E2",
    name: "Li Na",
    company: "Shengda",
    certificates: [],
  });
  const now = Date.now();
  await call(p, "POST", "/api/v1/visits", {
    id: "V1",
    siteId: "S1",
    engineerId: "E1",
    window: { from: local(now - 30 * 60_000), to: local(now + 90 * 60_000) },
  });
  // V2 closes at the first whole minute 30 s from now, with nobody there: a no-show then, after
  // the leader is killed (about 15 s from now), so it is the new leader's timer that fires.
  v2End = Math.ceil((now + 30_000) / 60_000) * 60_000;
  await call(p, "POST", "/api/v1/visits", {
    id: "V2",
    siteId: "S1",
    engineerId: "E2",
    window: { from: local(v2End - 60 * 60_000), to: local(v2End) },
  });
  for (let i = 0; i < 10; i++) {
    const d = await call(p, "POST", "/api/v1/devices", { id: `kiosk-${i}`, kind: "kiosk", siteId: "S1" });
    creds.set(`kiosk-${i}`, String(d.password));
  }
  // E1's badge: its tag at the kiosk asks the customer to confirm the check-in.
  await call(p, "POST", "/api/v1/devices", {
    id: "badge-1",
    kind: "badge",
    engineerId: "E1",
    rfidTag: "0A1B2C3D4E",
  });
  await call(p, "POST", "/api/v1/webhooks", {
    url: `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`,
    events: ["sos", "no_show"],
    secret: SECRET,
  });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  // Each node's log, for reading after a failure.
  mkdirSync("test-artifacts", { recursive: true });
  nodes.forEach((n, i) => {
    writeFileSync(join("test-artifacts", `cluster-node-${NAMES[i]}.log`), n.output());
  });
  await Promise.all(
    nodes.map(async (n) => {
      if (n.proc.exitCode === null && n.proc.signalCode === null) {
        n.proc.kill("SIGTERM");
        await n.exited;
      }
    }),
  );
  await proxy?.stop();
  await redis?.stop();
  await pgc?.stop();
  hookServer?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("cluster.url", () => {
  it("needs a PostgreSQL store and the demo off, and says so by name", () => {
    expect(() => loadConfig({ env: { ONSITE_CLUSTER_URL: "redis://127.0.0.1:6379" } })).toThrow(
      /config cluster.url: a cluster needs a shared PostgreSQL store: set store.url/,
    );
    expect(() =>
      loadConfig({ overrides: { "cluster.url": "redis://h:1", "store.url": "postgres://u@h/d" } }),
    ).toThrow(/config cluster.url: the demo plays against one hub/);
    expect(() =>
      loadConfig({
        overrides: { "cluster.url": "http://h:1", "store.url": "postgres://u@h/d", "demo.enabled": false },
      }),
    ).toThrow(/config cluster.url: expected a redis:\/\/ or rediss:\/\/ URL.*ONSITE_CLUSTER_URL/);
    const ok = loadConfig({
      env: { ONSITE_CLUSTER_URL: "redis://h:1" },
      overrides: { "store.url": "postgres://u@h/d", "demo.enabled": false },
    });
    expect(ok.cluster?.url).toBe("redis://h:1");
  });
});

describe("three nodes on PostgreSQL, Redis and HAProxy", () => {
  it("elects exactly one leader", async () => {
    const i = await leaderIndex();
    const r = await roles();
    expect(r.filter((d) => d?.includes(" follower"))).toHaveLength(2);
    expect(nodes[i]?.output()).toContain("cluster: this node is the leader");
  });

  it("a retained status and a command published by one node reach clients on the others", async () => {
    const L = await leaderIndex();
    const [f1, f2] = [0, 1, 2].filter((i) => i !== L) as [number, number];
    const statusTopic = topics.visitStatus("S1", "V1");
    const obs = await observer(nodes[f1]?.mqttPort ?? 0);
    const statuses = collect(obs, statusTopic);
    await obs.subscribeAsync(statusTopic, { qos: 1 });
    const k1 = await device("kiosk-1", nodes[f2]?.mqttPort ?? 0);
    const commands = collect(k1, topics.deviceCommands("kiosk-1"));
    await k1.subscribeAsync(topics.deviceCommands("kiosk-1"), { qos: 1 });
    // The arrival goes to the other follower; the leader projects it and speaks.
    const k0 = await device("kiosk-0", nodes[f2]?.mqttPort ?? 0);
    await k0.publishAsync(
      "onsite/v1/dev/kiosk-0/events",
      event("kiosk-0", { type: "arrival", source: "kiosk_tap", visit: "V1" }),
      { qos: 1 },
    );
    const arrived = await eventually(
      async () => statuses.find((s) => s.state === "arrived"),
      10_000,
      "status on a follower",
    );
    // The engineer taps at the kiosk: the customer is asked to confirm, on every kiosk of the site.
    await k0.publishAsync(
      "onsite/v1/dev/kiosk-0/events",
      event("kiosk-0", { type: "checkin_request", tag: "0A1B2C3D4E", visit: "V1" }),
      { qos: 1 },
    );
    expect(arrived.visit).toBe("V1");
    const prompt = await eventually(
      async () => commands.find((c) => c.type === "display" && c.prompt === "checkin_confirm"),
      10_000,
      "the leader's kiosk prompt on another node",
    );
    expect(prompt).toBeDefined();
    // Exactly one node speaks: one prompt for one change, not one per node.
    await new Promise((r) => setTimeout(r, 500));
    expect(commands.filter((c) => c.type === "display" && c.prompt === "checkin_confirm")).toHaveLength(1);
    // The retained status is one truth in Redis: a client new to the leader's node gets it at once.
    const late = await observer(nodes[L]?.mqttPort ?? 0);
    const retained = collect(late, statusTopic);
    await late.subscribeAsync(statusTopic, { qos: 1 });
    const r = await eventually(async () => retained[0], 5000, "the retained status");
    expect(r.state).toBe("arrived");
  });

  it("a live stream on one node carries a change made through another; every node reads it; a QoS 1 session moves between nodes", async () => {
    const [a, b, c] = [nodes[0], nodes[1], nodes[2]] as [ChildHub, ChildHub, ChildHub];
    // kiosk-3 keeps a session (clean: false) on node c, subscribed at QoS 1, then goes away.
    const away = await device("kiosk-3", c.mqttPort, { clean: false });
    await away.subscribeAsync(topics.deviceCommands("kiosk-3"), { qos: 1 });
    await away.endAsync();
    const ctl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${a.httpPort}/api/v1/stream?access_token=${token}`, {
      signal: ctl.signal,
    });
    expect(res.status).toBe(200);
    let text = "";
    const reading = (async () => {
      const reader = res.body?.getReader();
      const dec = new TextDecoder();
      for (;;) {
        const chunk = await reader?.read().catch(() => undefined);
        if (!chunk || chunk.done) return;
        text += dec.decode(chunk.value);
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const k2 = await device("kiosk-2", b.mqttPort);
    await k2.publishAsync(
      "onsite/v1/dev/kiosk-2/events",
      event("kiosk-2", { type: "checkin_confirmed", visit: "V1", engineer: "E1", consent: true }),
      { qos: 1 },
    );
    await eventually(
      async () =>
        text
          .split("\n\n")
          .some((m) => m.includes("event: visit") && m.includes('"V1"') && m.includes("checked_in"))
          ? true
          : undefined,
      10_000,
      "the checked_in visit on node a's stream",
    );
    ctl.abort();
    await reading;
    // The prompt the check-in made was queued for kiosk-3 in Redis; it gets it back on node a.
    // (the listener goes on before the connection: the queue is sent right after CONNACK)
    const back = mqtt.connect(`mqtt://127.0.0.1:${a.mqttPort}`, {
      clientId: "kiosk-3",
      username: "kiosk-3",
      password: creds.get("kiosk-3") ?? "",
      reconnectPeriod: 0,
      clean: false,
    });
    clients.push(back);
    const queued = collect(back, topics.deviceCommands("kiosk-3"));
    await new Promise((resolve, reject) => {
      back.once("connect", resolve);
      back.once("error", reject);
    });
    const checkedIn = await eventually(
      async () => queued.find((m) => m.type === "display" && m.prompt === "checked_in"),
      10_000,
      "the command queued while kiosk-3 was away, on another node",
    );
    expect(checkedIn.visit).toBe("V1");
    await back.endAsync();
    for (const n of nodes) {
      const v = await eventually(
        async () => {
          const got = await call(n.httpPort, "GET", "/api/v1/visits/V1");
          return got.state === "checked_in" ? got : undefined;
        },
        5000,
        "every node reads checked_in",
      );
      expect(v.state).toBe("checked_in");
    }
  });

  it("SIGKILL of the leader mid-stream of QoS 1 events: nothing PUBACKed lost or stored twice, one notification per SOS, a new leader", async () => {
    const L = await leaderIndex();
    const acked = new Set<string>();
    let stop = false;
    const viaProxy = ["kiosk-3", "kiosk-4", "kiosk-5", "kiosk-6", "kiosk-7", "kiosk-8"];
    const direct = ["kiosk-9"].map((id, i) => ({ id, node: (L + 1 + i) % 3 }));
    const streams = [
      ...viaProxy.map((id) => ({ id, port: () => proxy.mqttPort })),
      ...direct.map(({ id, node }) => ({ id, port: () => nodes[node]?.mqttPort ?? 0 })),
    ].map(async ({ id, port }) => {
      let c = await device(id, port());
      let n = 1;
      while (!stop) {
        const ok = await new Promise<boolean>((resolve) => {
          const closed = () => resolve(false);
          c.once("close", closed);
          c.publish(
            `onsite/v1/dev/${id}/events`,
            JSON.stringify({ v: 1, type: "heartbeat", device: id, counter: n, time: Date.now(), queued: 0 }),
            { qos: 1 },
            (err) => {
              c.off("close", closed);
              resolve(!err);
            },
          );
        });
        if (ok) {
          acked.add(`${id}#${n}`);
          n++;
          await new Promise((r) => setTimeout(r, 30));
          continue;
        }
        // Its node is gone: reconnect through HAProxy (a survivor), send the unacknowledged one again.
        c.end(true);
        c = await eventually(
          () => device(id, proxy.mqttPort).catch(() => undefined),
          15_000,
          `${id} reconnect`,
        );
      }
      c.end(true);
    });
    await new Promise((r) => setTimeout(r, 1000));
    // One SOS, then the leader dies before or while it projects, notifies and dispatches.
    const k0 = await device("kiosk-0", proxy.mqttPort);
    const sosAt = Date.now();
    await k0.publishAsync(
      "onsite/v1/dev/kiosk-0/events",
      JSON.stringify({
        v: 1,
        device: "kiosk-0",
        counter: 5000,
        time: sosAt,
        type: "sos",
        kind: "injury",
        visit: "V1",
      }),
      { qos: 1 },
    );
    await new Promise((r) => setTimeout(r, 30));
    killedAt = Date.now();
    nodes[L]?.proc.kill("SIGKILL");
    await nodes[L]?.exited;
    const next = await leaderIndex(20_000);
    const failoverMs = Date.now() - killedAt;
    expect(next).not.toBe(L);
    await new Promise((r) => setTimeout(r, 2000));
    stop = true;
    await Promise.all(streams);
    process.stdout.write(
      `[cluster] leader ${NAMES[L]} killed; ${NAMES[next]} leads after ${failoverMs} ms; ${acked.size} heartbeats PUBACKed\n`,
    );
    expect(acked.size).toBeGreaterThan(100);

    // Every PUBACKed event is stored, once.
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    try {
      const rows = await db.query<{ device: string; counter: string; n: string }>(
        "SELECT device, counter, count(*) AS n FROM events WHERE device LIKE 'kiosk-%' GROUP BY device, counter",
      );
      const stored = new Map(rows.rows.map((r) => [`${r.device}#${r.counter}`, Number(r.n)]));
      const lost = [...acked].filter((k) => !stored.has(k));
      expect(lost).toEqual([]);
      expect([...stored.values()].filter((n) => n > 1)).toEqual([]);

      // The SOS: one alarm on the visit, one notification row, one delivery — whichever leader did it.
      const survivor = nodes[next] as ChildHub;
      const view = await eventually(
        async () => {
          const v = await call(survivor.httpPort, "GET", "/api/v1/visits/V1");
          return (v.alarms as unknown[] | undefined)?.length ? v : undefined;
        },
        10_000,
        "the SOS alarm on the new leader",
      );
      expect(view.alarms).toHaveLength(1);
      await eventually(
        async () => (deliveries.some((d) => d.type === "sos") ? true : undefined),
        15_000,
        "the SOS webhook",
      );
      await new Promise((r) => setTimeout(r, 2000));
      // One notification: one outbox row, one delivery id. Delivery is at least once (sent, then
      // marked): a leader killed between the two has the next one send that same id again, which
      // x-onsite-delivery lets the receiver drop. Any other repeat is a duplicate notification.
      const outbox = await db.query<{ id: string; status: string }>(
        "SELECT id, status FROM outbox WHERE type = 'sos' AND visit_id = 'V1' AND channel = 'webhook'",
      );
      expect(outbox.rows).toEqual([{ id: expect.any(String), status: "delivered" }]);
      const sosDeliveries = deliveries.filter((d) => d.type === "sos");
      expect(new Set(sosDeliveries.map((d) => d.id))).toEqual(new Set([outbox.rows[0]?.id]));
      const resent = sosDeliveries.length - 1;
      const sos = sosDeliveries[0] as { at: number };
      const ready = /"readyMs":(\d+)/.exec(survivor.output())?.[1];
      process.stdout.write(
        `[cluster] SOS sent, PUBACKed and the leader killed ${killedAt - sosAt} ms later; webhook received ${sos.at - sosAt} ms after the SOS was sent (one notification; the same delivery resent ${resent}×); new leader ready ${ready} ms after taking the lock\n`,
      );

      // A second SOS after the failover is the new leader's alone: one more delivery.
      // (a new connection: the first may have been on the node that was killed)
      const k0b = await device("kiosk-0", proxy.mqttPort);
      await k0b.publishAsync(
        "onsite/v1/dev/kiosk-0/events",
        JSON.stringify({
          v: 1,
          device: "kiosk-0",
          counter: 5001,
          time: Date.now(),
          type: "sos",
          kind: "hazard",
          visit: "V1",
        }),
        { qos: 1 },
      );
      const ids = () => new Set(deliveries.filter((d) => d.type === "sos").map((d) => d.id));
      await eventually(async () => (ids().size >= 2 ? true : undefined), 15_000, "the second SOS webhook");
      await new Promise((r) => setTimeout(r, 1500));
      expect(ids().size).toBe(2);
      // The second SOS came after the failover: nothing was in flight, so it is delivered exactly once.
      expect(deliveries.filter((d) => d.type === "sos")).toHaveLength(2 + resent);
    } finally {
      await db.end();
    }
  }, 90_000);

  it("the new leader runs the timers: the no-show is notified once", async () => {
    const wait = Math.max(0, v2End - Date.now()) + 20_000;
    await eventually(
      async () => (deliveries.some((d) => d.type === "no_show") ? true : undefined),
      wait,
      "the no-show webhook",
    );
    await new Promise((r) => setTimeout(r, 1500));
    const noShows = deliveries.filter((d) => d.type === "no_show" && d.visitId === "V2");
    expect(noShows).toHaveLength(1);
    expect(killedAt).toBeGreaterThan(0);
    expect(noShows[0]?.at).toBeGreaterThan(killedAt); // the old leader was gone by then
    process.stdout.write(
      `[cluster] no-show of V2 notified once by the new leader, ${(noShows[0]?.at ?? 0) - v2End} ms after its window closed\n`,
    );
    const L = await leaderIndex();
    const v = await call(nodes[L]?.httpPort ?? 0, "GET", "/api/v1/visits/V2");
    expect(v.state).toBe("no_show");
  }, 150_000);

  it("rides out a Redis restart: commands and status cross nodes again by themselves", async () => {
    const live = nodes.flatMap((n, i) => (n.proc.exitCode === null && n.proc.signalCode === null ? [i] : []));
    expect(live).toHaveLength(2);
    const [x, y] = live as [number, number];
    const downAt = Date.now();
    await redis.restart(1000);
    // Both nodes see Redis again (their /healthz cluster part is ok).
    await eventually(
      async () => {
        const oks = await Promise.all(
          live.map(async (i) => {
            const h = (await (await fetch(`http://127.0.0.1:${nodes[i]?.httpPort}/healthz`)).json()) as {
              parts?: { cluster?: { ok?: boolean } };
            };
            return h.parts?.cluster?.ok === true;
          }),
        );
        return oks.every(Boolean) ? true : undefined;
      },
      20_000,
      "both nodes on Redis again",
    );
    const backMs = Date.now() - downAt;
    const statusTopic = topics.visitStatus("S1", "V1");
    const obs = await eventually(
      () => observer(nodes[x]?.mqttPort ?? 0).catch(() => undefined),
      10_000,
      "observer",
    );
    const statuses = collect(obs, statusTopic);
    await obs.subscribeAsync(statusTopic, { qos: 1 });
    const k = await eventually(
      () => device("kiosk-1", nodes[y]?.mqttPort ?? 0).catch(() => undefined),
      10_000,
      "kiosk",
    );
    await k.publishAsync(
      "onsite/v1/dev/kiosk-1/events",
      event("kiosk-1", {
        type: "completion_submitted",
        visit: "V1",
        cause: "worn seal",
        parts: [{ name: "seal", quantity: 1 }],
        workDone: "replaced",
        advice: "check yearly",
      }),
      { qos: 1 },
    );
    const s = await eventually(
      async () => statuses.find((m) => (m.updatedAt as number) > downAt),
      15_000,
      "a status published after the restart, on the other node",
    );
    expect(s.visit).toBe("V1");
    process.stdout.write(
      `[cluster] Redis restarted (down 1 s); both nodes back on it ${backMs} ms after the stop began\n`,
    );
  }, 60_000);

  it("rides out a PostgreSQL restart: one leader again, and events are stored and projected", async () => {
    const live = nodes.flatMap((n, i) => (n.proc.exitCode === null && n.proc.signalCode === null ? [i] : []));
    expect(live).toHaveLength(2);
    const [x, y] = live as [number, number];
    const downAt = Date.now();
    await pgc.restart(1000);
    // The leader's lock went with its session: a leader again (the same or the other node).
    await leaderIndex(30_000);
    const backMs = Date.now() - downAt;
    const statusTopic = topics.visitStatus("S1", "V1");
    const obs = await eventually(
      () => observer(nodes[x]?.mqttPort ?? 0).catch(() => undefined),
      10_000,
      "observer",
    );
    const statuses = collect(obs, statusTopic);
    await obs.subscribeAsync(statusTopic, { qos: 1 });
    const k = await eventually(
      () => device("kiosk-1", nodes[y]?.mqttPort ?? 0).catch(() => undefined),
      10_000,
      "kiosk",
    );
    // A PUBACK comes only once the event is committed: the database is back.
    const sentAt = Date.now();
    await k.publishAsync(
      "onsite/v1/dev/kiosk-1/events",
      event("kiosk-1", { type: "completion_confirmed", visit: "V1", resolved: true, rating: 5 }),
      { qos: 1 },
    );
    const s = await eventually(
      async () => statuses.find((m) => (m.updatedAt as number) >= sentAt),
      20_000,
      "a status published after PostgreSQL came back",
    );
    expect(s.visit).toBe("V1");
    await k.endAsync();
    await obs.endAsync();
    process.stdout.write(
      `[cluster] PostgreSQL restarted (down 1 s); one leader again ${backMs} ms after the stop began\n`,
    );
  }, 90_000);
});
