/**
 * Reports: punctuality over any range of days, per engineer and per site, and the same selection
 * downloaded as CSV (UTF-8 with a byte-order mark, for Excel) or XLSX.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { VisitRow } from "../api.js";
import { download } from "../api.js";
import { errorText, get } from "../data.js";
import { engineerLabel } from "../format.js";
import { fill, sitesToday } from "../i18n.js";
import { getState, update, useApp, useT } from "../store.js";
import { Field } from "../ui/form.js";

interface Tally {
  key: string;
  label: string;
  visits: number;
  arrived: number;
  onTime: number;
  late: number;
  noShow: number;
  violations: number;
  ratings: number[];
}

function tally(rows: VisitRow[], keyOf: (v: VisitRow) => string, labelOf: (k: string) => string): Tally[] {
  const out = new Map<string, Tally>();
  for (const v of rows) {
    const key = keyOf(v);
    let t = out.get(key);
    if (!t) {
      t = {
        key,
        label: labelOf(key),
        visits: 0,
        arrived: 0,
        onTime: 0,
        late: 0,
        noShow: 0,
        violations: 0,
        ratings: [],
      };
      out.set(key, t);
    }
    t.visits++;
    if (v.arrival) {
      t.arrived++;
      if (v.arrival.verdict.class === "late") t.late++;
      else t.onTime++;
    }
    if (v.state === "no_show") t.noShow++;
    t.violations += v.violations.length;
    if (v.completion) t.ratings.push(v.completion.rating);
  }
  return [...out.values()].sort((a, b) => a.label.localeCompare(b.label));
}

const pct = (n: number, of: number) => (of > 0 ? Math.round((n / of) * 100) : 0);

/** A horizontal bar with its value beside it, never clipped. */
function Bar({ value, max, label }: { value: number; max: number; label: string }) {
  return (
    <div class="hbar">
      <span class="hbar-label">{label}</span>
      <span class="hbar-track" aria-hidden="true">
        <span class="hbar-fill" style={{ width: `${max > 0 ? (value / max) * 100 : 0}%` }} />
      </span>
      <span class="hbar-value">{value}</span>
    </div>
  );
}

