/**
 * The alarm bar: one line under the header while any alarm is open (the newest, most severe one,
 * and how many there are), pulsing and with a tone every few seconds until all are acknowledged.
 */
import { useEffect } from "preact/hooks";
import type { Alarm } from "../api.js";
import { engineerLabel } from "../format.js";
import { fill, formatTime } from "../i18n.js";
import { href, visitHref } from "../router.js";
import { siteOf, useApp, useT, zoneOf } from "../store.js";
import { AckButton } from "./alarms.js";

let audio: AudioContext | null = null;
// Browsers allow sound only after a gesture: any click or key arms the alarm tone.
for (const type of ["click", "keydown"])
  document.addEventListener(type, () => {
    audio ??= new AudioContext();
    void audio.resume();
  });

function beep(): void {
  if (audio?.state !== "running") return;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = 880;
  gain.gain.value = 0.15;
  osc.connect(gain).connect(audio.destination);
  osc.start();
  osc.stop(audio.currentTime + 0.25);
}

export function useAlarmSound(): void {
  const open = useApp((s) => s.alarms.some((a) => a.ack === null) && s.token !== "");
  useEffect(() => {
    if (!open) return;
    beep();
    const timer = window.setInterval(beep, 3000);
    return () => window.clearInterval(timer);
  }, [open]);
}

export function alarmTitle(t: ReturnType<typeof useT>, a: Alarm): string {
  return a.kind === "sos"
    ? `${t.alarms.sos}${a.sosKind ? ` · ${t.sosKinds[a.sosKind] ?? a.sosKind}` : ""}`
    : t.alarms.departed_without_cleanup;
}

export function AlarmBar() {
  const t = useT();
  const alarms = useApp((s) => s.alarms);
  const state = useApp((s) => s);
  const open = alarms.filter((a) => a.ack === null);
  const top = open[0];
  if (!top) return null;
  const site = siteOf(state, top.siteId)?.name ?? top.siteId;
  return (
    <section class={`alarm-bar ${top.kind}`} role="alert" aria-live="assertive" id="alarm-bar">
      <strong class="count">{fill(t.alarms.banner, { n: open.length, site })}</strong>
      <a class="what" href={visitHref(top.visitId)} data-alarm-visit={top.visitId}>
        {alarmTitle(t, top)} · {engineerLabel(state.engineers, top.engineerId)} ·{" "}
        {formatTime(top.at, zoneOf(state, top.siteId), state.lang)}
      </a>
      <span class="bar-actions">
        <AckButton alarms={[top]} />
        <a class="button" href={href("alarms")}>
          {t.alarms.showAll}
        </a>
      </span>
    </section>
  );
}
