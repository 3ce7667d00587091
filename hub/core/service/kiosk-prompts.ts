/**
 * What the kiosk LCD says after each step. Two lines of 16 characters (HD44780): English and ASCII,
 * polite. The web kiosk renders the same `prompt` keys in Chinese and English.
 */
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
  if (view.checkin?.refusedReason === "unqualified")
    return show("checkin_refused", "Sorry, no entry", "Cert. missing");
  if (view.checkin?.refusedReason === "customer")
    return show("checkin_declined", "Entry declined", "Thank you");
  if (view.departure) return show("goodbye", "Goodbye", "Thank you");
  if (view.complete) return show("thanks", "All signed off", "Thank you!");
  const item = view.cleanup.missing[0];
  if (view.completion && item)
    return { ...show("cleanup_signoff", "Please check:", item.replaceAll("_", " ")), item };
  if (view.report && !view.completion) return show("completion_confirm", "Job done? Rate", "1-5, Yes/No");
  if (view.workStartedAt !== null) return show("working", clip(engineer.name), "Work in progress");
  if (view.checkin?.consent) {
    if (view.gear.missing.length > 0) return show("gear_pending", "Please wait:", "PPE check");
    return show("checked_in", "Checked in", "Thank you");
  }
  // The customer is asked only once the engineer has tapped the badge at the kiosk.
  if (view.arrival && view.checkinRequestedAt !== null) {
    return show("checkin_confirm", `${engineer.name}`, `${arrivalText(view)} OK?`);
  }
  return undefined;
}
