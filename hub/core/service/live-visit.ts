/**
 * One visit's projection held in memory: its records in rule order and the fold over them. A record
 * that comes after every other is folded in O(1); an earlier one (a late backlog) is inserted in
 * place and the visit folded again from its first record, in memory.
 */
import type { VisitPlan } from "../model.js";
import type { StoredEvent } from "../ports.js";
import { compareForRules, refKey } from "../visit/order.js";
import { VisitFold } from "../visit/project.js";
import type { VisitContext, VisitSummary } from "../visit/types.js";
import type { RouteState } from "./resolve.js";

export class LiveVisit {
  private list: StoredEvent[] = [];
  private readonly keys = new Set<string>();
  private folded: VisitFold;
  /** Records that came from the site's kiosk (the announcer answers each kiosk action). */
  kioskActions = 0;

  constructor(
    readonly plan: VisitPlan,
    readonly ctx: VisitContext,
    /** What was last published for this visit (stored, judged): what the next update is diffed against. */
    public published: VisitSummary,
  ) {
    this.folded = new VisitFold(ctx);
  }

  get records(): readonly StoredEvent[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  /** The event-driven state so far (judge it for the time-driven rules). */
  get state(): VisitSummary {
    return this.folded.state;
  }

  has(r: StoredEvent): boolean {
    return this.keys.has(refKey(r));
  }

  /** Adds a record (false if it is already here). */
  add(r: StoredEvent): boolean {
    const k = refKey(r);
    if (this.keys.has(k)) return false;
    this.keys.add(k);
    if (r.source.kind === "kiosk") this.kioskActions++;
    const last = this.list[this.list.length - 1];
    if (last === undefined || compareForRules(last, r) < 0) {
      this.list.push(r);
      this.folded.apply(r);
      return true;
    }
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareForRules(this.list[mid] as StoredEvent, r) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.list.splice(lo, 0, r);
    this.refold();
    return true;
  }

  /** Takes records out (by key) and puts others in, folding again once. */
  replace(remove: ReadonlySet<string>, add: readonly StoredEvent[]): void {
    const kept = this.list.filter((r) => !remove.has(refKey(r)));
    this.clear();
    for (const r of [...kept, ...add].sort(compareForRules)) this.add(r);
  }

  /**
   * The state as of each of `points` (sorted in rule order): the fold of every record before it. One
   * pass over the records, for routing events against the visit as it stood then.
   */
  statesAt(points: readonly StoredEvent[]): RouteState[] {
    const fold = new VisitFold(this.ctx);
    const out: RouteState[] = [];
    let i = 0;
    for (const p of points) {
      while (i < this.list.length && compareForRules(this.list[i] as StoredEvent, p) < 0)
        fold.apply(this.list[i++] as StoredEvent);
      // The fold replaces arrival and departure, never mutates them: keeping the references is safe.
      out.push({ arrival: fold.state.arrival, departure: fold.state.departure });
    }
    return out;
  }

  /** Empties the visit (the caller adds its records again, in rule order). */
  clear(): void {
    this.list = [];
    this.keys.clear();
    this.kioskActions = 0;
    this.folded = new VisitFold(this.ctx);
  }

  /** The set of record keys, to tell whether a re-attribution changed this visit. */
  keySet(): Set<string> {
    return new Set(this.keys);
  }

  private refold(): void {
    this.folded = new VisitFold(this.ctx);
    for (const r of this.list) this.folded.apply(r);
  }
}
