/**
 * Central to site (gateway mode): the central hub sends each site hub its site's picture — the site,
 * its visits from a day ago to two weeks ahead (cancelled ones too) and their engineers — on
 * `onsite/v1/gw/<gateway>/sync`, only to that gateway. It goes when the gateway subscribes (after
 * every reconnect), and then whenever it changed: looked at when a plan or a site changes through the
 * API (the hub calls `tick`), and every `intervalMs` for what changed otherwise. A whole picture each
 * time, so a lost message is mended by the next one and applying one twice changes nothing.
 */
import { encodeGatewaySync, type GatewaySync, topics } from "../../../protocol/index.js";
import type { Engineer } from "../../core/model.js";
import type { Clock, Store } from "../../core/ports.js";
import type { Logger } from "../../log.js";
import type { Metrics } from "../../metrics.js";

const DAY = 86_400_000;

export interface GatewaySyncDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  publish(topic: string, payload: string): void;
  connected(deviceId: string): boolean;
}

export class GatewaySyncer {
  /** The gateways that asked, with their site and what they were sent last (without its time). */
  private readonly gateways = new Map<string, { siteId: string; last: string }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: GatewaySyncDeps,
    private readonly intervalMs = 60_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** A gateway subscribed: it gets its picture now, whatever it had. */
  subscribed(gatewayId: string, siteId: string): void {
    this.gateways.set(gatewayId, { siteId, last: "" });
    this.running = this.running.then(() => this.send(gatewayId)).catch(this.failed);
  }

  /** Sends each connected gateway its picture if it changed; resolves when done. */
  tick(): Promise<void> {
    this.running = this.running
      .then(async () => {
        for (const id of [...this.gateways.keys()]) {
          if (!this.deps.connected(id)) this.gateways.delete(id);
          else await this.send(id);
        }
      })
      .catch(this.failed);
    return this.running;
  }

  private readonly failed = (e: unknown) => this.deps.log.warn({ err: e }, "gateway sync failed");

  private async send(gatewayId: string): Promise<void> {
    const g = this.gateways.get(gatewayId);
    if (!g) return;
    const picture = await this.picture(gatewayId, g.siteId);
    if (!picture) return;
    const { at: _at, ...content } = picture;
    const key = JSON.stringify(content);
    if (key === g.last) return;
    this.deps.publish(topics.gatewaySync(gatewayId), encodeGatewaySync(picture));
    g.last = key;
    this.deps.metrics.inc("onsite_gateway_sync_total", "Site pictures sent to site hubs");
  }

  private async picture(gatewayId: string, siteId: string): Promise<GatewaySync | undefined> {
    const { store, clock } = this.deps;
    const site = await store.getSite(siteId);
    if (!site) return undefined;
    const now = clock.now();
    const visits = await store.listVisits({ siteId, from: now - DAY, to: now + 14 * DAY });
    const engineers: Engineer[] = [];
    for (const id of new Set(visits.map((v) => v.engineerId))) {
      const e = await store.getEngineer(id);
      if (e) engineers.push(e);
    }
    return {
      v: 1,
      gateway: gatewayId,
      at: now,
      site,
      engineers,
      visits: visits.map((v) => ({
        id: v.id,
        siteId: v.siteId,
        engineerId: v.engineerId,
        window: v.window,
        ...(v.createdAt === undefined ? {} : { createdAt: v.createdAt }),
        ...(v.cancelledAt === undefined ? {} : { cancelledAt: v.cancelledAt }),
        ...(v.cancelReason === undefined ? {} : { cancelReason: v.cancelReason }),
      })),
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
