/**
 * Attribution is a function of facts: whatever the delivery order, batching, duplicates, plans
 * created late or a restart between commit and projection, the visit service ends with the same
 * attribution as `attribute()` over all the facts, and each visit with the view `projectVisit`
 * gives over its events. Run on the real SQLite store (in memory).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../../hub/adapters/store/sqlite/sqlite-store.js";
import {
  attribute,
  defaultSite,
  type Engineer,
  type EventSource,
  ManualClock,
  projectVisit,
  refKey,
  type Site,
  type StoredEvent,
  type VisitContext,
  type VisitPlan,
  VisitService,
} from "../../../hub/core/index.js";
import type { DeviceEvent } from "../../../protocol/index.js";

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 25, 0, 0);
const SITES: Site[] = [
  defaultSite({ id: "S1", name: "Plant 1", timeZone: "Asia/Shanghai", requiredPpe: ["helmet"] }),
  defaultSite({ id: "S2", name: "Plant 2", timeZone: "Asia/Shanghai", requiredPpe: [] }),
];
const ENGINEERS: Engineer[] = ["E1", "E2"].map((id) => ({
  id,
  name: id,
  company: "Shengda",
  certificates: [{ kind: "safety_training", validUntil: "2099-12-31" }],
}));
const TAGS: Record<string, string> = { E1: "0A1B2C3D4E", E2: "0F0F0F0F0F" };
const badgeOf = (e: string) => `badge-${e}`;
const kioskOf = (s: string) => `kiosk-${s}`;

interface Delivery {
  /** Device-side event (the counter is set per device when generated). */
  event: DeviceEvent;
  source: EventSource;
  /** Hub receive time. */
  hubTime: number;
}

interface World {
  plans: VisitPlan[];
  /** Events in delivery order, with plans released at positions of the delivery. */
  steps: Array<{ deliver: Delivery[] } | { plan: VisitPlan } | { restart: true; lose: number }>;
}

