/**
 * The visits' projections, kept up to date as events are committed. Knows no transport: it reads
 * and writes through the store port, and hands the hub `VisitUpdate`s to announce.
 *
 * - **Attribution is a function of facts.** An event belongs to the visit it names, or else to the
 *   visit `routeEvent` picks among its engineer's (or kiosk site's) plans with their state *as of the
 *   event's effective time*. An engineer's events that arrive in time order are routed on the spot;
 *   one that is older than what was already projected (a late backlog), or a new plan, makes the
 *   service sweep that engineer's events again from that time, which moves events between visits
 *   when the facts say so. The answer equals `attribute()` over all the facts, whatever the
 *   delivery order.
 * - **Bounded cost.** Each active visit lives in memory (`LiveVisit`): an in-order event costs one
 *   fold step, not a re-fold of the visit's history; views are stored without their timeline.
 *   Time-driven rules run only for the visits whose deadline falls due (`DeadlineQueue`).
 * - **One projection at a time.** Commits hand their events to `committed()`; a single pump
 *   projects them in commit order and stores views, attribution and the watermark in one
 *   transaction. After a crash, `start()` projects what was committed beyond the watermark.
 * - **In a cluster** (`feed: "log"`) every node's commits are read from the store's log in seq
 *   order (`follow()`), so each node's projection holds every node's events; only the node that
 *   `lead(true)` made the writer stores views and notifications, the others keep theirs in memory
 *   for reads and the live stream. A new writer starts as after a crash: from the stored watermark.
 */
import type { Engineer, Site, VisitPlan } from "../model.js";
import type { OutboxItem } from "../notify/plan.js";
import type { Attribution, Clock, ProjectionWrite, Store, StoredEvent } from "../ports.js";
import { diffViews, type VisitChange } from "../visit/changes.js";
import { compareForRules, effectiveTime, refKey } from "../visit/order.js";
import { emptySummary, judge, nextDeadline, projectVisit } from "../visit/project.js";
import type { VisitContext, VisitSummary, VisitView } from "../visit/types.js";
import { DeadlineQueue } from "./deadlines.js";
import { LiveVisit } from "./live-visit.js";
import { MATCH_SLACK_MS, routeEvent } from "./resolve.js";

export interface VisitUpdate {
  plan: VisitPlan;
  site: Site;
  engineer: Engineer;
  view: VisitSummary;
  changes: VisitChange[];
  /** How many of the visit's events came from the site's kiosk. */
  kioskActions: number;
}

export interface VisitServiceDeps {
  store: Store;
  clock: Clock;
  lateDataThresholdMs?: number;
  /** The most events one visit takes (beyond it, `admit` refuses). Default 10,000. */
  maxEventsPerVisit?: number;
  /** Events held in memory across visits; beyond it the least recently used visits are dropped. */
  maxLiveRecords?: number;
  /**
   * Back-pressure: with more visit events than `high` waiting to be projected, `room()` holds its
   * callers (ingest, before it commits) until the backlog is down to `low`.
   */
  backlog?: { high: number; low: number };
  /** Receives every batch of updates, in order (the hub puts them on its bus). */
  onUpdates?: (updates: VisitUpdate[]) => void;
  /** The notifications a batch of updates calls for: stored in the same transaction as the views. */
  notify?: (updates: VisitUpdate[]) => Promise<OutboxItem[]>;
  onError?: (e: unknown) => void;
  /**
   * Where committed events come from. `local` (one hub): those handed to `committed()`. `log` (a
   * cluster): the store's event log, read after the horizon by `follow()` (committed() asks for a
   * read), so events other nodes committed are projected too, in seq order.
   */
  feed?: "local" | "log";
  /** Whether this service stores what it projects (default true); see `lead()`. */
  writer?: boolean;
  /** A cluster: the leader's lock, checked by the store in each projection it saves. */
  fence?: () => ProjectionWrite["fence"];
}

type Job =
  | { kind: "events"; events: StoredEvent[] }
  | { kind: "plans"; plans: VisitPlan[] }
  | { kind: "due" }
  | { kind: "recover" }
  | { kind: "follow" };

