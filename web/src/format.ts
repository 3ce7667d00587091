/** Codes into words: what a visit's fields say, in the chosen language, judged only once due. */
import type { Engineer, Violation, VisitRow } from "./api.js";
import { type Dict, fill, formatHm, type Lang, word } from "./i18n.js";

export function arrivalText(t: Dict, v: Pick<VisitRow, "arrival">): string {
  if (!v.arrival) return "—";
  const c = v.arrival.verdict;
  return fill(t.arrival[c.class], { m: c.minutes });
}

export function violationText(t: Dict, x: Violation): string {
  const base = word(t.violations, x.kind);
  if ((x.kind === "late_arrival" || x.kind === "late_without_notice") && x.minutesLate > 0)
    return `${base} (${fill(t.minutesLate, { m: x.minutesLate })})`;
  if (x.kind === "work_without_gear" && x.missing.length > 0)
    return `${base}: ${x.missing.map((i) => word(t.ppe, i)).join(t.listSep)}`;
  if (x.kind === "departed_without_cleanup" && x.missing.length > 0)
    return `${base}: ${x.missing.map((i) => word(t.cleanupItems, i)).join(t.listSep)}`;
  return base;
}

/** The rules' reason for a timeline verdict, in words. */
export function reasonText(t: Dict, reason: string | undefined): string {
  if (!reason) return "";
  const ppe = /^required PPE not confirmed: (.*)$/.exec(reason);
  if (ppe)
    return fill(word(t.reasons, "requiredPpe"), {
      items: (ppe[1] ?? "")
        .split(", ")
        .map((i) => word(t.ppe, i))
        .join(t.listSep),
    });
  return word(t.reasons, reason);
}

/**
 * An engineer's name as lists show it: with the id when another engineer has the same name, so
 * two Zhang Weis can be told apart.
 */
export function engineerLabel(engineers: readonly Engineer[], id: string): string {
  const e = engineers.find((x) => x.id === id);
  if (!e) return id;
  const twins = engineers.filter((x) => x.name === e.name).length > 1;
  return twins ? `${e.name} (${e.id})` : e.name;
}

/** PPE: judged only once the engineer has checked in (work may not start before). */
export function gearText(t: Dict, v: VisitRow): { text: string; tone: "" | "ok" | "bad" } {
  if (v.gear.required.length === 0) return { text: t.board.noneRequired, tone: "" };
  if (v.gear.missing.length === 0) return { text: t.board.ok, tone: "ok" };
  if (v.violations.some((x) => x.kind === "work_without_gear"))
    return { text: v.gear.missing.map((i) => word(t.ppe, i)).join(t.listSep), tone: "bad" };
  if (!v.checkin?.consent) return { text: "—", tone: "" };
  return {
    text: fill(t.board.confirmedOf, { n: v.gear.confirmed.length, m: v.gear.required.length }),
    tone: "",
  };
}

/** Clean-up: a count while work goes on, red only when the engineer left without it. */
export function cleanupText(t: Dict, v: VisitRow): { text: string; tone: "" | "ok" | "bad" } {
  if (v.cleanup.completeAt !== null) return { text: t.board.ok, tone: "ok" };
  if (v.violations.some((x) => x.kind === "departed_without_cleanup"))
    return {
      text: fill(t.board.confirmedOf, { n: v.cleanup.signed.length, m: v.cleanup.required.length }),
      tone: "bad",
    };
  if (!v.completion && v.cleanup.signed.length === 0) return { text: "—", tone: "" };
  return {
    text: fill(t.board.confirmedOf, { n: v.cleanup.signed.length, m: v.cleanup.required.length }),
    tone: "",
  };
}

export function completionText(t: Dict, v: VisitRow): string {
  if (!v.completion) return "—";
  return fill(v.completion.resolved ? t.completion.resolved : t.completion.unresolved, {
    rating: v.completion.rating,
  });
}

/** The open not-on-site warning of a visit: the engineer is still not there and the window is closing. */
export function atRisk(v: VisitRow): { windowEndsAt: number } | null {
  if (v.arrival || v.cancelled || v.state !== "scheduled") return null;
  return v.warnings.find((w) => w.kind === "not_on_site") ?? null;
}

export const windowText = (v: Pick<VisitRow, "window">, zone: string, lang: Lang): string =>
  `${formatHm(v.window.from, zone, lang)}–${formatHm(v.window.to, zone, lang)}`;

/** Someone is on site: arrived and not yet gone. */
export const onSite = (v: VisitRow): boolean => v.arrival !== null && v.departure === null && !v.cancelled;
