/**
 * The badge's BLE radio: a peripheral that advertises its latest short frame in manufacturer data
 * and serves the badge GATT service (protocol/ble.ts).
 *
 * - Presence frames and short event frames are advertised: the controller repeats the current
 *   frame every `advertIntervalMs` until the badge signs a new one. The fast path, no
 *   acknowledgement.
 * - While a central is linked (subscribed to the event characteristic), every queued frame is
 *   also notified and counts as sent only once the hub writes a signed ack for its counter: the
 *   reliable path. Acks, time and signals that do not verify with the badge's key are ignored and
 *   counted (`refused`), so nobody in radio range can make the badge drop a frame; a write of the
 *   wrong length for its characteristic is refused (the central sees BlueZ's error for it).
 * - A frame leaves the queue only on its ack. A badge cannot tell a hub out of range from one that
 *   only listens, so the best-effort release of a short frame after `advertOnlyRepeats` adverts is
 *   for sites whose hub never links (ble.maxLinks 0), and off by default.
 *
 * `BlePeripheral` is the radio's side: on the badge and in the simulator it is BlueZ's peripheral
 * API over D-Bus (bluez/peripheral.ts).
 */
import {
  ACK_CHAR_UUID,
  type DeviceCommand,
  type Downlink,
  decodeDownlink,
  encodeDownlink,
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
 * of the work area from beyond the fence quickly (docs/performance.md).
 */
export const ADVERT_INTERVAL_MS = 250;

/** A write was taken (whether or not it verified), or refused for its length. */
export type WriteOutcome = "ok" | "invalid_length";

export interface BlePeripheral {
  /** The advertisement is registered and the adapter powered. */
  readonly onAir: boolean;
  /** A central is subscribed to the event characteristic. */
  readonly linked: boolean;
  /** The manufacturer data the controller advertises from now on. */
  setAdvert(data: Uint8Array): void;
  /** Notifies the event characteristic; false if nobody is subscribed. */
  notify(value: Uint8Array): boolean;
  onWrite(uuid: string, fn: (v: Uint8Array) => WriteOutcome): void;
  /** Called when `onAir` or `linked` changes. */
  onChange(fn: () => void): () => void;
}

/** Each downlink characteristic takes one message type, of one length. */
const zeroKey = new Uint8Array(16);
export const DOWNLINK_LENGTHS: Readonly<Record<string, { type: Downlink["type"]; length: number }>> = {
  [ACK_CHAR_UUID]: {
    type: "ack",
    length: encodeDownlink({ type: "ack", badge: 0, counter: 0, status: "accepted" }, zeroKey).length,
  },
  [TIME_CHAR_UUID]: {
    type: "time",
    length: encodeDownlink({ type: "time", badge: 0, hubTime: 0, counter: 0 }, zeroKey).length,
  },
  [SIGNAL_CHAR_UUID]: {
    type: "signal",
    length: encodeDownlink({ type: "signal", badge: 0, seq: 0, pattern: "confirm", repeat: 1 }, zeroKey)
      .length,
  },
};

export interface BleRadioOptions {
  badgeNo: number;
  key: Uint8Array;
  advertIntervalMs?: number;
  ackTimeoutMs?: number;
  /** Release a short frame without a link after this many adverts (listen-only hubs); default never. */
  advertOnlyRepeats?: number;
  clock?: () => number;
}

export class BleRadio implements BadgeRadio {
  readonly advertises = true;
  private advert: Uint8Array | undefined;
  private advertSince = 0;
  /** Frames notified and waiting for their ack, by counter: settle(true) on the ack. */
  private readonly acks = new Map<number, (acked: boolean) => void>();
  private readonly listeners = new Set<(c: DeviceCommand) => void>();
  private lastTime = 0;
  /** The newest counter this badge has put on the air. */
  private highest = -1;
  private lastSignal = 0;
  private readonly clock: () => number;
  /** Downlink writes refused: forged, altered, for another badge, malformed, or the wrong length. */
  refused = 0;
  /** Frames given to the controller to advertise. */
  advertised = 0;

  constructor(
    readonly peripheral: BlePeripheral,
    private readonly opts: BleRadioOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    for (const uuid of Object.keys(DOWNLINK_LENGTHS)) peripheral.onWrite(uuid, (v) => this.downlink(uuid, v));
  }

  /** Stops waiting for acks: frames in flight count as not sent. */
  stop(): void {
    for (const settle of [...this.acks.values()]) settle(false);
  }

  inRange(): boolean {
    return this.peripheral.onAir;
  }

  /** Adverts the controller has sent of the current frame (at the advertising interval). */
  private advertsOfHead(): number {
    return Math.floor((this.clock() - this.advertSince) / (this.opts.advertIntervalMs ?? ADVERT_INTERVAL_MS));
  }

  async send(_badgeNo: number, frame: Uint8Array, _kind: FrameKind): Promise<boolean> {
    const short = frame.length === SHORT_FRAME_LENGTH;
    const header = peekFrame(frame);
    this.highest = Math.max(this.highest, header.counter);
    if (short && !(this.advert && Buffer.from(this.advert).equals(frame))) {
      this.advert = frame;
      this.advertSince = this.clock();
      this.advertised++;
      this.peripheral.setAdvert(frame);
    }
    if (header.type === "presence") return true;
    if (this.peripheral.linked) return this.reliable(frame, header.counter);
    const repeats = this.opts.advertOnlyRepeats;
    return short && repeats !== undefined && this.advertsOfHead() >= repeats;
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

  private downlink(uuid: string, bytes: Uint8Array): WriteOutcome {
    const expected = DOWNLINK_LENGTHS[uuid];
    if (!expected || bytes.length !== expected.length) {
      this.refused++;
      return "invalid_length";
    }
    let msg: Downlink;
    try {
      msg = decodeDownlink(bytes, this.opts.badgeNo, this.opts.key);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.refused++;
      return "ok";
    }
    // A genuine message on another message's characteristic is not how the hub writes: refused.
    if (msg.type !== expected.type) {
      this.refused++;
      return "ok";
    }
    this.apply(msg);
    return "ok";
  }

  private apply(msg: Downlink): void {
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

  onStateChange(fn: () => void): () => void {
    return this.peripheral.onChange(fn);
  }
}
