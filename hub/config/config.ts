/**
 * Hub configuration: defaults < config file (JSON) < environment < command-line flags. Validated at
 * start; a bad value stops the hub with a message naming the key and the expected form.
 */
import { existsSync, readFileSync } from "node:fs";
import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ValueErrorType } from "@sinclair/typebox/errors";

const Port = Type.Integer({ minimum: 0, maximum: 65535, description: "an integer 0..65535" });
const Host = Type.String({ minLength: 1, maxLength: 255, description: "a host name or IP address" });

export const ConfigSchema = Type.Object(
  {
    version: Type.Literal(1, { description: "the number 1" }),
    dataDir: Type.String({ minLength: 1, description: "a directory path" }),
    mqtt: Type.Object(
      {
        host: Host,
        port: Port,
        maxPayloadBytes: Type.Integer({
          minimum: 256,
          maximum: 1_048_576,
          description: "an integer 256..1048576",
        }),
        ratePerSecond: Type.Number({
          exclusiveMinimum: 0,
          maximum: 10_000,
          description: "a number > 0, at most 10000",
        }),
        rateBurst: Type.Integer({ minimum: 1, maximum: 100_000, description: "an integer 1..100000" }),
        /** MQTT over TLS (mqtts), when `tls` is set; default MQTTS_PORT. */
        tlsPort: Type.Optional(Port),
        /** Plain MQTT on `port` (default true); with `tls` set, false leaves only mqtts and wss. */
        plain: Type.Optional(Type.Boolean({ description: "true or false" })),
        /**
         * Connection attempts one source address may make: a burst, then so many per second (default
         * 200, then 20/s). Raise it when many devices share an address: behind NAT, or a proxy that
         * does not pass the client's address on.
         */
        connectsPerAddress: Type.Optional(
          Type.Object(
            {
              burst: Type.Integer({ minimum: 1, maximum: 1_000_000, description: "an integer ≥ 1" }),
              perSecond: Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: "a number > 0" }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    http: Type.Object(
      {
        host: Host,
        port: Port,
        /**
         * How much a live stream (a dashboard) may hold unsent before it is ended (default 4 MiB):
         * a phone that stops reading reconnects and loads afresh instead of the hub buffering for it.
         */
        streamBufferBytes: Type.Optional(
          Type.Integer({
            minimum: 65_536,
            maximum: 268_435_456,
            description: "an integer of bytes, 65536 to 268435456",
          }),
        ),
      },
      { additionalProperties: false },
    ),
    /**
     * The hub's certificate: with it, HTTP becomes HTTPS (and MQTT over WebSocket wss), and mqtts
     * listens on `mqtt.tlsPort`. PEM files; `cert` may carry intermediate certificates after the hub's.
     */
    tls: Type.Optional(
      Type.Object(
        {
          cert: Type.String({ minLength: 1, description: "a PEM certificate file" }),
          key: Type.String({ minLength: 1, description: "a PEM private key file" }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Notifications: how e-mail and SMS leave the hub, and how hard it tries. Webhooks are registered over the API. */
    notify: Type.Optional(
      Type.Object(
        {
          smtp: Type.Optional(
            Type.Object(
              {
                host: Host,
                port: Port,
                secure: Type.Boolean({
                  description: "true: TLS from the start (465); false: STARTTLS if offered",
                }),
                user: Type.Optional(Type.String({ minLength: 1 })),
                pass: Type.Optional(Type.String()),
                from: Type.String({
                  minLength: 3,
                  description: "the sender, e.g. onsite <noreply@example.com>",
                }),
              },
              { additionalProperties: false },
            ),
          ),
          sms: Type.Optional(
            Type.Object(
              {
                url: Type.String({
                  pattern: "^https?://",
                  description: "an http(s) URL; {{phone}} and {{text}} are filled in",
                }),
                method: Type.Union([Type.Literal("GET"), Type.Literal("POST")], {
                  description: "GET or POST",
                }),
                headers: Type.Optional(Type.Record(Type.String(), Type.String())),
                body: Type.Optional(
                  Type.String({ description: "the request body; {{phone}}, {{text}}, {{text_json}}" }),
                ),
              },
              { additionalProperties: false },
            ),
          ),
          escalationMinutes: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 120, description: "an integer 1..120" }),
          ),
          maxAttempts: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 100, description: "an integer 1..100" }),
          ),
          retryBaseMs: Type.Optional(
            Type.Integer({ minimum: 100, maximum: 600_000, description: "an integer (ms)" }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    store: Type.Object(
      {
        /** full: fsync each group commit (survives power loss); normal: survives a hub crash only. */
        sync: Type.Union([Type.Literal("full"), Type.Literal("normal")], { description: "full or normal" }),
        /**
         * PostgreSQL instead of the SQLite file in dataDir: postgres://user:password@host:port/database
         * (docs/scale-out.md). Durability is then the server's (synchronous_commit); `sync` is SQLite's.
         */
        url: Type.Optional(
          Type.String({ pattern: "^postgres(ql)?://", description: "a postgres:// or postgresql:// URL" }),
        ),
        /**
         * SQLite only. thread (default): writes, their fsyncs and WAL checkpoints run on a writer
         * thread, off the event loop. inline: on the event loop (one thread; the hub before 0.2).
         */
        writer: Type.Optional(
          Type.Union([Type.Literal("thread"), Type.Literal("inline")], { description: "thread or inline" }),
        ),
      },
      { additionalProperties: false },
    ),
    /**
     * Several hubs as one (docs/scale-out.md): the broker's emitter and persistence on this Redis,
     * one leader elected on the PostgreSQL store for the timers and side effects. Needs `store.url`.
     */
    cluster: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: "^rediss?://", description: "a redis:// or rediss:// URL" }),
          /** How this node is named in logs, /healthz and the leader's lock (default host:pid). */
          nodeId: Type.Optional(
            Type.String({ pattern: "^[A-Za-z0-9._:-]{1,64}$", description: "1..64 of A-Z a-z 0-9 . _ : -" }),
          ),
          /** How often a node that is not the leader tries to become it (and checks its lock). */
          leaderRetryMs: Type.Optional(
            Type.Integer({ minimum: 200, maximum: 60_000, description: "an integer 200..60000 (ms)" }),
          ),
          /** How often every node reads the shared event log for events other nodes committed. */
          followMs: Type.Optional(
            Type.Integer({ minimum: 20, maximum: 10_000, description: "an integer 20..10000 (ms)" }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    demo: Type.Object(
      {
        enabled: Type.Boolean({ description: "true or false" }),
        // Badge frames carry whole seconds: above 60 script minutes per real minute, steps a script
        // minute apart could share a second and be judged out of order.
        speed: Type.Number({ minimum: 1, maximum: 60, description: "a number 1..60" }),
        /** Run the demo's first kiosk on the emulated Uno (real StandardFirmata; about one core). */
        emulate: Type.Boolean({ description: "true or false" }),
      },
      { additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
          { description: "one of fatal, error, warn, info, debug, trace, silent" },
        ),
        pretty: Type.Optional(Type.Boolean({ description: "true or false" })),
      },
      { additionalProperties: false },
    ),
    ble: Type.Object(
      {
        /**
         * off: no radio. bluez: BlueZ on the system bus (or busAddress). virtual: the BlueZ stand-in on
         * a private bus, with the demo's badges on it. auto: bluez when the machine has an adapter,
         * else virtual when the demo runs and dbus-daemon exists, else off.
         */
        mode: Type.Union(
          [Type.Literal("auto"), Type.Literal("off"), Type.Literal("bluez"), Type.Literal("virtual")],
          {
            description: "one of auto, off, bluez, virtual",
          },
        ),
        busAddress: Type.Optional(Type.String({ minLength: 1, description: "a D-Bus address" })),
        adapters: Type.Array(Type.String({ pattern: "^hci[0-9]{1,2}$" }), {
          description: "adapter names like hci0 (empty: all)",
        }),
        gatewayId: Type.String({ pattern: "^[a-z0-9][a-z0-9_-]{0,63}$", description: "a device id" }),
        siteId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "a site id" })),
        maxLinks: Type.Integer({ minimum: 0, maximum: 20, description: "an integer 0..20" }),
        connectTimeoutMs: Type.Integer({
          minimum: 500,
          maximum: 120_000,
          description: "an integer 500..120000 (ms)",
        }),
        dropAfterMs: Type.Integer({
          minimum: 1000,
          maximum: 3_600_000,
          description: "an integer 1000..3600000 (ms)",
        }),
        presence: Type.Object(
          {
            silenceS: Type.Number({ minimum: 2, maximum: 3600, description: "a number 2..3600 (s)" }),
            minSilenceS: Type.Number({ minimum: 1, maximum: 3600, description: "a number 1..3600 (s)" }),
            minDwellS: Type.Number({ minimum: 0, maximum: 3600, description: "a number 0..3600 (s)" }),
            enterRssi: Type.Integer({ minimum: -127, maximum: 20, description: "an integer -127..20 (dBm)" }),
            exitRssi: Type.Integer({ minimum: -127, maximum: 20, description: "an integer -127..20 (dBm)" }),
            weakHoldS: Type.Number({ minimum: 0, maximum: 3600, description: "a number 0..3600 (s)" }),
            rotationS: Type.Number({ minimum: 0.1, maximum: 600, description: "a number 0.1..600 (s)" }),
          },
          { additionalProperties: false },
        ),
        /** Gateway mode: forward verified badge frames to a central hub over MQTT. */
        forward: Type.Optional(
          Type.Object(
            {
              url: Type.String({ pattern: "^mqtts?://", description: "an mqtt:// or mqtts:// URL" }),
              gatewayId: Type.String({ pattern: "^[a-z0-9][a-z0-9_-]{0,63}$", description: "a device id" }),
              password: Type.String({ minLength: 1, description: "the gateway's MQTT password" }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    rules: Type.Object(
      {
        lateDataThresholdMs: Type.Integer({ minimum: 0, description: "an integer ≥ 0 (ms)" }),
        tickMs: Type.Integer({ minimum: 100, maximum: 600_000, description: "an integer 100..600000 (ms)" }),
        maxEventsPerVisit: Type.Optional(
          Type.Integer({ minimum: 100, maximum: 1_000_000, description: "an integer 100..1000000" }),
        ),
        /**
         * Back-pressure: with more visit events than `high` committed and not yet projected, devices'
         * visit events wait before their commit (and PUBACK) until the backlog is down to `low`; an
         * SOS never waits. Default 2000 / 1000.
         */
        projectionBacklog: Type.Optional(
          Type.Object(
            {
              high: Type.Integer({ minimum: 1, maximum: 1_000_000, description: "an integer ≥ 1" }),
              low: Type.Integer({
                minimum: 0,
                maximum: 1_000_000,
                description: "an integer ≥ 0, below high",
              }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type HubConfig = Static<typeof ConfigSchema>;

/** The mqtts port when `tls` is set and `mqtt.tlsPort` is not (IANA's secure-mqtt). */
export const MQTTS_PORT = 8883;

export const DEFAULT_CONFIG: HubConfig = {
  version: 1,
  dataDir: "./data",
  mqtt: { host: "127.0.0.1", port: 1883, maxPayloadBytes: 16_384, ratePerSecond: 50, rateBurst: 500 },
  http: { host: "127.0.0.1", port: 8080 },
  store: { sync: "full" },
  demo: { enabled: true, speed: 60, emulate: false },
  log: { level: "info" },
  rules: { lateDataThresholdMs: 60_000, tickMs: 5_000, maxEventsPerVisit: 10_000 },
  ble: {
    mode: "auto",
    adapters: [],
    gatewayId: "hub-radio",
    maxLinks: 5,
    connectTimeoutMs: 10_000,
    dropAfterMs: 60_000,
    presence: {
      silenceS: 30,
      minSilenceS: 8,
      minDwellS: 60,
      enterRssi: -85,
      exitRssi: -91,
      weakHoldS: 4,
      rotationS: 2,
    },
  },
};

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`config ${key}: ${message}`);
  }
}

/** Environment variables and the key each sets. */
export const ENV_KEYS: Record<string, string> = {
  ONSITE_DATA_DIR: "dataDir",
  ONSITE_MQTT_HOST: "mqtt.host",
  ONSITE_MQTT_PORT: "mqtt.port",
  ONSITE_HTTP_HOST: "http.host",
  ONSITE_HTTP_PORT: "http.port",
  ONSITE_MQTTS_PORT: "mqtt.tlsPort",
  ONSITE_TLS_CERT: "tls.cert",
  ONSITE_TLS_KEY: "tls.key",
  ONSITE_STORE_SYNC: "store.sync",
  ONSITE_STORE_URL: "store.url",
  ONSITE_STORE_WRITER: "store.writer",
  ONSITE_CLUSTER_URL: "cluster.url",
  ONSITE_DEMO: "demo.enabled",
  ONSITE_DEMO_SPEED: "demo.speed",
  ONSITE_LOG_LEVEL: "log.level",
  ONSITE_BLE: "ble.mode",
  ONSITE_BLE_BUS: "ble.busAddress",
  ONSITE_BLE_SITE: "ble.siteId",
};

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function setPath(target: Record<string, Json>, key: string, value: Json): void {
  const parts = key.split(".");
  let node = target;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[p] = {};
    node = node[p] as Record<string, Json>;
  }
  node[parts.at(-1) as string] = value;
}

function deepMerge(base: Json, over: Json): Json {
  if (typeof base !== "object" || base === null || Array.isArray(base)) return over;
  if (typeof over !== "object" || over === null || Array.isArray(over)) return over;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k] as Json, v) : v;
  return out;
}

/** Strings from env or flags: numbers and booleans where the schema wants them. */
function coerce(text: string): Json {
  if (text === "true") return true;
  if (text === "false") return false;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

const checker = TypeCompiler.Compile(ConfigSchema);

export interface ConfigSources {
  /** Path of a JSON config file; missing is an error only when given explicitly. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Dotted keys to values (from command-line flags). */
  overrides?: Record<string, string | number | boolean>;
}

export function loadConfig(src: ConfigSources = {}): HubConfig {
  let merged = DEFAULT_CONFIG as unknown as Json;
  const env = src.env ?? {};
  const file = src.file ?? env.ONSITE_CONFIG;
  if (file !== undefined) {
    if (!existsSync(file)) throw new ConfigError("file", `${file} does not exist`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new ConfigError("file", `${file} is not valid JSON (${(e as Error).message})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new ConfigError("file", `${file} must hold a JSON object`);
    merged = deepMerge(merged, parsed as Json);
  }
  const layer: Record<string, Json> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v !== undefined && v !== "") setPath(layer, key, coerce(v));
  }
  for (const [key, v] of Object.entries(src.overrides ?? {}))
    setPath(layer, key, typeof v === "string" ? coerce(v) : v);
  merged = deepMerge(merged, layer);
  if (!checker.Check(merged)) {
    const first = checker.Errors(merged).First();
    const key = (first?.path ?? "/").slice(1).replaceAll("/", ".") || "(root)";
    const expected = (first?.schema as { description?: string } | undefined)?.description;
    const got = JSON.stringify(first?.value);
    const envName = Object.entries(ENV_KEYS).find(([, k]) => k === key)?.[0];
    const why =
      first?.type === ValueErrorType.ObjectAdditionalProperties
        ? "unknown key"
        : expected
          ? `expected ${expected}, got ${got}`
          : (first?.message ?? "invalid");
    throw new ConfigError(key, `${why}${envName ? ` (also settable as ${envName})` : ""}`);
  }
  const config = merged as unknown as HubConfig;
  const backlog = config.rules.projectionBacklog;
  if (backlog && backlog.low >= backlog.high)
    throw new ConfigError(
      "rules.projectionBacklog.low",
      `expected a number below high (${backlog.high}), got ${backlog.low}`,
    );
  if (config.cluster !== undefined) {
    // SQLite is a file on one machine: nodes on several machines would each judge part of the picture.
    if (config.store.url === undefined)
      throw new ConfigError(
        "cluster.url",
        "a cluster needs a shared PostgreSQL store: set store.url (env ONSITE_STORE_URL, flag --store) to a postgres:// URL; SQLite files are per machine",
      );
    if (config.demo.enabled)
      throw new ConfigError(
        "cluster.url",
        "the demo plays against one hub: run cluster nodes with the demo off (demo.enabled false, flag --no-demo)",
      );
  }
  return config;
}