const DAY = 86_400_000;
const RECOVER_CHUNK = 5000;
/**
 * Events projected in one step at most: a step runs without yielding (its reads are synchronous
 * underneath), so a bounded step keeps sockets served between steps. A backlog of more is several
 * steps, each written in one transaction.
 */
const MAX_STEP_EVENTS = 256;
/** The pump lets I/O in after this much work, between steps. */
const SLICE_MS = 4;
/** Default back-pressure marks: visit events (not heartbeats) waiting to be projected. */
const BACKLOG_HIGH = 2000;
const BACKLOG_LOW = 1000;

/** What one projection step changed, written together. */
class Step {
  readonly touched = new Map<string, LiveVisit>();
  readonly moves = new Map<string, Attribution>();
  /** Sites whose visits changed, from when: their kiosk-only events are routed again from then. */
  readonly sites = new Map<string, number>();

  siteFrom(siteId: string, t: number): void {
    this.sites.set(siteId, Math.min(this.sites.get(siteId) ?? t, t));
  }

  touch(live: LiveVisit): void {
    this.touched.set(live.plan.id, live);
  }
  /** `e` belongs to `visitId` (a copy read again from the store may not know this step's moves yet). */
  move(e: StoredEvent, visitId: string | null): void {
    const k = refKey(e);
    if (e.visitId === visitId && !this.moves.has(k)) return;
    e.visitId = visitId;
    this.moves.set(k, { device: e.event.device, counter: e.event.counter, visitId });
  }
}

export class VisitService {
  private readonly live = new Map<string, LiveVisit>();
  private readonly frontier = new Map<string, number>();
  private readonly lastVisitOf = new Map<string, string>();
  private readonly deadlines = new DeadlineQueue();
  private queue: Job[] = [];
  private pumping: Promise<void> | null = null;
  /** Visit events (heartbeats not counted) in the queue. */
  private waiting = 0;
  private readonly marks: { high: number; low: number };
  /** Callers of `room()` held until the backlog is down to the low mark. */
  private held: Array<() => void> = [];
  private stopped = false;
  /** Every event with seq ≤ horizon is projected. */
  private horizon = 0;
  private readonly maxPerVisit: number;
  private readonly maxLive: number;
  private finishes = 0;
  private writer: boolean;
  /** Callers of `lead(true)` waiting for its recovery step (a failed one is run again first). */
  private recovering: Array<() => void> = [];
  /** Whether the step being run writes: fixed when it starts, so a promotion mid-step does not half-write it. */
  private stepWrites = true;

  constructor(private readonly deps: VisitServiceDeps) {
    this.writer = deps.writer ?? true;
    this.maxPerVisit = deps.maxEventsPerVisit ?? 10_000;
    this.marks = deps.backlog ?? { high: BACKLOG_HIGH, low: BACKLOG_LOW };
    // About 1.2 KB a record: some 60 MB at most. The least recently touched visits go first, which
    // are the finished ones; a late event for one reads it back from the store.
    this.maxLive = deps.maxLiveRecords ?? 50_000;
  }

  async context(plan: VisitPlan): Promise<VisitContext | undefined> {
    // The site and the engineer as they were at the visit: a later change does not rewrite it.
    const [site, engineer] = await Promise.all([
      this.deps.store.getSite(plan.siteId, plan.window.from),
      this.deps.store.getEngineer(plan.engineerId, plan.window.from),
    ]);
    if (!site || !engineer) return undefined;
    const ctx: VisitContext = { plan, site, engineer };
    if (this.deps.lateDataThresholdMs !== undefined) ctx.lateDataThresholdMs = this.deps.lateDataThresholdMs;
    return ctx;
  }

  // ---- the write side ----

  /** Projects what was committed but not projected (after a crash), then judges every open visit. */
  async start(): Promise<void> {
    this.horizon = await this.deps.store.projectionWatermark();
    this.enqueue({ kind: "recover" });
    await this.idle();
  }

  /** Events just committed (with their seq), in commit order. */
  committed(events: StoredEvent[]): void {
    if (events.length === 0) return;
    if (this.deps.feed === "log") this.follow();
    else this.enqueue({ kind: "events", events });
  }

  /** `feed: "log"`: reads the events committed (by any node) after the horizon and projects them. */
  follow(): void {
    if (!this.queue.some((j) => j.kind === "follow")) this.enqueue({ kind: "follow" });
  }

