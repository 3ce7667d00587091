/**
 * The embedded MQTT broker (aedes). Devices authenticate with the credentials provisioning gave
 * them (anonymous refused); each publishes only to its own events topic (a gateway: its frames
 * topic) and subscribes only to its own command topic. Observers (dashboards, mosquitto_sub) log in
 * as user `api` with an API token and may only subscribe. Events are committed in
 * `authorizePublish`, before aedes sends the PUBACK.
 */

import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:net";
import type { Duplex } from "node:stream";
import { createServer as createTlsServer } from "node:tls";
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from "aedes";
import {
  type DeviceCommand,
  encodeCommandPayload,
  parseTopic,
  TOPIC_PREFIX,
  topics,
} from "../../../protocol/index.js";
import type { Bus } from "../../bus.js";
import type { Clock, Role, Store } from "../../core/ports.js";
import type { Ingest } from "../../ingest/ingest.js";
import type { Logger } from "../../log.js";
import type { Metrics } from "../../metrics.js";
import { tokenDigest, verifySecret } from "../../security/secrets.js";
import { RateLimiter } from "./rate-limit.js";

export interface MqttOptions {
  maxPayloadBytes: number;
  ratePerSecond: number;
  rateBurst: number;
}

export interface MqttDeps {
  ingest: Ingest;
  store: Store;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
}

type Identity =
  | { kind: "device"; id: string; deviceKind: "badge" | "kiosk" | "gateway" }
  | { kind: "observer"; role: Role; name: string };

const OBSERVER_USER = "api";

