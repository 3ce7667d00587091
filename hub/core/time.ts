/**
 * Wall time in a site's zone ↔ instants, with Luxon. DST: a wall time that does not exist (the
 * spring-forward gap) is refused; one that exists twice (the fall-back hour) must carry its offset.
 */
import { DateTime, IANAZone } from "luxon";
import type { ArrivalVerdict } from "../../protocol/api.js";
import type { ArrivalWindow } from "./model.js";

export class TimeError extends Error {
  override readonly name = "TimeError";
  constructor(
    readonly code: "bad_zone" | "bad_time" | "nonexistent_time" | "ambiguous_time" | "bad_window",
    message: string,
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
  }
}

export function assertZone(zone: string, field = "timeZone"): void {
  if (!IANAZone.isValidZone(zone))
    throw new TimeError("bad_zone", `unknown IANA time zone ${JSON.stringify(zone)}`, field);
}

const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/;

/** "2026-03-29T09:00" (site wall time) or "2026-03-29T09:00+02:00" / "…Z" (explicit) → epoch ms. */
export function wallToInstant(text: string, zone: string, field = "time"): number {
  assertZone(zone);
  const explicit = HAS_OFFSET.test(text);
  const dt = DateTime.fromISO(text, { zone, setZone: false });
  if (!dt.isValid) throw new TimeError("bad_time", `not an ISO date-time: ${JSON.stringify(text)}`, field);
  if (!explicit) {
    if (!sameWall(text, dt)) {
      throw new TimeError("nonexistent_time", `${text} does not exist in ${zone} (clocks skip it)`, field);
    }
    const options = dt.getPossibleOffsets();
    if (options.length > 1) {
      const forms = options.map((o) => o.toISO({ suppressMilliseconds: true, suppressSeconds: true }));
      throw new TimeError(
        "ambiguous_time",
        `${text} happens twice in ${zone}; give the offset: ${forms.join(" or ")}`,
        field,
      );
    }
  }
  return dt.toMillis();
}

function sameWall(text: string, dt: DateTime): boolean {
  const parsed = DateTime.fromISO(text, { zone: "UTC" });
  return (
    parsed.year === dt.year &&
    parsed.month === dt.month &&
    parsed.day === dt.day &&
    parsed.hour === dt.hour &&
    parsed.minute === dt.minute
  );
}

export function resolveWindow(from: string, to: string, zone: string): ArrivalWindow {
  const window = { from: wallToInstant(from, zone, "window.from"), to: wallToInstant(to, zone, "window.to") };
  if (window.to <= window.from)
    throw new TimeError("bad_window", "window must end after it starts", "window.to");
  if (window.to - window.from > 24 * 3_600_000)
    throw new TimeError("bad_window", "window longer than 24 h", "window.to");
  return window;
}

/** The site-local calendar date of an instant. */
export function localDate(instant: number, zone: string): string {
  return DateTime.fromMillis(instant, { zone }).toISODate() ?? "";
}

/** Formats an instant as site wall time with offset, for timelines and reports. */
export function toSiteIso(instant: number, zone: string): string {
  return DateTime.fromMillis(instant, { zone }).toISO({ suppressMilliseconds: true }) ?? "";
}

export type ArrivalClass = "early" | "on_time" | "late";

export type { ArrivalVerdict };

/** Classifies an arrival instant against the window. Real elapsed minutes: DST does not distort them. */
export function classifyArrival(at: number, window: ArrivalWindow): ArrivalVerdict {
  if (at < window.from) return { class: "early", minutes: Math.ceil((window.from - at) / 60_000) };
  if (at > window.to) return { class: "late", minutes: Math.ceil((at - window.to) / 60_000) };
  return { class: "on_time", minutes: 0 };
}
