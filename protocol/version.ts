/** Version of the JSON messages (`v` field) and of the MQTT topic family. */
export const PROTOCOL_VERSION = 1 as const;
/** Version byte that starts every BLE frame. */
export const FRAME_VERSION = 0x01 as const;
export const TOPIC_PREFIX = `onsite/v${PROTOCOL_VERSION}` as const;
