import { describe, expect, it } from "vitest";
import {
  badgeSignalsFor,
  diffViews,
  emptyView,
  projectVisit,
  type VisitView,
} from "../../../hub/core/index.js";
import { BADGE, cleanVisit, ctx, engineer, ev, KIOSK, MIN, resetCounters, site, window } from "./fixtures.js";

const kinds = (v: VisitView) => v.violations.map((x) => x.kind);
const statusOf = (v: VisitView, type: string) =>
  v.timeline.filter((e) => e.type === type).map((e) => e.status);
const END = window.to + 10 * 3_600_000;

describe("a whole visit", () => {
  it("on time, with every step, is clean and complete", () => {
    const v = projectVisit(ctx, cleanVisit(), END);
    expect(v.state).toBe("departed");
    expect(v.complete).toBe(true);
    expect(v.violations).toEqual([]);
    expect(v.arrival?.verdict).toEqual({ class: "on_time", minutes: 0 });
    expect(v.gear.missing).toEqual([]);
    expect(v.report?.parts).toEqual([{ name: "seal", quantity: 1 }]);
    expect(v.timeline.every((e) => e.status === "applied")).toBe(true);
    expect(v.followUp).toBeNull();
  });

  it("is 'completed' once the customer confirmed and signed off, before departure", () => {
    const v = projectVisit(ctx, cleanVisit().slice(0, -1), END);
    expect(v.state).toBe("completed");
    expect(v.complete).toBe(true);
  });
});

describe("state after each step", () => {
  const steps = cleanVisit();
  const expected = [
    "scheduled",
    "arrived",
    "arrived",
    "checked_in",
    "checked_in",
    "working",
    "working",
    "working",
    "completed",
    "departed",
  ];
  it.each(steps.map((s, i) => [i, s.event.type, expected[i]] as const))(
    "after step %i (%s): %s",
    (i, _type, state) => {
      expect(projectVisit(ctx, steps.slice(0, i + 1), window.from).state).toBe(state);
    },
  );
});

describe("transition table: what each event needs first", () => {
  const t = window.from + 10 * MIN;
  const cases: Array<[string, () => ReturnType<typeof ev>[], string, string | RegExp]> = [
    [
      "check-in before any arrival",
      () => [ev("checkin_confirmed", t, { engineer: "E1", consent: true })],
      "checkin_confirmed",
      /no arrival/,
    ],
    [
      "gear before arrival",
      () => [ev("gear_confirmed", t, { items: ["helmet"] })],
      "gear_confirmed",
      /not on site/,
    ],
    [
      "work before check-in",
      () => [ev("arrival", t, { source: "ble" }), ev("work_started", t + MIN, {})],
      "work_started",
      /check-in/,
    ],
    [
      "report before work",
      () => [
        ev("arrival", t, { source: "ble" }),
        ev("completion_submitted", t + MIN, { cause: "c", parts: [], workDone: "w", advice: "" }),
      ],
      "completion_submitted",
      /not started/,
    ],
    [
      "customer confirms completion with no report",
      () => [
        ev("arrival", t, { source: "ble" }),
        ev("completion_confirmed", t + MIN, { resolved: true, rating: 4 }),
      ],
      "completion_confirmed",
      /no service report/,
    ],
    [
      "clean-up sign-off before work",
      () => [
        ev("arrival", t, { source: "ble" }),
        ev("cleanup_signed_off", t + MIN, { items: ["waste_removed"] }),
      ],
      "cleanup_signed_off",
      /not started/,
    ],
    [
      "departure without arrival",
      () => [ev("departure", t, { source: "ble" })],
      "departure",
      /never arrived/,
    ],
    [
      "arrival after departure",
      () => [
        ev("arrival", t, { source: "ble" }),
        ev("departure", t + MIN, { source: "ble" }),
        ev("arrival", t + 2 * MIN, { source: "kiosk_tap" }),
      ],
      "arrival",
      /ended/,
    ],
    [
      "the engineer confirms check-in on his own badge",
      () => [
        ev("arrival", t, { source: "ble" }),
        ev("checkin_confirmed", t + MIN, { engineer: "E1", consent: true }, { source: BADGE }),
      ],
      "checkin_confirmed",
      /customer's kiosk/,
    ],
    [
      "a kiosk of another site",
      () => [ev("arrival", t, { source: "kiosk_tap" }, { source: { kind: "kiosk", siteId: "S2" } })],
      "arrival",
      /another site/,
    ],
    [
      "another engineer's badge",
      () => [ev("arrival", t, { source: "ble" }, { source: { kind: "badge", engineerId: "E9" } })],
      "arrival",
      /another engineer/,
    ],
    [
      "the customer confirms someone else",
      () => [
        ev("arrival", t, { source: "ble" }),
        ev("checkin_confirmed", t + MIN, { engineer: "E2", consent: true }),
      ],
      "checkin_confirmed",
      /different engineer/,
    ],
  ];
  it.each(cases)("%s is rejected with a reason", (_name, build, type, reason) => {
    resetCounters();
    const v = projectVisit(ctx, build(), window.from);
    const entry = v.timeline.find((e) => e.type === type && e.status === "rejected");
    expect(entry?.reason).toMatch(reason);
  });

  it("repeats are redundant, not rejected, and change nothing", () => {
    resetCounters();
    const base = cleanVisit();
    const more = [
      ev("arrival", window.from + 31 * MIN, { source: "kiosk_tap" }),
      ev("gear_confirmed", window.from + 40 * MIN, { items: ["helmet"] }),
      ev("work_started", window.from + 41 * MIN, {}),
      ev("completion_confirmed", window.from + 100 * MIN, { resolved: false, rating: 1 }),
      ev("cleanup_signed_off", window.from + 101 * MIN, { items: ["waste_removed"] }),
      ev("departure", window.from + 120 * MIN, { source: "kiosk_tap" }),
    ];
    const v = projectVisit(ctx, [...base, ...more], END);
    expect(v.timeline.filter((e) => e.status === "redundant")).toHaveLength(more.length);
    expect(v.completion?.resolved).toBe(true);
    expect(v.violations).toEqual([]);
  });

  it("a heartbeat is ignored by the visit", () => {
    resetCounters();
    const v = projectVisit(ctx, [ev("heartbeat", window.from, { battery: 50 })], window.from);
    expect(statusOf(v, "heartbeat")).toEqual(["ignored"]);
  });
});

