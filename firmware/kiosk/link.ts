/**
 * The kiosk's link to the hub: MQTT (QoS 1, persistent session, its provisioned credentials). Events
 * wait in a queue on disk and go out one at a time, in order, with their original event times; an
 * event leaves the queue only after the hub's PUBACK. A reboot loses nothing.
 */
import { EventEmitter } from "node:events";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { type DeviceCommand, type DeviceEvent, decodeCommandPayload, topics } from "../../protocol/index.js";
import { DiskQueue } from "../common/disk-queue.js";

export interface LinkOptions {
  url: string;
  deviceId: string;
  password: string;
  stateDir: string;
  reconnectMs?: number;
}

export class KioskLink extends EventEmitter<{
  command: [DeviceCommand];
  delivered: [DeviceEvent];
  connected: [];
  offline: [];
}> {
  readonly queue: DiskQueue<DeviceEvent>;
  private client: MqttClient | undefined;
  private pumping = false;
  private closed = false;
  delivered = 0;

  constructor(private readonly opts: LinkOptions) {
    super();
    this.queue = new DiskQueue<DeviceEvent>(join(opts.stateDir, "outbox.jsonl"));
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  start(): void {
    const { url, deviceId, password } = this.opts;
    const client = mqtt.connect(url, {
      clientId: deviceId,
      username: deviceId,
      password,
      clean: false,
      reconnectPeriod: this.opts.reconnectMs ?? 1000,
      connectTimeout: 5000,
      resubscribe: true,
    });
    this.client = client;
    client.on("connect", () => {
      client.subscribe(topics.deviceCommands(deviceId), { qos: 1 });
      this.emit("connected");
      this.pump();
    });
    client.on("close", () => this.emit("offline"));
    client.on("error", () => {});
    client.on("message", (_topic, payload) => {
      try {
        this.emit("command", decodeCommandPayload(payload));
      } catch {
        // a command this firmware does not understand: ignored
      }
    });
  }

  /** Queue an event durably, then try to deliver. */
  send(event: DeviceEvent): void {
    this.queue.push(event);
    this.pump();
  }

  /** Publish without queueing (heartbeats: only meaningful live). */
  sendLive(event: DeviceEvent): void {
    if (this.connected)
      this.client?.publish(topics.deviceEvents(this.opts.deviceId), JSON.stringify(event), { qos: 0 });
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    void (async () => {
      try {
        while (!this.closed && this.connected && this.queue.length > 0) {
          const head = this.queue.peek() as DeviceEvent;
          try {
            await this.client?.publishAsync(topics.deviceEvents(this.opts.deviceId), JSON.stringify(head), {
              qos: 1,
            });
          } catch {
            break; // connection lost: the same event goes first after reconnecting
          }
          this.queue.shift();
          this.delivered++;
          this.emit("delivered", head);
        }
      } finally {
        this.pumping = false;
      }
      if (!this.closed && this.connected && this.queue.length > 0) this.pump();
    })();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.endAsync(true);
  }
}
