/** A dispatcher's changes to a visit: reschedule or reassign, cancel, restore — each kept in its audit trail. */
import { useState } from "preact/hooks";
import type { VisitDetail } from "../api.js";
import { errorText, patch, post } from "../data.js";
import { engineerLabel } from "../format.js";
import { useApp, useT } from "../store.js";

/** `2026-11-25T09:00:00+08:00` → `2026-11-25T09:00` (a datetime-local value, site wall time). */
const wall = (iso: string) => iso.slice(0, 16);

export function VisitActions({ d, onChanged }: { d: VisitDetail; onChanged: () => void }) {
  const t = useT();
  const engineers = useApp((s) => s.engineers);
  const sites = useApp((s) => s.sites);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const run = async (what: () => Promise<unknown>) => {
    try {
      await what();
      setMessage({ ok: true, text: t.saved });
      onChanged();
    } catch (e) {
      setMessage({ ok: false, text: errorText(e) });
    }
  };
  const id = encodeURIComponent(d.visitId);
  const arrived = d.arrival !== null;
  return (
    <section class="visit-actions">
      {!d.cancelled && (
        <details class="panel" open={false}>
          <summary>{t.visit.edit}</summary>
          <form
            id="edit-visit"
            class="grid-form"
            onSubmit={(e) => {
              e.preventDefault();
              const f = new FormData(e.currentTarget);
              const from = String(f.get("from"));
              const to = String(f.get("to"));
              const engineerId = String(f.get("engineerId"));
              const siteId = String(f.get("siteId"));
              const note = String(f.get("note") ?? "").trim();
              const body = {
                ...(from !== wall(d.windowLocal.from) || to !== wall(d.windowLocal.to)
                  ? { window: { from, to } }
                  : {}),
                ...(engineerId !== d.engineerId ? { engineerId } : {}),
                ...(siteId !== d.siteId ? { siteId } : {}),
                ...(note ? { note } : {}),
              };
              void run(() => patch(`/api/v1/visits/${id}`, body));
            }}
          >
            <label>
              <span>
                {t.visit.from} ({d.timeZone})
              </span>
              <input type="datetime-local" name="from" defaultValue={wall(d.windowLocal.from)} required />
            </label>
            <label>
              <span>
                {t.visit.to} ({d.timeZone})
              </span>
              <input type="datetime-local" name="to" defaultValue={wall(d.windowLocal.to)} required />
            </label>
            <label>
              <span>{t.visit.engineer}</span>
              <select name="engineerId" defaultValue={d.engineerId} disabled={arrived}>
                {engineers.map((e) => (
                  <option key={e.id} value={e.id}>
                    {engineerLabel(engineers, e.id)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <span>{t.visit.site}</span>
              <select name="siteId" defaultValue={d.siteId} disabled={arrived}>
                {sites.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
            <label class="wide">
              <span>{t.visit.note}</span>
              <input name="note" maxLength={500} />
            </label>
            <button type="submit">{t.visit.apply}</button>
          </form>
        </details>
      )}
      {!d.cancelled ? (
        <details class="panel danger">
          <summary>{t.visit.cancelVisit}</summary>
          <form
            id="cancel-visit"
            class="grid-form"
            onSubmit={(e) => {
              e.preventDefault();
              const reason = String(new FormData(e.currentTarget).get("reason") ?? "").trim();
              void run(() => post(`/api/v1/visits/${id}/cancel`, { reason }));
            }}
          >
            <label class="wide">
              <span>{t.visit.cancelReason}</span>
              <input name="reason" required maxLength={500} />
            </label>
            <button type="submit" class="danger">
              {t.visit.cancelVisit}
            </button>
          </form>
        </details>
      ) : (
        <form
          id="restore-visit"
          class="grid-form panel"
          onSubmit={(e) => {
            e.preventDefault();
            const note = String(new FormData(e.currentTarget).get("note") ?? "").trim();
            void run(() => post(`/api/v1/visits/${id}/restore`, note ? { note } : {}));
          }}
        >
          <label class="wide">
            <span>{t.visit.restoreNote}</span>
            <input name="note" maxLength={500} />
          </label>
          <button type="submit">{t.visit.restore}</button>
        </form>
      )}
      {message && (
        <p
          role={message.ok ? "status" : "alert"}
          class={message.ok ? "ok" : "error"}
          id="visit-action-result"
        >
          {message.text}
        </p>
      )}
    </section>
  );
}
