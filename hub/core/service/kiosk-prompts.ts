/**
 * What the kiosk LCD says after each step. Two lines of 16 characters (HD44780): English and ASCII,
 * polite. The web kiosk renders the same `prompt` keys in Chinese and English.
 */
import type { KioskStep } from "../../../protocol/api.js";
import type { CommandOf } from "../../../protocol/index.js";
import type { Engineer } from "../model.js";
import type { VisitSummary } from "../visit/types.js";

export type DisplayCommand = CommandOf<"display">;

const clip = (s: string) => (s.length > 16 ? `${s.slice(0, 15)}.` : s);

export function arrivalText(view: VisitSummary): string {
  const v = view.arrival?.verdict;
  if (!v) return "";
  if (v.class === "on_time") return "On time";
  return v.class === "early" ? `Early ${v.minutes} min` : `Late ${v.minutes} min`;
}

export type { KioskStep };

/**
 * The step of the visit the customer at the kiosk is asked for: the kiosk screen's `step`
 * (`GET /api/v1/kiosk/<site>/state`) and, refined, the kiosk LCD's prompt (`kioskPrompt`).
 * `welcome`: no engineer on site. The fold guarantees that a report needs work started and work a
 * check-in, so `completion` and `cleanup` come only after check-in.
 */
export function kioskStep(view: VisitSummary | undefined): KioskStep {
  if (!view) return "welcome";
  if (view.departure) return "goodbye";
  if (view.complete) return "thanks";
  if (view.checkin?.consent !== true) return "checkin";
  if (view.report && !view.completion) return "completion";
  if (view.completion && view.cleanup.missing.length > 0) return "cleanup";
  return "waiting";
}

/** The prompt for the visit's current step, or undefined when the kiosk has nothing new to show. */
export function kioskPrompt(view: VisitSummary, engineer: Engineer, now: number): DisplayCommand | undefined {
  const base = {
    v: 1 as const,
    type: "display" as const,
    time: now,
    visit: view.visitId,
    engineer: engineer.id,
  };
  const show = (prompt: string, l1: string, l2: string): DisplayCommand => ({
    ...base,
    prompt,
    lines: [clip(l1), clip(l2)],
  });
  // A refused check-in stays on the LCD, departure or not.
  if (view.checkin?.refusedReason === "unqualified")
    return show("checkin_refused", "Sorry, no entry", "Cert. missing");
  if (view.checkin?.refusedReason === "customer")
    return show("checkin_declined", "Entry declined", "Thank you");
  const step = kioskStep(view);
  switch (step) {
    case "goodbye":
      return show("goodbye", "Goodbye", "Thank you");
    case "thanks":
      return show("thanks", "All signed off", "Thank you!");
    case "cleanup": {
      const [item] = view.cleanup.missing;
      return item
        ? { ...show("cleanup_signoff", "Please check:", item.replaceAll("_", " ")), item }
        : undefined;
    }
    case "completion":
      return show("completion_confirm", "Job done? Rate", "1-5, Yes/No");
    case "waiting":
      if (view.workStartedAt !== null) return show("working", clip(engineer.name), "Work in progress");
      if (view.gear.missing.length > 0) return show("gear_pending", "Please wait:", "PPE check");
      return show("checked_in", "Checked in", "Thank you");
    case "checkin":
      // The customer is asked only once the engineer has tapped the badge at the kiosk.
      if (view.arrival && view.checkinRequestedAt !== null)
        return show("checkin_confirm", `${engineer.name}`, `${arrivalText(view)} OK?`);
      return undefined;
    case "welcome":
      return undefined;
  }
}