  /** Whether this service is the one that stores views and notifications. */
  get writing(): boolean {
    return this.writer;
  }

  /**
   * A cluster's leadership changed. Becoming the writer drops memory and projects again from the
   * stored watermark, as after a crash: what the previous writer stored is the base, and what it
   * had not stored yet (views, notifications) is stored now, once. Ceasing to be it only stops the
   * writes; the projection in memory goes on.
   */
  lead(writer: boolean): Promise<void> {
    if (writer === this.writer) return Promise.resolve();
    this.writer = writer;
    if (!writer) return Promise.resolve();
    this.live.clear();
    this.frontier.clear();
    this.lastVisitOf.clear();
    this.queue = this.queue.filter((j) => j.kind !== "events" && j.kind !== "follow" && j.kind !== "recover");
    this.waiting = 0;
    this.release();
    // Resolves once the recovery step has run (not when the queue is empty: under load it never is).
    const recovered = new Promise<void>((done) => this.recovering.push(done));
    this.queue.unshift({ kind: "recover" });
    this.pump();
    return recovered;
  }

  /** Plans created, rescheduled or changed: their engineers' events are attributed again around them. */
  plansChanged(plans: VisitPlan[]): void {
    if (plans.length > 0) this.enqueue({ kind: "plans", plans });
  }

  /** Time-driven rules for the visits whose deadline has come (the hub calls this on a timer). */
  tick(): void {
    if (!this.queue.some((j) => j.kind === "due")) this.enqueue({ kind: "due" });
  }

  /** Site or engineer data changed: visits in memory are read again with it. */
  contextChanged(): void {
    this.live.clear();
  }

  /** Finishes the job at hand and takes no more (the store is about to close). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue = [];
    this.waiting = 0;
    this.release();
    await this.idle();
    this.recovered();
  }

  private recovered(): void {
    const waiting = this.recovering;
    this.recovering = [];
    for (const done of waiting) done();
  }

  /** Resolves when everything handed over so far is projected. */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  /** Visit events (heartbeats not counted) waiting to be projected. */
  get backlog(): number {
    return this.waiting;
  }

  /** The backlog is above the high mark: new bulk work should wait for `room()`. */
  get saturated(): boolean {
    return this.waiting > this.marks.high;
  }

  /** Resolves at once below the high mark; else once the backlog is down to the low mark. */
  room(): Promise<void> {
    if (!this.saturated) return Promise.resolve();
    return new Promise((resolve) => this.held.push(resolve));
  }

  private projected(events: readonly StoredEvent[]): void {
    for (const e of events) if (e.event.type !== "heartbeat") this.waiting--;
    this.release();
  }

  private release(): void {
    if (this.held.length === 0 || this.waiting > this.marks.low) return;
    const held = this.held;
    this.held = [];
    for (const r of held) r();
  }

  /**
   * Refuses an event for a visit that already holds `maxEventsPerVisit` events: the visit it names,
   * or the one the engineer's latest event went to. Returns the reason, or undefined to accept.
   */
  admit(subject: string | null, visit: string | undefined): string | undefined {
    const id = visit ?? (subject === null ? undefined : this.lastVisitOf.get(subject));
    const live = id === undefined ? undefined : this.live.get(id);
    if (live && live.size >= this.maxPerVisit)
      return `visit ${id} already holds ${live.size} events, the most one visit takes`;
    return undefined;
  }

