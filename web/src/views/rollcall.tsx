/**
 * A site's roll-call: who is there now (checked in on a visit, a badge heard at the site), a drill
 * or an evacuation started here (an evacuation, once confirmed, tells everyone on the site's
 * contact list), each person marked safe or missing by the warden, the roll-call ended, and its
 * printable result (`#/rollcall/<site>/<id>/print`, an A4 page). Past roll-calls of the site below.
 * Other wardens mark the same list: it is fetched again every few seconds while open.
 */
import { useState } from "preact/hooks";
import type { RollCall, RollCallPerson } from "../api.js";
import { errorText, get, post } from "../data.js";
import { engineerLabel } from "../format.js";
import { type Dict, fill, formatDateTime, type Lang, word } from "../i18n.js";
import { go, rollCallHref, visitHref } from "../router.js";
import { canAcknowledge, siteOf, useApp, useT, zoneOf } from "../store.js";
import { Result } from "../ui/form.js";
import { usePoll } from "../ui/poll.js";

/** How often an open roll-call screen is fetched again (marks by other wardens, people arriving). */
export const ROLLCALL_REFRESH_MS = 5000;
const STATUSES = ["safe", "missing", "unknown"] as const;

const count = (rc: RollCall, s: RollCallPerson["status"]) => rc.people.filter((p) => p.status === s).length;

export function rollCallTitle(t: Dict, rc: Pick<RollCall, "kind">): string {
  return word(t.rollcall.kinds, rc.kind);
}

function Evidence({ p, t }: { p: RollCallPerson; t: Dict }) {
  if (p.evidence.length === 0) return <span class="muted">{t.rollcall.addedByHand}</span>;
  return (
    <span class="evidence-list">
      {p.evidence.map((e) => (
        <span key={e} class={`badge evidence-${e}`}>
          {word(t.rollcall.evidence, e)}
        </span>
      ))}
      {p.visitId && (
        <a href={visitHref(p.visitId)} class="visit-link">
          {fill(t.rollcall.visit, { id: p.visitId })}
        </a>
      )}
    </span>
  );
}

/** Safe, missing, not yet accounted for: the counts, as words. */
export function Counts({ rc, t }: { rc: RollCall; t: Dict }) {
  return (
    <ul class="rollcall-counts" id="rollcall-counts">
      {STATUSES.map((s) => (
        <li key={s} class={`mark mark-${s}`} data-count={s}>
          {word(t.rollcall.statuses, s)} <strong class="count-n">{count(rc, s)}</strong>
        </li>
      ))}
    </ul>
  );
}

