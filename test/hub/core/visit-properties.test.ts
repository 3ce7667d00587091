import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { projectVisit, type RecordedEvent, type VisitView } from "../../../hub/core/index.js";
import { BADGE, cleanVisit, ctx, ev, KIOSK, MIN, resetCounters, window } from "./fixtures.js";

const END = window.to + 24 * 3_600_000;

/** The outcome a supervisor sees: everything but how and when events were delivered. */
function outcome(v: VisitView) {
  const { timeline, ...rest } = v;
  return { ...rest, statuses: timeline.map((e) => [e.ref.device, e.ref.counter, e.status, e.reason ?? ""]) };
}

/** Any subset of the visit's steps plus stray events, at random times, from badge or kiosk. */
const scenario: fc.Arbitrary<RecordedEvent[]> = fc
  .record({
    arriveAt: fc.integer({ min: -60, max: 240 }),
    keep: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
    jitter: fc.array(fc.integer({ min: -30, max: 30 }), { minLength: 10, maxLength: 10 }),
    extras: fc.array(
      fc.record({
        kind: fc.constantFrom(
          "late_notice",
          "gear",
          "work",
          "sos",
          "departure",
          "arrival",
          "unresolved",
          "cleanup",
          "refuse",
        ),
        at: fc.integer({ min: -120, max: 360 }),
        delay: fc.integer({ min: 0, max: 180 }),
      }),
      { maxLength: 6 },
    ),
  })
  .map(({ arriveAt, keep, jitter, extras }) => {
    const base = cleanVisit(window.from + arriveAt * MIN)
      .filter((_, i) => keep[i])
      .map((e, i) => ({ ...e, event: { ...e.event, time: e.event.time + (jitter[i] ?? 0) * 1000 } }));
    const more = extras.map(({ kind, at, delay }) => {
      const t = window.from + at * MIN;
      const o = { delay: delay * MIN };
      switch (kind) {
        case "late_notice":
          return ev("late_notice", t, { eta: t + 30 * MIN, reason: "traffic" }, o);
        case "gear":
          return ev("gear_confirmed", t, { items: ["safety_shoes"] }, o);
        case "work":
          return ev("work_started", t, {}, o);
        case "sos":
          return ev("sos", t, { kind: "hazard" }, o);
        case "departure":
          return ev("departure", t, { source: "ble" }, o);
        case "arrival":
          return ev("arrival", t, { source: "kiosk_tap" }, { ...o, source: KIOSK });
        case "unresolved":
          return ev("completion_confirmed", t, { resolved: false, rating: 2 }, o);
        case "cleanup":
          return ev("cleanup_signed_off", t, { items: ["waste_removed"] }, o);
        default:
          return ev("checkin_confirmed", t, { engineer: "E1", consent: false }, { ...o, source: KIOSK });
      }
    });
    return [...base, ...more];
  });

describe("visit rules are robust to the real world", () => {
  it("delivery order does not change the outcome (events shuffled)", () => {
    fc.assert(
      fc.property(scenario, fc.nat(), (events, seed) => {
        const shuffled =
          fc.sample(fc.shuffledSubarray(events, { minLength: events.length }), { seed, numRuns: 1 })[0] ?? [];
        expect(projectVisit(ctx, shuffled, END)).toEqual(projectVisit(ctx, events, END));
      }),
      { numRuns: 300 },
    );
  });

  it("duplicates (same device and counter, delivered again later) change nothing", () => {
    fc.assert(
      fc.property(scenario, fc.array(fc.nat(), { maxLength: 10 }), (events, picks) => {
        const dups = picks.flatMap((p) => {
          const e = events[p % Math.max(events.length, 1)];
          return e ? [{ ...e, hubTime: e.hubTime + 5 * MIN }] : [];
        });
        expect(projectVisit(ctx, [...events, ...dups], END)).toEqual(projectVisit(ctx, events, END));
      }),
      { numRuns: 300 },
    );
  });

  it("a badge backlog delivered after the kiosk's newer events gives the in-order outcome", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 1, max: 600 }), (events, backlogMinutes) => {
        const inOrder = projectVisit(ctx, events, END);
        // The badge was out of range: all its events reach the hub in one burst, minutes later.
        const burst = Math.max(...events.map((e) => e.hubTime)) + backlogMinutes * MIN;
        const delayed = events.map((e, i) => (e.source.kind === "badge" ? { ...e, hubTime: burst + i } : e));
        const v = projectVisit(ctx, delayed, END);
        // Late notices are judged by when they reached the hub, so a delayed notice may stop being advance.
        if (!events.some((e) => e.event.type === "late_notice")) expect(outcome(v)).toEqual(outcome(inOrder));
        for (const entry of v.timeline) {
          if (
            entry.source.kind === "badge" &&
            v.timeline.some((k) => k.source.kind === "kiosk" && k.effectiveTime > entry.effectiveTime)
          ) {
            expect(entry.lateData).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("never throws, whatever arrives, and every event gets a status", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: -1000, max: 2000 }), (events, nowMin) => {
        const v = projectVisit(ctx, events, window.from + nowMin * MIN);
        expect(v.timeline).toHaveLength(
          new Set(events.map((e) => `${e.event.device}#${e.event.counter}`)).size,
        );
        for (const e of v.timeline) if (e.status === "rejected") expect(e.reason).toBeTruthy();
      }),
      { numRuns: 300 },
    );
  });

  it("a late badge event is marked as late data", () => {
    resetCounters();
    const kioskNewer = ev(
      "checkin_request",
      window.from + 10 * MIN,
      { tag: "0A1B2C3D4E" },
      { source: KIOSK },
    );
    const badgeOlder = ev(
      "arrival",
      window.from + 5 * MIN,
      { source: "ble" },
      { source: BADGE, delay: 20 * MIN },
    );
    const v = projectVisit(ctx, [kioskNewer, badgeOlder], END);
    expect(v.arrival?.at).toBe(window.from + 5 * MIN);
    expect(v.timeline.map((e) => [e.type, e.lateData])).toEqual([
      ["arrival", true],
      ["checkin_request", false],
    ]);
  });
});