function TallyTable({ rows, caption, id }: { rows: Tally[]; caption: string; id: string }) {
  const t = useT();
  return (
    <div class="table-wrap">
      <table class="tally cards-on-phone" id={id}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{caption}</th>
            <th scope="col">{t.reports.visits}</th>
            <th scope="col">{t.reports.arrived}</th>
            <th scope="col">{t.reports.onTimeShare}</th>
            <th scope="col">{t.reports.late}</th>
            <th scope="col">{t.reports.noShow}</th>
            <th scope="col">{t.reports.violations}</th>
            <th scope="col">{t.reports.rating}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <th scope="row">{r.label}</th>
              <td data-label={t.reports.visits}>{r.visits}</td>
              <td data-label={t.reports.arrived}>{r.arrived}</td>
              <td data-label={t.reports.onTimeShare}>
                <span class="share">
                  <span class="share-fill" style={{ width: `${pct(r.onTime, r.arrived)}%` }} />
                </span>{" "}
                {r.arrived > 0 ? `${pct(r.onTime, r.arrived)}%` : "—"}
              </td>
              <td data-label={t.reports.late}>{r.late}</td>
              <td data-label={t.reports.noShow}>{r.noShow}</td>
              <td data-label={t.reports.violations}>{r.violations}</td>
              <td data-label={t.reports.rating}>
                {r.ratings.length
                  ? (r.ratings.reduce((a, b) => a + b, 0) / r.ratings.length).toFixed(1)
                  : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ReportsView() {
  const t = useT();
  const sites = useApp((s) => s.sites);
  const engineers = useApp((s) => s.engineers);
  const lang = useApp((s) => s.lang);
  const [q, setQ] = useState(() => ({
    from: sitesToday(sites),
    to: sitesToday(sites),
    site: "",
    engineer: "",
  }));
  const [rows, setRows] = useState<VisitRow[] | null>(null);
  const qs = new URLSearchParams({
    from: q.from,
    to: q.to,
    ...(q.site ? { site: q.site } : {}),
    ...(q.engineer ? { engineer: q.engineer } : {}),
  }).toString();
  useEffect(() => {
    setRows(null);
    get<VisitRow[]>(`/api/v1/reports/visits?${qs}`)
      .then(setRows)
      .catch((e: unknown) => update({ error: errorText(e) }));
  }, [qs]);
  const figures = useMemo(() => {
    const list = rows ?? [];
    const arrived = list.filter((v) => v.arrival);
    const onTime = arrived.filter((v) => v.arrival?.verdict.class !== "late").length;
    const buckets: Array<[string, number]> = [
      ["0", onTime],
      ["1–5", 0],
      ["6–15", 0],
      ["16–30", 0],
      [">30", 0],
    ];
    for (const v of arrived) {
      const m = v.arrival?.verdict.class === "late" ? v.arrival.verdict.minutes : 0;
      if (m > 0) (buckets[m <= 5 ? 1 : m <= 15 ? 2 : m <= 30 ? 3 : 4] as [string, number])[1]++;
    }
    return {
      arrived: arrived.length,
      onTime,
      buckets,
      perEngineer: tally(
        list,
        (v) => v.engineerId,
        (k) => engineerLabel(engineers, k),
      ),
      perSite: tally(
        list,
        (v) => v.siteId,
        (k) => sites.find((s) => s.id === k)?.name ?? k,
      ),
    };
  }, [rows, engineers, sites]);
  const save = (ext: "csv" | "xlsx") =>
    download(
      getState().token,
      `/api/v1/reports/visits.${ext}?${qs}${ext === "xlsx" ? `&lang=${lang}` : ""}`,
      `visits.${ext}`,
    ).catch((e: unknown) => update({ error: errorText(e) }));
  const set = (name: keyof typeof q) => (e: Event) =>
    setQ({ ...q, [name]: (e.target as HTMLInputElement).value });
  const max = Math.max(1, ...figures.buckets.map((b) => b[1]));
  return (
    <section class="reports">
      <h1>{t.reports.title}</h1>
      <form class="grid-form" onSubmit={(e) => e.preventDefault()}>
        <Field label={t.range.from}>
          <input type="date" id="rep-from" value={q.from} onChange={set("from")} required />
        </Field>
        <Field label={t.range.to}>
          <input type="date" id="rep-to" value={q.to} onChange={set("to")} required />
        </Field>
        <Field label={t.board.site}>
          <select id="rep-site" value={q.site} onChange={set("site")}>
            <option value="">{t.all}</option>
            {sites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t.board.engineer}>
          <select id="rep-engineer" value={q.engineer} onChange={set("engineer")}>
            <option value="">{t.all}</option>
            {engineers.map((e) => (
              <option key={e.id} value={e.id}>
                {engineerLabel(engineers, e.id)}
              </option>
            ))}
          </select>
        </Field>
      </form>
      <p class="downloads">
        <button type="button" id="csv" onClick={() => void save("csv")}>
          {t.reports.downloadCsv}
        </button>{" "}
        <button type="button" id="xlsx" onClick={() => void save("xlsx")}>
          {t.reports.downloadXlsx}
        </button>
        <span class="hint"> {t.reports.csvHint}</span>
      </p>
      {rows === null ? (
        <p class="muted">{t.loading}</p>
      ) : (
        <>
          <h2>{t.reports.punctuality}</h2>
          <div class="kpi">
            <span class="big" id="on-time-share">
              {pct(figures.onTime, figures.arrived)}%
            </span>{" "}
            {t.reports.onTimeShare} ({fill(t.reports.ofArrived, { n: figures.onTime, m: figures.arrived })})
          </div>
          <h3>{t.reports.lateness}</h3>
          <div class="bars">
            {figures.buckets.map(([k, n]) => (
              <Bar key={k} label={k} value={n} max={max} />
            ))}
          </div>
          <TallyTable rows={figures.perEngineer} caption={t.reports.perEngineer} id="per-engineer" />
          <TallyTable rows={figures.perSite} caption={t.reports.perSite} id="per-site" />
        </>
      )}
    </section>
  );
}