function authError(message: string, code: 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

export class MqttBroker {
  private readonly identities = new WeakMap<Client, Identity>();
  private readonly limiter: RateLimiter;
  private readonly servers: Server[] = [];

  private constructor(
    readonly aedes: Aedes,
    private readonly deps: MqttDeps,
    private readonly opts: MqttOptions,
  ) {
    this.limiter = new RateLimiter(opts.ratePerSecond, opts.rateBurst, () => deps.clock.now());
    aedes.authenticate = (client, username, password, done) => {
      this.authenticate(client, username, password).then(
        (ok) => done(null, ok),
        (e: AuthenticateError) => done(e, false),
      );
    };
    aedes.authorizePublish = (client, packet, done) => {
      this.authorizePublish(client, packet).then(
        () => done(null),
        (e: Error) => done(e),
      );
    };
    aedes.authorizeSubscribe = (client, sub, done) => {
      this.allowSubscribe(client, sub.topic).then(
        (ok) => done(null, ok ? sub : null),
        () => done(null, null),
      );
    };
    aedes.on("clientError", (client, err) =>
      deps.log.debug({ client: client.id, err: err.message }, "mqtt client error"),
    );
    aedes.on("clientDisconnect", (client) => this.limiter.forget(client.id));
    deps.metrics.onCollect(() =>
      deps.metrics.set("onsite_mqtt_clients", "Connected MQTT clients", this.aedes.connectedClients),
    );
    deps.bus.on("device.command", ({ device, command }) => this.sendCommand(device, command));
  }

  static async create(deps: MqttDeps, opts: MqttOptions): Promise<MqttBroker> {
    const aedes = await Aedes.createBroker({
      heartbeatInterval: 60_000,
      connectTimeout: 10_000,
      drainTimeout: 30_000,
    });
    return new MqttBroker(aedes, deps, opts);
  }

  /** Any duplex (a socket, a WebSocket stream, a test pipe). */
  handle(stream: Duplex): void {
    this.aedes.handle(stream);
  }

  /** MQTT over TCP, or over TLS (mqtts) given the hub's certificate and key; may be called for both. */
  async listen(host: string, port: number, tls?: { cert: Buffer; key: Buffer }): Promise<AddressInfo> {
    const handle = (socket: Duplex) => this.aedes.handle(socket);
    const server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }, handle) : createServer(handle);
    // A client that fails the TLS handshake is closed; it is no error of the hub's.
    server.on("tlsClientError", (err: Error) =>
      this.deps.log.debug({ err: err.message }, "mqtts handshake failed"),
    );
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  private refuse(reason: string, detail: Record<string, unknown>): void {
    this.deps.metrics.inc(
      "onsite_mqtt_refused_total",
      "MQTT connections, publishes or subscriptions refused",
      { reason },
    );
    this.deps.log.warn(detail, `mqtt refused: ${reason}`);
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<boolean> {
    const secret = password?.toString("utf8") ?? "";
    if (!username) {
      this.refuse("anonymous", { client: client.id });
      throw authError("anonymous connections are refused", 5);
    }
    if (username === OBSERVER_USER) {
      const token = await this.deps.store.findToken(tokenDigest(secret));
      if (!token || token.revokedAt !== null || token.role === "kiosk") {
        this.refuse("bad_token", { client: client.id });
        throw authError("bad token", 4);
      }
      this.identities.set(client, { kind: "observer", role: token.role, name: token.name });
      return true;
    }
    const device = await this.deps.ingest.device(username);
    if (!device || device.kind === "operator" || !verifySecret(secret, device.passwordHash)) {
      this.refuse("bad_credentials", { client: client.id, username });
      throw authError("bad user name or password", 4);
    }
    if (device.revokedAt !== null) {
      this.refuse("revoked", { client: client.id, username });
      throw authError("device revoked", 5);
    }
    if (client.id !== device.id) {
      this.refuse("client_id", { client: client.id, username });
      throw authError("client id must equal the device id", 5);
    }
    this.identities.set(client, { kind: "device", id: device.id, deviceKind: device.kind });
    return true;
  }

  private async authorizePublish(client: Client | null, packet: PublishPacket): Promise<void> {
    if (client === null) throw new Error("no publishes without a client");
    const who = this.identities.get(client);
    const deny = (reason: string, message: string): never => {
      this.refuse(reason, { client: client.id, topic: packet.topic.slice(0, 200) });
      this.deps.ingest.reject({
        boundary: "mqtt",
        code:
          reason === "too_large" ? "too_large" : reason === "rate_limited" ? "rate_limited" : "unauthorized",
        message,
        device: client.id,
      });
      throw new Error(message);
    };
    if (who?.kind !== "device") return deny("observer_publish", "observers may not publish");
    let topic: ReturnType<typeof parseTopic>;
    try {
      topic = parseTopic(packet.topic);
    } catch {
      return deny("foreign_topic", `publish to ${packet.topic.slice(0, 100)} is not allowed`);
    }
    const own =
      (topic.kind === "device_events" && topic.device === who.id && who.deviceKind !== "gateway") ||
      (topic.kind === "gateway_frames" && topic.gateway === who.id && who.deviceKind === "gateway");
    if (!own) return deny("foreign_topic", `${who.id} may not publish to ${packet.topic}`);
    if (packet.payload.length > this.opts.maxPayloadBytes) {
      return deny(
        "too_large",
        `payload of ${packet.payload.length} bytes exceeds ${this.opts.maxPayloadBytes}`,
      );
    }
    if (!this.limiter.take(who.id))
      return deny("rate_limited", `${who.id} exceeds ${this.opts.ratePerSecond}/s`);
    packet.retain = false;
    const payload: string | Uint8Array = packet.payload;
    if (topic.kind === "gateway_frames") {
      await this.deps.ingest.submitFrames(who.id, payload);
      return;
    }
    const outcome = await this.deps.ingest.submitJson(who.id, payload);
    if (outcome.status === "rejected") {
      // The payload is refused, yet acknowledged: a device must not resend a message that can never be accepted.
      const counter = counterOf(payload);
      this.sendCommand(who.id, {
        v: 1,
        type: "ack",
        time: this.deps.clock.now(),
        device: who.id,
        counter,
        status: "rejected",
        reason: outcome.message.slice(0, 200),
      });
    }
  }

  private async allowSubscribe(client: Client, filter: string): Promise<boolean> {
    const who = this.identities.get(client);
    let ok =
      who?.kind === "observer"
        ? filter === `${TOPIC_PREFIX}/#` || filter.startsWith(`${TOPIC_PREFIX}/`)
        : who?.kind === "device" && filter === topics.deviceCommands(who.id);
    if (!ok && who?.kind === "device" && who.deviceKind === "gateway") {
      // A gateway relays commands to badges: it may follow a badge's command topic, by exact name.
      try {
        const t = parseTopic(filter);
        ok = t.kind === "device_commands" && (await this.deps.ingest.device(t.device))?.kind === "badge";
      } catch {
        ok = false;
      }
    }
    if (!ok) this.refuse("foreign_subscribe", { client: client.id, filter: filter.slice(0, 200) });
    return ok;
  }

  sendCommand(device: string, command: DeviceCommand): void {
    this.publish(topics.deviceCommands(device), encodeCommandPayload(command), false);
  }

  /** Publishes from the hub itself (status, commands); QoS 1. */
  publish(topic: string, payload: string, retain: boolean): void {
    this.aedes.publish(
      { cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, retain, dup: false },
      (err) => {
        if (err) this.deps.log.error({ err, topic }, "mqtt publish failed");
      },
    );
  }

  async close(): Promise<void> {
    // Stop accepting first, then close the clients (aedes), then wait for the listener to finish:
    // the server's close waits for open connections, which only aedes can end.
    const serversClosed = Promise.all(
      this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await serversClosed;
  }
}

function counterOf(payload: Uint8Array | string): number {
  try {
    const v = (
      JSON.parse(typeof payload === "string" ? payload : Buffer.from(payload).toString("utf8")) as {
        counter?: unknown;
      }
    ).counter;
    return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff ? v : 0;
  } catch {
    return 0;
  }
}
