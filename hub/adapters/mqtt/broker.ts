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
import {
  Aedes,
  type AedesPublishPacket,
  type AuthenticateError,
  type Client,
  type PublishPacket,
} from "aedes";
import {
  type DeviceCommand,
  encodeCommandPayload,
  parseTopic,
  TOPIC_PREFIX,
  topics,
} from "../../../protocol/index.js";
import type { Bus } from "../../bus.js";
import type { EventIntake } from "../../core/intake.js";
import type { Clock, Role, Store } from "../../core/ports.js";
import type { Logger } from "../../log.js";
import type { Metrics } from "../../metrics.js";
import { tokenDigest, verifySecret } from "../../security/secrets.js";
import { GuardedConnection, guardLimits } from "./guard.js";
import { LoginThrottle, RateLimiter } from "./rate-limit.js";

export interface MqttOptions {
  maxPayloadBytes: number;
  ratePerSecond: number;
  rateBurst: number;
  /** Connection attempts per client id from one address (burst, then per second). */
  connectsPerId?: { burst: number; perSecond: number };
  /** Connection attempts per source address. */
  connectsPerAddress?: { burst: number; perSecond: number };
}

export interface MqttDeps {
  ingest: EventIntake;
  store: Store;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
}

type Identity =
  | { kind: "device"; id: string; deviceKind: "badge" | "kiosk" | "gateway"; siteId: string | null }
  | { kind: "observer"; role: Role; name: string; digest: string };

/** Where publishes that were refused (or were duplicates) go instead of their topic: nobody may subscribe. */
const DIVERTED = "$onsite/not-forwarded";
/** How long a gateway's right to follow a badge's commands is remembered. */
const GATEWAY_ACL_MS = 60_000;

const OBSERVER_USER = "api";

