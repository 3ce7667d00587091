/**
 * A site hub takes its site's picture from the central hub (gateway mode, `onsite/v1/gw/<id>/sync`):
 * the site and engineers replaced where they differ (each kept as a version by "central"), visits
 * booked that it does not have, and its visits changed where the central tier changed them
 * (rescheduled, reassigned, cancelled, restored — each in the visit's audit trail by "central").
 * Nothing is deleted: a visit booked on the site hub alone stays. Then the rules see the new plans.
 */
import type { GatewaySync } from "../../protocol/index.js";
import type { VisitPlan } from "../core/model.js";
import type { Clock, Store, VisitChangeKind } from "../core/ports.js";

export interface SyncTargets {
  store: Store;
  clock: Clock;
  /** The visit service and the announcer learn of new plans, and of a changed site or engineer. */
  plansChanged(plans: VisitPlan[]): void;
  contextChanged(): void;
}

export interface SyncResult {
  site: boolean;
  engineers: number;
  booked: number;
  changed: number;
}

/** JSON with object keys in order, undefined left out: equal documents compare equal. */
function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(",")}]`;
  if (x !== null && typeof x === "object")
    return `{${Object.entries(x)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(",")}}`;
  return JSON.stringify(x) ?? "null";
}
const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/** What kind of change turns `before` into `after`, as the audit trail names it. */
function kindOf(before: VisitPlan, after: VisitPlan): VisitChangeKind {
  if (after.cancelledAt !== undefined && before.cancelledAt === undefined) return "cancelled";
  if (after.cancelledAt === undefined && before.cancelledAt !== undefined) return "restored";
  if (after.engineerId !== before.engineerId) return "reassigned";
  if (after.cancelledAt !== undefined) return "cancelled"; // the reason of a cancelled visit changed
  return "rescheduled";
}

const plan = (v: GatewaySync["visits"][number]): VisitPlan => ({
  id: v.id,
  siteId: v.siteId,
  engineerId: v.engineerId,
  window: v.window,
  ...(v.createdAt === undefined ? {} : { createdAt: v.createdAt }),
  ...(v.cancelledAt === undefined ? {} : { cancelledAt: v.cancelledAt }),
  ...(v.cancelReason === undefined ? {} : { cancelReason: v.cancelReason }),
});

export async function applySync(t: SyncTargets, sync: GatewaySync, siteId: string): Promise<SyncResult> {
  if (sync.site.id !== siteId)
    throw new Error(`the central hub sent site ${sync.site.id}, this hub is ${siteId}`);
  const { store } = t;
  const change = { at: t.clock.now(), by: "central" };
  const result: SyncResult = { site: false, engineers: 0, booked: 0, changed: 0 };
  if (!same(await store.getSite(siteId), sync.site)) {
    await store.putSite(sync.site, change);
    result.site = true;
  }
  for (const e of sync.engineers) {
    if (same(await store.getEngineer(e.id), e)) continue;
    await store.putEngineer(e, change);
    result.engineers++;
  }
  const touched: VisitPlan[] = [];
  const fresh: VisitPlan[] = [];
  for (const v of sync.visits) {
    if (v.siteId !== siteId) continue;
    const after = plan(v);
    const before = await store.getVisit(v.id);
    if (!before) fresh.push(after);
    // When it was booked is each hub's own fact; the rest is the central tier's.
    else if (!same({ ...before, createdAt: undefined }, { ...after, createdAt: undefined })) {
      const kept: VisitPlan = {
        ...after,
        ...(before.createdAt === undefined ? {} : { createdAt: before.createdAt }),
      };
      await store.updateVisit(kept, { ...change, kind: kindOf(before, after) });
      // Both windows and both engineers are swept again, as for a change made through the API.
      touched.push(before, kept);
      result.changed++;
    }
  }
  if (fresh.length > 0) {
    const inserted = await store.insertVisits(fresh, change);
    fresh.forEach((p, i) => {
      if (inserted[i]) touched.push(p);
    });
    result.booked = inserted.filter(Boolean).length;
  }
  if (result.site || result.engineers > 0) t.contextChanged();
  if (touched.length > 0) t.plansChanged(touched);
  return result;
}