describe("punctuality", () => {
  it.each([
    [-20, "early", 20],
    [0, "on_time", 0],
    [120, "on_time", 0],
    [121, "late", 1],
    [132, "late", 12],
  ])("arriving %i min after the window opens is %s (%i min)", (offset, cls, minutes) => {
    resetCounters();
    const v = projectVisit(ctx, [ev("arrival", window.from + offset * MIN, { source: "ble" })], END);
    expect(v.arrival?.verdict).toEqual({ class: cls, minutes });
  });

  it("late without notice is two violations, with the arrival as evidence", () => {
    resetCounters();
    const arrival = ev("arrival", window.to + 12 * MIN, { source: "ble" });
    const v = projectVisit(ctx, [arrival], END);
    expect(kinds(v)).toEqual(["late_arrival", "late_without_notice"]);
    expect(v.violations[0]).toMatchObject({
      minutesLate: 12,
      evidence: [{ device: "badge-1", counter: arrival.event.counter }],
    });
  });

  it("late with a notice that reached the hub before the window closed is only late_arrival", () => {
    resetCounters();
    const notice = ev("late_notice", window.from, { eta: window.to + 20 * MIN, reason: "traffic" });
    const v = projectVisit(ctx, [notice, ev("arrival", window.to + 12 * MIN, { source: "ble" })], END);
    expect(kinds(v)).toEqual(["late_arrival"]);
    expect(v.advanceNotice?.eta).toBe(window.to + 20 * MIN);
  });

  it("a notice written before the window closed but delivered after it is not advance", () => {
    resetCounters();
    const notice = ev(
      "late_notice",
      window.to - 5 * MIN,
      { eta: window.to + 20 * MIN, reason: "traffic" },
      { delay: 10 * MIN },
    );
    const v = projectVisit(ctx, [notice, ev("arrival", window.to + 12 * MIN, { source: "ble" })], END);
    expect(kinds(v)).toEqual(["late_arrival", "late_without_notice"]);
    expect(v.timeline[0]?.reason).toMatch(/not advance/);
  });

  it("judges by device time corrected by the clock offset, not by receipt time", () => {
    resetCounters();
    // The badge's clock is 5 minutes slow; its event reached the hub 40 minutes late (a backlog).
    const arrival = ev(
      "arrival",
      window.to - 10 * MIN - 5 * MIN,
      { source: "ble" },
      { offset: 5 * MIN, delay: 40 * MIN },
    );
    const v = projectVisit(ctx, [arrival], END);
    expect(v.arrival?.at).toBe(window.to - 10 * MIN);
    expect(v.arrival?.verdict.class).toBe("on_time");
    expect(v.timeline[0]?.lateData).toBe(true);
  });

  it("no arrival by the window's end is a no_show; a later arrival turns it into lateness", () => {
    resetCounters();
    expect(projectVisit(ctx, [], window.to - 1).state).toBe("scheduled");
    const none = projectVisit(ctx, [], window.to);
    expect(none.state).toBe("no_show");
    expect(kinds(none)).toEqual(["no_show"]);
    const late = projectVisit(ctx, [ev("arrival", window.to + 90 * MIN, { source: "kiosk_tap" })], END);
    expect(kinds(late)).toEqual(["late_arrival", "late_without_notice"]);
  });

  it("warns when the engineer is not on site shortly before the window ends, unless notice was given", () => {
    resetCounters();
    const at = window.to - 10 * MIN;
    expect(projectVisit(ctx, [], at).warnings).toEqual([
      { kind: "not_on_site", at: window.to - 15 * MIN, windowEndsAt: window.to },
    ]);
    expect(projectVisit(ctx, [], window.to - 20 * MIN).warnings).toEqual([]);
    const notice = ev("late_notice", window.from, { eta: window.to + 5 * MIN, reason: "parts" });
    expect(projectVisit(ctx, [notice], at).warnings).toEqual([]);
  });
});

