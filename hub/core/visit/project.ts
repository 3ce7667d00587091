/**
 * The visit rules (RULES.md) as a fold over the visit's accepted events, in rule order
 * (effective time, then step order). Pure: the same events and `now` give the same view, whatever
 * order they were delivered in. Events that do not fit are kept in the timeline as rejected, with
 * the reason; nothing here throws for bad input.
 */
import type { CleanupItem, DeviceEvent, EventOf, EventType, PpeItem } from "../../../protocol/index.js";
import { nextWorkingDay } from "../calendar.js";
import { certificateProblems } from "../qualification.js";
import { classifyArrival } from "../time.js";
import { compareForRules, dedupe, effectiveTime, lateDataKeys, refKey } from "./order.js";
import type {
  EntryStatus,
  EventRef,
  EventSource,
  RecordedEvent,
  TimelineEntry,
  Violation,
  VisitContext,
  VisitSummary,
  VisitView,
} from "./types.js";

export type Verdict = { status: EntryStatus; reason?: string };
const applied: Verdict = { status: "applied" };
const rejected = (reason: string): Verdict => ({ status: "rejected", reason });
const redundant = (reason: string): Verdict => ({ status: "redundant", reason });

/** Events the customer gives at the kiosk; nobody else may give them. */
const CUSTOMER_EVENTS: ReadonlySet<EventType> = new Set([
  "checkin_confirmed",
  "completion_confirmed",
  "cleanup_signed_off",
]);

export function emptyView(ctx: VisitContext): VisitView {
  return { ...emptySummary(ctx), timeline: [] };
}

export function emptySummary(ctx: VisitContext): VisitSummary {
  const { plan, site } = ctx;
  return {
    visitId: plan.id,
    siteId: plan.siteId,
    engineerId: plan.engineerId,
    window: { ...plan.window },
    state: "scheduled",
    arrival: null,
    advanceNotice: null,
    kitChecked: null,
    enRoute: null,
    checkinRequestedAt: null,
    checkin: null,
    gear: {
      required: [...site.requiredPpe],
      confirmed: [],
      missing: [...site.requiredPpe],
      completeAt: null,
    },
    workStartedAt: null,
    report: null,
    completion: null,
    cleanup: {
      required: [...site.cleanupChecklist],
      signed: [],
      missing: [...site.cleanupChecklist],
      completeAt: null,
    },
    departure: null,
    complete: false,
    violations: [],
    alarms: [],
    warnings: [],
    followUp: null,
    cancelled:
      plan.cancelledAt === undefined ? null : { at: plan.cancelledAt, reason: plan.cancelReason ?? null },
  };
}

/** The whole projection, timeline included: `records` in any order, duplicates allowed. */
export function projectVisit(ctx: VisitContext, records: readonly RecordedEvent[], now: number): VisitView {
  const unique = dedupe(records).sort(compareForRules);
  const late = lateDataKeys(unique, ctx.lateDataThresholdMs ?? 60_000);
  const fold = new VisitFold(ctx);
  const timeline: TimelineEntry[] = [];
  for (const r of unique) {
    const verdict = fold.apply(r);
    const entry: TimelineEntry = {
      ref: { device: r.event.device, counter: r.event.counter },
      type: r.event.type,
      source: r.source,
      deviceTime: r.event.time,
      hubTime: r.hubTime,
      effectiveTime: effectiveTime(r),
      status: verdict.status,
      lateData: late.has(refKey(r)),
    };
    if (verdict.reason !== undefined) entry.reason = verdict.reason;
    timeline.push(entry);
  }
  return { ...judge(fold.state, ctx, now), timeline };
}

/**
 * The time-driven rules, judged at `now` on a summary: no-show once the window closes without an
 * arrival; the not-on-site warning `atRiskMinutes` before it closes. Pure and idempotent: what an
 * earlier judgement added is taken out first, so a stored summary can be judged again later. The
 * result is a copy: later folding never changes it.
 */
export function judge(base: VisitSummary, ctx: VisitContext, now: number): VisitSummary {
  const v = structuredClone(base);
  v.violations = v.violations.filter((x) => x.kind !== "no_show");
  v.warnings = v.warnings.filter((w) => w.kind !== "not_on_site");
  if (v.state === "no_show" || v.state === "cancelled") v.state = "scheduled";
  const { window } = ctx.plan;
  const atRiskAt = window.to - ctx.site.atRiskMinutes * 60_000;
  if (v.cancelled !== null) {
    // A cancelled visit is not a no-show, and nobody is warned about it.
    if (v.arrival === null) v.state = "cancelled";
  } else if (v.arrival === null) {
    if (now >= window.to) {
      v.state = "no_show";
      v.violations.push({
        kind: "no_show",
        at: window.to,
        evidence: v.advanceNotice ? [v.advanceNotice.evidence] : [],
      });
    } else if (v.advanceNotice === null && now >= atRiskAt) {
      v.warnings.push({ kind: "not_on_site", at: atRiskAt, windowEndsAt: window.to });
    }
  }
  v.violations.sort((a, b) => a.at - b.at || a.kind.localeCompare(b.kind));
  return v;
}

