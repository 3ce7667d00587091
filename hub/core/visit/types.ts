import type { CleanupItem, DeviceEvent, EventType, PpeItem } from "../../../protocol/index.js";
import type { Engineer, Site, VisitPlan } from "../model.js";
import type { CertificateProblem } from "../qualification.js";
import type { ArrivalVerdict } from "../time.js";

/** Who stands behind an event: the engineer's badge, the site's kiosk (the customer), or an operator. */
export type EventSource =
  | { kind: "badge"; engineerId: string }
  | { kind: "kiosk"; siteId: string }
  | { kind: "operator"; user: string };

/** An accepted event as the store keeps it: the parsed event plus what the hub knew on receipt. */
export interface RecordedEvent {
  event: DeviceEvent;
  source: EventSource;
  /** When the hub received it (hub clock, epoch ms). */
  hubTime: number;
  /** hub clock − device clock, as known when the event arrived. */
  clockOffsetMs: number;
}

export interface EventRef {
  device: string;
  counter: number;
}

export const VIOLATION_KINDS = [
  "late_arrival",
  "late_without_notice",
  "no_show",
  "unqualified_checkin",
  "work_without_gear",
  "departed_without_cleanup",
  "departed_without_completion",
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export type Violation =
  | { kind: "late_arrival"; at: number; minutesLate: number; evidence: EventRef[] }
  | { kind: "late_without_notice"; at: number; minutesLate: number; evidence: EventRef[] }
  | { kind: "no_show"; at: number; evidence: EventRef[] }
  | {
      kind: "unqualified_checkin";
      at: number;
      problems: CertificateProblem[];
      refused: boolean;
      evidence: EventRef[];
    }
  | { kind: "work_without_gear"; at: number; missing: PpeItem[]; evidence: EventRef[] }
  | { kind: "departed_without_cleanup"; at: number; missing: CleanupItem[]; evidence: EventRef[] }
  | { kind: "departed_without_completion"; at: number; evidence: EventRef[] };

export interface SosAlarm {
  kind: "sos";
  at: number;
  sosKind: "injury" | "hazard" | "other";
  evidence: EventRef[];
}

export type Warning = { kind: "not_on_site"; at: number; windowEndsAt: number };

export type EntryStatus = "applied" | "redundant" | "rejected" | "ignored";

export interface TimelineEntry {
  ref: EventRef;
  type: EventType;
  source: EventSource;
  deviceTime: number;
  hubTime: number;
  /** Device time corrected by the device's clock offset: the time the rules use. */
  effectiveTime: number;
  status: EntryStatus;
  reason?: string;
  /** Received after newer events of this visit, or long after it happened (a backlog). */
  lateData: boolean;
}

export type VisitState =
  | "cancelled"
  | "scheduled"
  | "no_show"
  | "arrived"
  | "refused"
  | "checked_in"
  | "working"
  | "completed"
  | "departed";

export interface ServiceReport {
  cause: string;
  parts: Array<{ name: string; partNo?: string; quantity: number }>;
  workDone: string;
  advice: string;
  at: number;
}

/** A visit's projection without its timeline: what lists, status and the store keep. */
export interface VisitSummary {
  visitId: string;
  siteId: string;
  engineerId: string;
  window: { from: number; to: number };
  state: VisitState;
  arrival: { at: number; source: string; verdict: ArrivalVerdict; evidence: EventRef } | null;
  /** The first late notice that reached the hub before the window closed. */
  advanceNotice: { receivedAt: number; eta: number; reason: string; evidence: EventRef } | null;
  kitChecked: { at: number; complete: boolean; missing: string[] } | null;
  /** When the engineer last tapped the badge at the kiosk (the kiosk then asks the customer). */
  checkinRequestedAt: number | null;
  checkin: { at: number; consent: boolean; refusedReason?: "customer" | "unqualified" } | null;
  gear: { required: PpeItem[]; confirmed: PpeItem[]; missing: PpeItem[]; completeAt: number | null };
  workStartedAt: number | null;
  report: ServiceReport | null;
  completion: { at: number; resolved: boolean; rating: number; comment?: string } | null;
  cleanup: {
    required: CleanupItem[];
    signed: CleanupItem[];
    missing: CleanupItem[];
    completeAt: number | null;
  };
  departure: { at: number; source: string } | null;
  /** Completion confirmed by the customer and clean-up signed off (the clean-up gate). */
  complete: boolean;
  violations: Violation[];
  alarms: SosAlarm[];
  warnings: Warning[];
  followUp: { dueDate: string; reason: "unresolved" } | null;
  /** Cancelled by the dispatcher (no deadline runs; state `cancelled` unless the engineer had arrived). */
  cancelled: { at: number; reason: string | null } | null;
}

/** The whole projection of a visit: the summary and every event with the rules' verdict on it. */
export interface VisitView extends VisitSummary {
  timeline: TimelineEntry[];
}

export interface VisitContext {
  plan: VisitPlan;
  site: Site;
  engineer: Engineer;
  /** An event received this long after it happened is marked as late data. Default 60 s. */
  lateDataThresholdMs?: number;
}