  private enqueue(job: Job): void {
    if (this.stopped) return;
    if (job.kind === "events") {
      for (const e of job.events) if (e.event.type !== "heartbeat") this.waiting++;
      const last = this.queue[this.queue.length - 1];
      // Consecutive commits go into one step, up to a step's worth of events.
      if (last?.kind === "events" && last.events.length + job.events.length <= MAX_STEP_EVENTS) {
        last.events.push(...job.events);
      } else {
        for (let i = 0; i < job.events.length; i += MAX_STEP_EVENTS)
          this.queue.push({ kind: "events", events: job.events.slice(i, i + MAX_STEP_EVENTS) });
      }
    } else this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = (async () => {
      let slice = performance.now();
      for (let job = this.queue.shift(); job && !this.stopped; job = this.queue.shift()) {
        if (performance.now() - slice > SLICE_MS) {
          // Let the sockets in: PUBACKs, stream messages and new events wait for nothing longer than a step.
          await new Promise((r) => setImmediate(r));
          slice = performance.now();
        }
        try {
          this.stepWrites = this.writer;
          const updates = await this.run(job);
          if (job.kind === "events") this.projected(job.events);
          if (job.kind === "recover") this.recovered();
          if (updates.length > 0) this.deps.onUpdates?.(updates);
        } catch (e) {
          // Memory may be ahead of the store now: drop it and project again from the watermark.
          this.deps.onError?.(e);
          if (this.stopped) break;
          this.live.clear();
          this.frontier.clear();
          this.queue = this.queue.filter((j) => j.kind !== "events");
          this.waiting = 0;
          this.release();
          this.queue.unshift({ kind: "recover" });
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })().finally(() => {
      this.pumping = null;
    });
  }

  private async run(job: Job): Promise<VisitUpdate[]> {
    switch (job.kind) {
      case "events":
        return this.project(job.events);
      case "plans":
        return this.replan(job.plans);
      case "due":
        return this.runDue();
      case "recover":
        return this.recover();
      case "follow":
        return this.followLog();
    }
  }

  private async recover(): Promise<VisitUpdate[]> {
    const { store } = this.deps;
    this.horizon = await store.projectionWatermark();
    const out: VisitUpdate[] = [];
    for (;;) {
      const events = await store.eventsAfter(this.horizon, RECOVER_CHUNK);
      if (events.length === 0) break;
      out.push(...(await this.project(events)));
    }
    out.push(...(await this.judgeOpen()));
    return out;
  }

  private async followLog(): Promise<VisitUpdate[]> {
    const events = await this.deps.store.eventsAfter(this.horizon, MAX_STEP_EVENTS);
    if (events.length === 0) return [];
    // A full chunk: there may be more; they follow in the next step.
    if (events.length === MAX_STEP_EVENTS) this.follow();
    return this.project(events);
  }

  private async project(events: StoredEvent[]): Promise<VisitUpdate[]> {
    const step = new Step();
    let minSeq = Number.POSITIVE_INFINITY;
    let maxSeq = this.horizon;
    for (const e of events) {
      minSeq = Math.min(minSeq, e.seq ?? 0);
      maxSeq = Math.max(maxSeq, e.seq ?? 0);
    }
    const bySubject = new Map<string, StoredEvent[]>();
    for (const e of events) {
      if (e.event.type === "heartbeat") continue;
      if (e.subject !== null) {
        const list = bySubject.get(e.subject);
        if (list) list.push(e);
        else bySubject.set(e.subject, [e]);
      } else if (e.source.kind === "kiosk") step.siteFrom(e.source.siteId, effectiveTime(e));
      // An event about nobody, from no kiosk, has nothing to be routed by: it stays unattributed.
    }
    for (const [subject, list] of bySubject) {
      list.sort(compareForRules);
      const first = list[0] as StoredEvent;
      const last = list[list.length - 1] as StoredEvent;
      const front = await this.frontierOf(subject, minSeq - 1);
      if (front === null || effectiveTime(first) > front) {
        for (const e of list) await this.routeInOrder(e, maxSeq, step);
      } else {
        await this.resweep(subject, effectiveTime(first), maxSeq, step);
      }
      this.frontier.set(subject, Math.max(front ?? Number.NEGATIVE_INFINITY, effectiveTime(last)));
    }
    await this.rerouteSites(step, maxSeq);
    return this.finish(step, maxSeq);
  }

  private async frontierOf(subject: string, maxSeq: number): Promise<number | null> {
    if (this.frontier.has(subject)) return this.frontier.get(subject) ?? null;
    return this.deps.store.lastTimeOfSubject(subject, maxSeq);
  }

  /** The plans `e` may belong to: its subject's around [from, to] and the visit it names. */
  private async plansFor(
    subject: string | null,
    siteId: string | null,
    from: number,
    to: number,
    extra: Iterable<string>,
  ): Promise<Map<string, VisitPlan>> {
    const { store } = this.deps;
    const plans = new Map<string, VisitPlan>();
    if (subject !== null || siteId !== null) {
      // listVisits' `to` is exclusive; the slack is inclusive.
      const list = await store.listVisits({
        from: from - MATCH_SLACK_MS,
        to: to + MATCH_SLACK_MS + 1,
        ...(subject !== null ? { engineerId: subject } : {}),
        ...(siteId !== null ? { siteId } : {}),
      });
      for (const p of list) plans.set(p.id, p);
    }
    for (const id of extra) {
      if (plans.has(id)) continue;
      const p = await store.getVisit(id);
      if (p) plans.set(id, p);
    }
    return plans;
  }

  /** Routes an event later than every projected event of its engineer: the states now are as of it. */
  private async routeInOrder(e: StoredEvent, maxSeq: number, step: Step): Promise<void> {
    const t = effectiveTime(e);
    const plans = await this.plansFor(
      e.subject,
      null,
      t,
      t,
      e.event.visit === undefined ? [] : [e.event.visit],
    );
    await this.place(e, plans, maxSeq, step);
  }

  private async place(
    e: StoredEvent,
    plans: Map<string, VisitPlan>,
    maxSeq: number,
    step: Step,
  ): Promise<void> {
    const lives = await this.livesOf(plans.values(), maxSeq);
    const target = routeEvent(e, plans, (id) => lives.get(id)?.state);
    const live = target === null ? undefined : lives.get(target);
    if (target !== null && e.subject !== null) this.lastVisitOf.set(e.subject, target);
    if (live) {
      if (live.add(e)) {
        step.touch(live);
        step.siteFrom(live.plan.siteId, effectiveTime(e));
      }
      step.move(e, target);
    } else step.move(e, null);
  }

  /**
   * Routes a site's kiosk-only events (no engineer, no existing visit named) from `step.sites`' time
   * on, each against the site's visits as they stood at its time. They never move an arrival or a
   * departure, so routing them changes no other event's routing.
   */
  private async rerouteSites(step: Step, maxSeq: number): Promise<void> {
    for (const [siteId, from] of step.sites) {
      const events = (await this.deps.store.eventsOfSite(siteId, from, maxSeq)).filter(
        (e) => e.event.type !== "heartbeat",
      );
      if (events.length === 0) continue;
      events.sort(compareForRules);
      const extra = new Set<string>();
      for (const e of events) {
        if (e.event.visit !== undefined) extra.add(e.event.visit);
        if (e.visitId !== null) extra.add(e.visitId);
      }
      const last = events[events.length - 1] as StoredEvent;
      const plans = await this.plansFor(null, siteId, from, effectiveTime(last), extra);
      const lives = await this.livesOf(plans.values(), maxSeq);
      const states = new Map([...lives].map(([id, live]) => [id, live.statesAt(events)]));
      const keys = new Set(events.map(refKey));
      const adds = new Map<LiveVisit, StoredEvent[]>();
      events.forEach((e, i) => {
        const target = routeEvent(e, plans, (id) => states.get(id)?.[i]);
        const into = target === null ? undefined : lives.get(target);
        if (into) adds.set(into, [...(adds.get(into) ?? []), e]);
        step.move(e, into ? target : null);
      });
      for (const live of lives.values()) {
        const had = new Set(live.records.filter((r) => keys.has(refKey(r))).map(refKey));
        const add = adds.get(live) ?? [];
        if (had.size === add.length && add.every((r) => had.has(refKey(r)))) continue;
        live.replace(keys, add);
        step.touch(live);
      }
    }
  }

  /**
   * Attributes the engineer's events from `fromTime` on again, in rule order, each against its
   * candidates' states as of it; visits gain and lose events as the facts say.
   */
  private async resweep(subject: string, fromTime: number, maxSeq: number, step: Step): Promise<void> {
    const stream = (await this.deps.store.eventsOfSubject(subject, fromTime, maxSeq)).filter(
      (e) => e.event.type !== "heartbeat",
    );
    if (stream.length === 0) return;
    stream.sort(compareForRules);
    const last = stream[stream.length - 1] as StoredEvent;
    const extra = new Set<string>();
    for (const e of stream) {
      if (e.event.visit !== undefined) extra.add(e.event.visit);
      if (e.visitId !== null) extra.add(e.visitId);
    }
    const plans = await this.plansFor(subject, null, fromTime, effectiveTime(last), extra);
    const lives = await this.livesOf(plans.values(), maxSeq);
    // The in-memory copy of each stream event is the one to keep (it may be this step's).
    const streamKeys = new Set(stream.map(refKey));
    const items: Array<{ r: StoredEvent; live?: LiveVisit }> = [];
    const before = new Map<LiveVisit, Set<string>>();
    for (const live of lives.values()) {
      before.set(live, live.keySet());
      for (const r of live.records) if (!streamKeys.has(refKey(r))) items.push({ r, live });
      live.clear();
    }
    for (const r of stream) items.push({ r });
    items.sort((a, b) => compareForRules(a.r, b.r));
    for (const { r, live } of items) {
      if (live) {
        live.add(r);
        continue;
      }
      const target = routeEvent(r, plans, (id) => lives.get(id)?.state);
      const into = target === null ? undefined : lives.get(target);
      into?.add(r);
      step.move(r, into ? target : null);
    }
    for (const [live, keys] of before) {
      const now = live.keySet();
      if (now.size !== keys.size || [...now].some((k) => !keys.has(k))) {
        step.touch(live);
        step.siteFrom(live.plan.siteId, fromTime);
      }
    }
    const lastTarget = last.visitId;
    if (lastTarget !== null) this.lastVisitOf.set(subject, lastTarget);
  }

  /** `plans` may hold a visit's old and new plan (a reschedule): both windows are swept again. */
  private async replan(plans: VisitPlan[]): Promise<VisitUpdate[]> {
    const step = new Step();
    const earliest = new Map<string, number>();
    const current = new Map<string, VisitPlan>();
    for (const p of plans) {
      const t = p.window.from - MATCH_SLACK_MS;
      earliest.set(p.engineerId, Math.min(earliest.get(p.engineerId) ?? t, t));
      step.siteFrom(p.siteId, t);
      current.set(p.id, p);
    }
    for (const id of current.keys()) {
      this.live.delete(id);
      const live = await this.liveOf(id, this.horizon);
      if (live) step.touch(live);
    }
    for (const [engineerId, from] of earliest) await this.resweep(engineerId, from, this.horizon, step);
    await this.rerouteSites(step, this.horizon);
    return this.finish(step, null);
  }

  private async runDue(): Promise<VisitUpdate[]> {
    const now = this.deps.clock.now();
    const step = new Step();
    for (const id of this.deadlines.popDue(now)) {
      const live = await this.liveOf(id, this.horizon);
      if (live) step.touch(live);
    }
    return (await this.finish(step, null)).filter((u) => u.changes.length > 0);
  }

  /** At start: every visit still open is judged at now (a deadline may have passed while down). */
  private async judgeOpen(): Promise<VisitUpdate[]> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const step = new Step();
    for (const plan of await store.listVisits({ from: now - DAY })) {
      const ctx = await this.context(plan);
      if (!ctx) continue;
      const stored = await store.getView(plan.id);
      const base = stored ?? emptySummary(ctx);
      const judged = judge(base, ctx, now);
      if (!stored || judged.state !== stored.state || diffViews(stored, judged).length > 0) {
        const live = await this.liveOf(plan.id, this.horizon, plan);
        if (live) step.touch(live);
      } else this.deadlines.schedule(plan.id, nextDeadline(base, ctx, now));
    }
    return (await this.finish(step, null)).filter((u) => u.changes.length > 0);
  }

  private async finish(step: Step, watermark: number | null): Promise<VisitUpdate[]> {
    const now = this.deps.clock.now();
    const updates: VisitUpdate[] = [];
    for (const live of step.touched.values()) {
      const view = judge(live.state, live.ctx, now);
      updates.push({
        plan: live.plan,
        site: live.ctx.site,
        engineer: live.ctx.engineer,
        view,
        changes: diffViews(live.published, view),
        kioskActions: live.kioskActions,
      });
      this.deadlines.schedule(live.plan.id, nextDeadline(live.state, live.ctx, now));
    }
    const writes =
      updates.length > 0 || step.moves.size > 0 || (watermark !== null && watermark > this.horizon);
    if (writes && this.stepWrites) {
      const changed = updates.filter((u) => u.changes.length > 0);
      const outbox = changed.length > 0 && this.deps.notify ? await this.deps.notify(changed) : [];
      const fence = this.deps.fence?.();
      await this.deps.store.saveProjection({
        views: updates.map((u) => ({ view: u.view, projectedAt: now })),
        attribution: [...step.moves.values()],
        watermark: watermark !== null && watermark > this.horizon ? watermark : null,
        outbox,
        ...(fence ? { fence } : {}),
      });
    }
    for (const u of updates) {
      const live = this.live.get(u.plan.id);
      if (live) live.published = u.view;
    }
    if (watermark !== null) this.horizon = Math.max(this.horizon, watermark);
    this.evict();
    return updates;
  }

  /**
   * The visits in memory, loaded as projected so far (events up to the horizon): an event of the
   * step being projected that its commit already attributed (it names the visit) is then added by
   * the step, and the visit counts as touched. Loaded up to `maxSeq`, the visit would hold it
   * already, and no update would be stored, announced or notified for it.
   */
  private async livesOf(plans: Iterable<VisitPlan>, maxSeq: number): Promise<Map<string, LiveVisit>> {
    const out = new Map<string, LiveVisit>();
    const upTo = Math.min(maxSeq, this.horizon);
    for (const p of plans) {
      const live = await this.liveOf(p.id, upTo, p);
      if (live) out.set(p.id, live);
    }
    return out;
  }

  /** The visit in memory, loaded from the store (events with seq ≤ maxSeq) if it is not. */
  private async liveOf(id: string, maxSeq: number, known?: VisitPlan): Promise<LiveVisit | undefined> {
    const cached = this.live.get(id);
    if (cached) {
      this.live.delete(id);
      this.live.set(id, cached);
      return cached;
    }
    const { store, clock } = this.deps;
    const plan = known ?? (await store.getVisit(id));
    const ctx = plan && (await this.context(plan));
    if (!plan || !ctx) return undefined;
    const published = (await store.getView(id)) ?? judge(emptySummary(ctx), ctx, clock.now());
    const live = new LiveVisit(plan, ctx, published);
    const records = await store.eventsOfVisit(id, maxSeq);
    records.sort(compareForRules);
    for (const r of records) live.add(r);
    this.live.set(id, live);
    return live;
  }

  private evict(): void {
    // Summing every visit's size is O(visits): under load, once in a while is enough.
    if (++this.finishes % 32 !== 0) return;
    let total = 0;
    for (const l of this.live.values()) total += l.size;
    for (const [id, l] of this.live) {
      if (total <= this.maxLive || this.live.size <= 1) break;
      this.live.delete(id);
      total -= l.size;
    }
  }

  // ---- the read side ----

  private async planOf(p: VisitPlan | string): Promise<VisitPlan | undefined> {
    return typeof p === "string" ? (this.live.get(p)?.plan ?? (await this.deps.store.getVisit(p))) : p;
  }

  /** The visit's summary judged at now (no timeline): what lists and status show. */
  async summary(planOrId: VisitPlan | string): Promise<VisitSummary | undefined> {
    const plan = await this.planOf(planOrId);
    if (!plan) return undefined;
    const now = this.deps.clock.now();
    const live = this.live.get(plan.id);
    if (live) return judge(live.state, live.ctx, now);
    const ctx = await this.context(plan);
    if (!ctx) return undefined;
    return judge((await this.deps.store.getView(plan.id)) ?? emptySummary(ctx), ctx, now);
  }

  /** The whole view with its timeline (each event with the rules' verdict), judged at now. */
  async view(planOrId: VisitPlan | string): Promise<VisitView | undefined> {
    const plan = await this.planOf(planOrId);
    if (!plan) return undefined;
    const now = this.deps.clock.now();
    const live = this.live.get(plan.id);
    if (live) return projectVisit(live.ctx, live.records, now);
    const ctx = await this.context(plan);
    if (!ctx) return undefined;
    return projectVisit(ctx, await this.deps.store.eventsOfVisit(plan.id, this.horizon), now);
  }
}
