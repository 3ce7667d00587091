/**
 * Wires a hub from its parts. Tests build the hub they need with `createHub(config, parts)`;
 * `onsite hub` (hub/main.ts) builds one from the loaded configuration.
 */

import { join } from "node:path";
import type { GatewaySync } from "../protocol/index.js";
import { type Radio, startRadio } from "./adapters/ble/radio.js";
import { createHttpServer, type HttpServer } from "./adapters/http/server.js";
import { MqttBroker } from "./adapters/mqtt/broker.js";
import { GatewaySyncer } from "./adapters/mqtt/gateway-sync.js";
import { Uplink } from "./adapters/mqtt/uplink.js";
import { SqliteStore } from "./adapters/store/sqlite/sqlite-store.js";
import { ThreadedSqliteStore } from "./adapters/store/sqlite/threaded.js";
import { Provisioning } from "./admin/provisioning.js";
import { applySync } from "./admin/sync.js";
import { Announcer } from "./announce.js";
import { Bus } from "./bus.js";
import type { ClusterNode } from "./cluster/node.js";
import type { RedisBroker } from "./cluster/redis.js";
import type { HubConfig } from "./config/config.js";
import type { HubContext } from "./context.js";
import { type Clock, type Store, systemClock } from "./core/ports.js";
import { DEFAULT_PRESENCE } from "./core/presence.js";
import { VisitService } from "./core/service/visits.js";
import { Ingest } from "./ingest/ingest.js";
import { createLogger, type Logger } from "./log.js";
import { Metrics } from "./metrics.js";
import { DEFAULT_DISPATCH, Dispatcher } from "./notify/dispatcher.js";
import { Notifier } from "./notify/notifier.js";
import { type Listening, listenAll } from "./ops/listen.js";
import { loadTls } from "./ops/tls.js";
import { PresenceService } from "./presence.js";
import { KeyVault } from "./security/secrets.js";

export interface HubParts {
  clock?: Clock;
  log?: Logger;
  store?: Store;
  vault?: KeyVault;
}

export interface Hub {
  ctx: HubContext;
  broker: MqttBroker;
  http: HttpServer;
  /** Plain MQTT (0 when `mqtt.plain` is off). */
  mqttPort: number;
  /** MQTT over TLS, with a certificate configured. */
  mqttsPort?: number;
  httpPort: number;
  /** HTTPS (and wss at /mqtt) instead of HTTP. */
  tls: boolean;
  /** The BLE radio (mode off, bluez or virtual). */
  radio: Radio;
  /** Gateway mode: the link to the central hub. */
  uplink?: Uplink;
  /** Central side of gateway mode: each site hub's picture of its site. */
  gatewaySync: GatewaySyncer;
  presence: PresenceService;
  /** Set on a first start: the admin token, shown once. */
  adminToken: string | undefined;
  /** With `cluster.url`: this node's part in the cluster (leadership). */
  cluster?: ClusterNode;
  stop(): Promise<void>;
}

/** SQLite in dataDir by default; PostgreSQL when `store.url` is set (its driver loaded only then). */
async function openStore(config: HubConfig, log: Logger, metrics: Metrics): Promise<Store> {
  const url = config.store.url;
  const path = join(config.dataDir, "onsite.db");
  if (url === undefined && config.store.writer === "inline")
    return new SqliteStore({ path, sync: config.store.sync });
  if (url === undefined) {
    return ThreadedSqliteStore.open({
      path,
      sync: config.store.sync,
      onCheckpoint: (r) => {
        metrics.observe(
          "onsite_wal_checkpoint_seconds",
          "WAL checkpoints (writer thread)",
          r.ms / 1000,
          [0.001, 0.005, 0.02, 0.1, 0.5],
        );
        metrics.set("onsite_wal_frames", "WAL frames at the last checkpoint", r.walFrames);
      },
      onWriterError: (e) =>
        log.error({ err: e }, "the SQLite writer thread stopped; the next write starts it again"),
    });
  }
  const { PostgresStore } = await import("./adapters/store/postgres/postgres-store.js");
  const store = await PostgresStore.open({
    url,
    onError: (e) => log.warn({ err: e }, "a pooled PostgreSQL connection failed; the pool opens a new one"),
  });
  log.info({ store: withoutPassword(url), schemaVersion: store.schemaVersion }, "store: PostgreSQL");
  return store;
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    return u.toString();
  } catch {
    return "postgres://…";
  }
}

