/**
 * The printable visit report (`#/visit/<id>/report`): the service report, the customer's
 * confirmations, the clean-up checklist as signed off, timeline, violations and the radio
 * evidence, laid out for an A4 page (print CSS in style.css).
 */
import { arrivalText } from "../format.js";
import { fill, formatDateTime, formatTime, word } from "../i18n.js";
import { visitHref } from "../router.js";
import { useApp, useT } from "../store.js";
import { History, PresenceTable, Timeline, useVisit, Violations } from "./visit.js";
import { CleanupChecklist, Confirmations, ServiceReport } from "./visit-facts.js";

export function PrintableReport({ id }: { id: string }) {
  const t = useT();
  const lang = useApp((s) => s.lang);
  const { loaded, error } = useVisit(id);
  if (error)
    return (
      <p role="alert" class="error">
        {error}
      </p>
    );
  if (!loaded) return <p class="muted">{t.loading}</p>;
  const { detail: d, presence } = loaded;
  const when = (ms: number) => formatDateTime(ms, d.timeZone, lang);
  return (
    <main class="print-report" id="main">
      <p class="no-print crumbs">
        <a href={visitHref(d.visitId)}>← {d.visitId}</a>{" "}
        <button type="button" id="print" onClick={() => window.print()}>
          {t.visit.print}
        </button>
      </p>
      <header class="report-head">
        <h1>{t.print.title}</h1>
        <p class="muted">
          {d.visitId} · {fill(t.print.generated, { at: when(Date.now()) })}
        </p>
      </header>
      <dl class="facts report-facts">
        <dt>{t.visit.site}</dt>
        <dd>
          {d.site?.name ?? d.siteId} ({d.timeZone})
        </dd>
        <dt>{t.visit.engineer}</dt>
        <dd>{d.engineer ? `${d.engineer.name} · ${d.engineer.company} (${d.engineer.id})` : d.engineerId}</dd>
        <dt>{t.visit.window}</dt>
        <dd>
          {when(d.window.from)} – {formatTime(d.window.to, d.timeZone, lang)}
        </dd>
        <dt>{t.visit.state}</dt>
        <dd>{word(t.states, d.state)}</dd>
        <dt>{t.visit.arrival}</dt>
        <dd>{d.arrival ? `${when(d.arrival.at)} · ${arrivalText(t, d)}` : "—"}</dd>
        <dt>{t.visit.workStarted}</dt>
        <dd>{d.workStartedAt === null ? "—" : when(d.workStartedAt)}</dd>
        <dt>{t.visit.departure}</dt>
        <dd>{d.departure ? when(d.departure.at) : "—"}</dd>
      </dl>
      <ServiceReport d={d} t={t} lang={lang} />
      <section>
        <h2>{t.print.confirmations}</h2>
        <Confirmations d={d} t={t} lang={lang} />
      </section>
      <CleanupChecklist d={d} t={t} lang={lang} />
      <Violations d={d} lang={lang} t={t} />
      <Timeline d={d} lang={lang} t={t} />
      <PresenceTable presence={presence} zone={d.timeZone} lang={lang} t={t} />
      <History d={d} lang={lang} t={t} />
    </main>
  );
}
