import type { EventSource } from "../../../protocol/api.js";
import type { DeviceEvent } from "../../../protocol/index.js";
import type { Engineer, Site, VisitPlan } from "../model.js";

export {
  type EntryStatus,
  type EventRef,
  type EventSource,
  type ServiceReport,
  type SosAlarm,
  type TimelineEntry,
  VIOLATION_KINDS,
  type Violation,
  type ViolationKind,
  type VisitState,
  type VisitSummary,
  type VisitView,
  type Warning,
} from "../../../protocol/api.js";

/** An accepted event as the store keeps it: the parsed event plus what the hub knew on receipt. */
export interface RecordedEvent {
  event: DeviceEvent;
  source: EventSource;
  /** When the hub received it (hub clock, epoch ms). */
  hubTime: number;
  /** hub clock − device clock, as known when the event arrived. */
  clockOffsetMs: number;
}

export interface VisitContext {
  plan: VisitPlan;
  site: Site;
  engineer: Engineer;
  /** An event received this long after it happened is marked as late data. Default 60 s. */
  lateDataThresholdMs?: number;
}
