/**
 * Gateway mode, site to central: a site hub sends what it accepted to a central hub over MQTT, as
 * the gateway device the central hub provisioned (`ble.forward`: url, gatewayId, password).
 *
 * Durable and in order: the outbox is the site's own event log. The uplink follows it from a cursor
 * kept in the store (`uplinkCursor("central")`), in commit order, in batches of up to 64, each batch
 * PUBACKed before the cursor moves past it; it resumes where it stopped after either side restarts
 * or the link comes back. Delivery is at least once (a batch PUBACKed just before a crash is sent
 * again) and the central hub stores each event exactly once, because it dedupes by
 * `(device, counter)` like any other input.
 *
 * - A badge's event that came as a signed frame goes as that frame (`onsite/v1/gw/<id>/frames`): the
 *   central hub verifies it again with the badge's key, the gateway vouches for nothing.
 * - A kiosk's or an operator's event goes as itself (`onsite/v1/gw/<id>/events`), with the site's
 *   receive time and the device's clock offset; the central hub takes it only for the gateway's
 *   own site.
 * - A badge's event sent as JSON over the site's MQTT carries no signature the central hub could
 *   check: it is not relayed (counted as `skipped`); badges reach the central tier as frames.
 * - Presence adverts are not in the log (they prove being there now): they go live, from a bounded
 *   queue in memory, and are dropped when the link is down for long (`live`).
 *
 * Meanwhile the site hub enforces every rule on its own: the link being down changes nothing there.
 *
 * Down, the central hub sends the site's picture (`onsite/v1/gw/<id>/sync`: the site, its visits
 * and their engineers) after each subscription and whenever it changes; `onSync` applies it.
 */
import mqtt, { type MqttClient } from "mqtt";
import {
  decodeGatewaySyncPayload,
  encodeGatewayEvents,
  encodeGatewayFrames,
  type GatewaySync,
  toHex,
  topics,
} from "../../../protocol/index.js";
import type { Reception } from "../../core/intake.js";
import type { Store, StoredEvent } from "../../core/ports.js";
import type { Logger } from "../../log.js";
import type { Metrics } from "../../metrics.js";

export interface UplinkOptions {
  url: string;
  gatewayId: string;
  password: string;
  /** Presence adverts held while the link is down (the oldest are dropped beyond it). */
  liveLimit?: number;
  /** How often the log is looked at when nothing woke the uplink (ms). */
  pollMs?: number;
  /** The site's picture from the central hub (visits and site configuration flowing down). */
  onSync?: (sync: GatewaySync) => Promise<unknown>;
}

export interface UplinkDeps {
  store: Store;
  log: Logger;
  metrics: Metrics;
}

const CURSOR = "central";
const BATCH = 64;
/**
 * A batch's payload stays under this (bytes): the central hub refuses a publish over its
 * `mqtt.maxPayloadBytes` (16 KiB by default) by cutting the connection, and a batch refused would be
 * sent again and again. An event alone over it cannot go at all (see `oversize`).
 */
const MAX_BATCH_BYTES = 15 * 1024;

type Channel = "frames" | "events" | "skip";

const channelOf = (e: StoredEvent): Channel =>
  e.frame !== undefined ? "frames" : e.source.kind === "badge" ? "skip" : "events";

/** About what an event adds to a batch's payload (JSON), in bytes. */
const sizeOf = (e: StoredEvent): number =>
  e.frame !== undefined ? e.frame.length + 40 : Buffer.byteLength(JSON.stringify(e.event)) + 60;

export class Uplink {
  private client: MqttClient | undefined;
  private readonly liveQueue: Array<{ hex: string; rssi?: number; rxTime: number }> = [];
  private pumping = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();
  /** Where the log has been delivered up to (the store's cursor, once read). */
  private cursor: number | undefined;
  dropped = 0;

  constructor(
    private readonly opts: UplinkOptions,
    private readonly deps: UplinkDeps,
  ) {}

  start(): void {
    const { url, gatewayId, password } = this.opts;
    this.client = mqtt.connect(url, {
      clientId: gatewayId,
      username: gatewayId,
      password,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 5000,
    });
    this.client.on("connect", () => {
      this.deps.log.info({ url }, "uplink to the central hub connected");
      if (this.opts.onSync)
        this.client?.subscribe(topics.gatewaySync(gatewayId), { qos: 1 }, (err) => {
          if (err) this.deps.log.warn({ err: err.message }, "uplink: the site's picture refused");
        });
      this.wake();
    });
    this.client.on("message", (topic, payload) => {
      if (topic !== topics.gatewaySync(gatewayId) || !this.opts.onSync) return;
      const apply = this.opts.onSync;
      // One picture at a time, in the order they came.
      this.syncing = this.syncing
        .then(async () => {
          const sync = decodeGatewaySyncPayload(payload);
          if (sync.gateway !== gatewayId) throw new Error(`a picture for gateway ${sync.gateway}`);
          await apply(sync);
          this.deps.metrics.inc(
            "onsite_gateway_sync_applied_total",
            "Site pictures from the central hub applied",
          );
        })
        .catch((e: unknown) => {
          this.deps.metrics.inc(
            "onsite_gateway_sync_refused_total",
            "Site pictures from the central hub refused",
          );
          this.deps.log.warn({ err: (e as Error).message }, "uplink: the site's picture was not applied");
        });
    });
    this.client.on("error", (e) => this.deps.log.warn({ err: e.message }, "central hub connection"));
    this.timer = setInterval(() => this.wake(), this.opts.pollMs ?? 5000);
    this.timer.unref();
    this.deps.metrics.onCollect(() =>
      this.deps.metrics.set(
        "onsite_uplink_live_queue",
        "Presence adverts waiting for the central hub",
        this.liveQueue.length,
      ),
    );
  }

