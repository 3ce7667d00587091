/**
 * Byte layout of badge frames. See docs/protocol.md for the tables.
 *
 * header (14 bytes, both kinds):  version u8 | type u8 | badge u32 | counter u32 | time u32 (epoch s)
 * short frame (advertisement):    header | battery u8 (0..100, 0xFF unknown) | mac[8]   = 23 bytes
 * long frame (GATT):              header | length u8 | payload[length] | mac[16]
 */
export const HEADER_LENGTH = 14;
export const SHORT_MAC_LENGTH = 8;
export const LONG_MAC_LENGTH = 16;
export const SHORT_FRAME_LENGTH = HEADER_LENGTH + 1 + SHORT_MAC_LENGTH;
export const BATTERY_UNKNOWN = 0xff;
/** Bluetooth SIG company id used in manufacturer data (0xFFFF: reserved for testing / internal use). */
export const COMPANY_ID = 0xffff;

export const SHORT_TYPES = {
  presence: 0x01,
  arrival: 0x02,
  departure: 0x03,
  sos: 0x04,
  work_started: 0x05,
} as const;

export const LONG_TYPES = {
  gear_confirmed: 0x10,
  late_notice: 0x11,
  kit_checked: 0x12,
  badge_status: 0x13,
} as const;

export type ShortFrameType = keyof typeof SHORT_TYPES;
export type LongFrameType = keyof typeof LONG_TYPES;
export type FrameType = ShortFrameType | LongFrameType;

export const TYPE_BY_CODE = new Map<number, FrameType>([
  ...Object.entries(SHORT_TYPES).map(([k, v]) => [v, k as FrameType] as const),
  ...Object.entries(LONG_TYPES).map(([k, v]) => [v, k as FrameType] as const),
]);

export function isShortType(t: FrameType): t is ShortFrameType {
  return Object.hasOwn(SHORT_TYPES, t);
}
