/**
 * Applies committed events to visit projections, through the store port. Knows no transport:
 * the hub turns the returned updates into MQTT status, device commands and the live stream.
 */
import type { DeviceEvent } from "../../../protocol/index.js";
import type { Engineer, Site, VisitPlan } from "../model.js";
import type { Clock, DeviceRecord, Store } from "../ports.js";
import { diffViews, type VisitChange } from "../visit/changes.js";
import { emptyView, projectVisit } from "../visit/project.js";
import type { VisitContext, VisitView } from "../visit/types.js";
import { type Candidate, MATCH_SLACK_MS, pickVisit } from "./resolve.js";

export interface VisitUpdate {
  plan: VisitPlan;
  site: Site;
  engineer: Engineer;
  view: VisitView;
  changes: VisitChange[];
}

export interface VisitServiceDeps {
  store: Store;
  clock: Clock;
  lateDataThresholdMs?: number;
}

const DAY = 86_400_000;

export class VisitService {
  constructor(private readonly deps: VisitServiceDeps) {}

  async context(plan: VisitPlan): Promise<VisitContext | undefined> {
    const [site, engineer] = await Promise.all([
      this.deps.store.getSite(plan.siteId),
      this.deps.store.getEngineer(plan.engineerId),
    ]);
    if (!site || !engineer) return undefined;
    const ctx: VisitContext = { plan, site, engineer };
    if (this.deps.lateDataThresholdMs !== undefined) ctx.lateDataThresholdMs = this.deps.lateDataThresholdMs;
    return ctx;
  }

  /** The visit an event belongs to, or null when none matches (the event is kept, unattributed). */
  async resolve(event: DeviceEvent, device: DeviceRecord, t: number): Promise<string | null> {
    const { store } = this.deps;
    let engineerId: string | null = device.kind === "badge" ? device.engineerId : null;
    if (device.kind === "kiosk") {
      if (event.type === "checkin_request")
        engineerId = (await store.findBadge({ rfidTag: event.tag }))?.engineerId ?? null;
      if (event.type === "checkin_confirmed") engineerId = event.engineer;
    }
    if (event.visit !== undefined) {
      const plan = await store.getVisit(event.visit);
      return plan ? plan.id : null;
    }
    const query = { from: t - MATCH_SLACK_MS, to: t + MATCH_SLACK_MS };
    const plans = await store.listVisits({
      ...query,
      ...(engineerId !== null ? { engineerId } : {}),
      ...(device.kind === "kiosk" && device.siteId !== null ? { siteId: device.siteId } : {}),
    });
    if (engineerId === null && device.kind !== "kiosk") return null;
    const candidates: Candidate[] = await Promise.all(
      plans.map(async (plan) => ({ plan, view: await store.getView(plan.id) })),
    );
    return pickVisit(event, t, candidates)?.id ?? null;
  }

  /** Re-projects the given visits from their stored events; persists views; returns what changed. */
  async refresh(visitIds: Iterable<string>): Promise<VisitUpdate[]> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const updates: VisitUpdate[] = [];
    for (const id of new Set(visitIds)) {
      const plan = await store.getVisit(id);
      const ctx = plan && (await this.context(plan));
      if (!plan || !ctx) continue;
      const before = (await store.getView(id)) ?? emptyView(ctx);
      const view = projectVisit(ctx, await store.eventsOfVisit(id), now);
      updates.push({ plan, site: ctx.site, engineer: ctx.engineer, view, changes: diffViews(before, view) });
    }
    if (updates.length > 0) await store.putViews(updates.map((u) => ({ view: u.view, projectedAt: now })));
    return updates;
  }

  /** Time-driven rules (no-show, not-on-site warning): re-judges open visits around now. */
  async tick(): Promise<VisitUpdate[]> {
    const now = this.deps.clock.now();
    const plans = await this.deps.store.listVisits({ from: now - DAY, to: now + DAY });
    const open: string[] = [];
    for (const p of plans) {
      const view = await this.deps.store.getView(p.id);
      if (!view?.departure) open.push(p.id);
    }
    return (await this.refresh(open)).filter((u) => u.changes.length > 0);
  }

  /** After a crash between commit and projection: bring every stale view up to date. */
  async rebuildStale(): Promise<VisitUpdate[]> {
    return this.refresh(await this.deps.store.staleVisitIds());
  }
}
