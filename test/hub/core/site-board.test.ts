/**
 * The site board keeps each site's status from updates; a full rebuild from the store (what the
 * hub did on every update before) is the reference. Random histories of bookings, state changes,
 * alarms (SOS and departures without clean-up sign-off), acknowledgements, reschedules, moves between sites and time passing, on a real SQLite
 * store: after every step the board says what the rebuild says.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../../hub/adapters/store/sqlite/sqlite-store.js";
import { defaultSite, ManualClock, type VisitPlan } from "../../../hub/core/index.js";
import { SITE_HORIZON_MS, SiteBoard } from "../../../hub/core/service/site-board.js";
import { emptySummary } from "../../../hub/core/visit/project.js";
import type { VisitSummary } from "../../../hub/core/visit/types.js";
import { alarmsOf } from "../../../protocol/api.js";
import type { SiteStatus } from "../../../protocol/index.js";

const T0 = Date.UTC(2026, 11, 1, 8);
const HOUR = 3_600_000;
const SITES = ["S1", "S2", "S3"];
const STATES = ["scheduled", "arrived", "checked_in", "working", "completed", "no_show"] as const;

type Step =
  | { book: { site: number; fromHours: number; lengthHours: number } }
  | { state: { visit: number; state: (typeof STATES)[number] } }
  | { violation: { visit: number } }
  | { sos: { visit: number; afterMin: number } }
  | { departed: { visit: number } }
  | { ack: { visit: number; which: number } }
  | { reschedule: { visit: number; byHours: number } }
  | { move: { visit: number; site: number } }
  | { wait: { minutes: number } }
  | { ask: { site: number } };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    book: fc.record({
      site: fc.nat(2),
      fromHours: fc.integer({ min: -72, max: 72 }),
      lengthHours: fc.integer({ min: 1, max: 8 }),
    }),
  }),
  fc.record({ state: fc.record({ visit: fc.nat(30), state: fc.constantFrom(...STATES) }) }),
  fc.record({ violation: fc.record({ visit: fc.nat(30) }) }),
  fc.record({ sos: fc.record({ visit: fc.nat(30), afterMin: fc.nat(600) }) }),
  fc.record({ departed: fc.record({ visit: fc.nat(30) }) }),
  fc.record({ ack: fc.record({ visit: fc.nat(30), which: fc.nat(3) }) }),
  fc.record({ reschedule: fc.record({ visit: fc.nat(30), byHours: fc.integer({ min: -30, max: 30 }) }) }),
  fc.record({ move: fc.record({ visit: fc.nat(30), site: fc.nat(2) }) }),
  fc.record({ wait: fc.record({ minutes: fc.integer({ min: 1, max: 24 * 60 }) }) }),
  fc.record({ ask: fc.record({ site: fc.nat(2) }) }),
);

/** What the hub computed before the board: every visit of the site within a day, read again. */
async function rebuild(
  store: SqliteStore,
  views: Map<string, VisitSummary>,
  siteId: string,
  now: number,
): Promise<SiteStatus> {
  const plans = await store.listVisits({ siteId, from: now - SITE_HORIZON_MS, to: now + SITE_HORIZON_MS });
  const byState: Record<string, number> = {};
  const activeAlarms: SiteStatus["activeAlarms"] = [];
  let violations = 0;
  for (const p of plans) {
    const view = views.get(p.id);
    const state = view?.state ?? "scheduled";
    byState[state] = (byState[state] ?? 0) + 1;
    violations += view?.violations.length ?? 0;
    const acked = new Set((await store.alarmAcks(p.id)).map((a) => a.alarmAt));
    for (const a of view ? alarmsOf(view) : [])
      if (!acked.has(a.at)) activeAlarms.push({ visit: p.id, at: a.at });
  }
  activeAlarms.sort((a, b) => a.at - b.at || a.visit.localeCompare(b.visit));
  return {
    v: 1,
    site: siteId,
    condition: activeAlarms.length > 0 ? "incident" : "normal",
    visits: plans.length,
    byState,
    violations,
    activeAlarms,
    updatedAt: now,
  };
}

