/**
 * The broker's cluster parts on Redis, from the aedes ecosystem: mqemitter-redis carries every
 * publication between the nodes (a command published on one reaches a device connected to
 * another), aedes-persistence-redis keeps retained messages, subscriptions and QoS 1 sessions in
 * one place (a device that reconnects to another node finds its session there). Loaded only when
 * `cluster.url` is set.
 */
import persistenceRedis from "aedes-persistence-redis";
import { Redis, type RedisOptions } from "ioredis";
import mqemitterRedis from "mqemitter-redis";
import { ConfigError } from "../config/config.js";
import type { Logger } from "../log.js";
import type { Emitter } from "./peers.js";

export interface RedisBroker {
  /** For `Aedes.createBroker({ mq, persistence })`. */
  mq: Emitter;
  persistence: unknown;
  /** Whether every connection to Redis is up now (for /healthz). */
  ready(): boolean;
  /** The URL without its password, for logs. */
  display: string;
  close(): Promise<void>;
}

/** `redis://[user:password@]host[:port][/db]`; `rediss://` for TLS. Anything else names `cluster.url`. */
export function redisOptions(url: string): RedisOptions & { display: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError("cluster.url", `expected a redis:// URL, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new ConfigError("cluster.url", `expected a redis:// or rediss:// URL, got ${u.protocol}`);
  if (u.hostname === "") throw new ConfigError("cluster.url", "the URL names no host");
  const port = u.port === "" ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, "");
  if (dbText !== "" && !/^\d{1,2}$/.test(dbText))
    throw new ConfigError(
      "cluster.url",
      `the database must be a number 0..15, got ${JSON.stringify(dbText)}`,
    );
  const shown = new URL(url);
  shown.password = "";
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port,
    ...(dbText === "" ? {} : { db: Number(dbText) }),
    ...(u.username === "" ? {} : { username: decodeURIComponent(u.username) }),
    ...(u.password === "" ? {} : { password: decodeURIComponent(u.password) }),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    display: shown.toString(),
  };
}

/** Reconnects forever, backing off to 2 s: Redis coming back is the cluster coming back. */
const retryStrategy = (times: number) => Math.min(100 * times, 2000);

export async function openRedisBroker(url: string, log: Logger): Promise<RedisBroker> {
  const { display, ...opts } = redisOptions(url);
  const conns: Redis[] = [];
  const open = (role: string) => {
    const c = new Redis({
      ...opts,
      retryStrategy,
      // Commands wait for a reconnect instead of failing at once; a publish during an outage waits.
      maxRetriesPerRequest: null,
      lazyConnect: true,
      connectionName: `onsite-${role}`,
    });
    let down = false;
    c.on("error", (e: Error) => {
      if (!down) log.warn({ err: e.message, role }, "redis connection failed; reconnecting");
      down = true;
    });
    c.on("ready", () => {
      if (down) log.info({ role }, "redis connection back");
      down = false;
    });
    conns.push(c);
    return c;
  };
  const sub = open("mq-sub");
  const pub = open("mq-pub");
  const db = open("persistence");
  try {
    await Promise.all(conns.map((c) => c.connect()));
  } catch (e) {
    for (const c of conns) c.disconnect();
    throw new ConfigError("cluster.url", `cannot reach Redis at ${display}: ${(e as Error).message}`);
  }
  const mq = mqemitterRedis({ subConn: sub, pubConn: pub });
  // Its errors are the connections' own, reported by their listeners above.
  (mq as unknown as { state: { on(e: string, f: () => void): void } }).state.on("error", () => {});
  const persistence = persistenceRedis({ conn: db });
  log.info({ cluster: display }, "cluster: broker emitter and persistence on Redis");
  return {
    mq: mq as unknown as Emitter,
    persistence,
    display,
    ready: () => conns.every((c) => c.status === "ready"),
    async close() {
      // aedes closes the emitter and the persistence with itself; what is still open is cut here.
      await new Promise<void>((resolve) => mq.close(() => resolve()));
      await new Promise<void>((resolve) => persistence.destroy(() => resolve()));
      for (const c of conns) if (c.status !== "end") c.disconnect();
    },
  };
}
