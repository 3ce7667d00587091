/**
 * One visit: what happened and when (times with seconds), its alarms, violations with their
 * evidence, the service report, the audit trail of every change, the radio evidence and the
 * timeline; a dispatcher reschedules, reassigns, cancels or restores it here.
 */
import { useEffect, useState } from "preact/hooks";
import type { Alarm, Presence, VisitDetail } from "../api.js";
import { errorText, get } from "../data.js";
import { arrivalText, atRisk, engineerLabel, reasonText, violationText } from "../format.js";
import { type Dict, fill, formatDateTime, formatHm, formatTime, type Lang, word } from "../i18n.js";
import { href, reportHref } from "../router.js";
import { canDispatch, useApp, useT } from "../store.js";
import { AlarmItem } from "./alarms.js";
import { VisitNotifications } from "./notifications.js";
import { VisitActions } from "./visit-actions.js";
import { VisitFacts } from "./visit-facts.js";

export interface Loaded {
  detail: VisitDetail;
  presence: Presence[];
  alarms: Alarm[];
}

export async function loadVisit(id: string): Promise<Loaded> {
  const e = encodeURIComponent(id);
  const [detail, presence, alarms] = await Promise.all([
    get<VisitDetail>(`/api/v1/visits/${e}`),
    get<Presence[]>(`/api/v1/visits/${e}/presence`),
    get<Alarm[]>(`/api/v1/alarms?visit=${e}`),
  ]);
  return { detail, presence, alarms };
}

/** The visit, loaded again whenever the live stream changes its row or its alarms. */
export function useVisit(id: string): { loaded: Loaded | null; error: string; reload: () => void } {
  const row = useApp((s) => s.rows.get(id));
  const alarms = useApp((s) => s.alarms);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState("");
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    loadVisit(id)
      .then((l) => {
        if (!live) return;
        setLoaded(l);
        setError("");
      })
      .catch((e: unknown) => {
        if (live) setError(errorText(e));
      });
    return () => {
      live = false;
    };
  }, [id, row, alarms, n]);
  return { loaded: loaded?.detail.visitId === id ? loaded : null, error, reload: () => setN((x) => x + 1) };
}

function Sparkline({ samples }: { samples: Array<[number, number]> }) {
  if (samples.length < 2) return null;
  const t0 = (samples[0] as [number, number])[0];
  const t1 = (samples.at(-1) as [number, number])[0];
  const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * 120;
  const y = (v: number) => 24 - ((Math.max(-110, Math.min(-30, v)) + 110) / 80) * 24;
  const pts = samples.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  return (
    <svg class="spark" width="120" height="24" viewBox="0 0 120 24" role="img" aria-label="RSSI">
      <polyline fill="none" stroke="currentColor" points={pts} />
    </svg>
  );
}

