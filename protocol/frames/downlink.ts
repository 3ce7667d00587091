/**
 * Hub → badge messages written over GATT: acknowledgements, time sync and signals. A BLE link
 * without pairing can be spoofed by anyone in range, and a forged acknowledgement would make a badge
 * drop a frame the hub never stored, so each message is signed with the badge's own key (a domain
 * separate from uplink frames: an uplink MAC is never a valid downlink MAC).
 *
 * layout: version u8 | type u8 | badge u32 | body | mac[8]
 *   ack    0x81  counter u32 | status u8 (0 accepted, 1 duplicate, 2 rejected)
 *   time   0x82  hub time, epoch ms, u64 (hi u32, lo u32) | counter u32 (the newest frame counter
 *                 the hub has from this badge: a nonce the badge chose, so an old time sync
 *                 replayed later is refused)
 *   signal 0x83  seq u64 (hub time ms: strictly increasing per badge) | pattern u8 | repeat u8
 *
 * A badge applies a time message only when the counter it echoes is one of the last
 * TIME_ECHO_WINDOW counters the badge has used, and a signal only when its seq is newer than the
 * last it applied, so a recorded message replayed later does nothing.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { ProtocolError } from "../errors.js";
import { FRAME_VERSION } from "../version.js";
import { SIGNAL_PATTERNS, type SignalPattern } from "../vocab.js";
import { ByteReader, ByteWriter } from "./bytes.js";

const DOMAIN = new TextEncoder().encode("onsite-ble-downlink-v1");
export const DOWNLINK_MAC_LENGTH = 8;
/** How recent the counter echoed in a time message must be (in the badge's own counters). */
export const TIME_ECHO_WINDOW = 256;

export const DOWNLINK_TYPES = { ack: 0x81, time: 0x82, signal: 0x83 } as const;
export const ACK_STATUSES = ["accepted", "duplicate", "rejected"] as const;
export type AckStatus = (typeof ACK_STATUSES)[number];

export type Downlink =
  | { type: "ack"; badge: number; counter: number; status: AckStatus }
  | { type: "time"; badge: number; hubTime: number; counter: number }
  | { type: "signal"; badge: number; seq: number; pattern: SignalPattern; repeat: number };

function mac(key: Uint8Array, signed: Uint8Array): Uint8Array {
  const full = createHmac("sha256", key).update(DOMAIN).update(signed).digest();
  return new Uint8Array(full.buffer, full.byteOffset, DOWNLINK_MAC_LENGTH);
}

function u64(w: ByteWriter, v: number, field: string): void {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new ProtocolError("bad_field", "must be a safe integer ≥ 0", field);
  w.u32(Math.floor(v / 2 ** 32)).u32(v % 2 ** 32);
}

function readU64(r: ByteReader, field: string): number {
  const hi = r.u32(field);
  const lo = r.u32(field);
  const v = hi * 2 ** 32 + lo;
  if (!Number.isSafeInteger(v)) throw new ProtocolError("bad_field", "out of range", field);
  return v;
}

export function encodeDownlink(msg: Downlink, key: Uint8Array): Uint8Array {
  const w = new ByteWriter()
    .u8(FRAME_VERSION)
    .u8(DOWNLINK_TYPES[msg.type])
    .u32(msg.badge >>> 0);
  switch (msg.type) {
    case "ack":
      w.u32(msg.counter >>> 0).u8(ACK_STATUSES.indexOf(msg.status));
      break;
    case "time":
      u64(w, msg.hubTime, "hubTime");
      w.u32(msg.counter >>> 0);
      break;
    case "signal": {
      const p = SIGNAL_PATTERNS.indexOf(msg.pattern);
      if (p < 0) throw new ProtocolError("bad_field", "unknown signal pattern", "pattern");
      if (!Number.isInteger(msg.repeat) || msg.repeat < 1 || msg.repeat > 255)
        throw new ProtocolError("bad_field", "must be 1..255", "repeat");
      u64(w, msg.seq, "seq");
      w.u8(p).u8(msg.repeat);
      break;
    }
  }
  const signed = w.toBytes();
  return new ByteWriter().bytes(signed).bytes(mac(key, signed)).toBytes();
}

/** Decodes and authenticates a downlink message for the badge that owns `key`. */
export function decodeDownlink(bytes: Uint8Array, badge: number, key: Uint8Array): Downlink {
  const r = new ByteReader(bytes);
  const version = r.u8("version");
  if (version !== FRAME_VERSION) throw new ProtocolError("bad_version", `version ${version}`, "version");
  const code = r.u8("type");
  const to = r.u32("badge");
  let msg: Downlink;
  switch (code) {
    case DOWNLINK_TYPES.ack: {
      const counter = r.u32("counter");
      const status = ACK_STATUSES[r.u8("status")];
      if (status === undefined) throw new ProtocolError("bad_field", "unknown ack status", "status");
      msg = { type: "ack", badge: to, counter, status };
      break;
    }
    case DOWNLINK_TYPES.time:
      msg = { type: "time", badge: to, hubTime: readU64(r, "hubTime"), counter: r.u32("counter") };
      break;
    case DOWNLINK_TYPES.signal: {
      const seq = readU64(r, "seq");
      const pattern = SIGNAL_PATTERNS[r.u8("pattern")];
      if (pattern === undefined) throw new ProtocolError("bad_field", "unknown signal pattern", "pattern");
      msg = { type: "signal", badge: to, seq, pattern, repeat: r.u8("repeat") };
      break;
    }
    default:
      throw new ProtocolError("unknown_type", `unknown downlink type 0x${code.toString(16)}`, "type");
  }
  const signedLength = r.offset;
  const got = r.bytes(DOWNLINK_MAC_LENGTH, "mac");
  if (r.remaining > 0) throw new ProtocolError("trailing_bytes", `${r.remaining} bytes after the MAC`);
  if (to !== badge) throw new ProtocolError("unknown_device", "addressed to another badge", "badge");
  if (!timingSafeEqual(mac(key, bytes.subarray(0, signedLength)), got))
    throw new ProtocolError("bad_mac", "MAC does not verify: forged, altered or wrong key", "mac");
  return msg;
}
