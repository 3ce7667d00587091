/**
 * The badge's BLE surface, shared by the badge firmware and the hub's central (docs/ble.md).
 *
 * Advertising: manufacturer-specific data under COMPANY_ID carries one short frame (23 bytes).
 * GATT: one primary service with four characteristics.
 *   event  (notify, read)  uplink frames, one per notification, oldest first
 *   ack    (write)         signed downlink `ack` for a frame counter
 *   time   (write)         signed downlink `time`
 *   signal (write)         signed downlink `signal` (buzzer and LED)
 */
export const BADGE_SERVICE_UUID = "6f6e7369-7465-4261-6467-650000000000";
export const EVENT_CHAR_UUID = "6f6e7369-7465-4261-6467-650000000001";
export const ACK_CHAR_UUID = "6f6e7369-7465-4261-6467-650000000002";
export const TIME_CHAR_UUID = "6f6e7369-7465-4261-6467-650000000003";
export const SIGNAL_CHAR_UUID = "6f6e7369-7465-4261-6467-650000000004";

/** The local name badges advertise (informational: badges are recognised by their signed frame). */
export const BADGE_LOCAL_NAME = "onsite-badge";