function authError(message: string, code: 3 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

export class MqttBroker {
  private readonly identities = new WeakMap<Client, Identity>();
  private readonly limiter: RateLimiter;
  private readonly connectsById: RateLimiter;
  private readonly connectsByAddress: RateLimiter;
  private readonly logins: LoginThrottle;
  private readonly gatewayAcl = new Map<string, { ok: boolean; at: number }>();
  /** When each gateway last relayed a verified frame of each badge (`gateway>badge`). */
  private readonly heard = new Map<string, number>();
  /** Authenticated clients, for cutting off a revoked device's or token's sessions. */
  private readonly sessions = new Set<Client>();
  /** Live sessions per device id. */
  private readonly online = new Map<string, number>();
  private readonly limits;
  private readonly servers: Server[] = [];

  private constructor(
    readonly aedes: Aedes,
    private readonly deps: MqttDeps,
    private readonly opts: MqttOptions,
  ) {
    const now = () => deps.clock.now();
    // A device's budget belongs to the device, not to its connection: reconnecting does not refill it.
    this.limiter = new RateLimiter(opts.ratePerSecond, opts.rateBurst, now);
    const perId = opts.connectsPerId ?? { burst: 10, perSecond: 0.5 };
    const perAddress = opts.connectsPerAddress ?? { burst: 200, perSecond: 20 };
    this.connectsById = new RateLimiter(perId.perSecond, perId.burst, now);
    this.connectsByAddress = new RateLimiter(perAddress.perSecond, perAddress.burst, now);
    this.logins = new LoginThrottle(now);
    this.limits = guardLimits(opts.maxPayloadBytes);
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
    aedes.authorizeForward = (client, packet) => this.forward(client, packet);
    aedes.on("clientDisconnect", (client) => this.session(client, false));
    deps.metrics.onCollect(() =>
      deps.metrics.set("onsite_mqtt_clients", "Connected MQTT clients", this.aedes.connectedClients),
    );
    deps.bus.on("device.command", ({ device, command }) => this.sendCommand(device, command));
    deps.bus.on("credentials.revoked", (what) => this.disconnect(what));
  }

  /**
   * `shared`: a cluster's emitter and persistence (hub/cluster/redis.ts), so publications cross
   * nodes and retained messages and sessions are one; without it, aedes keeps them in memory.
   */
  static async create(
    deps: MqttDeps,
    opts: MqttOptions,
    shared?: { mq: unknown; persistence: unknown },
  ): Promise<MqttBroker> {
    const aedes = await Aedes.createBroker({
      heartbeatInterval: 60_000,
      connectTimeout: 10_000,
      drainTimeout: 30_000,
      ...(shared ? { mq: shared.mq, persistence: shared.persistence } : {}),
    });
    return new MqttBroker(aedes, deps, opts);
  }

  /**
   * Any duplex (a socket, a WebSocket stream, a test pipe), behind the packet guard: a packet that
   * claims more than it may carry ends the connection before its body is read.
   */
  handle(stream: Duplex): void {
    const guarded = new GuardedConnection(stream, this.limits, (violation, detail) => {
      this.deps.metrics.inc("onsite_mqtt_cut_off_total", "MQTT connections cut off by the packet guard", {
        reason: violation,
      });
      this.deps.log.warn(
        { violation, ...detail, address: (stream as { remoteAddress?: string }).remoteAddress },
        "mqtt connection cut off",
      );
    });
    this.aedes.handle(guarded);
  }

  /** MQTT over TCP, or over TLS (mqtts) given the hub's certificate and key; may be called for both. */
  async listen(host: string, port: number, tls?: { cert: Buffer; key: Buffer }): Promise<AddressInfo> {
    // Every connection goes through the packet guard (handle), plain or TLS.
    const handle = (socket: Duplex) => this.handle(socket);
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
    const conn = client.conn as unknown as Partial<GuardedConnection>;
    const address = conn.remoteAddress ?? "unknown";
    if (!username) {
      this.refuse("anonymous", { client: client.id, address });
      throw authError("anonymous connections are refused", 5);
    }
    // Per (id, address): a flood from elsewhere cannot use up the device's own budget.
    if (!this.connectsByAddress.take(address) || !this.connectsById.take(`${client.id}@${address}`)) {
      this.refuse("connect_rate", { client: client.id, address });
      throw authError("too many connection attempts: retry later", 3);
    }
    const login = this.logins.check(username, address);
    if (login.kind === "locked") {
      this.refuse(`login_locked_${login.scope}`, { client: client.id, username, address });
      throw authError("too many failed logins: locked for a while", 5);
    }
    if (login.kind === "slow") {
      this.refuse("login_paced", { client: client.id, username, address });
      throw authError("too many failed logins for this id: retry in a second", 3);
    }
    if (login.delayMs > 0) await new Promise((r) => setTimeout(r, login.delayMs));
    let verdict: Identity | { refused: string; message: string; code: 4 | 5 };
    try {
      verdict = await this.verify(client, username, secret);
    } catch (e) {
      this.logins.failed(username, address);
      throw e;
    }
    if ("refused" in verdict) {
      const crossed = this.logins.failed(username, address);
      this.refuse(verdict.refused, { client: client.id, username, address });
      if (crossed) {
        this.deps.metrics.inc("onsite_security_alerts_total", "Security alerts raised", { kind: crossed });
        this.deps.log.error(
          { username, address, alert: crossed },
          `security alert: failed logins (${crossed})`,
        );
        this.deps.bus.emit("security.alert", { kind: crossed, subject: username, address });
      }
      throw authError(verdict.message, verdict.code);
    }
    this.logins.succeeded(username, address);
    this.identities.set(client, verdict);
    this.session(client, true);
    conn.authenticated = true;
    return true;
  }

  /** Who the credentials are, or why they are refused. */
  private async verify(
    client: Client,
    username: string,
    secret: string,
  ): Promise<Identity | { refused: string; message: string; code: 4 | 5 }> {
    if (username === OBSERVER_USER) {
      const digest = tokenDigest(secret);
      const token = await this.deps.store.findToken(digest);
      if (!token || token.revokedAt !== null || token.role === "kiosk")
        return { refused: "bad_token", message: "bad token", code: 4 };
      return { kind: "observer", role: token.role, name: token.name, digest };
    }
    const device = await this.deps.ingest.device(username);
    if (!device || device.kind === "operator" || !verifySecret(secret, device.passwordHash))
      return { refused: "bad_credentials", message: "bad user name or password", code: 4 };
    if (device.revokedAt !== null) return { refused: "revoked", message: "device revoked", code: 5 };
    if (client.id !== device.id)
      return { refused: "client_id", message: "client id must equal the device id", code: 5 };
    return { kind: "device", id: device.id, deviceKind: device.kind, siteId: device.siteId };
  }

  /** Called when a gateway subscribes to its site's picture (`onsite/v1/gw/<id>/sync`). */
  onGatewaySync: ((gatewayId: string, siteId: string) => void) | undefined;

  /** Whether a device has a live MQTT session now. */
  isConnected(deviceId: string): boolean {
    return (this.online.get(deviceId) ?? 0) > 0;
  }

  private session(client: Client, open: boolean): void {
    const id = this.identities.get(client);
    if (open) this.sessions.add(client);
    else if (!this.sessions.delete(client)) return;
    if (id?.kind !== "device") return;
    const n = (this.online.get(id.id) ?? 0) + (open ? 1 : -1);
    if (n > 0) this.online.set(id.id, n);
    else this.online.delete(id.id);
  }

  /** Ends the live sessions of a revoked device or token at once. */
  disconnect(who: { device: string } | { tokenDigest: string }): number {
    let n = 0;
    for (const client of [...this.sessions]) {
      const id = this.identities.get(client);
      const match =
        "device" in who
          ? id?.kind === "device" && id.id === who.device
          : id?.kind === "observer" && id.digest === who.tokenDigest;
      if (!match) continue;
      this.session(client, false);
      client.close();
      n++;
    }
    if ("device" in who) this.limiter.forget(who.device);
    if (n > 0) this.refuse("revoked_session", { ...who, sessions: n });
    return n;
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
      ((topic.kind === "gateway_frames" || topic.kind === "gateway_events") &&
        topic.gateway === who.id &&
        who.deviceKind === "gateway");
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
      const outcomes = await this.deps.ingest.submitFrames(who.id, payload);
      for (const o of outcomes) if (o.badge && o.status !== "rejected") this.heardBy(who.id, o.badge.device);
      if (!outcomes.some((o) => o.status === "accepted")) packet.topic = DIVERTED;
      return;
    }
    if (topic.kind === "gateway_events") {
      // A site hub's relayed events: refusals are counted and logged here; the site hub has its own record.
      // Observers see the facts as they are announced (visit and site status), not the batch.
      await this.deps.ingest.submitRelayedEvents(who.id, payload);
      packet.topic = DIVERTED;
      return;
    }
    const outcome = await this.deps.ingest.submitJson(who.id, payload);
    // Observers see facts once: a refused event or a second copy is acknowledged, not relayed.
    if (outcome.status !== "accepted") packet.topic = DIVERTED;
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
        ...(outcome.field === undefined ? {} : { field: outcome.field.slice(0, 100) }),
      });
    }
  }

  /**
   * What a subscriber receives: a gateway follows a badge's commands only while that badge belongs
   * to its site (the badge's engineer has a visit there today, or the gateway heard the badge).
   */
  private forward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const who = this.identities.get(client);
    // A site's picture (contacts included) goes to that site's gateway only, not to observers.
    if (packet.topic.endsWith("/sync") && packet.topic.startsWith(`${TOPIC_PREFIX}/gw/`))
      return who?.kind === "device" && packet.topic === topics.gatewaySync(who.id) ? packet : null;
    if (who?.kind !== "device" || who.deviceKind !== "gateway") return packet;
    let t: ReturnType<typeof parseTopic>;
    try {
      t = parseTopic(packet.topic);
    } catch {
      return packet;
    }
    if (t.kind !== "device_commands" || t.device === who.id) return packet;
    const key = `${who.id}>${t.device}`;
    const known = this.gatewayAcl.get(key);
    // The subscription was allowed when it was made; a decision older than a minute is refreshed
    // in the background, and the last one holds meanwhile.
    if (!known) return packet;
    if (this.deps.clock.now() - known.at >= GATEWAY_ACL_MS) {
      known.at = this.deps.clock.now();
      void this.gatewayMay(who, t.device).catch(() => undefined);
    }
    return known.ok ? packet : null;
  }

  private async allowSubscribe(client: Client, filter: string): Promise<boolean> {
    const who = this.identities.get(client);
    let ok =
      who?.kind === "observer"
        ? filter === `${TOPIC_PREFIX}/#` || filter.startsWith(`${TOPIC_PREFIX}/`)
        : who?.kind === "device" && filter === topics.deviceCommands(who.id);
    let reason = "foreign_subscribe";
    if (
      !ok &&
      who?.kind === "device" &&
      who.deviceKind === "gateway" &&
      filter === topics.gatewaySync(who.id)
    ) {
      // A site hub asks for its site's picture: it gets one as soon as the subscription holds.
      ok = true;
      if (who.siteId !== null) {
        const siteId = who.siteId;
        setImmediate(() => this.onGatewaySync?.(who.id, siteId));
      }
    }
    if (!ok && who?.kind === "device" && who.deviceKind === "gateway") {
      // A gateway relays commands to badges of its own site: it may follow such a badge, by exact name.
      try {
        const t = parseTopic(filter);
        ok = t.kind === "device_commands" && (await this.gatewayMay(who, t.device));
        if (!ok) reason = "foreign_badge";
      } catch {
        ok = false;
      }
    }
    if (!ok) this.refuse(reason, { client: client.id, filter: filter.slice(0, 200) });
    return ok;
  }

  private heardBy(gateway: string, badge: string): void {
    const key = `${gateway}>${badge}`;
    this.heard.delete(key);
    this.heard.set(key, this.deps.clock.now());
    if (this.heard.size > 50_000) this.heard.delete(this.heard.keys().next().value as string);
  }

  /**
   * Whether a gateway may follow a badge's commands: a badge it relayed a verified frame of within
   * the hour (it is there), or whose engineer has a visit at the gateway's site within a day.
   */
  private async gatewayMay(
    gateway: Extract<Identity, { kind: "device" }>,
    badgeId: string,
  ): Promise<boolean> {
    const { store, clock, ingest } = this.deps;
    const badge = await ingest.device(badgeId);
    const heardAt = this.heard.get(`${gateway.id}>${badgeId}`);
    let ok = false;
    if (badge?.kind !== "badge" || badge.revokedAt !== null) ok = false;
    else if (heardAt !== undefined && clock.now() - heardAt < 3_600_000) ok = true;
    else if (badge.engineerId !== null && gateway.siteId !== null) {
      const now = clock.now();
      const visits = await store.listVisits({
        engineerId: badge.engineerId,
        siteId: gateway.siteId,
        from: now - 86_400_000,
        to: now + 86_400_000,
      });
      ok = visits.length > 0;
    }
    this.gatewayAcl.set(`${gateway.id}>${badgeId}`, { ok, at: clock.now() });
    if (this.gatewayAcl.size > 50_000) this.gatewayAcl.delete(this.gatewayAcl.keys().next().value as string);
    return ok;
  }

  sendCommand(device: string, command: DeviceCommand): void {
    this.publish(topics.deviceCommands(device), encodeCommandPayload(command), false);
  }

  /** Publishes from the hub itself (status, commands); QoS 1. */
  publish(topic: string, payload: string, retain: boolean): void {
    this.aedes.publish(
      {
        cmd: "publish",
        topic,
        payload: retain ? ownBytes(payload) : Buffer.from(payload),
        qos: 1,
        retain,
        dup: false,
      },
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

/**
 * The bytes of a payload in memory of their own. A short Buffer.from() is a slice of a shared 8 KiB
 * pool slab, and a retained payload (kept by aedes for as long as its topic) keeps that whole slab
 * alive: one slab per visit's retained status, in the demo.
 */
function ownBytes(payload: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(payload));
  bytes.write(payload);
  return bytes;
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