const arbWorld: fc.Arbitrary<World> = fc
  .record({
    visits: fc.array(
      fc.record({
        engineer: fc.constantFrom("E1", "E2"),
        site: fc.constantFrom("S1", "S2"),
        startMin: fc.integer({ min: 0, max: 20 * 60 }),
        lengthMin: fc.integer({ min: 30, max: 180 }),
        arriveOffset: fc.integer({ min: -40, max: 120 }),
        keep: fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
        stayMin: fc.integer({ min: 5, max: 150 }),
        namesVisit: fc.boolean(),
        bookedMin: fc.option(fc.integer({ min: -60, max: 24 * 60 })),
        cancelMin: fc.option(fc.integer({ min: -60, max: 24 * 60 }), { freq: 4 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    strays: fc.array(
      fc.record({
        engineer: fc.constantFrom("E1", "E2"),
        kind: fc.constantFrom("gear", "work", "sos", "departure", "arrival", "late", "heartbeat"),
        atMin: fc.integer({ min: -60, max: 24 * 60 }),
      }),
      { maxLength: 8 },
    ),
    order: fc.infiniteStream(fc.nat()),
    dupes: fc.array(fc.nat(), { maxLength: 12 }),
    batch: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
    planAt: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
    restartAt: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
    lose: fc.integer({ min: 0, max: 5 }),
  })
  .map(({ visits, strays, order, dupes, batch, planAt, restartAt, lose }) => {
    const counters = new Map<string, number>();
    const next = (d: string) => {
      const n = (counters.get(d) ?? 0) + 1;
      counters.set(d, n);
      return n;
    };
    const plans: VisitPlan[] = visits.map((v, i) => ({
      id: `V${i + 1}`,
      siteId: v.site,
      engineerId: v.engineer,
      window: { from: T0 + v.startMin * MIN, to: T0 + (v.startMin + v.lengthMin) * MIN },
      ...(v.bookedMin === null ? {} : { createdAt: T0 + v.bookedMin * MIN }),
      ...(v.cancelMin === null ? {} : { cancelledAt: T0 + v.cancelMin * MIN, cancelReason: "customer" }),
    }));
    const all: Delivery[] = [];
    const badge = (engineer: string, at: number, body: Record<string, unknown>) => {
      const device = badgeOf(engineer);
      all.push({
        event: { v: 1, device, counter: next(device), time: at, ...body } as DeviceEvent,
        source: { kind: "badge", engineerId: engineer },
        hubTime: at + 500,
      });
    };
    const kiosk = (site: string, at: number, body: Record<string, unknown>) => {
      const device = kioskOf(site);
      all.push({
        event: { v: 1, device, counter: next(device), time: at, ...body } as DeviceEvent,
        source: { kind: "kiosk", siteId: site },
        hubTime: at + 500,
      });
    };
    visits.forEach((v, i) => {
      const plan = plans[i] as VisitPlan;
      const a = plan.window.from + v.arriveOffset * MIN;
      const k = v.keep;
      const named = v.namesVisit ? { visit: plan.id } : {};
      if (k[0]) badge(v.engineer, a - 30 * MIN, { type: "late_notice", eta: a, reason: "traffic" });
      if (k[1]) badge(v.engineer, a, { type: "arrival", source: "ble" });
      if (k[2]) kiosk(v.site, a + 1 * MIN, { type: "checkin_request", tag: TAGS[v.engineer] });
      if (k[3])
        kiosk(v.site, a + 2 * MIN, { type: "checkin_confirmed", engineer: v.engineer, consent: true });
      if (k[4]) badge(v.engineer, a + 3 * MIN, { type: "gear_confirmed", items: ["helmet"] });
      if (k[5]) badge(v.engineer, a + 4 * MIN, { type: "work_started" });
      if (k[6])
        kiosk(v.site, a + v.stayMin * MIN - 2 * MIN, {
          type: "completion_confirmed",
          resolved: true,
          rating: 4,
          ...named,
        });
      if (k[7])
        kiosk(v.site, a + v.stayMin * MIN - MIN, { type: "cleanup_signed_off", items: ["work_area_clean"] });
      if (k[8]) badge(v.engineer, a + v.stayMin * MIN, { type: "departure", source: "ble" });
    });
    for (const s of strays) {
      const at = T0 + s.atMin * MIN;
      const body: Record<string, Record<string, unknown>> = {
        gear: { type: "gear_confirmed", items: ["helmet"] },
        work: { type: "work_started" },
        sos: { type: "sos", kind: "hazard" },
        departure: { type: "departure", source: "ble" },
        arrival: { type: "arrival", source: "ble" },
        late: { type: "late_notice", eta: at + 20 * MIN, reason: "traffic" },
        heartbeat: { type: "heartbeat", battery: 80 },
      };
      badge(s.engineer, at, body[s.kind] ?? {});
    }
    // Delivery: a shuffle, with some events sent again later.
    const shuffled = [...all];
    const it = order[Symbol.iterator]();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = (it.next().value ?? 0) % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j] as Delivery, shuffled[i] as Delivery];
    }
    for (const d of dupes) {
      const e = all[d % all.length];
      if (e) shuffled.splice(d % (shuffled.length + 1), 0, { ...e, hubTime: e.hubTime + 7 * MIN });
    }
    // Every delivery is received after the latest device time before it (the hub's clock moves on).
    let clock = T0 - 120 * MIN;
    const timed = shuffled.map((d) => {
      clock = Math.max(clock + 1000, d.hubTime);
      return { ...d, hubTime: clock };
    });
    // Plans are released at random points, but before any event that names them.
    const steps: World["steps"] = [];
    const released = new Set<string>();
    const planPos = plans.map((p, i) => ({
      p,
      at: Math.floor((planAt[i % planAt.length] ?? 0) * timed.length),
    }));
    const restartPos = restartAt === null ? -1 : Math.floor(restartAt * timed.length);
    let b = 0;
    let pending: Delivery[] = [];
    const flush = () => {
      if (pending.length > 0) steps.push({ deliver: pending });
      pending = [];
    };
    for (let i = 0; i <= timed.length; i++) {
      for (const { p, at } of planPos) {
        if (at === i && !released.has(p.id)) {
          flush();
          steps.push({ plan: p });
          released.add(p.id);
        }
      }
      if (i === restartPos) {
        flush();
        steps.push({ restart: true, lose });
      }
      const d = timed[i];
      if (!d) continue;
      const named = d.event.visit;
      if (named !== undefined && !released.has(named)) {
        flush();
        steps.push({ plan: plans.find((p) => p.id === named) as VisitPlan });
        released.add(named);
      }
      pending.push(d);
      if (pending.length >= (batch[b % batch.length] ?? 1)) {
        b++;
        flush();
      }
    }
    flush();
    for (const p of plans) if (!released.has(p.id)) steps.push({ plan: p });
    return { plans, steps };
  });

/** The subject as ingest decides it (the engineer the event is about), given the plans known now. */
function subjectOf(
  d: Delivery,
  known: Map<string, VisitPlan>,
): { subject: string | null; visitId: string | null } {
  const e = d.event;
  if (e.type === "heartbeat") return { subject: null, visitId: null };
  const named = e.visit === undefined ? undefined : known.get(e.visit);
  if (named) return { subject: named.engineerId, visitId: named.id };
  if (d.source.kind === "badge") return { subject: d.source.engineerId, visitId: null };
  if (e.type === "checkin_request")
    return { subject: Object.keys(TAGS).find((k) => TAGS[k] === e.tag) ?? null, visitId: null };
  if (e.type === "checkin_confirmed") return { subject: e.engineer, visitId: null };
  return { subject: null, visitId: null };
}

async function play(world: World) {
  const store = new SqliteStore({ path: ":memory:" });
  for (const s of SITES) await store.putSite(s);
  for (const e of ENGINEERS) await store.putEngineer(e);
  const END = T0 + 3 * 24 * 60 * MIN;
  const clock = new ManualClock(END);
  let visits = new VisitService({ store, clock });
  await visits.start();
  const known = new Map<string, VisitPlan>();
  const firsts = new Map<string, StoredEvent>();
  for (const [i, step] of world.steps.entries()) {
    if ("plan" in step) {
      await store.insertVisits([step.plan]);
      known.set(step.plan.id, step.plan);
      visits.plansChanged([step.plan]);
    } else if ("restart" in step) {
      await visits.idle();
      visits = new VisitService({ store, clock });
      await visits.start();
    } else {
      const rows: StoredEvent[] = step.deliver.map((d) => ({
        event: d.event,
        source: d.source,
        hubTime: d.hubTime,
        clockOffsetMs: 0,
        ...subjectOf(d, known),
      }));
      const seqs = await store.commitEvents(rows, []);
      const fresh = rows.flatMap((r, i) => {
        const seq = seqs[i];
        if (seq === null || seq === undefined) return [];
        const stored = { ...r, seq };
        firsts.set(refKey(stored), stored);
        return [stored];
      });
      // A crash right after this commit: the projection never hears of it; the next start must.
      const next = world.steps[i + 1];
      if (!(next && "restart" in next && next.lose > 0)) visits.committed(fresh);
    }
  }
  await visits.idle();
  return { store, visits, clock, facts: [...firsts.values()] };
}

describe("attribution is a function of facts", () => {
  it("the incremental service agrees with attribute() over all the facts, whatever the delivery", async () => {
    await fc.assert(
      fc.asyncProperty(arbWorld, async (world) => {
        const { store, visits, clock, facts } = await play(world);
        const ctxOf = (plan: VisitPlan): VisitContext | undefined => {
          const site = SITES.find((s) => s.id === plan.siteId);
          const engineer = ENGINEERS.find((e) => e.id === plan.engineerId);
          return site && engineer ? { plan, site, engineer } : undefined;
        };
        const expected = attribute(world.plans, facts, ctxOf);
        const stored = await store.eventsAfter(0, 100_000);
        expect(new Map(stored.map((e) => [refKey(e), e.visitId]))).toEqual(expected);
        for (const plan of world.plans) {
          const ctx = ctxOf(plan) as VisitContext;
          const mine = facts.filter((f) => expected.get(refKey(f)) === plan.id);
          const want = projectVisit(ctx, mine, clock.now());
          expect(await visits.view(plan.id)).toEqual(want);
          const { timeline: _t, ...summary } = want;
          expect(await visits.summary(plan.id)).toEqual(summary);
          expect(await store.getView(plan.id)).toEqual(summary);
        }
        await store.close();
      }),
      { numRuns: 1500 },
    );
  }, 120_000);
});
