/**
 * Which visit an incoming event belongs to. Pure: given the candidate visits (with their current
 * views) of the engineer or site the device stands for.
 */
import type { DeviceEvent } from "../../../protocol/index.js";
import type { VisitPlan } from "../model.js";
import type { VisitView } from "../visit/types.js";

export interface Candidate {
  plan: VisitPlan;
  view: VisitView | undefined;
}

const HOUR = 3_600_000;
/** How far outside its window an event may fall and still be matched to a visit. */
export const MATCH_SLACK_MS = 12 * HOUR;

const onSite = (c: Candidate) => c.view?.arrival != null && c.view.departure == null;
const ended = (c: Candidate) => c.view?.departure != null;

function distance(t: number, c: Candidate): number {
  const { from, to } = c.plan.window;
  return t < from ? from - t : t > to ? t - to : 0;
}

/** Picks the visit for `event` (effective time `t`) among one engineer's or one site's candidates. */
export function pickVisit(
  event: DeviceEvent,
  t: number,
  candidates: readonly Candidate[],
): VisitPlan | undefined {
  if (event.visit !== undefined) return candidates.find((c) => c.plan.id === event.visit)?.plan;
  const present = candidates
    .filter(onSite)
    .sort((a, b) => (b.view?.arrival?.at ?? 0) - (a.view?.arrival?.at ?? 0));
  if (present.length > 0 && event.type !== "late_notice") return present[0]?.plan;
  const open = candidates
    .filter((c) => !ended(c) && distance(t, c) <= MATCH_SLACK_MS)
    .sort((a, b) => distance(t, a) - distance(t, b) || a.plan.window.from - b.plan.window.from);
  if (event.type === "late_notice") {
    const upcoming = open.filter((c) => c.view?.arrival == null && c.plan.window.to >= t);
    return (upcoming.sort((a, b) => a.plan.window.from - b.plan.window.from)[0] ?? open[0])?.plan;
  }
  return open[0]?.plan;
}
