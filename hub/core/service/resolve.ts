/**
 * Which visit an event belongs to. Pure: decided from the visit plans of the engineer (or site) the
 * event is about, the event's effective time, and the state of those visits *as of that time* —
 * never from the order in which events happened to be delivered.
 */
import type { DeviceEvent } from "../../../protocol/index.js";
import type { VisitPlan } from "../model.js";
import { effectiveTime } from "../visit/order.js";
import type { RecordedEvent, VisitSummary } from "../visit/types.js";

/** What routing needs to know of a visit at the time of an event. */
export type RouteState = Pick<VisitSummary, "arrival" | "departure">;

export interface Candidate {
  plan: VisitPlan;
  view: RouteState | undefined;
}

const HOUR = 3_600_000;
/** How far outside its window an event may fall and still be matched to a visit. */
export const MATCH_SLACK_MS = 12 * HOUR;

const onSite = (c: Candidate) => c.view?.arrival != null && c.view.departure == null;
const ended = (c: Candidate) => c.view?.departure != null;

export function distance(t: number, plan: VisitPlan): number {
  const { from, to } = plan.window;
  return t < from ? from - t : t > to ? t - to : 0;
}

/** A visit booked after the event happened ranks behind every visit that already existed then. */
const bookedLater = (c: Candidate, t: number) => ((c.plan.createdAt ?? 0) > t ? 1 : 0);

/**
 * Picks the visit for `event` (effective time `t`) among one engineer's or one site's candidates:
 * the visit the engineer is on site for (the latest arrival), else the nearest open window; a late
 * notice goes to the next visit not yet arrived at. Among windows, visits that were already booked
 * when the event happened come first.
 */
export function pickVisit(
  event: DeviceEvent,
  t: number,
  candidates: readonly Candidate[],
): VisitPlan | undefined {
  if (event.visit !== undefined) return candidates.find((c) => c.plan.id === event.visit)?.plan;
  const byId = (a: Candidate, b: Candidate) => (a.plan.id < b.plan.id ? -1 : a.plan.id > b.plan.id ? 1 : 0);
  const present = candidates
    .filter(onSite)
    .sort((a, b) => (b.view?.arrival?.at ?? 0) - (a.view?.arrival?.at ?? 0) || byId(a, b));
  if (present.length > 0 && event.type !== "late_notice") return present[0]?.plan;
  const open = candidates
    .filter((c) => !ended(c) && distance(t, c.plan) <= MATCH_SLACK_MS)
    .sort(
      (a, b) =>
        bookedLater(a, t) - bookedLater(b, t) ||
        distance(t, a.plan) - distance(t, b.plan) ||
        a.plan.window.from - b.plan.window.from ||
        byId(a, b),
    );
  if (event.type === "late_notice") {
    const upcoming = open.filter((c) => c.view?.arrival == null && c.plan.window.to >= t);
    upcoming.sort(
      (a, b) =>
        bookedLater(a, t) - bookedLater(b, t) || a.plan.window.from - b.plan.window.from || byId(a, b),
    );
    return (upcoming[0] ?? open[0])?.plan;
  }
  return open[0]?.plan;
}

/** An accepted event with what attribution needs: the engineer it is about, if any. */
export interface Routable extends RecordedEvent {
  /**
   * The engineer the event is about: a badge's owner, the engineer whose tag was tapped or whom the
   * customer confirmed, the engineer of the visit the event names. Null: only the kiosk's site is known.
   */
  subject: string | null;
}

/**
 * The plans an event may belong to, among `plans` (the subject's, or the site's): windows within
 * MATCH_SLACK_MS of its effective time, not cancelled by then; a kiosk's events only at the kiosk's
 * own site.
 */
export function candidatePlans(r: Routable, plans: Iterable<VisitPlan>): VisitPlan[] {
  const t = effectiveTime(r);
  const out: VisitPlan[] = [];
  for (const p of plans) {
    if (r.subject !== null && p.engineerId !== r.subject) continue;
    if (r.source.kind === "kiosk" && p.siteId !== r.source.siteId) continue;
    // A cancelled visit takes nothing that happened after it was cancelled.
    if (p.cancelledAt !== undefined && t >= p.cancelledAt) continue;
    if (distance(t, p) <= MATCH_SLACK_MS) out.push(p);
  }
  return out;
}

/** Steps that decide where an engineer is: never given to a visit on the kiosk's word alone. */
const PRESENCE_STEPS: ReadonlySet<string> = new Set(["arrival", "departure", "checkin_request"]);

/**
 * Whether an event is routed by its kiosk's site alone (no engineer, no visit named). Such events
 * never move an arrival or a departure, so they never change how other events are routed.
 */
export function routedBySite(r: Routable): boolean {
  return r.subject === null && r.event.visit === undefined && r.source.kind === "kiosk";
}

/**
 * Routes one event: the visit it names, if that visit exists; else `pickVisit` over its candidate
 * plans with each one's state as of the event (`stateOf`). An event about nobody (a tag no badge
 * has, a badge with no engineer) is routed only by its kiosk's site, and only if it is not an
 * arrival, departure or tap: a stranger's tap does not check anyone in.
 */
export function routeEvent(
  r: Routable,
  plans: ReadonlyMap<string, VisitPlan>,
  stateOf: (visitId: string) => RouteState | undefined,
): string | null {
  if (r.event.visit !== undefined) return plans.has(r.event.visit) ? r.event.visit : null;
  if (r.subject === null && (r.source.kind !== "kiosk" || PRESENCE_STEPS.has(r.event.type))) return null;
  const candidates = candidatePlans(r, plans.values()).map((plan) => ({ plan, view: stateOf(plan.id) }));
  return pickVisit(r.event, effectiveTime(r), candidates)?.id ?? null;
}