describe("gates and violations", () => {
  it("work cannot start before every required PPE item is confirmed", () => {
    resetCounters();
    const t = window.from + 5 * MIN;
    const events = [
      ev("arrival", t, { source: "ble" }),
      ev("checkin_confirmed", t + MIN, { engineer: "E1", consent: true }),
      ev("gear_confirmed", t + 2 * MIN, { items: ["helmet"] }),
      ev("work_started", t + 3 * MIN, {}),
    ];
    const blocked = projectVisit(ctx, events, t + 4 * MIN);
    expect(blocked.state).toBe("checked_in");
    expect(blocked.workStartedAt).toBeNull();
    expect(statusOf(blocked, "work_started")).toEqual(["rejected"]);
    expect(blocked.violations).toMatchObject([{ kind: "work_without_gear", missing: ["safety_shoes"] }]);
    expect(badgeSignalsFor(diffViews(emptyView(ctx), blocked))).toEqual(["error"]);

    const fixed = projectVisit(
      ctx,
      [
        ...events,
        ev("gear_confirmed", t + 4 * MIN, { items: ["safety_shoes"] }),
        ev("work_started", t + 5 * MIN, {}),
      ],
      t + 6 * MIN,
    );
    expect(fixed.state).toBe("working");
    expect(fixed.gear.completeAt).toBe(t + 4 * MIN);
    expect(kinds(fixed)).toEqual(["work_without_gear"]);
  });

  it("a visit is not complete without clean-up sign-off; leaving early buzzes the badge", () => {
    const all = cleanVisit();
    const withoutCleanup = all.filter((e) => e.event.type !== "cleanup_signed_off");
    const v = projectVisit(ctx, withoutCleanup, END);
    expect(v.complete).toBe(false);
    expect(v.violations).toMatchObject([
      { kind: "departed_without_cleanup", missing: site.cleanupChecklist },
    ]);
    const before = projectVisit(ctx, withoutCleanup.slice(0, -1), END);
    expect(before.state).toBe("working");
    expect(badgeSignalsFor(diffViews(before, v))).toEqual(["cleanup_missing"]);
  });

  it("partial clean-up sign-off item by item, then departure, names what is missing", () => {
    const all = cleanVisit().filter(
      (e) => e.event.type !== "cleanup_signed_off" && e.event.type !== "departure",
    );
    const t = window.from + 100 * MIN;
    const v = projectVisit(
      ctx,
      [
        ...all,
        ev("cleanup_signed_off", t, { items: ["work_area_clean"] }),
        ev("cleanup_signed_off", t + MIN, { items: ["waste_removed"] }),
        ev("departure", t + 2 * MIN, { source: "ble" }),
      ],
      END,
    );
    expect(v.cleanup.signed).toEqual(["work_area_clean", "waste_removed"]);
    expect(v.violations[0]).toMatchObject({
      kind: "departed_without_cleanup",
      missing: ["items_restored", "borrowed_returned", "own_items_removed"],
    });
  });

  it("departure before the customer confirms completion is departed_without_completion", () => {
    const all = cleanVisit().filter((e) => e.event.type !== "completion_confirmed");
    const v = projectVisit(ctx, all, END);
    expect(kinds(v)).toEqual(["departed_without_completion"]);
    expect(v.complete).toBe(false);
  });

  it("leaving after the customer refused entry is no violation", () => {
    resetCounters();
    const t = window.from;
    const v = projectVisit(
      ctx,
      [
        ev("arrival", t, { source: "ble" }),
        ev("checkin_confirmed", t + MIN, { engineer: "E1", consent: false }),
        ev("departure", t + 2 * MIN, { source: "ble" }),
      ],
      END,
    );
    expect(v.checkin).toEqual({ at: t + MIN, consent: false, refusedReason: "customer" });
    expect(v.violations).toEqual([]);
  });

  it.each([
    ["warn", "checked_in", "applied"],
    ["refuse", "refused", "rejected"],
  ] as const)("an expired certificate under policy %s: %s", (policy, state, status) => {
    resetCounters();
    const expired = { ...engineer, certificates: [{ kind: "safety_training", validUntil: "2026-11-24" }] };
    const c = { ...ctx, engineer: expired, site: { ...site, certificatePolicy: policy } };
    const t = window.from;
    const events = [
      ev("checkin_request", t, { tag: "0A1B2C3D4E" }),
      ev("checkin_confirmed", t + MIN, { engineer: "E1", consent: true }),
    ];
    const v = projectVisit(c, events, t + 2 * MIN);
    expect(v.state).toBe(state);
    expect(statusOf(v, "checkin_confirmed")).toEqual([status]);
    expect(v.violations).toMatchObject([
      {
        kind: "unqualified_checkin",
        refused: policy === "refuse",
        problems: [{ kind: "safety_training", problem: "expired", validUntil: "2026-11-24" }],
      },
    ]);
    if (policy === "refuse") {
      const again = projectVisit(
        c,
        [...events, ev("checkin_confirmed", t + 2 * MIN, { engineer: "E1", consent: true })],
        t + 3 * MIN,
      );
      expect(again.state).toBe("refused");
      expect(statusOf(again, "checkin_confirmed")).toEqual(["rejected", "rejected"]);
    }
  });

  it("a missing certificate is unqualified; one valid through today is fine", () => {
    resetCounters();
    const t = window.from;
    const run = (validUntil: string | null) =>
      projectVisit(
        {
          ...ctx,
          engineer: {
            ...engineer,
            certificates: validUntil ? [{ kind: "safety_training", validUntil }] : [],
          },
        },
        [
          ev("checkin_request", t, { tag: "0A1B2C3D4E" }),
          ev("checkin_confirmed", t + MIN, { engineer: "E1", consent: true }),
        ],
        t + 2 * MIN,
      );
    expect(run(null).violations).toMatchObject([{ problems: [{ problem: "missing" }] }]);
    expect(run("2026-11-25").violations).toEqual([]);
  });

  it("SOS is an alarm at any step, with its evidence, and the badge gets an acknowledgement", () => {
    const firstSteps = cleanVisit().slice(0, 6);
    const sos = ev("sos", window.from + 50 * MIN, { kind: "injury" });
    const v = projectVisit(ctx, [...firstSteps, sos], END);
    expect(v.alarms).toEqual([
      {
        kind: "sos",
        at: window.from + 50 * MIN,
        sosKind: "injury",
        evidence: [{ device: "badge-1", counter: sos.event.counter }],
      },
    ]);
    expect(badgeSignalsFor(diffViews(projectVisit(ctx, cleanVisit().slice(0, 6), END), v))).toEqual([
      "sos_ack",
    ]);
  });

  it("an unresolved job gets a follow-up on the next working day, skipping the weekend", () => {
    resetCounters();
    // Friday 2026-11-27 in Shanghai.
    const friday = Date.parse("2026-11-27T08:00:00Z");
    const c = { ...ctx, plan: { ...ctx.plan, window: { from: friday - 3_600_000, to: friday + 3_600_000 } } };
    const events = cleanVisit(friday).map((e) =>
      e.event.type === "completion_confirmed"
        ? { ...e, event: { ...e.event, resolved: false, rating: 2 } }
        : e,
    );
    const v = projectVisit(c, events, friday + 86_400_000);
    expect(v.followUp).toEqual({ dueDate: "2026-11-30", reason: "unresolved" });
    expect(diffViews(emptyView(c), v)).toContainEqual({ kind: "follow_up", dueDate: "2026-11-30" });
  });

  it("kit check and a revised report are kept", () => {
    const extra = ev(
      "completion_submitted",
      window.from + 95 * MIN,
      { cause: "worn seal", parts: [{ name: "seal", quantity: 2 }], workDone: "replaced twice", advice: "" },
      { source: KIOSK },
    );
    const v = projectVisit(ctx, [...cleanVisit(), extra], END);
    expect(v.kitChecked).toMatchObject({ complete: true });
    expect(v.report?.parts[0]?.quantity).toBe(2);
    expect(v.timeline.find((e) => e.reason === "report revised")).toBeDefined();
  });
});

describe("one device's events in the same second", () => {
  it("keep the device's order when the clock offset measured for each moves by a millisecond", () => {
    // As the demo's badge sent them: gear then work, both stamped 09:41:51, offsets 482 and 481 ms.
    const steps = cleanVisit().map((r) => ({ ...r, event: { ...r.event } }));
    const gear = steps.find((r) => r.event.type === "gear_confirmed");
    const work = steps.find((r) => r.event.type === "work_started");
    if (!gear || !work) throw new Error("the clean visit has gear and work");
    work.event.time = gear.event.time;
    gear.clockOffsetMs = 482;
    work.clockOffsetMs = 481;
    const v = projectVisit(ctx, steps, END);
    expect(kinds(v)).toEqual([]);
    expect(v.complete).toBe(true);
  });
});
