/**
 * Closed vocabularies shared by devices and hub. The order of each list is part of the wire
 * format: BLE frames carry these as bit positions, so append only, never reorder.
 */

/** Personal protective equipment (RULES.md step 7; seed 个人防护 3.1, 3.2). */
export const PPE_ITEMS = [
  "helmet",
  "safety_shoes",
  "safety_glasses",
  "ear_protection",
  "harness",
  "safety_rope",
  "gloves",
  "hi_vis",
  "dust_mask",
] as const;
export type PpeItem = (typeof PPE_ITEMS)[number];

/** The customer's clean-up checklist (RULES.md step 11; seed 环境保护 b, c, e; 售后服务 六, 七). */
export const CLEANUP_ITEMS = [
  "work_area_clean",
  "items_restored",
  "borrowed_returned",
  "waste_removed",
  "own_items_removed",
] as const;
export type CleanupItem = (typeof CLEANUP_ITEMS)[number];

/** Why an engineer will be late (a `late_notice`). */
export const LATE_REASONS = ["unspecified", "traffic", "previous_job", "parts", "vehicle", "other"] as const;
export type LateReason = (typeof LATE_REASONS)[number];

/** How presence was detected. */
export const PRESENCE_SOURCES = ["ble", "kiosk_tap", "manual"] as const;
export type PresenceSource = (typeof PRESENCE_SOURCES)[number];

/** Patterns a device plays on its LEDs and buzzer. */
export const SIGNAL_PATTERNS = ["confirm", "error", "sos_ack", "cleanup_missing", "alarm", "off"] as const;
export type SignalPattern = (typeof SIGNAL_PATTERNS)[number];
