/**
 * Alarms in one list: open first, the most severe (SOS) before the rest, the newest first; each
 * opens its visit; acknowledged one at a time or several at once, with a note.
 */
import { useState } from "preact/hooks";
import type { Alarm, AlarmAckResult } from "../api.js";
import { applyAck, errorText, post } from "../data.js";
import { engineerLabel } from "../format.js";
import { fill, formatDateTime, word } from "../i18n.js";
import { visitHref } from "../router.js";
import { canAcknowledge, getState, siteOf, update, useApp, useT, zoneOf } from "../store.js";
import { alarmTitle } from "./alarm-bar.js";

const key = (a: Pick<Alarm, "visitId" | "at">) => `${a.visitId}@${a.at}`;

export async function acknowledge(alarms: readonly Alarm[], note: string): Promise<void> {
  const r = await post<AlarmAckResult>("/api/v1/alarms/ack", {
    alarms: alarms.map((a) => ({ visitId: a.visitId, alarmAt: a.at })),
    ...(note.trim() ? { note: note.trim() } : {}),
  });
  for (const a of r.acknowledged) applyAck(a, a.note);
}

export function AckButton({
  alarms,
  note = "",
  onDone,
}: {
  alarms: Alarm[];
  note?: string;
  onDone?: () => void;
}) {
  const t = useT();
  const allowed = useApp(canAcknowledge);
  const [busy, setBusy] = useState(false);
  if (!allowed) return null;
  return (
    <button
      type="button"
      class="ack"
      disabled={busy}
      data-ack={alarms.map(key).join(" ")}
      onClick={async () => {
        setBusy(true);
        try {
          await acknowledge(alarms, note);
          onDone?.();
        } catch (e) {
          update({ error: errorText(e) });
        }
        setBusy(false);
      }}
    >
      {t.alarms.acknowledge}
    </button>
  );
}

export function AlarmItem({
  a,
  selected,
  onSelect,
  note,
  linkToVisit = true,
}: {
  a: Alarm;
  selected?: boolean;
  onSelect?: (on: boolean) => void;
  note?: string;
  linkToVisit?: boolean;
}) {
  const t = useT();
  const s = getState();
  const zone = zoneOf(s, a.siteId);
  const lang = s.lang;
  return (
    <li class={`alarm-item ${a.kind} ${a.ack ? "acked" : "open"}`} data-alarm={key(a)}>
      {onSelect && !a.ack && canAcknowledge(s) && (
        <input
          type="checkbox"
          checked={selected}
          aria-label={t.alarms.select}
          onChange={(e) => onSelect((e.target as HTMLInputElement).checked)}
        />
      )}
      <div class="alarm-body">
        <p class="alarm-title">
          <span class={`sev sev-${a.severity}`}>{alarmTitle(t, a)}</span>{" "}
          <time>{formatDateTime(a.at, zone, lang)}</time>
        </p>
        <p>
          {siteOf(s, a.siteId)?.name ?? a.siteId} · {engineerLabel(s.engineers, a.engineerId)}
          {a.missing.length > 0 && (
            <>
              {" · "}
              {fill(t.alarms.missingItems, {
                items: a.missing.map((i) => word(t.cleanupItems, i)).join(t.listSep),
              })}
            </>
          )}
        </p>
        {a.ack ? (
          <p class="muted ack-info">
            {fill(t.alarms.acknowledged, { by: a.ack.by, at: formatDateTime(a.ack.at, zone, lang) })}
            {a.ack.note && <q>{a.ack.note}</q>}
          </p>
        ) : null}
      </div>
      <div class="alarm-actions">
        {linkToVisit && (
          <a class="button" href={visitHref(a.visitId)}>
            {t.alarms.openVisit}
          </a>
        )}
        {!a.ack && <AckButton alarms={[a]} note={note ?? ""} />}
      </div>
    </li>
  );
}

export function AlarmsView() {
  const t = useT();
  const alarms = useApp((s) => s.alarms);
  const allowed = useApp(canAcknowledge);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [note, setNote] = useState("");
  const open = alarms.filter((a) => !a.ack);
  const chosen = open.filter((a) => selected.has(key(a)));
  return (
    <section class="alarms-view">
      <h1>{t.alarms.title}</h1>
      {alarms.length === 0 && <p class="muted">{t.alarms.none}</p>}
      {allowed && open.length > 0 && (
        <form
          class="ack-form"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await acknowledge(chosen, note);
              setSelected(new Set());
              setNote("");
            } catch (err) {
              update({ error: errorText(err) });
            }
          }}
        >
          <label class="check">
            <input
              type="checkbox"
              id="select-all"
              checked={chosen.length === open.length}
              onChange={(e) =>
                setSelected((e.target as HTMLInputElement).checked ? new Set(open.map(key)) : new Set())
              }
            />
            {t.alarms.selectAll}
          </label>
          <label class="grow">
            <span>{t.alarms.note}</span>
            <input
              id="ack-note"
              value={note}
              maxLength={500}
              onInput={(e) => setNote((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" id="ack-selected" disabled={chosen.length === 0}>
            {fill(t.alarms.acknowledgeSelected, { n: chosen.length })}
          </button>
        </form>
      )}
      <ul class="alarm-list">
        {alarms.map((a) => (
          <AlarmItem
            key={key(a)}
            a={a}
            note={note}
            selected={selected.has(key(a))}
            onSelect={(on) =>
              setSelected((prev) => {
                const next = new Set(prev);
                if (on) next.add(key(a));
                else next.delete(key(a));
                return next;
              })
            }
          />
        ))}
      </ul>
    </section>
  );
}
