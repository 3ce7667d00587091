/**
 * Gateway mode: a hub on a site box forwards the badge frames it verified to a central hub, over
 * MQTT on the gateway's own topic (`onsite/v1/gw/<id>/frames`), exactly as received. The central
 * hub verifies every frame again with the badge's key: the gateway vouches for nothing.
 *
 * Frames wait in a bounded queue while the central hub is unreachable (the oldest are dropped and
 * counted beyond `limit`; they stay in this hub's own store either way) and go out in order, in
 * batches of up to 64, each batch PUBACKed before the next.
 */
import mqtt, { type MqttClient } from "mqtt";
import { encodeGatewayFrames, toHex, topics } from "../../../protocol/index.js";
import type { Reception } from "../../core/intake.js";
import type { Logger } from "../../log.js";
import type { Metrics } from "../../metrics.js";

export interface ForwardOptions {
  url: string;
  gatewayId: string;
  password: string;
  limit?: number;
}

type Item = { hex: string; rssi?: number; rxTime: number };

export class Forwarder {
  private client: MqttClient | undefined;
  private readonly queue: Item[] = [];
  private sending = false;
  private stopped = false;
  dropped = 0;

  constructor(
    private readonly opts: ForwardOptions,
    private readonly deps: { log: Logger; metrics: Metrics },
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
      this.deps.log.info({ url }, "forwarding badge frames to the central hub");
      void this.pump();
    });
    this.client.on("error", (e) => this.deps.log.warn({ err: e.message }, "central hub connection"));
    this.deps.metrics.onCollect(() =>
      this.deps.metrics.set("onsite_forward_queue", "Frames waiting for the central hub", this.queue.length),
    );
  }

  push(bytes: Uint8Array, rx: Reception): void {
    if (this.queue.length >= (this.opts.limit ?? 10_000)) {
      this.queue.shift();
      this.dropped++;
      this.deps.metrics.inc("onsite_forward_dropped_total", "Frames dropped from a full forward queue");
    }
    this.queue.push({ hex: toHex(bytes), ...(rx.rssi === null ? {} : { rssi: rx.rssi }), rxTime: rx.at });
    setImmediate(() => void this.pump());
  }

  get pending(): number {
    return this.queue.length;
  }

  private async pump(): Promise<void> {
    if (this.sending || this.stopped) return;
    this.sending = true;
    try {
      while (this.queue.length > 0 && this.client?.connected) {
        const batch = this.queue.slice(0, 64);
        const payload = encodeGatewayFrames({ v: 1, gateway: this.opts.gatewayId, frames: batch });
        try {
          await this.client.publishAsync(topics.gatewayFrames(this.opts.gatewayId), payload, { qos: 1 });
        } catch (e) {
          this.deps.log.warn({ err: (e as Error).message }, "forwarding failed; will retry");
          break;
        }
        this.queue.splice(0, batch.length);
        this.deps.metrics.inc(
          "onsite_forwarded_frames_total",
          "Frames forwarded to the central hub",
          {},
          batch.length,
        );
      }
    } finally {
      this.sending = false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.endAsync(true);
  }
}
