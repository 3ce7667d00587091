import type { EventType } from "../../../protocol/index.js";
import type { RecordedEvent } from "./types.js";

/** Step order of RULES.md: breaks ties between events stamped in the same second. */
const STEP_RANK: Record<EventType, number> = {
  late_notice: 0,
  kit_checked: 1,
  en_route: 1,
  arrival: 2,
  checkin_request: 3,
  checkin_confirmed: 4,
  gear_confirmed: 5,
  work_started: 6,
  sos: 7,
  completion_submitted: 8,
  cleanup_signed_off: 9,
  completion_confirmed: 10,
  departure: 11,
  heartbeat: 12,
};

export const effectiveTime = (r: RecordedEvent): number => r.event.time + r.clockOffsetMs;
export const refKey = (r: RecordedEvent): string => `${r.event.device}#${r.event.counter}`;

/** One total order for the rules, whatever order events were delivered in. */
export function compareForRules(a: RecordedEvent, b: RecordedEvent): number {
  // One device's events stamped in the same second are in its own order: its clock offset, measured
  // from whole-second stamps, moves by a millisecond or so from event to event, and must not put
  // work before the gear it confirmed a moment earlier (seen in the demo).
  if (a.event.device === b.event.device && a.event.time === b.event.time)
    return STEP_RANK[a.event.type] - STEP_RANK[b.event.type] || a.event.counter - b.event.counter;
  return (
    effectiveTime(a) - effectiveTime(b) ||
    STEP_RANK[a.event.type] - STEP_RANK[b.event.type] ||
    (a.event.device < b.event.device ? -1 : a.event.device > b.event.device ? 1 : 0) ||
    a.event.counter - b.event.counter
  );
}

/** Keeps the first delivery of each (device, counter); later copies change nothing. */
export function dedupe<T extends RecordedEvent>(records: readonly T[]): T[] {
  const byKey = new Map<string, T>();
  for (const r of records) {
    const k = refKey(r);
    const prev = byKey.get(k);
    if (prev === undefined || r.hubTime < prev.hubTime) byKey.set(k, r);
  }
  return [...byKey.values()];
}

/**
 * Late data: received after an event of this visit that happened later had already arrived, or
 * received more than `thresholdMs` after it happened. Derived from hub times, so it does not depend
 * on the order in which a replay feeds the events.
 */
export function lateDataKeys(records: readonly RecordedEvent[], thresholdMs: number): Set<string> {
  const byArrival = [...records].sort((a, b) => a.hubTime - b.hubTime || compareForRules(a, b));
  const late = new Set<string>();
  let newestSeen = Number.NEGATIVE_INFINITY;
  for (const r of byArrival) {
    const t = effectiveTime(r);
    if (t < newestSeen || r.hubTime - t > thresholdMs) late.add(refKey(r));
    newestSeen = Math.max(newestSeen, t);
  }
  return late;
}
