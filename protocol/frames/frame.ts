import { ProtocolError } from "../errors.js";
import { FRAME_VERSION } from "../version.js";
import { LATE_REASONS, type LateReason, PPE_ITEMS, type PpeItem } from "../vocab.js";
import { ByteReader, ByteWriter } from "./bytes.js";
import {
  BATTERY_UNKNOWN,
  isShortType,
  LONG_MAC_LENGTH,
  LONG_TYPES,
  type LongFrameType,
  SHORT_MAC_LENGTH,
  SHORT_TYPES,
  type ShortFrameType,
  TYPE_BY_CODE,
} from "./layout.js";
import { frameMac, macMatches } from "./mac.js";

interface FrameHeader {
  /** The badge's 32-bit id (badges use random MAC addresses; this is how the hub knows them). */
  badge: number;
  counter: number;
  /** Device time, Unix epoch seconds. */
  time: number;
}

export type BadgeFrame =
  | (FrameHeader & { type: ShortFrameType; battery: number | null })
  | (FrameHeader & { type: "gear_confirmed"; items: PpeItem[] })
  | (FrameHeader & { type: "late_notice"; eta: number; reason: LateReason })
  | (FrameHeader & { type: "kit_checked"; complete: boolean })
  /** After a backlog: how many frames still wait and how many were dropped because the queue was full. */
  | (FrameHeader & { type: "badge_status"; queued: number; dropped: number });

/** Resolves a badge id to its frame key; undefined for a badge the hub does not know. */
export type KeyLookup = (badge: number) => Uint8Array | undefined;

function u32(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new ProtocolError("bad_field", "must be an integer 0..4294967295", field);
  }
  return value;
}

function ppeMask(items: readonly PpeItem[]): number {
  let mask = 0;
  for (const item of items) {
    const bit = PPE_ITEMS.indexOf(item);
    if (bit < 0) throw new ProtocolError("bad_field", `unknown PPE item ${JSON.stringify(item)}`, "items");
    mask |= 1 << bit;
  }
  return mask;
}

function ppeItems(mask: number): PpeItem[] {
  if (mask >>> PPE_ITEMS.length !== 0) throw new ProtocolError("bad_field", "unknown PPE bit set", "items");
  if (mask === 0) throw new ProtocolError("bad_field", "no PPE item set", "items");
  return PPE_ITEMS.filter((_, bit) => (mask & (1 << bit)) !== 0);
}

function longPayload(frame: BadgeFrame): Uint8Array {
  const w = new ByteWriter();
  switch (frame.type) {
    case "gear_confirmed":
      w.u16(ppeMask(frame.items));
      break;
    case "late_notice": {
      const reason = LATE_REASONS.indexOf(frame.reason);
      if (reason < 0) throw new ProtocolError("bad_field", "unknown late reason", "reason");
      w.u32(u32(frame.eta, "eta")).u8(reason);
      break;
    }
    case "kit_checked":
      w.u8(frame.complete ? 1 : 0);
      break;
    case "badge_status":
      w.u16(Math.min(frame.queued, 0xffff)).u16(Math.min(frame.dropped, 0xffff));
      break;
    default:
      throw new ProtocolError("unknown_type", `${frame.type} is a short frame`, "type");
  }
  return w.toBytes();
}

/** Encodes and signs a frame with the badge's key. */
export function encodeFrame(frame: BadgeFrame, key: Uint8Array): Uint8Array {
  const w = new ByteWriter().u8(FRAME_VERSION);
  if (isShortType(frame.type)) {
    w.u8(SHORT_TYPES[frame.type]);
  } else {
    w.u8(LONG_TYPES[frame.type as LongFrameType]);
  }
  w.u32(u32(frame.badge, "badge")).u32(u32(frame.counter, "counter")).u32(u32(frame.time, "time"));
  let macLength: number;
  if ("battery" in frame) {
    const b = frame.battery;
    if (b !== null && (!Number.isInteger(b) || b < 0 || b > 100)) {
      throw new ProtocolError("bad_field", "must be 0..100 or null", "battery");
    }
    w.u8(b ?? BATTERY_UNKNOWN);
    macLength = SHORT_MAC_LENGTH;
  } else {
    const payload = longPayload(frame);
    w.u8(payload.length).bytes(payload);
    macLength = LONG_MAC_LENGTH;
  }
  const signed = w.toBytes();
  return new ByteWriter()
    .bytes(signed)
    .bytes(frameMac(key, signed, macLength))
    .toBytes();
}

