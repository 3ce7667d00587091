/**
 * Attribution as a function of facts: given every visit plan and every accepted event, which visit
 * each event belongs to. One sweep in rule order (effective time, then step order), each event routed
 * by `routeEvent` against the visits' states as of that event. This is the definition; the visit
 * service computes the same answer incrementally, and the property tests hold it to this one.
 */
import type { VisitPlan } from "../model.js";
import { compareForRules, dedupe, refKey } from "../visit/order.js";
import { VisitFold } from "../visit/project.js";
import type { VisitContext } from "../visit/types.js";
import { type Routable, routeEvent } from "./resolve.js";

export function attribute(
  plans: readonly VisitPlan[],
  records: readonly Routable[],
  contextOf: (plan: VisitPlan) => VisitContext | undefined,
): Map<string, string | null> {
  const byId = new Map(plans.map((p) => [p.id, p]));
  const folds = new Map<string, VisitFold>();
  const out = new Map<string, string | null>();
  for (const r of dedupe(records).sort(compareForRules)) {
    if (r.event.type === "heartbeat") {
      out.set(refKey(r), null);
      continue;
    }
    const target = routeEvent(r, byId, (id) => folds.get(id)?.state);
    out.set(refKey(r), target);
    if (target === null) continue;
    let fold = folds.get(target);
    if (!fold) {
      const plan = byId.get(target);
      const ctx = plan && contextOf(plan);
      if (!ctx) continue;
      fold = new VisitFold(ctx);
      folds.set(target, fold);
    }
    fold.apply(r);
  }
  return out;
}