async function play(steps: Step[]): Promise<void> {
  const store = new SqliteStore({ path: ":memory:" });
  const sites = SITES.map((id) => defaultSite({ id, name: id, timeZone: "UTC" }));
  for (const s of sites) await store.putSite(s);
  await store.putEngineer({ id: "E", name: "E", company: "C", certificates: [] });
  const clock = new ManualClock(T0);
  const views = new Map<string, VisitSummary>();
  const plans: VisitPlan[] = [];
  const board = new SiteBoard({ store, clock, summary: async (id) => views.get(id) });
  const changed = (v: VisitSummary) => {
    views.set(v.visitId, v);
    board.update(v);
  };
  const check = async () => {
    for (const s of SITES) expect(await board.status(s)).toEqual(await rebuild(store, views, s, clock.now()));
  };
  try {
    for (const st of steps) {
      const now = clock.now();
      if ("book" in st) {
        const from = now + st.book.fromHours * HOUR;
        const plan: VisitPlan = {
          id: `V${plans.length}`,
          siteId: SITES[st.book.site] as string,
          engineerId: "E",
          window: { from, to: from + st.book.lengthHours * HOUR },
        };
        plans.push(plan);
        await store.insertVisits([plan]);
        const site = sites[st.book.site] ?? (sites[0] as (typeof sites)[number]);
        changed(
          emptySummary({ plan, site, engineer: { id: "E", name: "E", company: "C", certificates: [] } }),
        );
      } else if ("wait" in st) {
        clock.advance(st.wait.minutes * 60_000);
      } else if ("ask" in st) {
        await board.status(SITES[st.ask.site] as string);
      } else {
        const key = Object.values(st)[0] as { visit: number };
        const plan = plans[key.visit % Math.max(plans.length, 1)];
        const view = plan && views.get(plan.id);
        if (!plan || !view) continue;
        if ("state" in st) changed({ ...view, state: st.state.state });
        else if ("violation" in st)
          changed({
            ...view,
            violations: [...view.violations, { kind: "late_arrival", at: now, minutesLate: 5, evidence: [] }],
          });
        else if ("sos" in st) {
          const at = now - st.sos.afterMin * 60_000;
          if (alarmsOf(view).some((a) => a.at === at)) continue;
          changed({
            ...view,
            alarms: [...view.alarms, { kind: "sos", at, sosKind: "injury", evidence: [] }],
          });
        } else if ("departed" in st) {
          const left = (x: VisitSummary["violations"][number]) => x.kind === "departed_without_cleanup";
          if (view.violations.some(left) || alarmsOf(view).some((a) => a.at === now)) continue;
          changed({
            ...view,
            state: "departed",
            violations: [
              ...view.violations,
              { kind: "departed_without_cleanup", at: now, missing: ["waste_removed"], evidence: [] },
            ],
          });
        } else if ("ack" in st) {
          const alarms = alarmsOf(view);
          const alarm = alarms[st.ack.which % Math.max(alarms.length, 1)];
          if (!alarm) continue;
          await store.putAlarmAck({ visitId: plan.id, alarmAt: alarm.at, by: "sup", at: now });
          board.acknowledged(plan.siteId, plan.id, alarm.at);
        } else if ("reschedule" in st) {
          const d = st.reschedule.byHours * HOUR;
          const moved = { ...plan, window: { from: plan.window.from + d, to: plan.window.to + d } };
          plans[plans.indexOf(plan)] = moved;
          await store.updateVisit(moved, { at: now, kind: "rescheduled" });
          changed({ ...view, window: moved.window });
        } else if ("move" in st) {
          const moved = { ...plan, siteId: SITES[st.move.site] as string };
          plans[plans.indexOf(plan)] = moved;
          await store.updateVisit(moved, { at: now, kind: "rescheduled" });
          changed({ ...view, siteId: moved.siteId });
        }
      }
      await check();
    }
  } finally {
    await store.close();
  }
}

describe("site board", () => {
  it("says what a full rebuild from the store says, after every step of random histories", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => play(steps)),
      { numRuns: 300 },
    );
  });

  it("reads a site once, then answers from memory until the reload interval", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    await store.putSite(defaultSite({ id: "S1", name: "S1", timeZone: "UTC" }));
    await store.putEngineer({ id: "E", name: "E", company: "C", certificates: [] });
    const plan = { id: "V1", siteId: "S1", engineerId: "E", window: { from: T0, to: T0 + HOUR } };
    await store.insertVisits([plan]);
    let reads = 0;
    const listVisits = store.listVisits.bind(store);
    store.listVisits = async (q) => {
      reads++;
      return listVisits(q);
    };
    const clock = new ManualClock(T0);
    const site = defaultSite({ id: "S1", name: "S1", timeZone: "UTC" });
    const engineer = { id: "E", name: "E", company: "C", certificates: [] };
    const board = new SiteBoard({
      store,
      clock,
      summary: async (id) => (id === plan.id ? emptySummary({ plan, site, engineer }) : undefined),
    });
    // Two callers, one read; the second waits for it instead of getting the board half-read.
    const [first, second] = await Promise.all([board.status("S1"), board.status("S1")]);
    expect(second).toEqual(first);
    expect(second.visits).toBe(1);
    for (let i = 0; i < 50; i++) await board.status("S1");
    expect(reads).toBe(1);
    clock.advance(10 * 60_000);
    await board.status("S1");
    expect(reads).toBe(2);
    await store.close();
  });
});
