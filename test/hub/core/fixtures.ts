/** A small visit world for the rule tests: one site, one engineer, one kiosk, one badge. */

import {
  defaultSite,
  type Engineer,
  type EventSource,
  type RecordedEvent,
  resolveWindow,
  type Site,
  type VisitContext,
} from "../../../hub/core/index.js";
import type { DeviceEvent } from "../../../protocol/index.js";

export const site: Site = defaultSite({ id: "S1", name: "Shenyang plant", timeZone: "Asia/Shanghai" });
export const engineer: Engineer = {
  id: "E1",
  name: "Zhang Wei",
  company: "Shengda",
  certificates: [{ kind: "safety_training", validUntil: "2027-12-31" }],
};
/** 09:00–11:00 Shanghai time on 2026-11-25 (01:00–03:00 UTC). */
export const window = resolveWindow("2026-11-25T09:00", "2026-11-25T11:00", site.timeZone);
export const ctx: VisitContext = {
  plan: { id: "V1", siteId: "S1", engineerId: "E1", window },
  site,
  engineer,
};

export const BADGE: EventSource = { kind: "badge", engineerId: "E1" };
export const KIOSK: EventSource = { kind: "kiosk", siteId: "S1" };
export const MIN = 60_000;

type Payload<T extends DeviceEvent["type"]> = Omit<
  Extract<DeviceEvent, { type: T }>,
  "v" | "type" | "device" | "counter" | "time"
>;

let counters = new Map<string, number>();
export function resetCounters(): void {
  counters = new Map();
}

/** An event at `at` (device time), received `delay` ms later, from the badge or the kiosk. */
export function ev<T extends DeviceEvent["type"]>(
  type: T,
  at: number,
  payload: Payload<T>,
  opts: { source?: EventSource; delay?: number; counter?: number; offset?: number } = {},
): RecordedEvent {
  const source =
    opts.source ??
    ([
      "checkin_request",
      "checkin_confirmed",
      "completion_confirmed",
      "cleanup_signed_off",
      "completion_submitted",
    ].includes(type)
      ? KIOSK
      : BADGE);
  const device = source.kind === "kiosk" ? "kiosk-1" : "badge-1";
  const counter = opts.counter ?? (counters.get(device) ?? 0) + 1;
  counters.set(device, Math.max(counter, counters.get(device) ?? 0));
  const event = { v: 1, type, device, counter, time: at, ...payload } as DeviceEvent;
  return {
    event,
    source,
    hubTime: at + (opts.delay ?? 500) + (opts.offset ?? 0),
    clockOffsetMs: opts.offset ?? 0,
  };
}

/** The whole clean visit of RULES.md, arriving at `arriveAt`. */
export function cleanVisit(arriveAt = window.from + 30 * MIN): RecordedEvent[] {
  resetCounters();
  const t = arriveAt;
  return [
    ev("kit_checked", t - 60 * MIN, { complete: true }),
    ev("arrival", t, { source: "ble" }),
    ev("checkin_request", t + 1 * MIN, { tag: "0A1B2C3D4E" }),
    ev("checkin_confirmed", t + 2 * MIN, { engineer: "E1", consent: true }),
    ev("gear_confirmed", t + 3 * MIN, { items: ["helmet", "safety_shoes"] }),
    ev("work_started", t + 5 * MIN, {}),
    ev("completion_submitted", t + 60 * MIN, {
      cause: "worn seal",
      parts: [{ name: "seal", quantity: 1 }],
      workDone: "replaced",
      advice: "annual check",
    }),
    ev("completion_confirmed", t + 62 * MIN, { resolved: true, rating: 5 }),
    ev("cleanup_signed_off", t + 64 * MIN, {
      items: ["work_area_clean", "items_restored", "borrowed_returned", "waste_removed", "own_items_removed"],
    }),
    ev("departure", t + 66 * MIN, { source: "ble" }),
  ];
}