export async function createHub(config: HubConfig, parts: HubParts = {}): Promise<Hub> {
  // Certificate files are read first: one that cannot be used stops the start before anything opens.
  const tls = loadTls(config);
  const clock = parts.clock ?? systemClock;
  const log =
    parts.log ??
    createLogger({
      level: config.log.level,
      ...(config.log.pretty === undefined ? {} : { pretty: config.log.pretty }),
    });
  const metrics = new Metrics();
  const store = parts.store ?? (await openStore(config, log, metrics));
  // A cluster's broker parts on Redis (loaded only then); config checked that store.url is PostgreSQL.
  let redis: RedisBroker | undefined;
  if (config.cluster) {
    const { openRedisBroker } = await import("./cluster/redis.js");
    try {
      redis = await openRedisBroker(config.cluster.url, log.child({ ns: "cluster" }));
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  const vault = parts.vault ?? KeyVault.open(join(config.dataDir, "master.key"));
  const bus = new Bus();
  bus.onError = (e, name) => log.error({ err: e, event: name }, "bus handler failed");
  const n = config.notify ?? {};
  // The broker is made below; the notifier asks it only once the hub runs.
  let connected: (deviceId: string) => boolean = () => false;
  const notifier = new Notifier(
    { store, clock, log: log.child({ ns: "notify" }), connected: (id) => connected(id) },
    {
      channels: { email: n.smtp !== undefined, sms: n.sms !== undefined },
      escalationMinutes: n.escalationMinutes ?? 5,
    },
  );
  const dispatcher = new Dispatcher(
    { store, clock, log: log.child({ ns: "notify" }), metrics, vault },
    {
      ...DEFAULT_DISPATCH,
      ...(n.smtp ? { smtp: n.smtp } : {}),
      ...(n.sms ? { sms: n.sms } : {}),
      ...(n.maxAttempts === undefined ? {} : { maxAttempts: n.maxAttempts }),
      ...(n.retryBaseMs === undefined ? {} : { baseDelayMs: n.retryBaseMs }),
    },
  );
  // With cluster.url: this node's part (made once the broker exists; the visit service asks it).
  let cluster: ClusterNode | undefined;
  /** The projection step being finished wrote notifications: the dispatcher looks at once. */
  let outboxWritten = false;
  const visits = new VisitService({
    store,
    clock,
    lateDataThresholdMs: config.rules.lateDataThresholdMs,
    maxEventsPerVisit: config.rules.maxEventsPerVisit ?? 10_000,
    ...(config.rules.projectionBacklog ? { backlog: config.rules.projectionBacklog } : {}),
    onUpdates: (updates) => {
      for (const u of updates) bus.emit("visit.updated", u);
      if (outboxWritten) {
        outboxWritten = false;
        dispatcher.kick();
      }
    },
    notify: async (updates) => {
      const items = await notifier.forUpdates(updates);
      if (items.length > 0) outboxWritten = true;
      return items;
    },
    onError: (e) => log.error({ err: e }, "projection failed; projecting again from the stored watermark"),
    // A cluster node follows the shared event log, and writes only once it is the leader.
    ...(redis ? { feed: "log" as const, writer: false, fence: () => cluster?.fence() } : {}),
  });
  const p = config.ble.presence;
  const presence = new PresenceService(
    { store, bus, clock, log: log.child({ ns: "presence" }), metrics },
    {
      silenceMs: p.silenceS * 1000,
      minSilenceMs: Math.min(p.minSilenceS, p.silenceS) * 1000,
      minDwellMs: p.minDwellS * 1000,
      enterRssi: p.enterRssi,
      exitRssi: Math.min(p.exitRssi, p.enterRssi),
      weakHoldMs: p.weakHoldS * 1000,
      rotationMs: p.rotationS * 1000,
      epsilon: DEFAULT_PRESENCE.epsilon,
      floorRssi: DEFAULT_PRESENCE.floorRssi,
      levelOf: DEFAULT_PRESENCE.levelOf,
      maxSamples: DEFAULT_PRESENCE.maxSamples,
    },
  );
  presence.setGatewaySite(config.ble.gatewayId, config.ble.siteId ?? null);
  const ingest = new Ingest({
    store,
    clock,
    bus,
    log: log.child({ ns: "ingest" }),
    metrics,
    visits,
    vault,
    presence,
  });
  const provisioning = new Provisioning({
    store,
    vault,
    clock,
    onChange: (id) => {
      ingest.forget(id);
      bus.emit("device.changed", { id });
    },
    onRevoked: (what) => bus.emit("credentials.revoked", what),
  });
  const broker = await MqttBroker.create(
    { ingest, store, bus, log: log.child({ ns: "mqtt" }), metrics, clock },
    {
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      ratePerSecond: config.mqtt.ratePerSecond,
      rateBurst: config.mqtt.rateBurst,
      ...(config.mqtt.connectsPerAddress ? { connectsPerAddress: config.mqtt.connectsPerAddress } : {}),
    },
    redis,
  );
  const announcer = new Announcer({
    store,
    visits,
    bus,
    clock,
    log: log.child({ ns: "announce" }),
    sink: broker,
    leading: () => visits.writing,
  });
  // Changes made through the API (on this node, or relayed from another of its cluster).
  bus.on("plans.changed", ({ plans }) => visits.plansChanged(plans));
  bus.on("context.changed", () => {
    visits.contextChanged();
    announcer.contextChanged();
    notifier.forget();
  });
  bus.on("webhooks.changed", () => notifier.forget());
  bus.on("device.changed", ({ id, remote }) => remote && ingest.forget(id));
  // An alarm acknowledged on another node stops escalating here too (on this node, acknowledgeAlarms did).
  bus.on("alarm.acknowledged", (a) => a.remote && notifier.dismiss(a.visitId, a.alarmAt));
  const ctx: HubContext = {
    config,
    clock,
    log,
    metrics,
    bus,
    store,
    vault,
    visits,
    ingest,
    announcer,
    provisioning,
    startedAt: clock.now(),
    health: new Map(),
    presence,
    notifier,
    dispatcher,
    connected: (id) => connected(id),
  };

  connected = (id) => broker.isConnected(id);
  metrics.onCollect(() => {
    metrics.set(
      "onsite_projection_backlog",
      "Visit events committed and not yet projected (bulk ingest is held above 2000)",
      visits.backlog,
    );
    for (const [kind, n] of Object.entries(notifier.openAlarms()))
      metrics.set("onsite_open_alarms", "Alarms not yet acknowledged, by kind (page on sos > 0)", n, {
        kind,
      });
    for (const [k, n] of notifier.devices()) {
      const [kind = "", health = ""] = k.split("/");
      metrics.set("onsite_devices", "Devices by kind and health (online, stale, offline, never)", n, {
        kind,
        health,
      });
    }
  });
  // Events committed but not projected (a crash between the two) are projected first.
  await visits.start();
  await notifier.start();
  if (redis && config.cluster && config.store.url) {
    const { ClusterNode } = await import("./cluster/node.js");
    const { Peers } = await import("./cluster/peers.js");
    cluster = new ClusterNode({
      config: config.cluster,
      storeUrl: config.store.url,
      visits,
      notifier,
      dispatcher,
      redis,
      log: log.child({ ns: "cluster" }),
      metrics,
      health: ctx.health,
    });
    new Peers({ bus, mq: redis.mq, nodeId: cluster.nodeId, log: log.child({ ns: "cluster" }) });
    await cluster.start();
  }

  await presence.start();
  const http = await createHttpServer(ctx, broker, tls ? { tls } : {});
  let ports: Listening;
  try {
    ports = await listenAll(config, broker, http, tls);
  } catch (e) {
    // Close what was opened; nothing is left that a next start would trip over (no token).
    await http.close();
    await broker.close();
    await cluster?.stop();
    await visits.stop();
    await presence.stop();
    await redis?.close();
    await store.close();
    throw e;
  }
  const { mqttPort, mqttsPort, httpPort } = ports;
  // The first admin token only once the hub listens: a start that fails leaves no unshown token.
  let adminToken: string | undefined;
  if ((await store.countTokens("admin")) === 0)
    adminToken = (await provisioning.createToken("admin", "first-admin")).token;
  log.info(
    {
      mqttPort,
      httpPort,
      mqtt: config.mqtt.plain === false ? "off" : `${config.mqtt.host}:${mqttPort}`,
      ...(mqttsPort === undefined ? {} : { mqttsPort, mqtts: `${config.mqtt.host}:${mqttsPort}` }),
      http: `${tls ? "https" : "http"}://${config.http.host}:${httpPort}`,
      // hub/main.ts prints the new admin token after this line: whoever waits for it knows to.
      firstStart: adminToken !== undefined,
    },
    "hub listening",
  );
  // In a cluster the leader runs the dispatcher (hub/cluster/node.ts starts it on promotion).
  if (!cluster) dispatcher.start();

  // Central to site: each site hub that asks gets its site's picture, and again when it changes.
  const gatewaySync = new GatewaySyncer({
    store,
    clock,
    log: log.child({ ns: "gateway-sync" }),
    metrics,
    publish: (topic, payload) => broker.publish(topic, payload, false),
    connected: (id) => broker.isConnected(id),
  });
  broker.onGatewaySync = (gatewayId, siteId) => gatewaySync.subscribed(gatewayId, siteId);
  // A plan or a site changed through the API: the pictures go now, not at the next look.
  bus.on("plans.changed", () => void gatewaySync.tick());
  bus.on("context.changed", () => void gatewaySync.tick());
  gatewaySync.start();

  // Gateway mode: what this hub accepts goes on to the central hub, from the log (durable).
  let uplink: Uplink | undefined;
  if (config.ble.forward) {
    const onSync = async (sync: GatewaySync) => {
      // This hub's site: `ble.siteId`, else the one site it has, else the first picture's.
      const sites = await store.listSites();
      const siteOfHub = config.ble.siteId ?? (sites.length === 1 ? sites[0]?.id : undefined) ?? sync.site.id;
      return applySync(
        {
          store,
          clock,
          // As a change made through the API: the rules, the announcer and the notifier learn of it.
          plansChanged: (plans) => bus.emit("plans.changed", { plans }),
          contextChanged: () => bus.emit("context.changed", {}),
        },
        sync,
        siteOfHub,
      );
    };
    const up = new Uplink(
      { ...config.ble.forward, onSync },
      { store, log: log.child({ ns: "uplink" }), metrics },
    );
    up.start();
    bus.on("event.accepted", () => up.wake());
    uplink = up;
  }

  // The radio comes last: a BLE fault is reported on /healthz and never stops MQTT or HTTP.
  let radio: Radio;
  try {
    const { config, clock, bus, metrics, health } = ctx;
    radio = await startRadio({
      config,
      log,
      sink: ctx.ingest,
      bus,
      clock,
      metrics,
      health,
      ...(uplink ? { uplink } : {}),
    });
  } catch (e) {
    log.error({ err: e }, "BLE radio did not start; running without it");
    ctx.health.set("ble", { ok: false, detail: `did not start: ${(e as Error).message}` });
    radio = { mode: "off", stop: async () => {} };
  }

  // Time-driven rules: only the visits whose deadline has come are judged again.
  const tick = setInterval(() => {
    visits.tick();
    // Reminders and offline notices are written by one node: the leader.
    if (cluster && !cluster.timers()) return;
    notifier
      .tick()
      .then((added) => added > 0 && dispatcher.kick())
      .catch((e: unknown) => log.error({ err: e }, "notification tick failed"));
  }, config.rules.tickMs);
  tick.unref();

  let stopped = false;
  return {
    ctx,
    broker,
    http,
    mqttPort,
    ...(mqttsPort === undefined ? {} : { mqttsPort }),
    httpPort,
    tls: tls !== undefined,
    adminToken,
    radio,
    presence,
    ...(uplink ? { uplink } : {}),
    gatewaySync,
    ...(cluster ? { cluster } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(tick);
      await radio.stop();
      await uplink?.stop();
      gatewaySync.stop();
      await http.close();
      // Leadership goes first (its lock released): another node takes the timers at its next try.
      await cluster?.stop();
      await broker.close();
      await ingest.settle();
      await visits.stop();
      await dispatcher.stop();
      await presence.stop();
      await announcer.idle();
      await redis?.close();
      await store.close();
      log.info("hub stopped");
    },
  };
}
