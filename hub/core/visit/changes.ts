import type { SignalPattern } from "../../../protocol/index.js";
import type { SosAlarm, Violation, VisitState, VisitSummary, Warning } from "./types.js";

/** What became true between two projections of a visit: what the hub announces and acts on. */
export type VisitChange =
  | { kind: "state"; from: VisitState; to: VisitState }
  | { kind: "violation"; violation: Violation }
  | { kind: "alarm"; alarm: SosAlarm }
  | { kind: "follow_up"; dueDate: string }
  | { kind: "warning"; warning: Warning }
  /** A late notice reached the hub before the window closed, or its ETA moved. */
  | { kind: "late_notice"; eta: number; reason: string }
  /** The engineer set off for the site, or gave a new ETA on the way. */
  | { kind: "en_route"; at: number; eta: number | null };

const violationKey = (v: Violation) => `${v.kind}@${v.at}`;
const alarmKey = (a: SosAlarm) => `${a.at}:${a.evidence.map((e) => `${e.device}#${e.counter}`).join(",")}`;

export function diffViews(before: VisitSummary, after: VisitSummary): VisitChange[] {
  const changes: VisitChange[] = [];
  if (before.state !== after.state) changes.push({ kind: "state", from: before.state, to: after.state });
  const known = new Set(before.violations.map(violationKey));
  for (const v of after.violations)
    if (!known.has(violationKey(v))) changes.push({ kind: "violation", violation: v });
  const alarms = new Set(before.alarms.map(alarmKey));
  for (const a of after.alarms) if (!alarms.has(alarmKey(a))) changes.push({ kind: "alarm", alarm: a });
  if (after.followUp && before.followUp?.dueDate !== after.followUp.dueDate) {
    changes.push({ kind: "follow_up", dueDate: after.followUp.dueDate });
  }
  const warned = new Set(before.warnings.map((w) => `${w.kind}@${w.at}`));
  for (const w of after.warnings)
    if (!warned.has(`${w.kind}@${w.at}`)) changes.push({ kind: "warning", warning: w });
  const notice = after.advanceNotice;
  if (notice && notice.eta !== before.advanceNotice?.eta)
    changes.push({ kind: "late_notice", eta: notice.eta, reason: notice.reason });
  const road = after.enRoute;
  if (road && (road.at !== before.enRoute?.at || road.eta !== before.enRoute?.eta))
    changes.push({ kind: "en_route", at: road.at, eta: road.eta });
  return changes;
}

/** Feedback the rules call for on the engineer's badge (RULES.md steps 9 and 12). */
export function badgeSignalsFor(changes: readonly VisitChange[]): SignalPattern[] {
  const out: SignalPattern[] = [];
  for (const c of changes) {
    if (c.kind === "alarm") out.push("sos_ack");
    if (c.kind === "violation" && c.violation.kind === "departed_without_cleanup")
      out.push("cleanup_missing");
    if (c.kind === "violation" && c.violation.kind === "work_without_gear") out.push("error");
  }
  return out;
}