  /** Something was committed: look at the log. */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  /** A presence advert, sent live (not kept: presence is about now). */
  live(bytes: Uint8Array, rx: Reception): void {
    if (this.liveQueue.length >= (this.opts.liveLimit ?? 10_000)) {
      this.liveQueue.shift();
      this.dropped++;
      this.deps.metrics.inc("onsite_uplink_live_dropped_total", "Presence adverts dropped from a full queue");
    }
    this.liveQueue.push({ hex: toHex(bytes), ...(rx.rssi === null ? {} : { rssi: rx.rssi }), rxTime: rx.at });
    this.wake();
  }

  /** Events in the log not yet delivered, and presence adverts waiting. */
  async backlog(): Promise<{ events: number; live: number }> {
    const cursor = this.cursor ?? (await this.deps.store.uplinkCursor(CURSOR));
    let events = 0;
    for (let at = cursor; ; ) {
      const page = await this.deps.store.eventsAfter(at, 1000);
      events += page.filter((e) => channelOf(e) !== "skip").length;
      const last = page.at(-1)?.seq;
      if (page.length < 1000 || last === undefined) break;
      at = last;
    }
    return { events, live: this.liveQueue.length };
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        if (!(await this.sendLive())) return;
        if (!(await this.sendLog())) return;
      } while (this.again && !this.stopped);
    } catch (e) {
      this.deps.log.warn({ err: (e as Error).message }, "uplink: will retry");
    } finally {
      this.pumping = false;
    }
  }

  private get connected(): boolean {
    return !this.stopped && this.client?.connected === true;
  }

  private async publish(topic: string, payload: string): Promise<boolean> {
    if (!this.connected || !this.client) return false;
    try {
      await this.client.publishAsync(topic, payload, { qos: 1 });
      return true;
    } catch (e) {
      this.deps.log.warn({ err: (e as Error).message }, "uplink: publish failed; will retry");
      return false;
    }
  }

  private async sendLive(): Promise<boolean> {
    const { gatewayId } = this.opts;
    while (this.liveQueue.length > 0) {
      const batch = this.liveQueue.slice(0, BATCH);
      const payload = encodeGatewayFrames({ v: 1, gateway: gatewayId, frames: batch });
      if (!(await this.publish(topics.gatewayFrames(gatewayId), payload))) return false;
      this.liveQueue.splice(0, batch.length);
    }
    return true;
  }

  /** Sends the log after the cursor, run by run; false when the link went away meanwhile. */
  private async sendLog(): Promise<boolean> {
    const { store, metrics } = this.deps;
    const { gatewayId } = this.opts;
    let cursor = this.cursor ?? (await store.uplinkCursor(CURSOR));
    this.cursor = cursor;
    for (;;) {
      if (!this.connected) return false;
      const page = await store.eventsAfter(cursor, BATCH * 4);
      if (page.length === 0) return true;
      let i = 0;
      while (i < page.length) {
        // Presence is about now: it does not wait behind a long backlog.
        if (!(await this.sendLive())) return false;
        // A run: consecutive events of one channel, at most one batch, in count and in bytes.
        const channel = channelOf(page[i] as StoredEvent);
        let j = i;
        let bytes = 0;
        while (j < page.length && j - i < BATCH && channelOf(page[j] as StoredEvent) === channel) {
          const size = sizeOf(page[j] as StoredEvent);
          if (j > i && bytes + size > MAX_BATCH_BYTES) break;
          bytes += size;
          j++;
        }
        const run = page.slice(i, j);
        let sent = true;
        if (channel !== "skip" && run.length === 1 && bytes > MAX_BATCH_BYTES) {
          this.oversize(run[0] as StoredEvent, bytes);
        } else if (channel === "frames") {
          sent = await this.publish(
            topics.gatewayFrames(gatewayId),
            encodeGatewayFrames({
              v: 1,
              gateway: gatewayId,
              frames: run.map((e) => ({ hex: e.frame as string, rxTime: e.hubTime })),
            }),
          );
        } else if (channel === "events") {
          sent = await this.publish(
            topics.gatewayEvents(gatewayId),
            encodeGatewayEvents({
              v: 1,
              gateway: gatewayId,
              events: run.map((e) => ({
                event: e.event,
                hubTime: e.hubTime,
                clockOffsetMs: e.clockOffsetMs,
              })),
            }),
          );
        }
        if (!sent) return false;
        const last: number = run.at(-1)?.seq ?? cursor;
        await store.setUplinkCursor(CURSOR, last);
        cursor = last;
        this.cursor = last;
        metrics.inc(
          "onsite_uplink_events_total",
          "Logged events sent to the central hub",
          { channel },
          run.length,
        );
        i = j;
      }
    }
  }

  /**
   * An event too large for one publish to the central hub: it stays in this hub's record (and in its
   * reports), is logged and counted, and the uplink goes on with the next rather than stall.
   */
  private oversize(e: StoredEvent, bytes: number): void {
    this.deps.metrics.inc(
      "onsite_uplink_oversize_total",
      "Logged events too large to send to the central hub",
    );
    this.deps.log.error(
      { seq: e.seq, device: e.event.device, counter: e.event.counter, type: e.event.type, bytes },
      "uplink: an event too large for the central hub stays here only",
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.client?.endAsync(true);
    // A picture being applied finishes before the store closes.
    await this.syncing;
  }
}
