/**
 * The board: the visits of any day (each site's own day), per site, with filters by site,
 * engineer, state and violation. Rows are memoised: a live update re-renders only its own row.
 */

import { useEffect, useMemo, useState } from "preact/hooks";
import { alarmsOf, VIOLATION_KINDS, VISIT_STATES } from "../../../protocol/browser.js";
import type { VisitRow } from "../api.js";
import { errorText, get } from "../data.js";
import {
  arrivalText,
  atRisk,
  cleanupText,
  completionText,
  engineerLabel,
  gearText,
  violationText,
  windowText,
} from "../format.js";
import { type Dict, fill, formatDay, formatHm, isoDay, type Lang, sitesToday, word } from "../i18n.js";
import { go, href, visitHref } from "../router.js";
import { type AppState, putRows, update, useApp, useT, zoneOf } from "../store.js";
import { memo } from "../ui/memo.js";

export interface Filters {
  site?: string | undefined;
  engineer?: string | undefined;
  state?: string | undefined;
  violation?: string | undefined;
}

export const filtersOf = (q: URLSearchParams): Filters => ({
  site: q.get("site") ?? undefined,
  engineer: q.get("engineer") ?? undefined,
  state: q.get("state") ?? undefined,
  violation: q.get("violation") ?? undefined,
});

export function matches(v: VisitRow, f: Filters): boolean {
  if (f.site && v.siteId !== f.site) return false;
  if (f.engineer && v.engineerId !== f.engineer) return false;
  if (f.state && v.state !== f.state) return false;
  if (f.violation === "any") return v.violations.length > 0;
  if (f.violation && !v.violations.some((x) => x.kind === f.violation)) return false;
  return true;
}

/** The rows whose window touches `day` in their site's zone. */
export function rowsOfDay(s: Pick<AppState, "rows" | "sites">, day: string): VisitRow[] {
  const out: VisitRow[] = [];
  for (const v of s.rows.values()) {
    const zone = zoneOf(s as AppState, v.siteId);
    if (isoDay(v.window.from, zone) <= day && isoDay(v.window.to - 1, zone) >= day) out.push(v);
  }
  return out;
}