/** Reads the header without verifying anything: for routing (which badge?) only. */
export function peekFrame(bytes: Uint8Array): FrameHeader & { type: string; version: number } {
  const r = new ByteReader(bytes);
  const version = r.u8("version");
  const code = r.u8("type");
  const header = { badge: r.u32("badge"), counter: r.u32("counter"), time: r.u32("time") };
  return { version, type: TYPE_BY_CODE.get(code) ?? `0x${code.toString(16)}`, ...header };
}

/**
 * Decodes and authenticates a frame. Order of checks: version, type, length, key, MAC, payload.
 * Nothing in the payload is trusted before the MAC verifies.
 */
export function decodeFrame(bytes: Uint8Array, keyFor: KeyLookup): BadgeFrame {
  const r = new ByteReader(bytes);
  const version = r.u8("version");
  if (version !== FRAME_VERSION) {
    throw new ProtocolError("bad_version", `frame version ${version}, expected ${FRAME_VERSION}`, "version");
  }
  const code = r.u8("type");
  const type = TYPE_BY_CODE.get(code);
  if (type === undefined)
    throw new ProtocolError("unknown_type", `unknown frame type 0x${code.toString(16)}`, "type");
  const header: FrameHeader = { badge: r.u32("badge"), counter: r.u32("counter"), time: r.u32("time") };
  let body: Uint8Array;
  let macLength: number;
  if (isShortType(type)) {
    body = r.bytes(1, "battery");
    macLength = SHORT_MAC_LENGTH;
  } else {
    const length = r.u8("length");
    body = r.bytes(length, "payload");
    macLength = LONG_MAC_LENGTH;
  }
  const signedLength = r.offset;
  const mac = r.bytes(macLength, "mac");
  if (r.remaining > 0) throw new ProtocolError("trailing_bytes", `${r.remaining} bytes after the MAC`);
  const key = keyFor(header.badge);
  if (key === undefined) {
    throw new ProtocolError(
      "unknown_device",
      `no key for badge ${header.badge.toString(16).padStart(8, "0")}`,
      "badge",
    );
  }
  if (!macMatches(key, bytes.subarray(0, signedLength), mac)) {
    throw new ProtocolError("bad_mac", "MAC does not verify: forged, altered or wrong key", "mac");
  }
  return withBody(type, header, body);
}

function withBody(
  type: NonNullable<ReturnType<typeof TYPE_BY_CODE.get>>,
  header: FrameHeader,
  body: Uint8Array,
): BadgeFrame {
  const r = new ByteReader(body);
  const expectLength = (n: number) => {
    if (body.length !== n)
      throw new ProtocolError(
        "bad_length",
        `${type} payload is ${body.length} bytes, expected ${n}`,
        "length",
      );
  };
  switch (type) {
    case "presence":
    case "arrival":
    case "departure":
    case "sos":
    case "work_started": {
      const b = r.u8("battery");
      if (b !== BATTERY_UNKNOWN && b > 100)
        throw new ProtocolError("bad_field", `battery ${b} > 100`, "battery");
      return { type, ...header, battery: b === BATTERY_UNKNOWN ? null : b };
    }
    case "gear_confirmed":
      expectLength(2);
      return { type, ...header, items: ppeItems(r.u16("items")) };
    case "late_notice": {
      expectLength(5);
      const eta = r.u32("eta");
      const reason = LATE_REASONS[r.u8("reason")];
      if (reason === undefined) throw new ProtocolError("bad_field", "unknown late reason", "reason");
      return { type, ...header, eta, reason };
    }
    case "kit_checked": {
      expectLength(1);
      const flag = r.u8("complete");
      if (flag > 1) throw new ProtocolError("bad_field", "must be 0 or 1", "complete");
      return { type, ...header, complete: flag === 1 };
    }
    case "badge_status":
      expectLength(4);
      return { type, ...header, queued: r.u16("queued"), dropped: r.u16("dropped") };
  }
}
