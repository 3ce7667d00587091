/** The header's summary across sites, each site's own today: on site now, late, at risk, incidents, open alarms. */
import { useMemo } from "preact/hooks";
import type { VisitRow } from "./api.js";
import { atRisk, onSite } from "./format.js";
import { isoDay } from "./i18n.js";
import { href } from "./router.js";
import { type AppState, useApp, useT, zoneOf } from "./store.js";

/** The rows of each site's own today. */
export function todaysRows(s: Pick<AppState, "rows" | "sites">, now = Date.now()): VisitRow[] {
  const out: VisitRow[] = [];
  for (const v of s.rows.values()) {
    const zone = zoneOf(s as AppState, v.siteId);
    const today = isoDay(now, zone);
    if (isoDay(v.window.from, zone) <= today && isoDay(v.window.to - 1, zone) >= today) out.push(v);
  }
  return out;
}

export function Summary() {
  const t = useT();
  const rows = useApp((s) => s.rows);
  const sites = useApp((s) => s.sites);
  const alarms = useApp((s) => s.alarms);
  const figures = useMemo(() => {
    const today = todaysRows({ rows, sites });
    const open = alarms.filter((a) => a.ack === null);
    return {
      onSite: today.filter(onSite).length,
      late: today.filter((v) => v.arrival?.verdict.class === "late" || v.state === "no_show").length,
      atRisk: today.filter((v) => atRisk(v) !== null).length,
      // Sites in `incident`: as the hub's site status, any alarm not yet acknowledged.
      incidents: new Set(open.map((a) => a.siteId)).size,
      openAlarms: open.length,
    };
  }, [rows, sites, alarms]);
  const item = (key: keyof typeof figures, tone: string, to: string) => (
    <li class={figures[key] > 0 ? `figure ${tone}` : "figure"}>
      <a href={to} id={`sum-${key}`}>
        <strong>{figures[key]}</strong> <span>{t.summary[key]}</span>
      </a>
    </li>
  );
  return (
    <section class="summary" aria-label={t.summary.label}>
      <ul>
        {item("onSite", "info", href("board"))}
        {item("late", "warn", href("board", undefined, { violation: "late_arrival" }))}
        {item("atRisk", "warn", href("board"))}
        {item("incidents", "bad", href("alarms"))}
        {item("openAlarms", "bad", href("alarms"))}
      </ul>
    </section>
  );
}
