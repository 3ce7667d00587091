/**
 * The kiosk step is decided once (`kioskStep`): the kiosk screen shows it, and the LCD's prompt
 * (`kioskPrompt`) is a refinement of it. After each step of a visit, and for any subset of a
 * visit's events in any order, the two agree.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { projectVisit } from "../../../hub/core/index.js";
import { type KioskStep, kioskPrompt, kioskStep } from "../../../hub/core/service/kiosk-prompts.js";
import type { VisitSummary } from "../../../hub/core/visit/types.js";
import { cleanVisit, ctx, engineer, ev, MIN, resetCounters, window } from "./fixtures.js";

const prompt = (v: VisitSummary) => kioskPrompt(v, engineer, window.from)?.prompt;

/** The kiosk step each LCD prompt belongs to. */
const STEP_OF_PROMPT: Record<string, KioskStep> = {
  checkin_confirm: "checkin",
  checkin_refused: "checkin",
  checkin_declined: "checkin",
  checked_in: "waiting",
  gear_pending: "waiting",
  working: "waiting",
  completion_confirm: "completion",
  cleanup_signoff: "cleanup",
  thanks: "thanks",
  goodbye: "goodbye",
};

describe("kiosk step", () => {
  const steps = cleanVisit();
  // kit_checked, arrival, checkin_request, checkin_confirmed, gear_confirmed, work_started,
  // completion_submitted, completion_confirmed, cleanup_signed_off, departure
  const expected: Array<[KioskStep, string | undefined]> = [
    ["checkin", undefined],
    ["checkin", undefined],
    ["checkin", "checkin_confirm"],
    ["waiting", "gear_pending"],
    ["waiting", "checked_in"],
    ["waiting", "working"],
    ["completion", "completion_confirm"],
    ["cleanup", "cleanup_signoff"],
    ["thanks", "thanks"],
    ["goodbye", "goodbye"],
  ];
  it.each(
    steps.map((s, i): [number, string, KioskStep, string | undefined] => [
      i,
      s.event.type,
      ...(expected[i] ?? ["welcome", undefined]),
    ]),
  )("after step %i (%s): %s, the LCD says %s", (i, _type, step, lcd) => {
    const v = projectVisit(ctx, steps.slice(0, i + 1), window.from);
    expect(kioskStep(v)).toBe(step);
    expect(prompt(v)).toBe(lcd);
  });

  it("is welcome with no visit", () => {
    expect(kioskStep(undefined)).toBe("welcome");
  });

  it("a refused check-in: the screen asks for check-in (goodbye once gone), the LCD keeps the refusal", () => {
    resetCounters();
    const t = window.from;
    const refused = [
      ev("arrival", t, { source: "ble" }),
      ev("checkin_confirmed", t + MIN, { engineer: "E1", consent: false }),
    ];
    const v = projectVisit(ctx, refused, window.from);
    expect([kioskStep(v), prompt(v)]).toEqual(["checkin", "checkin_declined"]);
    const gone = projectVisit(ctx, [...refused, ev("departure", t + 2 * MIN, { source: "ble" })], t);
    expect([kioskStep(gone), prompt(gone)]).toEqual(["goodbye", "checkin_declined"]);
  });

  it("the LCD's prompt always belongs to the screen's step, whatever events arrived in whatever order", () => {
    const all = cleanVisit();
    fc.assert(
      fc.property(fc.shuffledSubarray(all), fc.nat(all.length), (events, cut) => {
        const v = projectVisit(ctx, events.slice(0, cut), window.from);
        const step = kioskStep(v);
        const p = prompt(v);
        if (p === undefined) expect(step).toBe("checkin");
        else expect(STEP_OF_PROMPT[p]).toBe(step);
      }),
      { numRuns: 500 },
    );
  });
});