export function PresenceTable({
  presence,
  zone,
  lang,
  t,
}: {
  presence: Presence[];
  zone: string;
  lang: Lang;
  t: Dict;
}) {
  if (presence.length === 0) return null;
  const when = (ms: number) => formatDateTime(ms, zone, lang);
  return (
    <section>
      <h2>{t.visit.presence}</h2>
      <div class="table-wrap">
        <table class="presence cards-on-phone">
          <thead>
            <tr>
              <th scope="col">{t.visit.gateway}</th>
              <th scope="col">{t.visit.firstHeard}</th>
              <th scope="col">{t.visit.lastHeard}</th>
              <th scope="col">{t.visit.departedAt}</th>
              <th scope="col">{t.visit.sightings}</th>
              <th scope="col">{t.visit.rssi}</th>
            </tr>
          </thead>
          <tbody>
            {presence.map((p) => {
              const values = p.rssi.map(([, v]) => v).sort((a, b) => a - b);
              const range = values.length
                ? `${values[0]} … ${values[Math.floor(values.length / 2)]} … ${values.at(-1)}`
                : "—";
              return (
                <tr key={p.id}>
                  <td data-label={t.visit.gateway}>{p.gateway}</td>
                  <td data-label={t.visit.firstHeard}>{when(p.arrivedAt)}</td>
                  <td data-label={t.visit.lastHeard}>{when(p.lastHeardAt)}</td>
                  <td data-label={t.visit.departedAt}>
                    {p.detectedAt === null ? t.visit.stillPresent : when(p.detectedAt)}
                  </td>
                  <td data-label={t.visit.sightings}>{p.sightings}</td>
                  <td data-label={t.visit.rssi}>
                    {range} <Sparkline samples={p.rssi} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function Timeline({ d, lang, t }: { d: VisitDetail; lang: Lang; t: Dict }) {
  const when = (ms: number) => formatDateTime(ms, d.timeZone, lang);
  return (
    <section>
      <h2>{t.visit.timeline}</h2>
      <div class="table-wrap">
        <table class="timeline cards-on-phone">
          <thead>
            <tr>
              <th scope="col">{t.visit.event}</th>
              <th scope="col">{t.visit.deviceTime}</th>
              <th scope="col">{t.visit.hubTime}</th>
              <th scope="col">{t.visit.status}</th>
              <th scope="col">{t.visit.evidence}</th>
            </tr>
          </thead>
          <tbody>
            {d.timeline.map((e) => (
              <tr
                key={`${e.ref.device}#${e.ref.counter}`}
                class={`${e.status}${e.lateData ? " late-data" : ""}`}
              >
                <td data-label={t.visit.event}>{word(t.events, e.type)}</td>
                <td data-label={t.visit.deviceTime}>
                  <time>{when(e.deviceTime)}</time>
                </td>
                <td data-label={t.visit.hubTime}>
                  <time>{when(e.hubTime)}</time>
                </td>
                <td data-label={t.visit.status}>
                  {word(t.statuses, e.status)}
                  {e.reason ? ` — ${reasonText(t, e.reason)}` : ""}
                  {e.lateData && <span class="badge"> {t.visit.lateData}</span>}
                </td>
                <td class="ref" data-label={t.visit.evidence}>
                  {e.ref.device}#{e.ref.counter}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function Violations({ d, lang, t }: { d: VisitDetail; lang: Lang; t: Dict }) {
  return (
    <section>
      <h2>{t.visit.violations}</h2>
      <ul class="evidence">
        {d.violations.length === 0 && <li>{t.none}</li>}
        {d.violations.map((v) => (
          <li key={`${v.kind}@${v.at}`}>
            <span class="badge bad">{violationText(t, v)}</span>{" "}
            <time>{formatDateTime(v.at, d.timeZone, lang)}</time> — {t.visit.evidence}:{" "}
            {v.evidence.map((e) => `${e.device}#${e.counter}`).join(", ") || "—"}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function History({ d, lang, t }: { d: VisitDetail; lang: Lang; t: Dict }) {
  const engineers = useApp((s) => s.engineers);
  const sites = useApp((s) => s.sites);
  const when = (ms: number) => formatDateTime(ms, d.timeZone, lang);
  return (
    <section>
      <h2>{t.visit.history}</h2>
      <ol class="history">
        {d.history.map((h) => {
          const parts: string[] = [];
          if (
            h.before &&
            (h.before.window.from !== h.after.window.from || h.before.window.to !== h.after.window.to)
          )
            parts.push(
              fill(t.visit.windowChange, {
                from: `${when(h.before.window.from)}–${formatHm(h.before.window.to, d.timeZone, lang)}`,
                to: `${when(h.after.window.from)}–${formatHm(h.after.window.to, d.timeZone, lang)}`,
              }),
            );
          if (h.before && h.before.engineerId !== h.after.engineerId)
            parts.push(
              fill(t.visit.engineerChange, {
                from: engineerLabel(engineers, h.before.engineerId),
                to: engineerLabel(engineers, h.after.engineerId),
              }),
            );
          if (h.before && h.before.siteId !== h.after.siteId)
            parts.push(
              fill(t.visit.siteChange, {
                from: sites.find((s) => s.id === h.before?.siteId)?.name ?? h.before.siteId,
                to: sites.find((s) => s.id === h.after.siteId)?.name ?? h.after.siteId,
              }),
            );
          if (h.kind === "created")
            parts.push(`${when(h.after.window.from)}–${formatHm(h.after.window.to, d.timeZone, lang)}`);
          return (
            <li key={`${h.at}-${h.kind}`} data-change={h.kind}>
              <strong>{word(t.changeKinds, h.kind)}</strong> <time>{when(h.at)}</time>
              {h.by && <span class="muted"> · {fill(t.visit.historyBy, { by: h.by })}</span>}
              {parts.length > 0 && <span> · {parts.join(" · ")}</span>}
              {h.note && <q>{h.note}</q>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

export function VisitView({ id }: { id: string }) {
  const t = useT();
  const lang = useApp((s) => s.lang);
  const engineers = useApp((s) => s.engineers);
  const dispatch = useApp(canDispatch);
  const { loaded, error, reload } = useVisit(id);
  if (error)
    return (
      <p role="alert" class="error">
        {error}
      </p>
    );
  if (!loaded) return <p class="muted">{t.loading}</p>;
  const { detail: d, presence, alarms } = loaded;
  const risk = atRisk({ ...d, alarmAcks: [] });
  return (
    <article class="visit-detail">
      <p class="crumbs">
        <a href={href("board")}>← {t.visit.back}</a> ·{" "}
        <a href={reportHref(d.visitId)} id="report-link">
          {t.visit.printReport}
        </a>
      </p>
      <h1>
        {d.engineer ? engineerLabel(engineers, d.engineer.id) : d.engineerId} · {d.site?.name ?? d.siteId} ·{" "}
        <span class={`state state-${d.state}`}>{word(t.states, d.state)}</span>
      </h1>
      <p class="muted">
        {d.visitId} · {t.visit.window}: {formatDateTime(d.window.from, d.timeZone, lang)} –{" "}
        {formatTime(d.window.to, d.timeZone, lang)} ({d.timeZone}) · {t.visit.arrival}: {arrivalText(t, d)}
      </p>
      {risk && (
        <p class="warning" role="status">
          ⚠ {fill(t.board.notOnSite, { time: formatHm(risk.windowEndsAt, d.timeZone, lang) })}
        </p>
      )}
      {alarms.length > 0 && (
        <section>
          <h2>{t.visit.alarmsOfVisit}</h2>
          <ul class="alarm-list">
            {alarms.map((a) => (
              <AlarmItem key={a.at} a={a} linkToVisit={false} />
            ))}
          </ul>
        </section>
      )}
      <VisitFacts d={d} lang={lang} t={t} />
      <Violations d={d} lang={lang} t={t} />
      {dispatch && <VisitActions d={d} onChanged={reload} />}
      <History d={d} lang={lang} t={t} />
      <VisitNotifications visitId={d.visitId} />
      <PresenceTable presence={presence} zone={d.timeZone} lang={lang} t={t} />
      <Timeline d={d} lang={lang} t={t} />
    </article>
  );
}