const shiftDay = (day: string, n: number) =>
  new Date(Date.parse(`${day}T12:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** Site, engineer, state and violation filters, kept in the address. */
export function FilterBar({ filters, onChange }: { filters: Filters; onChange: (f: Filters) => void }) {
  const t = useT();
  const sites = useApp((s) => s.sites);
  const engineers = useApp((s) => s.engineers);
  const select = (name: keyof Filters, label: string, options: Array<[string, string]>) => (
    <label class="filter">
      <span>{label}</span>
      <select
        name={name}
        id={`filter-${name}`}
        value={filters[name] ?? ""}
        onChange={(e) => onChange({ ...filters, [name]: (e.target as HTMLSelectElement).value || undefined })}
      >
        <option value="">{t.all}</option>
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <fieldset class="filters">
      <legend>{t.board.filters}</legend>
      {select(
        "site",
        t.board.site,
        sites.map((s) => [s.id, s.name]),
      )}
      {select(
        "engineer",
        t.board.engineer,
        engineers.map((e) => [e.id, engineerLabel(engineers, e.id)]),
      )}
      {select(
        "state",
        t.board.state,
        VISIT_STATES.map((s) => [s, word(t.states, s)]),
      )}
      {select("violation", t.board.violation, [
        ["any", t.board.anyViolation],
        ...VIOLATION_KINDS.map((k): [string, string] => [k, word(t.violations, k)]),
      ])}
    </fieldset>
  );
}

interface RowProps {
  v: VisitRow;
  zone: string;
  lang: Lang;
  t: Dict;
  engineer: string;
}

/** One visit on the board; re-rendered only when its row (or the language) changes. */
export const BoardRow = memo<RowProps>(function BoardRow({ v, zone, lang, t, engineer }) {
  const gear = gearText(t, v);
  const cleanup = cleanupText(t, v);
  const risk = atRisk(v);
  const alarm = alarmsOf(v).some((a) => !v.alarmAcks.includes(a.at));
  return (
    <tr
      data-visit={v.visitId}
      class={`state-${v.state}${alarm ? " has-alarm" : ""}${risk ? " at-risk" : ""}`}
      onClick={(e) => {
        if (!(e.target as HTMLElement).closest("a")) go(visitHref(v.visitId));
      }}
    >
      <td class="engineer" data-label={t.board.engineer}>
        <a href={visitHref(v.visitId)}>
          {engineer}
          <span class="sr-only"> · {v.visitId}</span>
        </a>
        {risk && (
          <p class="warning" role="status">
            ⚠ {fill(t.board.notOnSite, { time: formatHm(risk.windowEndsAt, zone, lang) })}
          </p>
        )}
      </td>
      <td class="window" data-label={t.board.window}>
        {windowText(v, zone, lang)}
      </td>
      <td class="state" data-label={t.board.state}>
        {word(t.states, v.state)}
      </td>
      <td class={`arrival ${v.arrival?.verdict.class ?? ""}`} data-label={t.board.arrival}>
        {arrivalText(t, v)}
      </td>
      <td class={`gear ${gear.tone}`} data-label={t.board.ppe}>
        {gear.text}
      </td>
      <td class="completion" data-label={t.board.completion}>
        {completionText(t, v)}
      </td>
      <td class={`cleanup ${cleanup.tone}`} data-label={t.board.cleanup}>
        {cleanup.text}
      </td>
      <td class="violations" data-label={t.board.violations}>
        {v.violations.length === 0 ? (
          <span class="muted">{t.none}</span>
        ) : (
          v.violations.map((x) => (
            <span key={`${x.kind}@${x.at}`} class="badge bad" data-kind={x.kind}>
              {violationText(t, x)}
            </span>
          ))
        )}
      </td>
    </tr>
  );
});

/** The visits of one site: the same columns and widths for every site. */
export function SiteTable({
  siteId,
  rows,
  idPrefix = "site",
}: {
  siteId: string;
  rows: VisitRow[];
  idPrefix?: string;
}) {
  const t = useT();
  const lang = useApp((s) => s.lang);
  const sites = useApp((s) => s.sites);
  const engineers = useApp((s) => s.engineers);
  const site = sites.find((s) => s.id === siteId);
  const zone = site?.timeZone ?? "UTC";
  const headId = `${idPrefix}-${siteId}`.replace(/[^A-Za-z0-9_-]/g, "_");
  return (
    <section class="site" aria-labelledby={headId}>
      <h2 id={headId}>
        {site?.name ?? siteId} <small>{zone}</small>{" "}
        <small class="count">
          {rows.length === 1 ? t.board.visitsOne : fill(t.board.visits, { n: rows.length })}
        </small>
      </h2>
      <table class="board">
        <colgroup>
          <col class="c-engineer" />
          <col class="c-window" />
          <col class="c-state" />
          <col class="c-arrival" />
          <col class="c-gear" />
          <col class="c-completion" />
          <col class="c-cleanup" />
          <col class="c-violations" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">{t.board.engineer}</th>
            <th scope="col">{t.board.window}</th>
            <th scope="col">{t.board.state}</th>
            <th scope="col">{t.board.arrival}</th>
            <th scope="col">{t.board.ppe}</th>
            <th scope="col">{t.board.completion}</th>
            <th scope="col">{t.board.cleanup}</th>
            <th scope="col">{t.board.violations}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((v) => (
            <BoardRow
              key={v.visitId}
              v={v}
              zone={zone}
              lang={lang}
              t={t}
              engineer={engineerLabel(engineers, v.engineerId)}
            />
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Rows grouped by site (in the sites' order), each by window start. */
export function bySite(rows: VisitRow[], siteOrder: readonly string[]): Array<[string, VisitRow[]]> {
  const groups = new Map<string, VisitRow[]>();
  for (const v of rows) {
    const g = groups.get(v.siteId);
    if (g) g.push(v);
    else groups.set(v.siteId, [v]);
  }
  for (const g of groups.values())
    g.sort((a, b) => a.window.from - b.window.from || a.visitId.localeCompare(b.visitId));
  return [...groups.entries()].sort(
    ([a], [b]) => (siteOrder.indexOf(a) >>> 0) - (siteOrder.indexOf(b) >>> 0) || a.localeCompare(b),
  );
}

/** The days loaded since the last full load (`generation|day`); the live stream keeps them current. */
const loadedDays = new Set<string>();

export function BoardView({ query }: { query: URLSearchParams }) {
  const t = useT();
  const lang = useApp((s) => s.lang);
  const rows = useApp((s) => s.rows);
  const sites = useApp((s) => s.sites);
  const generation = useApp((s) => s.generation);
  const day = query.get("day") ?? sitesToday(sites);
  const filters = filtersOf(query);
  const loadKey = `${generation}|${day}`;
  const [loading, setLoading] = useState(!loadedDays.has(loadKey));
  useEffect(() => {
    if (loadedDays.has(loadKey)) return;
    setLoading(true);
    get<VisitRow[]>(`/api/v1/visits?day=${day}`)
      .then((r) => {
        loadedDays.add(loadKey);
        putRows(r);
      })
      .catch((e: unknown) => update({ error: errorText(e) }))
      .finally(() => setLoading(false));
  }, [loadKey]);
  const groups = useMemo(() => {
    const all = rowsOfDay({ rows, sites }, day);
    return {
      total: all.length,
      groups: bySite(
        all.filter((v) => matches(v, filters)),
        sites.map((s) => s.id),
      ),
    };
  }, [rows, sites, day, filters.site, filters.engineer, filters.state, filters.violation]);
  const to = (d: string, f: Filters = filters) => go(href("board", undefined, { day: d, ...f }));
  return (
    <section class="board-view">
      <div class="toolbar">
        <h1>{formatDay(day, lang)}</h1>
        <div class="day-picker">
          <button type="button" id="day-prev" aria-label={t.board.prev} onClick={() => to(shiftDay(day, -1))}>
            ‹
          </button>
          <label>
            <span class="sr-only">{t.board.day}</span>
            <input
              type="date"
              id="day"
              value={day}
              onChange={(e) => {
                const v = (e.target as HTMLInputElement).value;
                if (v) to(v);
              }}
            />
          </label>
          <button type="button" id="day-next" aria-label={t.board.next} onClick={() => to(shiftDay(day, 1))}>
            ›
          </button>
          <button type="button" id="day-today" onClick={() => to(sitesToday(sites))}>
            {t.board.today}
          </button>
        </div>
      </div>
      <FilterBar filters={filters} onChange={(f) => to(day, f)} />
      {loading && groups.total === 0 ? (
        <p class="muted">{t.loading}</p>
      ) : groups.total === 0 ? (
        <p class="muted">{t.board.noVisits}</p>
      ) : groups.groups.length === 0 ? (
        <p class="muted">{t.board.noMatch}</p>
      ) : (
        groups.groups.map(([siteId, list]) => <SiteTable key={siteId} siteId={siteId} rows={list} />)
      )}
    </section>
  );
}
