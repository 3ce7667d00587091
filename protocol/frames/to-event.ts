import type { DeviceEvent } from "../events.js";
import { PROTOCOL_VERSION } from "../version.js";
import type { BadgeFrame } from "./frame.js";

/**
 * The catalogue event a verified frame stands for, under the badge's device id.
 * `presence` frames are not events of their own: presence tracking turns them into arrival and
 * departure. They map to a heartbeat so the hub still learns the badge's clock and battery.
 */
export function frameToEvent(frame: BadgeFrame, device: string): DeviceEvent {
  const base = { v: PROTOCOL_VERSION, device, counter: frame.counter, time: frame.time * 1000 } as const;
  switch (frame.type) {
    case "presence":
      return { ...base, type: "heartbeat", ...(frame.battery === null ? {} : { battery: frame.battery }) };
    case "arrival":
      return { ...base, type: "arrival", source: "ble" };
    case "departure":
      return { ...base, type: "departure", source: "ble" };
    case "sos":
      return { ...base, type: "sos", kind: "other" };
    case "work_started":
      return { ...base, type: "work_started" };
    case "gear_confirmed":
      return { ...base, type: "gear_confirmed", items: frame.items };
    case "late_notice":
      return { ...base, type: "late_notice", eta: frame.eta * 1000, reason: frame.reason };
    case "kit_checked":
      return { ...base, type: "kit_checked", complete: frame.complete };
    case "badge_status":
      return { ...base, type: "heartbeat", queued: frame.queued, dropped: frame.dropped };
  }
}
