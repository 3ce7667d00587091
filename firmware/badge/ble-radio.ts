/**
 * The badge's BLE radio: a peripheral that advertises its latest short frame in manufacturer data
 * and serves the badge GATT service (protocol/ble.ts).
 *
 * - Presence frames and short event frames are advertised (every `advertIntervalMs`, the same
 *   frame until the badge signs a new one): the fast path, no acknowledgement.
 * - While a central is linked (connected and subscribed), every queued frame is also notified on
 *   the event characteristic and counts as sent only once the hub writes a signed ack for its
 *   counter: the reliable path. Acks, time and signals that do not verify with the badge's key are
 *   ignored (and counted), so nobody in radio range can make the badge drop a frame.
 * - With no link, a short event frame counts as sent after `advertOnlyRepeats` adverts (a hub
 *   that only listens still gets it, best effort); a long frame waits for a link.
 *
 * `BlePeripheral` is the radio chip's side; on the bench and in the demo it is the BlueZ
 * stand-in's virtual peripheral.
 */
import {
  ACK_CHAR_UUID,
  type DeviceCommand,
  type Downlink,
  decodeDownlink,
  isProtocolError,
  peekFrame,
  SHORT_FRAME_LENGTH,
  SIGNAL_CHAR_UUID,
  TIME_CHAR_UUID,
  TIME_ECHO_WINDOW,
} from "../../protocol/index.js";
import type { BadgeRadio, FrameKind } from "./radio.js";

/**
 * Four adverts a second: the hub's presence tracking needs several per rotation to tell the edge
 * of the work area from beyond the fence quickly (docs/performance.md). About 40 µA on an nRF52840
 * at 0 dBm: a day on a small cell, charged overnight.
 */
export const ADVERT_INTERVAL_MS = 250;

export interface BlePeripheral {
  readonly inRange: boolean;
  readonly linked: boolean;
  advertise(data: Uint8Array): boolean;
  notify(value: Uint8Array): boolean;
  onWrite(uuid: string, fn: (v: Uint8Array) => void | Promise<void>): void;
  onLink(fn: (linked: boolean) => void): () => void;
}

export interface BleRadioOptions {
  badgeNo: number;
  key: Uint8Array;
  advertIntervalMs?: number;
  ackTimeoutMs?: number;
  advertOnlyRepeats?: number;
}

export class BleRadio implements BadgeRadio {
  readonly advertises = true;
  private advert: Uint8Array | undefined;
  private advertsOfHead = 0;
  /** Frames notified and waiting for their ack, by counter: settle(true) on the ack. */
  private readonly acks = new Map<number, (acked: boolean) => void>();
  private readonly listeners = new Set<(c: DeviceCommand) => void>();
  private lastTime = 0;
  /** The newest counter this badge has put on the air. */
  private highest = -1;
  private lastSignal = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Downlink writes that did not verify (forged, altered, for another badge). */
  refused = 0;
  adverts = 0;

  constructor(
    readonly peripheral: BlePeripheral,
    private readonly opts: BleRadioOptions,
  ) {
    peripheral.onWrite(ACK_CHAR_UUID, (v) => this.downlink(v));
    peripheral.onWrite(TIME_CHAR_UUID, (v) => this.downlink(v));
    peripheral.onWrite(SIGNAL_CHAR_UUID, (v) => this.downlink(v));
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.opts.advertIntervalMs ?? ADVERT_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const settle of [...this.acks.values()]) settle(false);
  }

  private tick(): void {
    if (!this.advert || !this.peripheral.inRange) return;
    this.peripheral.advertise(this.advert);
    this.adverts++;
    this.advertsOfHead++;
  }

  inRange(): boolean {
    return this.peripheral.inRange;
  }

  async send(_badgeNo: number, frame: Uint8Array, _kind: FrameKind): Promise<boolean> {
    const short = frame.length === SHORT_FRAME_LENGTH;
    const header = peekFrame(frame);
    this.highest = Math.max(this.highest, header.counter);
    if (short && !(this.advert && Buffer.from(this.advert).equals(frame))) {
      this.advert = frame;
      this.advertsOfHead = 0;
      this.tick();
    }
    if (header.type === "presence") return true;
    if (this.peripheral.linked) return this.reliable(frame, header.counter);
    return short && this.advertsOfHead >= (this.opts.advertOnlyRepeats ?? 16);
  }

  private reliable(frame: Uint8Array, counter: number): Promise<boolean> {
    return new Promise((resolve) => {
      const settle = (acked: boolean) => {
        clearTimeout(timer);
        this.acks.delete(counter);
        resolve(acked);
      };
      const timer = setTimeout(() => settle(false), this.opts.ackTimeoutMs ?? 3000);
      this.acks.set(counter, settle);
      if (!this.peripheral.notify(frame)) settle(false);
    });
  }

  private downlink(bytes: Uint8Array): void {
    let msg: Downlink;
    try {
      msg = decodeDownlink(bytes, this.opts.badgeNo, this.opts.key);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.refused++;
      return;
    }
    switch (msg.type) {
      case "ack":
        this.acks.get(msg.counter)?.(true);
        return;
      case "time":
        if (msg.counter > this.highest || this.highest - msg.counter >= TIME_ECHO_WINDOW) {
          this.refused++;
          return;
        }
        if (msg.hubTime <= this.lastTime) return;
        this.lastTime = msg.hubTime;
        this.emit({
          v: 1,
          type: "time_sync",
          time: msg.hubTime,
          deviceTime: msg.hubTime,
          hubTime: msg.hubTime,
        });
        return;
      case "signal":
        if (msg.seq <= this.lastSignal) return;
        this.lastSignal = msg.seq;
        this.emit({
          v: 1,
          type: "signal",
          time: msg.seq,
          pattern: msg.pattern,
          repeat: Math.min(msg.repeat, 20),
        });
        return;
    }
  }

  private emit(c: DeviceCommand): void {
    for (const fn of this.listeners) fn(c);
  }

  onCommand(_badgeId: string, fn: (c: DeviceCommand) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
