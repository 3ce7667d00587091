/** The range view: the visits of several days (each site's own days), day by day, with the board's filters. */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { VisitRow } from "../api.js";
import { errorText, get } from "../data.js";
import { fill, formatDay, isoDay, sitesToday } from "../i18n.js";
import { go, href } from "../router.js";
import { putRows, update, useApp, useT, zoneOf } from "../store.js";
import { bySite, FilterBar, filtersOf, matches, SiteTable } from "./board.js";

const plusDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T12:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

export function RangeView({ query }: { query: URLSearchParams }) {
  const t = useT();
  const lang = useApp((s) => s.lang);
  const rows = useApp((s) => s.rows);
  const state = useApp((s) => s);
  const from = query.get("from") ?? sitesToday(state.sites);
  const to = query.get("to") ?? plusDays(from, 6);
  const filters = filtersOf(query);
  const generation = useApp((s) => s.generation);
  const [ids, setIds] = useState<string[] | null>(null);
  useEffect(() => {
    setIds(null);
    get<VisitRow[]>(`/api/v1/reports/visits?from=${from}&to=${to}`)
      .then((r) => {
        putRows(r);
        setIds(r.map((v) => v.visitId));
      })
      .catch((e: unknown) => update({ error: errorText(e) }));
  }, [from, to, generation]);
  const days = useMemo(() => {
    const out = new Map<string, VisitRow[]>();
    for (const id of ids ?? []) {
      const v = rows.get(id);
      if (!v || !matches(v, filters)) continue;
      const day = isoDay(v.window.from, zoneOf(state, v.siteId));
      out.set(day, [...(out.get(day) ?? []), v]);
    }
    return [...out.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [ids, rows, filters.site, filters.engineer, filters.state, filters.violation]);
  const nav = (q: Record<string, string | undefined>) =>
    go(href("range", undefined, { from, to, ...filters, ...q }));
  const total = days.reduce((n, [, list]) => n + list.length, 0);
  return (
    <section class="range-view">
      <h1>{t.range.title}</h1>
      <form
        class="range-form"
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          nav({ from: String(data.get("from")), to: String(data.get("to")) });
        }}
      >
        <label>
          <span>{t.range.from}</span>
          <input type="date" name="from" id="range-from" value={from} required />
        </label>
        <label>
          <span>{t.range.to}</span>
          <input type="date" name="to" id="range-to" value={to} required />
        </label>
        <button type="submit" id="range-show">
          {t.range.show}
        </button>
      </form>
      <FilterBar filters={filters} onChange={(f) => go(href("range", undefined, { from, to, ...f }))} />
      {ids === null ? (
        <p class="muted">{t.loading}</p>
      ) : total === 0 ? (
        <p class="muted">{t.board.noMatch}</p>
      ) : (
        <>
          <p class="muted" id="range-total">
            {total === 1 ? t.board.visitsOne : fill(t.board.visits, { n: total })}
          </p>
          {days.map(([day, list]) => (
            <section class="range-day" key={day}>
              <h2 class="day-head">
                <a href={href("board", undefined, { day })}>{formatDay(day, lang)}</a>
              </h2>
              {bySite(
                list,
                state.sites.map((s) => s.id),
              ).map(([siteId, siteRows]) => (
                <SiteTable key={siteId} siteId={siteId} rows={siteRows} idPrefix={`d${day}`} />
              ))}
            </section>
          ))}
        </>
      )}
    </section>
  );
}
