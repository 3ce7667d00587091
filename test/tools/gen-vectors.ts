/**
 * Writes protocol/vectors/frames.json once. The committed file is the reference: tests compare the
 * codec against it in both directions, so a change of layout shows up as a failing vector.
 * Run: npx tsx test/tools/gen-vectors.ts (only when the frame format version changes).
 */
import { writeFileSync } from "node:fs";
import { type BadgeFrame, encodeFrame, frameMac, fromHex, toHex } from "../../protocol/index.js";

const key = "000102030405060708090a0b0c0d0e0f";
const t = 1_764_072_000; // 2025-11-25T12:00:00Z
const frames: Array<{ name: string; fields: BadgeFrame }> = [
  {
    name: "presence, battery 87%",
    fields: { type: "presence", badge: 0x0000_1234, counter: 1, time: t, battery: 87 },
  },
  {
    name: "presence, battery unknown",
    fields: { type: "presence", badge: 0x0000_1234, counter: 2, time: t + 1, battery: null },
  },
  { name: "arrival", fields: { type: "arrival", badge: 0x0000_1234, counter: 3, time: t + 60, battery: 86 } },
  {
    name: "departure",
    fields: { type: "departure", badge: 0x0000_1234, counter: 4, time: t + 7200, battery: 80 },
  },
  { name: "sos", fields: { type: "sos", badge: 0x0000_1234, counter: 5, time: t + 3600, battery: 85 } },
  {
    name: "work started",
    fields: { type: "work_started", badge: 0x0000_1234, counter: 6, time: t + 900, battery: 85 },
  },
  {
    name: "max counter and badge",
    fields: { type: "presence", badge: 0xffff_ffff, counter: 0xffff_ffff, time: t, battery: 100 },
  },
  {
    name: "gear: helmet, shoes, glasses",
    fields: {
      type: "gear_confirmed",
      badge: 0x0000_1234,
      counter: 7,
      time: t + 600,
      items: ["helmet", "safety_shoes", "safety_glasses"],
    },
  },
  {
    name: "gear: harness and rope",
    fields: {
      type: "gear_confirmed",
      badge: 0x0000_1234,
      counter: 8,
      time: t + 610,
      items: ["harness", "safety_rope"],
    },
  },
  {
    name: "late notice, traffic",
    fields: {
      type: "late_notice",
      badge: 0x0000_1234,
      counter: 9,
      time: t - 1800,
      eta: t + 1200,
      reason: "traffic",
    },
  },
  {
    name: "kit checked complete",
    fields: { type: "kit_checked", badge: 0x0000_1234, counter: 10, time: t - 3600, complete: true },
  },
  {
    name: "kit checked incomplete",
    fields: { type: "kit_checked", badge: 0x0000_1234, counter: 11, time: t - 3500, complete: false },
  },
  {
    name: "badge status after a backlog",
    fields: { type: "badge_status", badge: 0x0000_1234, counter: 12, time: t + 7300, queued: 0, dropped: 3 },
  },
];
const keyBytes = fromHex(key);
const vectors = frames.map((f) => ({
  name: f.name,
  fields: f.fields,
  hex: toHex(encodeFrame(f.fields, keyBytes)),
}));
writeFileSync(
  new URL("../../protocol/vectors/frames.json", import.meta.url),
  `${JSON.stringify({ key, vectors }, null, 2)}\n`,
);

// Negative vectors: each must be refused with `code`. Crafted frames that need a valid MAC over
// malformed content (to reach the checks after the MAC) are signed here with the test key.
const hexOf = (name: string): string => {
  const v = vectors.find((x) => x.name === name);
  if (!v) throw new Error(name);
  return v.hex;
};
const signRaw = (bodyHex: string, macLength: number): string => {
  const body = fromHex(bodyHex);
  return bodyHex + toHex(frameMac(keyBytes, body, macLength));
};
const presence = hexOf("presence, battery 87%");
const gear = hexOf("gear: helmet, shoes, glasses");
const flipLast = (h: string) =>
  h.slice(0, -2) + (Number.parseInt(h.slice(-2), 16) ^ 0x01).toString(16).padStart(2, "0");
const negative = [
  { name: "empty", hex: "", code: "truncated" },
  { name: "truncated header", hex: presence.slice(0, 8), code: "truncated" },
  { name: "truncated MAC", hex: presence.slice(0, -6), code: "truncated" },
  { name: "truncated long payload", hex: gear.slice(0, 32), code: "truncated" },
  { name: "wrong version", hex: `02${presence.slice(2)}`, code: "bad_version" },
  { name: "version zero", hex: `00${presence.slice(2)}`, code: "bad_version" },
  { name: "unknown type", hex: `017f${presence.slice(4)}`, code: "unknown_type" },
  { name: "trailing bytes", hex: `${presence}00`, code: "trailing_bytes" },
  { name: "bad MAC (last bit flipped)", hex: flipLast(presence), code: "bad_mac" },
  {
    name: "altered battery by a relay",
    hex: `${presence.slice(0, 28)}64${presence.slice(30)}`,
    code: "bad_mac",
  },
  {
    name: "altered counter by a relay",
    hex: `${presence.slice(0, 12)}00000063${presence.slice(20)}`,
    code: "bad_mac",
  },
  { name: "type changed presence to sos", hex: `0104${presence.slice(4)}`, code: "bad_mac" },
  { name: "long frame MAC flipped", hex: flipLast(gear), code: "bad_mac" },
  { name: "unknown badge", hex: `0101deadbeef${presence.slice(12)}`, code: "unknown_device" },
  {
    name: "gear payload of wrong length (signed)",
    hex: signRaw("0110000012340000000c69259a4003000700", 16),
    code: "bad_length",
  },
  {
    name: "gear with an unknown PPE bit (signed)",
    hex: signRaw("0110000012340000000d69259a40028000", 16),
    code: "bad_field",
  },
  { name: "battery 200% (signed)", hex: signRaw("0101000012340000000e69259a40c8", 8), code: "bad_field" },
  { name: "replayed counter (window moved on)", hex: presence, code: "replayed", accepted: [100] },
  { name: "duplicate counter (already accepted)", hex: presence, code: "duplicate", accepted: [1, 2] },
];
writeFileSync(
  new URL("../../protocol/vectors/negative.json", import.meta.url),
  `${JSON.stringify({ key, knownBadges: [0x1234, 0xffff_ffff], vectors: negative }, null, 2)}\n`,
);
