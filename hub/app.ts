/**
 * Wires a hub from its parts. Tests build the hub they need with `createHub(config, parts)`;
 * `onsite hub` (hub/main.ts) builds one from the loaded configuration.
 */
import { join } from "node:path";
import { type Radio, startRadio } from "./adapters/ble/radio.js";
import { createHttpServer, type HttpServer } from "./adapters/http/server.js";
import { MqttBroker } from "./adapters/mqtt/broker.js";
import { SqliteStore } from "./adapters/store/sqlite/sqlite-store.js";
import { Provisioning } from "./admin/provisioning.js";
import { Announcer } from "./announce.js";
import { Bus } from "./bus.js";
import type { HubConfig } from "./config/config.js";
import type { HubContext } from "./context.js";
import { type Clock, type Store, systemClock } from "./core/ports.js";
import { DEFAULT_PRESENCE } from "./core/presence.js";
import { VisitService } from "./core/service/visits.js";
import { Ingest } from "./ingest/ingest.js";
import { createLogger, type Logger } from "./log.js";
import { Metrics } from "./metrics.js";
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
  mqttPort: number;
  httpPort: number;
  /** The BLE radio (mode off, bluez or virtual). */
  radio: Radio;
  presence: PresenceService;
  /** Set on a first start: the admin token, shown once. */
  adminToken: string | undefined;
  stop(): Promise<void>;
}

/** SQLite in dataDir by default; PostgreSQL when `store.url` is set (its driver loaded only then). */
async function openStore(config: HubConfig, log: Logger): Promise<Store> {
  const url = config.store.url;
  if (url === undefined)
    return new SqliteStore({ path: join(config.dataDir, "onsite.db"), sync: config.store.sync });
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
  const clock = parts.clock ?? systemClock;
  const log =
    parts.log ??
    createLogger({
      level: config.log.level,
      ...(config.log.pretty === undefined ? {} : { pretty: config.log.pretty }),
    });
  const store = parts.store ?? (await openStore(config, log));
  const vault = parts.vault ?? KeyVault.open(join(config.dataDir, "master.key"));
  const metrics = new Metrics();
  const bus = new Bus();
  bus.onError = (e, name) => log.error({ err: e, event: name }, "bus handler failed");
  const visits = new VisitService({
    store,
    clock,
    lateDataThresholdMs: config.rules.lateDataThresholdMs,
    maxEventsPerVisit: config.rules.maxEventsPerVisit ?? 10_000,
    onUpdates: (updates) => {
      for (const u of updates) bus.emit("visit.updated", u);
    },
    onError: (e) => log.error({ err: e }, "projection failed; projecting again from the stored watermark"),
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
    onChange: (id) => ingest.forget(id),
    onRevoked: (what) => bus.emit("credentials.revoked", what),
  });
  const broker = await MqttBroker.create(
    { ingest, store, bus, log: log.child({ ns: "mqtt" }), metrics, clock },
    {
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      ratePerSecond: config.mqtt.ratePerSecond,
      rateBurst: config.mqtt.rateBurst,
    },
  );
  const announcer = new Announcer({
    store,
    visits,
    bus,
    clock,
    log: log.child({ ns: "announce" }),
    sink: broker,
  });
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
  };

  // Events committed but not projected (a crash between the two) are projected first.
  await visits.start();
  let adminToken: string | undefined;
  if ((await store.countTokens("admin")) === 0)
    adminToken = (await provisioning.createToken("admin", "first-admin")).token;

  await presence.start();
  const http = await createHttpServer(ctx, broker);
  const mqttAddr = await broker.listen(config.mqtt.host, config.mqtt.port);
  await http.app.listen({ host: config.http.host, port: config.http.port });
  const httpAddr = http.app.server.address();
  const httpPort = typeof httpAddr === "object" && httpAddr ? httpAddr.port : config.http.port;
  log.info(
    {
      mqttPort: mqttAddr.port,
      httpPort,
      mqtt: `${config.mqtt.host}:${mqttAddr.port}`,
      http: `${config.http.host}:${httpPort}`,
    },
    "hub listening",
  );

  // The radio comes last: a BLE fault is reported on /healthz and never stops MQTT or HTTP.
  let radio: Radio;
  try {
    radio = await startRadio(ctx);
  } catch (e) {
    log.error({ err: e }, "BLE radio did not start; running without it");
    ctx.health.set("ble", { ok: false, detail: `did not start: ${(e as Error).message}` });
    radio = { mode: "off", stop: async () => {} };
  }

  // Time-driven rules: only the visits whose deadline has come are judged again.
  const tick = setInterval(() => visits.tick(), config.rules.tickMs);
  tick.unref();

  let stopped = false;
  return {
    ctx,
    broker,
    http,
    mqttPort: mqttAddr.port,
    httpPort,
    adminToken,
    radio,
    presence,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(tick);
      await radio.stop();
      await http.close();
      await broker.close();
      await ingest.settle();
      await visits.stop();
      await presence.stop();
      await announcer.idle();
      await store.close();
      log.info("hub stopped");
    },
  };
}
