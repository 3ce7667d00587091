import { Type } from "@sinclair/typebox";

/** Device ids are topic segments: lowercase, no MQTT wildcards or separators. */
export const DeviceId = Type.String({ pattern: "^[a-z0-9][a-z0-9_-]{0,63}$", description: "device id" });
/** Ids of sites, visits, engineers: same alphabet, also used in topics. */
export const EntityId = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$" });
/** Unix epoch milliseconds, 2000-01-01 .. 2100-01-01. */
export const EpochMs = Type.Integer({ minimum: 946_684_800_000, maximum: 4_102_444_800_000 });
/** Per-device monotonic counter (fits the 32-bit counter of a BLE frame). */
export const Counter = Type.Integer({ minimum: 0, maximum: 0xffff_ffff });
export const ShortText = Type.String({ minLength: 1, maxLength: 200 });
export const LongText = Type.String({ maxLength: 2000 });
