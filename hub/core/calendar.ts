import { DateTime } from "luxon";
import type { Site } from "./model.js";

/** The first working day strictly after the site-local date of `instant` (weekends, holidays skipped). */
export function nextWorkingDay(
  instant: number,
  site: Pick<Site, "timeZone" | "workingDays" | "holidays">,
): string {
  let day = DateTime.fromMillis(instant, { zone: site.timeZone }).startOf("day");
  for (let i = 0; i < 366; i++) {
    day = day.plus({ days: 1 });
    const iso = day.toISODate() ?? "";
    if (site.workingDays.includes(day.weekday) && !site.holidays.includes(iso)) return iso;
  }
  throw new RangeError("no working day within a year: check the site's workingDays and holidays");
}