function PresentNow({ people, t }: { people: RollCallPerson[]; t: Dict }) {
  const engineers = useApp((s) => s.engineers);
  return (
    <section class="panel" aria-labelledby="present-title">
      <h2 id="present-title">
        {t.rollcall.presentNow} <small class="muted">{fill(t.rollcall.people, { n: people.length })}</small>
      </h2>
      {people.length === 0 ? (
        <p class="muted" id="present-none">
          {t.rollcall.nobody}
        </p>
      ) : (
        <ul class="present" id="present-list">
          {people.map((p) => (
            <li key={p.engineerId} data-person={p.engineerId}>
              <strong>{engineerLabel(engineers, p.engineerId) || p.name}</strong>
              {p.company && <span class="muted"> · {p.company}</span>} <Evidence p={p} t={t} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function People({
  rc,
  t,
  lang,
  zone,
  canMark,
  onChanged,
  onError,
}: {
  rc: RollCall;
  t: Dict;
  lang: Lang;
  zone: string;
  canMark: boolean;
  onChanged: (rc: RollCall) => void;
  onError: (text: string) => void;
}) {
  const engineers = useApp((s) => s.engineers);
  const [busy, setBusy] = useState("");
  const open = rc.endedAt === null && canMark;
  const mark = async (engineerId: string, status: RollCallPerson["status"]) => {
    setBusy(engineerId);
    try {
      onChanged(
        await post<RollCall>(`/api/v1/rollcalls/${encodeURIComponent(rc.id)}/marks`, { engineerId, status }),
      );
    } catch (e) {
      onError(errorText(e));
    }
    setBusy("");
  };
  const others = engineers.filter((e) => !rc.people.some((p) => p.engineerId === e.id));
  return (
    <>
      {rc.people.length === 0 && <p class="muted">{t.rollcall.nobodyOnList}</p>}
      {rc.people.length > 0 && (
        <div class="table-wrap">
          <table class="list cards-on-phone rollcall-people" id="rollcall-people">
            <thead>
              <tr>
                <th scope="col">{t.rollcall.name}</th>
                <th scope="col">{t.rollcall.knownBy}</th>
                <th scope="col">{t.rollcall.status}</th>
                <th scope="col">{t.rollcall.markedBy}</th>
                {open && (
                  <th scope="col">
                    <span class="sr-only">{t.rollcall.mark}</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {rc.people.map((p) => (
                <tr
                  key={p.engineerId}
                  data-person={p.engineerId}
                  data-status={p.status}
                  class={`mark-row row-${p.status}`}
                >
                  <td data-label={t.rollcall.name}>
                    <span>
                      <strong>{engineerLabel(engineers, p.engineerId) || p.name}</strong>
                      {p.company && <span class="muted"> · {p.company}</span>}
                    </span>
                  </td>
                  <td data-label={t.rollcall.knownBy}>
                    <Evidence p={p} t={t} />
                  </td>
                  <td data-label={t.rollcall.status}>
                    <span class={`mark mark-${p.status}`}>{word(t.rollcall.statuses, p.status)}</span>
                  </td>
                  <td data-label={t.rollcall.markedBy}>
                    {p.markedAt === null
                      ? "—"
                      : `${p.markedBy ?? ""} · ${formatDateTime(p.markedAt, zone, lang)}`}
                  </td>
                  {open && (
                    <td data-label={t.rollcall.mark} class="mark-buttons">
                      {(["safe", "missing"] as const).map((s) => (
                        <button
                          key={s}
                          type="button"
                          class={`mark-button mark-${s}`}
                          data-mark={s}
                          aria-pressed={p.status === s}
                          disabled={busy === p.engineerId}
                          onClick={() => void mark(p.engineerId, p.status === s ? "unknown" : s)}
                        >
                          {word(t.rollcall.markAs, s)}
                          <span class="sr-only"> · {p.name}</span>
                        </button>
                      ))}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open && others.length > 0 && (
        <form
          id="add-person"
          class="add-person"
          onSubmit={(e) => {
            e.preventDefault();
            const id = String(new FormData(e.currentTarget).get("engineerId") ?? "");
            if (id) void mark(id, "safe");
          }}
        >
          <label>
            <span>{t.rollcall.addPerson}</span>
            <select name="engineerId">
              {others.map((e) => (
                <option key={e.id} value={e.id}>
                  {engineerLabel(engineers, e.id)} · {e.company}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">{t.rollcall.addSafe}</button>
        </form>
      )}
    </>
  );
}

export function RollCallView({ siteId, rollCallId }: { siteId: string; rollCallId: string }) {
  const t = useT();
  const lang = useApp((s) => s.lang);
  const sites = useApp((s) => s.sites);
  const canMark = useApp(canAcknowledge);
  const site = useApp((s) => siteOf(s, siteId)) ?? (siteId ? undefined : sites[0]);
  const sid = site?.id ?? siteId;
  const zone = useApp((s) => zoneOf(s, sid));
  const [list, setList] = useState<RollCall[] | null>(null);
  const [chosen, setChosen] = useState<RollCall | null>(null);
  const [present, setPresent] = useState<RollCallPerson[] | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const e = encodeURIComponent(sid);
  const reload = usePoll(
    async () => {
      if (!sid) return;
      try {
        const [rcs, here, one] = await Promise.all([
          get<RollCall[]>(`/api/v1/sites/${e}/rollcalls`),
          get<RollCallPerson[]>(`/api/v1/sites/${e}/present`),
          rollCallId
            ? get<RollCall>(`/api/v1/rollcalls/${encodeURIComponent(rollCallId)}`)
            : Promise.resolve(null),
        ]);
        setList([...rcs].sort((a, b) => b.startedAt - a.startedAt));
        setPresent(here);
        setChosen(one);
      } catch (err) {
        setResult({ ok: false, text: errorText(err) });
      }
    },
    ROLLCALL_REFRESH_MS,
    [sid, rollCallId],
  );
  const current =
    (rollCallId ? (chosen?.id === rollCallId ? chosen : null) : list?.find((r) => r.endedAt === null)) ??
    null;
  const shown = current && current.siteId === sid ? current : null;
  const replace = (rc: RollCall) => {
    setList((l) => (l ? l.map((x) => (x.id === rc.id ? rc : x)) : l));
    if (rollCallId) setChosen(rc);
  };
  const when = (ms: number) => formatDateTime(ms, zone, lang);
  const contacts = site?.contacts?.length ?? 0;
  const start = async (kind: "drill" | "evacuation") => {
    if (
      kind === "evacuation" &&
      !confirm(fill(t.rollcall.confirmEvacuation, { site: site?.name ?? sid, n: contacts }))
    )
      return;
    setBusy(true);
    try {
      const rc = await post<RollCall>(`/api/v1/sites/${e}/rollcalls`, { kind });
      setResult({
        ok: true,
        text:
          kind === "evacuation"
            ? fill(t.rollcall.evacuationStarted, { n: contacts })
            : t.rollcall.drillStarted,
      });
      setList((l) => [rc, ...(l ?? [])]);
      if (rollCallId) go(rollCallHref(sid));
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    }
    setBusy(false);
  };
  const end = async (rc: RollCall) => {
    const unknown = count(rc, "unknown");
    if (unknown > 0 && !confirm(fill(t.rollcall.confirmEnd, { n: unknown }))) return;
    try {
      const ended = await post<RollCall>(`/api/v1/rollcalls/${encodeURIComponent(rc.id)}/end`, {});
      replace(ended);
      setChosen(ended);
      setResult({ ok: true, text: t.rollcall.ended });
      // The ended roll-call stays on screen with its result (and its printable page).
      if (rollCallId !== ended.id) go(rollCallHref(sid, ended.id));
      else reload();
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    }
  };
  return (
    <section class="rollcall-view">
      <h1>
        {t.rollcall.title}
        {site && ` · ${site.name}`}
      </h1>
      <label class="filter site-pick">
        <span>{t.board.site}</span>
        <select
          id="rollcall-site"
          value={sid}
          onChange={(ev) => go(rollCallHref((ev.target as HTMLSelectElement).value))}
        >
          {sites.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <Result result={result} id="rollcall-result" />
      {shown ? (
        <section
          class={`panel rollcall-current ${shown.kind} ${shown.endedAt === null ? "open" : "ended"}`}
          id="rollcall-current"
          data-rollcall={shown.id}
          aria-labelledby="rollcall-current-title"
        >
          <h2 id="rollcall-current-title">
            {rollCallTitle(t, shown)}{" "}
            <span class="muted">
              {shown.endedAt === null
                ? t.rollcall.inProgress
                : fill(t.rollcall.endedAt, { at: when(shown.endedAt) })}
            </span>
          </h2>
          <p class="muted">
            {fill(t.rollcall.startedBy, { at: when(shown.startedAt), by: shown.startedBy })} ({zone})
          </p>
          <Counts rc={shown} t={t} />
          <People
            rc={shown}
            t={t}
            lang={lang}
            zone={zone}
            canMark={canMark}
            onChanged={replace}
            onError={(text) => setResult({ ok: false, text })}
          />
          <p class="action-row rollcall-actions">
            {shown.endedAt === null && canMark && (
              <button type="button" id="end-rollcall" onClick={() => void end(shown)}>
                {t.rollcall.end}
              </button>
            )}
            <a class="button" id="print-rollcall" href={rollCallHref(sid, shown.id, true)}>
              {t.rollcall.printable}
            </a>
            {rollCallId && <a href={rollCallHref(sid)}>{t.rollcall.backToSite}</a>}
          </p>
        </section>
      ) : (
        <>
          {present && <PresentNow people={present} t={t} />}
          {canMark ? (
            <section class="panel start-rollcall" aria-labelledby="start-title">
              <h2 id="start-title">{t.rollcall.start}</h2>
              <p class="hint">{fill(t.rollcall.evacuationHint, { n: contacts })}</p>
              <p class="action-row">
                <button type="button" id="start-drill" disabled={busy} onClick={() => void start("drill")}>
                  {t.rollcall.startDrill}
                </button>
                <button
                  type="button"
                  class="danger"
                  id="start-evacuation"
                  disabled={busy}
                  onClick={() => void start("evacuation")}
                >
                  {t.rollcall.startEvacuation}
                </button>
              </p>
            </section>
          ) : (
            <p class="hint">{t.rollcall.whoMayStart}</p>
          )}
        </>
      )}
      <section aria-labelledby="past-title">
        <h2 id="past-title">{t.rollcall.past}</h2>
        {list !== null && list.length === 0 && <p class="muted">{t.rollcall.noPast}</p>}
        {list !== null && list.length > 0 && (
          <div class="table-wrap">
            <table class="list cards-on-phone" id="rollcall-list">
              <thead>
                <tr>
                  <th scope="col">{t.rollcall.kind}</th>
                  <th scope="col">{t.rollcall.started}</th>
                  <th scope="col">{t.rollcall.endedCol}</th>
                  <th scope="col">{t.rollcall.result}</th>
                  <th scope="col">
                    <span class="sr-only">{t.rollcall.open}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((rc) => (
                  <tr key={rc.id} data-rollcall={rc.id} class={rc.id === shown?.id ? "current" : ""}>
                    <td data-label={t.rollcall.kind}>{rollCallTitle(t, rc)}</td>
                    <td data-label={t.rollcall.started}>
                      <span>
                        {when(rc.startedAt)} <span class="muted">· {rc.startedBy}</span>
                      </span>
                    </td>
                    <td data-label={t.rollcall.endedCol}>
                      {rc.endedAt === null ? t.rollcall.inProgress : when(rc.endedAt)}
                    </td>
                    <td data-label={t.rollcall.result}>
                      {STATUSES.map((s) => `${word(t.rollcall.statuses, s)} ${count(rc, s)}`).join(t.listSep)}
                    </td>
                    <td data-label={t.rollcall.open} class="row-links">
                      <span>
                        <a href={rollCallHref(sid, rc.id)}>{t.rollcall.open}</a> ·{" "}
                        <a href={rollCallHref(sid, rc.id, true)}>{t.rollcall.printable}</a>
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </section>
  );
}

/** The roll-call's result on an A4 page: who was on the list, safe or missing, who marked them and when. */
export function PrintableRollCall({ siteId, rollCallId }: { siteId: string; rollCallId: string }) {
  const t = useT();
  const lang = useApp((s) => s.lang);
  const engineers = useApp((s) => s.engineers);
  const site = useApp((s) => siteOf(s, siteId));
  const zone = useApp((s) => zoneOf(s, siteId));
  const [rc, setRc] = useState<RollCall | null>(null);
  const [error, setError] = useState("");
  usePoll(
    async () => {
      try {
        setRc(await get<RollCall>(`/api/v1/rollcalls/${encodeURIComponent(rollCallId)}`));
      } catch (e) {
        setError(errorText(e));
      }
    },
    ROLLCALL_REFRESH_MS,
    [rollCallId],
  );
  if (error)
    return (
      <main class="print-report" id="main">
        <p role="alert" class="error">
          {error}
        </p>
      </main>
    );
  if (!rc)
    return (
      <main class="print-report" id="main">
        <p class="muted">{t.loading}</p>
      </main>
    );
  const when = (ms: number | null) => (ms === null ? "—" : formatDateTime(ms, zone, lang));
  return (
    <main class="print-report rollcall-print" id="main">
      <p class="no-print crumbs">
        <a href={rollCallHref(siteId, rc.id)}>← {t.rollcall.title}</a>{" "}
        <button type="button" id="print" onClick={() => window.print()}>
          {t.visit.print}
        </button>
      </p>
      <header class="report-head">
        <h1>
          {rollCallTitle(t, rc)} · {site?.name ?? rc.siteId}
        </h1>
        <p class="muted">{fill(t.print.generated, { at: when(Date.now()) })}</p>
      </header>
      <dl class="facts report-facts">
        <dt>{t.visit.site}</dt>
        <dd>
          {site?.name ?? rc.siteId} ({zone})
        </dd>
        <dt>{t.rollcall.started}</dt>
        <dd>
          {when(rc.startedAt)} · {rc.startedBy}
        </dd>
        <dt>{t.rollcall.endedCol}</dt>
        <dd>{rc.endedAt === null ? t.rollcall.inProgress : when(rc.endedAt)}</dd>
        <dt>{t.rollcall.result}</dt>
        <dd>
          <Counts rc={rc} t={t} />
        </dd>
      </dl>
      <table class="rollcall-people print-people cards-on-phone">
        <thead>
          <tr>
            <th scope="col">{t.rollcall.name}</th>
            <th scope="col">{t.engineers.company}</th>
            <th scope="col">{t.rollcall.knownBy}</th>
            <th scope="col">{t.rollcall.status}</th>
            <th scope="col">{t.rollcall.markedBy}</th>
          </tr>
        </thead>
        <tbody>
          {rc.people.map((p) => (
            <tr key={p.engineerId} class={`mark-row row-${p.status}`}>
              <td data-label={t.rollcall.name}>{engineerLabel(engineers, p.engineerId) || p.name}</td>
              <td data-label={t.engineers.company}>{p.company}</td>
              <td data-label={t.rollcall.knownBy}>
                {p.evidence.length === 0
                  ? t.rollcall.addedByHand
                  : p.evidence.map((x) => word(t.rollcall.evidence, x)).join(t.listSep)}
                {p.visitId && ` · ${p.visitId}`}
              </td>
              <td data-label={t.rollcall.status}>
                <strong class={`mark mark-${p.status}`}>{word(t.rollcall.statuses, p.status)}</strong>
              </td>
              <td data-label={t.rollcall.markedBy}>
                {p.markedAt === null ? "—" : `${p.markedBy ?? ""} · ${when(p.markedAt)}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rc.people.length === 0 && <p>{t.rollcall.nobodyOnList}</p>}
      <p class="signature">{t.rollcall.signature}</p>
    </main>
  );
}
