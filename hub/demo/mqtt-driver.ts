/**
 * Plays demo actions as the real devices would, over the real broker: badge actions become signed
 * BLE frames relayed by the site gateway; kiosk actions become the kiosk's JSON events. The firmware
 * driver (firmware issue) replaces this with the badge and kiosk programs on virtual boards.
 */
import mqtt, { type MqttClient } from "mqtt";
import {
  type BadgeFrame,
  type DeviceEvent,
  encodeFrame,
  fromHex,
  toHex,
  topics,
} from "../../protocol/index.js";
import type { Clock, Store } from "../core/ports.js";
import type { DemoAction } from "./scenarios.js";
import type { DemoCredentials } from "./seed.js";

export interface DemoDriver {
  start(): Promise<void>;
  act(engineer: number, action: DemoAction, visitId: string): Promise<void>;
  /** Periodic life signs: badge presence, kiosk heartbeat. */
  pulse(): Promise<void>;
  stop(): Promise<void>;
}

export class MqttDemoDriver implements DemoDriver {
  private gateway: MqttClient | undefined;
  private kiosk: MqttClient | undefined;
  private readonly counters = new Map<string, number>();

  constructor(private readonly opts: { url: string; creds: DemoCredentials; store: Store; clock: Clock }) {}

  async start(): Promise<void> {
    const { url, creds } = this.opts;
    const options = { reconnectPeriod: 1000, connectTimeout: 5000, clean: false } as const;
    this.gateway = await mqtt.connectAsync(url, {
      ...options,
      clientId: creds.gateway.id,
      username: creds.gateway.id,
      password: creds.gateway.password,
    });
    this.kiosk = await mqtt.connectAsync(url, {
      ...options,
      clientId: creds.kiosk.id,
      username: creds.kiosk.id,
      password: creds.kiosk.password,
    });
    await this.kiosk.subscribeAsync(topics.deviceCommands(creds.kiosk.id), { qos: 1 });
    for (const id of [creds.kiosk.id, ...creds.badges.map((b) => b.id)]) {
      this.counters.set(id, ((await this.opts.store.getDevice(id))?.replay.highest ?? -1) + 1);
    }
  }

  private next(id: string): number {
    const n = this.counters.get(id) ?? 0;
    this.counters.set(id, n + 1);
    return n;
  }

  private async frame(
    engineer: number,
    build: (h: { badge: number; counter: number; time: number }) => BadgeFrame,
  ): Promise<void> {
    const b = this.opts.creds.badges[engineer];
    if (!b || !this.gateway) return;
    const header = {
      badge: b.badgeNo,
      counter: this.next(b.id),
      time: Math.floor(this.opts.clock.now() / 1000),
    };
    const hex = toHex(encodeFrame(build(header), fromHex(b.key)));
    const gw = this.opts.creds.gateway.id;
    await this.gateway.publishAsync(
      topics.gatewayFrames(gw),
      JSON.stringify({ v: 1, gateway: gw, frames: [{ hex, rssi: -58, rxTime: this.opts.clock.now() }] }),
      { qos: 1 },
    );
  }

  private async kioskEvent(body: Record<string, unknown>): Promise<void> {
    const id = this.opts.creds.kiosk.id;
    if (!this.kiosk) return;
    const event = {
      v: 1,
      device: id,
      counter: this.next(id),
      time: this.opts.clock.now(),
      ...body,
    } as DeviceEvent;
    await this.kiosk.publishAsync(topics.deviceEvents(id), JSON.stringify(event), { qos: 1 });
  }

  async act(engineer: number, a: DemoAction, visitId: string): Promise<void> {
    const battery = 80 + engineer;
    const badge = this.opts.creds.badges[engineer];
    switch (a.do) {
      case "arrive":
        return this.frame(engineer, (h) => ({ type: "arrival", ...h, battery }));
      case "depart":
        return this.frame(engineer, (h) => ({ type: "departure", ...h, battery }));
      case "work":
        return this.frame(engineer, (h) => ({ type: "work_started", ...h, battery }));
      case "sos":
        return this.frame(engineer, (h) => ({ type: "sos", ...h, battery }));
      case "gear":
        return this.frame(engineer, (h) => ({ type: "gear_confirmed", ...h, items: a.items }));
      case "late":
        return this.frame(engineer, (h) => ({
          type: "late_notice",
          ...h,
          eta: h.time + a.etaMinutes * 60,
          reason: "traffic",
        }));
      case "tap":
        return this.kioskEvent({ type: "checkin_request", tag: badge?.tag ?? "" });
      case "confirm_checkin":
        return this.kioskEvent({
          type: "checkin_confirmed",
          visit: visitId,
          engineer: badge?.engineerId ?? "",
          consent: true,
        });
      case "report":
        return this.kioskEvent({
          type: "completion_submitted",
          visit: visitId,
          cause: "Worn pump seal",
          parts: [{ name: "Seal kit", partNo: "SK-40", quantity: 1 }],
          workDone: "Replaced the seal and pressure-tested the pump",
          advice: "Inspect the seal yearly",
        });
      case "confirm_completion":
        return this.kioskEvent({
          type: "completion_confirmed",
          visit: visitId,
          resolved: a.resolved,
          rating: a.rating,
        });
      case "sign_cleanup":
        return this.kioskEvent({ type: "cleanup_signed_off", visit: visitId, items: a.items });
    }
  }

  async pulse(): Promise<void> {
    for (const [i] of this.opts.creds.badges.entries()) {
      await this.frame(i, (h) => ({ type: "presence", ...h, battery: 80 + i }));
    }
    await this.kioskEvent({ type: "heartbeat", queued: 0 });
  }

  async stop(): Promise<void> {
    await this.gateway?.endAsync();
    await this.kiosk?.endAsync();
  }
}
