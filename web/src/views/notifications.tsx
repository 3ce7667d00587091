/**
 * The notification outbox: every delivery (one notice × one recipient × one channel) with its
 * status (pending, delivered, failed), attempts, next attempt and last error; filtered by status
 * and site in the address. The outbox is not on the live stream, so the list is fetched again every
 * few seconds while the screen is open. A visit's page shows that visit's deliveries (the same table).
 */
import { useState } from "preact/hooks";
import type { Notification } from "../api.js";
import { errorText, get } from "../data.js";
import { type Dict, fill, formatDateTime, type Lang, mainZone, word } from "../i18n.js";
import { go, href, visitHref } from "../router.js";
import { type AppState, siteOf, useApp, useT, zoneOf } from "../store.js";
import { usePoll } from "../ui/poll.js";

/** How often an open outbox list is fetched again. */
export const NOTIFY_REFRESH_MS = 5000;
const STATUSES = ["pending", "delivered", "failed"] as const;

/** A recipient as the site's contact list names them (the id if the list no longer has them). */
const contactName = (state: AppState, siteId: string | null, id: string) =>
  (siteId ? siteOf(state, siteId)?.contacts?.find((c) => c.id === id)?.name : undefined) ?? id;

export function NotificationTable({
  items,
  t,
  lang,
  state,
  showVisit = true,
}: {
  items: Notification[];
  t: Dict;
  lang: Lang;
  state: AppState;
  showVisit?: boolean;
}) {
  const when = (ms: number | null, siteId: string | null) =>
    ms === null ? "—" : formatDateTime(ms, siteId ? zoneOf(state, siteId) : mainZone(state.sites), lang);
  return (
    <div class="table-wrap">
      <table class="list cards-on-phone notifications">
        <thead>
          <tr>
            <th scope="col">{t.notifications.created}</th>
            <th scope="col">{t.notifications.type}</th>
            <th scope="col">{t.notifications.status}</th>
            <th scope="col">{t.notifications.channel}</th>
            <th scope="col">{t.notifications.target}</th>
            {showVisit && <th scope="col">{t.notifications.where}</th>}
            <th scope="col">{t.notifications.attempts}</th>
            <th scope="col">{t.notifications.nextAt}</th>
            <th scope="col">{t.notifications.lastError}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((n) => (
            <tr key={n.id} data-notification={n.id} data-status={n.status} class={`status-${n.status}`}>
              <td data-label={t.notifications.created}>
                <time>{when(n.createdAt, n.siteId)}</time>
              </td>
              <td data-label={t.notifications.type}>{word(t.notifyTypes, n.type)}</td>
              <td data-label={t.notifications.status}>
                <span>
                  <span class={`outbox-status outbox-${n.status}`}>
                    {word(t.notifications.statuses, n.status)}
                  </span>
                  {n.deliveredAt !== null && <span class="muted"> {when(n.deliveredAt, n.siteId)}</span>}
                </span>
              </td>
              <td data-label={t.notifications.channel}>{word(t.channels, n.channel)}</td>
              <td class="target" data-label={t.notifications.target}>
                <span>
                  {n.recipient && <span>{contactName(state, n.siteId, n.recipient)} · </span>}
                  <code>{n.target}</code>
                </span>
              </td>
              {showVisit && (
                <td data-label={t.notifications.where}>
                  <span>
                    {n.siteId ? (siteOf(state, n.siteId)?.name ?? n.siteId) : "—"}
                    {n.visitId && (
                      <>
                        {" · "}
                        <a href={visitHref(n.visitId)}>{n.visitId}</a>
                      </>
                    )}
                  </span>
                </td>
              )}
              <td data-label={t.notifications.attempts}>{n.attempts}</td>
              <td data-label={t.notifications.nextAt}>
                {n.status === "pending" ? when(n.nextAt, n.siteId) : "—"}
              </td>
              <td class="last-error" data-label={t.notifications.lastError}>
                {n.lastError ? <span class={n.status === "failed" ? "bad" : ""}>{n.lastError}</span> : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The outbox, `limit` newest first, fetched again while shown. */
function useOutbox(query: Record<string, string>, limit: number) {
  const [items, setItems] = useState<Notification[] | null>(null);
  const [error, setError] = useState("");
  const qs = new URLSearchParams({
    ...Object.fromEntries(Object.entries(query).filter(([, v]) => v)),
    limit: String(limit),
  }).toString();
  usePoll(
    async () => {
      try {
        setItems(await get<Notification[]>(`/api/v1/notifications?${qs}`));
        setError("");
      } catch (e) {
        setError(errorText(e));
      }
    },
    NOTIFY_REFRESH_MS,
    [qs],
  );
  return { items, error };
}

export function NotificationsView({ query }: { query: URLSearchParams }) {
  const t = useT();
  const lang = useApp((s) => s.lang);
  const state = useApp((s) => s);
  const status = query.get("status") ?? "";
  const site = query.get("site") ?? "";
  const { items, error } = useOutbox({ status, site }, 500);
  const set = (patch: Record<string, string>) =>
    go(href("notifications", undefined, { status, site, ...patch }));
  const counts = STATUSES.map((s) => [s, (items ?? []).filter((n) => n.status === s).length] as const);
  return (
    <section class="notifications-view">
      <h1>{t.notifications.title}</h1>
      <p class="hint">{t.notifications.hint}</p>
      <fieldset class="filters">
        <legend>{t.board.filters}</legend>
        <label class="filter">
          <span>{t.notifications.status}</span>
          <select
            id="filter-status"
            value={status}
            onChange={(e) => set({ status: (e.target as HTMLSelectElement).value })}
          >
            <option value="">{t.all}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {word(t.notifications.statuses, s)}
              </option>
            ))}
          </select>
        </label>
        <label class="filter">
          <span>{t.board.site}</span>
          <select
            id="filter-site"
            value={site}
            onChange={(e) => set({ site: (e.target as HTMLSelectElement).value })}
          >
            <option value="">{t.all}</option>
            {state.sites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {items === null ? (
        <p class="muted">{t.loading}</p>
      ) : (
        <>
          <p id="outbox-count" class="muted">
            {fill(t.notifications.count, { n: items.length })}
            {!status &&
              items.length > 0 &&
              ` · ${counts.map(([s, n]) => `${word(t.notifications.statuses, s)} ${n}`).join(t.listSep)}`}
          </p>
          {items.length === 0 ? (
            <p class="muted" id="outbox-empty">
              {t.notifications.none}
            </p>
          ) : (
            <NotificationTable items={items} t={t} lang={lang} state={state} />
          )}
        </>
      )}
    </section>
  );
}

/** A visit's deliveries, on its page. */
export function VisitNotifications({ visitId }: { visitId: string }) {
  const t = useT();
  const lang = useApp((s) => s.lang);
  const state = useApp((s) => s);
  const { items, error } = useOutbox({ visit: visitId }, 200);
  return (
    <section id="visit-notifications">
      <h2>{t.notifications.ofVisit}</h2>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {items !== null && items.length === 0 && <p class="muted">{t.notifications.visitNone}</p>}
      {items !== null && items.length > 0 && (
        <NotificationTable items={items} t={t} lang={lang} state={state} showVisit={false} />
      )}
    </section>
  );
}
