/**
 * The badge's radio, as an interface: the BLE issue gives it a real backend (adverts and GATT via
 * BlueZ). Here, a gateway-style backend: frames go to the hub over MQTT as a site gateway would relay
 * them, and the hub's commands for the badge come back the same way.
 */
import mqtt, { type MqttClient } from "mqtt";
import { type DeviceCommand, decodeCommandPayload, toHex, topics } from "../../protocol/index.js";

export type FrameKind = "advert" | "gatt";

export interface BadgeRadio {
  /** True for a radio the hub finds only by its adverts (BLE): the badge then announces itself at boot. */
  readonly advertises?: boolean;
  /** Whether a gateway hears this badge now. */
  inRange(badgeNo: number): boolean;
  /** Delivers one frame; true once the far side has it (for a gateway: the hub's PUBACK). */
  send(badgeNo: number, frame: Uint8Array, kind: FrameKind): Promise<boolean>;
  /** Commands the hub sends to this badge. */
  onCommand(badgeId: string, fn: (c: DeviceCommand) => void): () => void;
  /** Called when the radio comes on the air, goes off it, or a hub links or unlinks. */
  onStateChange?(fn: () => void): () => void;
}

export class GatewayRadio implements BadgeRadio {
  private client: MqttClient | undefined;
  private readonly range = new Map<number, boolean>();
  private readonly listeners = new Map<string, Set<(c: DeviceCommand) => void>>();
  /** Badges whose commands the hub has not let this gateway follow yet (it does once it hears them). */
  private readonly pending = new Set<string>();
  rssi = -62;

  constructor(
    private readonly opts: { url: string; gatewayId: string; password: string; clock?: () => number },
  ) {}

  async start(): Promise<void> {
    const { url, gatewayId, password } = this.opts;
    this.client = await mqtt.connectAsync(url, {
      clientId: gatewayId,
      username: gatewayId,
      password,
      reconnectPeriod: 1000,
      clean: true,
    });
    this.client.on("message", (topic, payload) => {
      const badge = topic.split("/")[3] ?? "";
      let cmd: DeviceCommand;
      try {
        cmd = decodeCommandPayload(payload);
      } catch {
        return;
      }
      for (const fn of this.listeners.get(badge) ?? []) fn(cmd);
    });
  }

  /** Simulation: move a badge in or out of this gateway's range. */
  setInRange(badgeNo: number, inRange: boolean): void {
    this.range.set(badgeNo, inRange);
  }

  inRange(badgeNo: number): boolean {
    return this.client?.connected === true && this.range.get(badgeNo) !== false;
  }

  async send(badgeNo: number, frame: Uint8Array): Promise<boolean> {
    if (!this.inRange(badgeNo) || !this.client) return false;
    const now = (this.opts.clock ?? Date.now)();
    const body = {
      v: 1,
      gateway: this.opts.gatewayId,
      frames: [{ hex: toHex(frame), rssi: this.rssi, rxTime: now }],
    };
    try {
      await this.client.publishAsync(topics.gatewayFrames(this.opts.gatewayId), JSON.stringify(body), {
        qos: 1,
      });
      for (const badge of this.pending) this.follow(badge);
      return true;
    } catch {
      return false;
    }
  }

  onCommand(badgeId: string, fn: (c: DeviceCommand) => void): () => void {
    let set = this.listeners.get(badgeId);
    if (!set) {
      set = new Set();
      this.listeners.set(badgeId, set);
      this.follow(badgeId);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Subscribes to a badge's commands; refused (the hub lets a gateway follow only badges of its site, or that it hears), it tries again after relaying a frame. */
  private follow(badgeId: string): void {
    this.pending.delete(badgeId);
    void this.client
      ?.subscribeAsync(topics.deviceCommands(badgeId), { qos: 1 })
      .then((granted) => {
        if (granted.some((g) => g.qos === 128)) this.pending.add(badgeId);
      })
      .catch(() => this.pending.add(badgeId));
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }
}
