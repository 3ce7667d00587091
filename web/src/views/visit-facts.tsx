/** What a visit's summary says, step by step, in words: shared by the visit screen and its printed report. */
import type { VisitDetail } from "../api.js";
import { arrivalText } from "../format.js";
import { type Dict, fill, formatDateTime, type Lang, word } from "../i18n.js";

export function ServiceReport({ d, t, lang }: { d: VisitDetail; t: Dict; lang: Lang }) {
  const r = d.report;
  return (
    <section class="service-report">
      <h2>{t.visit.report}</h2>
      {!r ? (
        <p class="muted">{t.visit.noReport}</p>
      ) : (
        <dl class="facts">
          <dt>{t.visit.cause}</dt>
          <dd>{r.cause}</dd>
          <dt>{t.visit.parts}</dt>
          <dd>
            {r.parts.length === 0 ? (
              t.none
            ) : (
              <ul>
                {r.parts.map((p, i) => (
                  <li key={i}>
                    {p.name} × {p.quantity}
                    {p.partNo ? ` (${fill(t.visit.partNo, { no: p.partNo })})` : ""}
                  </li>
                ))}
              </ul>
            )}
          </dd>
          <dt>{t.visit.workDone}</dt>
          <dd>{r.workDone}</dd>
          <dt>{t.visit.advice}</dt>
          <dd>{r.advice || "—"}</dd>
          <dt>{t.visit.hubTime}</dt>
          <dd>
            <time>{formatDateTime(r.at, d.timeZone, lang)}</time>
          </dd>
        </dl>
      )}
    </section>
  );
}

export function CleanupChecklist({ d, t, lang }: { d: VisitDetail; t: Dict; lang: Lang }) {
  return (
    <section class="cleanup-list">
      <h2>{t.visit.cleanup}</h2>
      <ul class="signoff">
        {d.cleanup.required.map((item) => {
          const done = d.cleanup.signed.includes(item);
          return (
            <li key={item} class={done ? "signed" : "unsigned"}>
              <span aria-hidden="true">{done ? "☑" : "☐"}</span> {word(t.cleanupItems, item)} —{" "}
              {done ? t.visit.signed : t.visit.notSigned}
            </li>
          );
        })}
      </ul>
      {d.cleanup.completeAt !== null && (
        <p class="ok">
          {fill(t.visit.cleanupComplete, { at: formatDateTime(d.cleanup.completeAt, d.timeZone, lang) })}
        </p>
      )}
    </section>
  );
}

export function Confirmations({ d, t, lang }: { d: VisitDetail; t: Dict; lang: Lang }) {
  const when = (ms: number) => formatDateTime(ms, d.timeZone, lang);
  const c = d.checkin;
  return (
    <dl class="facts">
      <dt>{t.visit.checkin}</dt>
      <dd>
        {!c
          ? "—"
          : c.consent
            ? fill(t.visit.checkinConsent, { at: when(c.at) })
            : c.refusedReason === "unqualified"
              ? fill(t.visit.checkinRefusedUnqualified, { at: when(c.at) })
              : fill(t.visit.checkinRefused, { at: when(c.at) })}
      </dd>
      <dt>{t.visit.completion}</dt>
      <dd>
        {!d.completion ? (
          "—"
        ) : (
          <>
            {d.completion.resolved ? t.visit.resolved : t.visit.unresolved} · {t.visit.rating}{" "}
            <span aria-hidden="true">{"★".repeat(d.completion.rating)}</span>
            <span class="sr-only">{d.completion.rating}/5</span> · <time>{when(d.completion.at)}</time>
            {d.completion.comment && (
              <>
                {" "}
                · {t.visit.comment}: <q>{d.completion.comment}</q>
              </>
            )}
          </>
        )}
      </dd>
    </dl>
  );
}

export function VisitFacts({ d, t, lang }: { d: VisitDetail; t: Dict; lang: Lang }) {
  const when = (ms: number) => formatDateTime(ms, d.timeZone, lang);
  const notice = d.advanceNotice;
  return (
    <section class="facts-section">
      <dl class="facts">
        <dt>{t.visit.arrival}</dt>
        <dd>
          {d.arrival ? (
            <>
              <time>{when(d.arrival.at)}</time> · {arrivalText(t, d)} · {word(t.sources, d.arrival.source)}
            </>
          ) : (
            "—"
          )}
          {notice && (
            <p>
              {fill(t.visit.advanceNotice, {
                at: when(notice.receivedAt),
                eta: when(notice.eta),
                reason: word(t.lateReasons, notice.reason),
              })}
            </p>
          )}
        </dd>
        <dt>{t.visit.ppe}</dt>
        <dd>
          {d.gear.required.length === 0
            ? t.board.noneRequired
            : d.gear.completeAt !== null
              ? fill(t.visit.ppeComplete, { at: when(d.gear.completeAt) })
              : fill(t.visit.ppePending, { n: d.gear.confirmed.length, m: d.gear.required.length })}
          {d.gear.required.length > 0 && (
            <span class="muted"> ({d.gear.required.map((i) => word(t.ppe, i)).join(t.listSep)})</span>
          )}
        </dd>
        <dt>{t.visit.workStarted}</dt>
        <dd>{d.workStartedAt === null ? "—" : <time>{when(d.workStartedAt)}</time>}</dd>
        <dt>{t.visit.departure}</dt>
        <dd>
          {d.departure ? (
            <>
              <time>{when(d.departure.at)}</time> · {word(t.sources, d.departure.source)}
            </>
          ) : (
            "—"
          )}
        </dd>
        {d.followUp && (
          <>
            <dt>{t.visit.followUpLabel}</dt>
            <dd class="followup">{fill(t.visit.followUp, { date: d.followUp.dueDate })}</dd>
          </>
        )}
        {d.cancelled && (
          <>
            <dt>{t.board.cancelled}</dt>
            <dd>
              {fill(t.visit.cancelledAt, { at: when(d.cancelled.at), reason: d.cancelled.reason ?? "—" })}
            </dd>
          </>
        )}
      </dl>
      <Confirmations d={d} t={t} lang={lang} />
      <ServiceReport d={d} t={t} lang={lang} />
      <CleanupChecklist d={d} t={t} lang={lang} />
    </section>
  );
}