/** When `judge` would next say something new about this summary (null: never, unless events arrive). */
export function nextDeadline(base: VisitSummary, ctx: VisitContext, now: number): number | null {
  if (base.arrival !== null || base.cancelled !== null) return null;
  const { window } = ctx.plan;
  const atRiskAt = window.to - ctx.site.atRiskMinutes * 60_000;
  if (base.advanceNotice === null && now < atRiskAt) return atRiskAt;
  return now < window.to ? window.to : null;
}

/**
 * The rules as an incremental fold: `apply` takes the visit's records one at a time in rule order
 * (`compareForRules`) and returns the verdict on each; `state` is the event-driven summary so far
 * (time-driven rules are `judge`'s). Applying records out of rule order gives a different answer:
 * callers that learn of an earlier record fold again from the start.
 */
export class VisitFold {
  private gearEvidence: EventRef[] = [];
  private refusedForQualification = false;
  private readonly view: VisitSummary;

  constructor(private readonly ctx: VisitContext) {
    this.view = emptySummary(ctx);
  }

  /** The summary so far; it changes as records are applied (`judge` returns a copy). */
  get state(): VisitSummary {
    return this.view;
  }

  apply(r: RecordedEvent): Verdict {
    const sourceProblem = this.checkSource(r.event, r.source);
    if (sourceProblem) return rejected(sourceProblem);
    const e = r.event;
    const at = effectiveTime(r);
    const ref = { device: e.device, counter: e.counter };
    switch (e.type) {
      case "heartbeat":
        return { status: "ignored", reason: "device health, not a visit step" };
      case "late_notice":
        return this.lateNotice(e, r.hubTime, ref);
      case "en_route": {
        if (this.view.arrival) return redundant("engineer already arrived");
        if (this.view.departure) return rejected("visit already ended");
        const revised = this.view.enRoute !== null;
        this.view.enRoute = { at, eta: e.eta ?? null };
        return revised ? { status: "applied", reason: "updated ETA" } : applied;
      }
      case "kit_checked":
        if (this.view.departure) return rejected("visit already ended");
        this.view.kitChecked = { at, complete: e.complete, missing: e.missing ?? [] };
        return applied;
      case "arrival":
        return this.arrive(at, e.source, ref);
      case "checkin_request":
        if (this.view.departure) return rejected("visit already ended");
        if (this.view.arrival === null) this.arrive(at, "kiosk_tap", ref);
        // Tapping out at the kiosk after the work is the goodbye (RULES.md step 12).
        if (this.view.workStartedAt !== null) return this.depart(at, "kiosk_tap", ref);
        if (this.view.checkin?.consent) return redundant("already checked in");
        this.view.checkinRequestedAt = at;
        return applied;
      case "checkin_confirmed":
        return this.checkin(e, at, ref);
      case "gear_confirmed":
        return this.gear(e.items, at, ref);
      case "work_started":
        return this.workStarted(at, ref);
      case "sos":
        this.view.alarms.push({ kind: "sos", at, sosKind: e.kind, evidence: [ref] });
        return applied;
      case "completion_submitted":
        return this.completionSubmitted(e, at);
      case "completion_confirmed":
        return this.completionConfirmed(e, at);
      case "cleanup_signed_off":
        return this.cleanup(e.items, at);
      case "departure":
        return this.depart(at, e.source, ref);
    }
  }

  private checkSource(e: DeviceEvent, source: EventSource): string | undefined {
    const { plan } = this.ctx;
    if (source.kind === "badge" && source.engineerId !== plan.engineerId)
      return "badge belongs to another engineer";
    if (source.kind === "kiosk" && source.siteId !== plan.siteId) return "kiosk belongs to another site";
    if (CUSTOMER_EVENTS.has(e.type) && source.kind !== "kiosk")
      return `${e.type} must come from the customer's kiosk`;
    return undefined;
  }

  private lateNotice(e: EventOf<"late_notice">, receivedAt: number, ref: EventRef): Verdict {
    if (this.view.arrival) return redundant("engineer already arrived");
    if (receivedAt > this.ctx.plan.window.to)
      return { status: "applied", reason: "received after the window closed: not advance" };
    if (this.view.advanceNotice === null) {
      this.view.advanceNotice = { receivedAt, eta: e.eta, reason: e.reason, evidence: ref };
      return applied;
    }
    this.view.advanceNotice = { ...this.view.advanceNotice, eta: e.eta, reason: e.reason };
    return { status: "applied", reason: "updated ETA" };
  }

  private arrive(at: number, source: string, ref: EventRef): Verdict {
    const v = this.view;
    if (v.departure) return rejected("visit already ended");
    if (v.arrival) return redundant("already arrived");
    const verdict = classifyArrival(at, this.ctx.plan.window);
    v.arrival = { at, source, verdict, evidence: ref };
    v.state = "arrived";
    if (verdict.class === "late") {
      v.violations.push({ kind: "late_arrival", at, minutesLate: verdict.minutes, evidence: [ref] });
      if (v.advanceNotice === null) {
        v.violations.push({ kind: "late_without_notice", at, minutesLate: verdict.minutes, evidence: [ref] });
      }
    }
    return applied;
  }

  private checkin(e: EventOf<"checkin_confirmed">, at: number, ref: EventRef): Verdict {
    const v = this.view;
    if (e.engineer !== this.ctx.plan.engineerId) return rejected("customer confirmed a different engineer");
    if (v.departure) return rejected("visit already ended");
    if (v.arrival === null) return rejected("no arrival or badge tap before check-in");
    if (v.checkin?.consent) return redundant("already checked in");
    if (this.refusedForQualification) return rejected("check-in refused: certificate missing or expired");
    if (!e.consent) {
      v.checkin = { at, consent: false, refusedReason: "customer" };
      v.state = "refused";
      return applied;
    }
    const problems = certificateProblems(this.ctx.engineer, this.ctx.site, at);
    if (problems.length > 0) {
      const refuse = this.ctx.site.certificatePolicy === "refuse";
      v.violations.push({ kind: "unqualified_checkin", at, problems, refused: refuse, evidence: [ref] });
      if (refuse) {
        this.refusedForQualification = true;
        v.checkin = { at, consent: false, refusedReason: "unqualified" };
        v.state = "refused";
        return rejected("check-in refused: certificate missing or expired");
      }
    }
    v.checkin = { at, consent: true };
    v.state = "checked_in";
    return applied;
  }

  private gear(items: readonly PpeItem[], at: number, ref: EventRef): Verdict {
    const g = this.view.gear;
    if (this.view.arrival === null) return rejected("not on site yet");
    if (this.view.departure) return rejected("visit already ended");
    const fresh = items.filter((i) => !g.confirmed.includes(i));
    if (fresh.length === 0) return redundant("items already confirmed");
    g.confirmed.push(...fresh);
    g.missing = g.required.filter((i) => !g.confirmed.includes(i));
    if (g.missing.length === 0 && g.completeAt === null) g.completeAt = at;
    this.gearEvidence.push(ref);
    return applied;
  }

  private workStarted(at: number, ref: EventRef): Verdict {
    const v = this.view;
    if (v.departure) return rejected("visit already ended");
    if (v.workStartedAt !== null) return redundant("work already started");
    if (v.checkin?.consent !== true) return rejected("customer has not confirmed check-in");
    if (v.gear.missing.length > 0) {
      v.violations.push({
        kind: "work_without_gear",
        at,
        missing: [...v.gear.missing],
        evidence: [ref, ...this.gearEvidence],
      });
      return rejected(`required PPE not confirmed: ${v.gear.missing.join(", ")}`);
    }
    v.workStartedAt = at;
    v.state = "working";
    return applied;
  }

  private completionSubmitted(e: EventOf<"completion_submitted">, at: number): Verdict {
    const v = this.view;
    if (v.workStartedAt === null) return rejected("work has not started");
    const revised = v.report !== null;
    v.report = { cause: e.cause, parts: e.parts, workDone: e.workDone, advice: e.advice, at };
    return revised ? { status: "applied", reason: "report revised" } : applied;
  }

  private completionConfirmed(e: EventOf<"completion_confirmed">, at: number): Verdict {
    const v = this.view;
    if (v.report === null) return rejected("no service report submitted yet");
    if (v.completion !== null) return redundant("completion already confirmed");
    v.completion = {
      at,
      resolved: e.resolved,
      rating: e.rating,
      ...(e.comment === undefined ? {} : { comment: e.comment }),
    };
    if (!e.resolved) v.followUp = { dueDate: nextWorkingDay(at, this.ctx.site), reason: "unresolved" };
    this.updateCompleted();
    return v.departure ? { status: "applied", reason: "confirmed after departure" } : applied;
  }

  private cleanup(items: readonly CleanupItem[], at: number): Verdict {
    const c = this.view.cleanup;
    if (this.view.workStartedAt === null) return rejected("work has not started");
    const fresh = items.filter((i) => !c.signed.includes(i));
    if (fresh.length === 0) return redundant("items already signed off");
    c.signed.push(...fresh);
    c.missing = c.required.filter((i) => !c.signed.includes(i));
    if (c.missing.length === 0 && c.completeAt === null) c.completeAt = at;
    this.updateCompleted();
    return this.view.departure ? { status: "applied", reason: "signed off after departure" } : applied;
  }

  private updateCompleted(): void {
    const v = this.view;
    v.complete = v.completion !== null && v.cleanup.completeAt !== null;
    if (v.complete && v.departure === null) v.state = "completed";
  }

  private depart(at: number, source: string, ref: EventRef): Verdict {
    const v = this.view;
    if (v.arrival === null) return rejected("never arrived");
    if (v.departure) return redundant("already departed");
    v.departure = { at, source };
    v.state = "departed";
    if (v.checkin?.consent) {
      if (v.cleanup.completeAt === null) {
        v.violations.push({
          kind: "departed_without_cleanup",
          at,
          missing: [...v.cleanup.missing],
          evidence: [ref],
        });
      }
      if (v.completion === null)
        v.violations.push({ kind: "departed_without_completion", at, evidence: [ref] });
    }
    return applied;
  }
}

export type { Violation };
