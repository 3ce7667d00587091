/**
 * The supervisor dashboard: a live board of today's visits per site, alarms first (banner and
 * sound) until acknowledged, a visit's timeline and evidence, punctuality charts, and dispatch.
 * No framework: state in one object, render functions that return HTML, events delegated.
 */
import {
  ApiError,
  api,
  type Engineer,
  type Health,
  type Presence,
  type Site,
  type VisitDetail,
  type VisitRow,
} from "./api.js";
import { currentLang, dictionaries, esc, formatDateTime, formatTime, type Lang, saveLang } from "./i18n.js";

type View =
  | { name: "board" }
  | { name: "visit"; id: string }
  | { name: "punctuality" }
  | { name: "dispatch" };

const state = {
  token: localStorage.getItem("onsite.token") ?? "",
  lang: currentLang("zh-CN"),
  view: { name: "board" } as View,
  sites: [] as Site[],
  engineers: [] as Engineer[],
  visits: [] as VisitRow[],
  detail: null as VisitDetail | null,
  presence: [] as Presence[],
  health: null as Health | null,
  live: false,
  error: "",
  dispatchResult: "",
};
const app = document.getElementById("app") as HTMLElement;
const t = () => dictionaries[state.lang];
const today = () => new Date().toLocaleDateString("sv-SE");
let stream: EventSource | null = null;
let audio: AudioContext | null = null;
let beeping: number | undefined;

// ---------- data ----------

async function load(): Promise<void> {
  const [sites, engineers, visits] = await Promise.all([
    api<Site[]>(state.token, "GET", "/api/v1/sites"),
    api<Engineer[]>(state.token, "GET", "/api/v1/engineers"),
    api<VisitRow[]>(state.token, "GET", "/api/v1/visits?day=today"),
  ]);
  state.sites = sites;
  state.engineers = engineers;
  state.visits = visits;
  state.health = await fetch("/healthz")
    .then((r) => r.json() as Promise<Health>)
    .catch(() => null);
  if (state.view.name === "visit") {
    const id = encodeURIComponent(state.view.id);
    [state.detail, state.presence] = await Promise.all([
      api<VisitDetail>(state.token, "GET", `/api/v1/visits/${id}`),
      api<Presence[]>(state.token, "GET", `/api/v1/visits/${id}/presence`),
    ]);
  }
}

let reloadTimer: number | undefined;
function reloadSoon(): void {
  if (reloadTimer !== undefined) return;
  reloadTimer = window.setTimeout(async () => {
    reloadTimer = undefined;
    try {
      await load();
      render();
    } catch (e) {
      handleError(e);
    }
  }, 50);
}

function connect(): void {
  stream?.close();
  stream = new EventSource(`/api/v1/stream?access_token=${encodeURIComponent(state.token)}`);
  stream.addEventListener("open", () => {
    state.live = true;
    renderStatus();
    reloadSoon();
  });
  stream.addEventListener("error", () => {
    state.live = false;
    renderStatus();
  });
  stream.addEventListener("visit", reloadSoon);
  stream.addEventListener("alarm_ack", reloadSoon);
  stream.addEventListener("presence", reloadSoon);
}

function handleError(e: unknown): void {
  if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
    signOut(e.status === 403 ? t().wrongRole : t().badToken);
    return;
  }
  state.error = String((e as Error).message ?? e);
  render();
}

function signOut(message = ""): void {
  stream?.close();
  stream = null;
  state.token = "";
  localStorage.removeItem("onsite.token");
  state.error = message;
  render();
}

// ---------- alarms ----------

interface Alarm {
  visit: VisitRow;
  at: number;
  kind: "sos" | "departed_without_cleanup";
}

function activeAlarms(): Alarm[] {
  const out: Alarm[] = [];
  for (const v of state.visits) {
    for (const a of v.alarms) if (!v.alarmAcks.includes(a.at)) out.push({ visit: v, at: a.at, kind: "sos" });
    for (const x of v.violations) {
      if (x.kind === "departed_without_cleanup" && !v.alarmAcks.includes(x.at))
        out.push({ visit: v, at: x.at, kind: "departed_without_cleanup" });
    }
  }
  return out.sort((a, b) => (a.kind === b.kind ? b.at - a.at : a.kind === "sos" ? -1 : 1));
}

function sound(on: boolean): void {
  if (!on) {
    if (beeping !== undefined) window.clearInterval(beeping);
    beeping = undefined;
    return;
  }
  if (beeping !== undefined || !audio) return;
  const beep = () => {
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.25);
  };
  beep();
  beeping = window.setInterval(beep, 3000);
}

// ---------- rendering ----------

const siteOf = (id: string) => state.sites.find((s) => s.id === id);
const zoneOf = (siteId: string) => siteOf(siteId)?.timeZone ?? "UTC";
const nameOf = (id: string) => state.engineers.find((e) => e.id === id)?.name ?? id;

function arrivalText(v: Pick<VisitRow, "arrival">): string {
  if (!v.arrival) return "—";
  const c = v.arrival.verdict;
  const label = t()[c.class];
  return c.class === "on_time" ? label : `${label} ${c.minutes} ${t().min}`;
}

function violationBadges(v: VisitRow): string {
  if (v.violations.length === 0) return `<span class="muted">${t().none}</span>`;
  return v.violations
    .map(
      (x) =>
        `<span class="badge bad" data-kind="${esc(x.kind)}">${esc(x.kind)}${"minutesLate" in x && x.minutesLate ? ` ${x.minutesLate}′` : ""}</span>`,
    )
    .join(" ");
}

function renderStatus(): void {
  const el = document.getElementById("status");
  if (el) {
    el.textContent = state.live ? t().live : t().reconnecting;
    el.className = state.live ? "status live" : "status down";
  }
}

function loginView(): string {
  return `<main class="login">
    <h1>onsite</h1>
    <form id="login" aria-label="${t().login}">
      <label for="token">${t().token}</label>
      <input id="token" name="token" type="password" autocomplete="off" required />
      <button type="submit">${t().login}</button>
      ${state.error ? `<p role="alert" class="error" id="login-error">${esc(state.error)}</p>` : ""}
    </form>
    ${langSwitch()}
  </main>`;
}

function langSwitch(): string {
  return `<label class="lang">${t().language}
    <select id="lang">
      <option value="zh-CN" ${state.lang === "zh-CN" ? "selected" : ""}>中文</option>
      <option value="en" ${state.lang === "en" ? "selected" : ""}>English</option>
    </select></label>`;
}

function header(): string {
  const nav = (name: View["name"], label: string) =>
    `<button class="tab ${state.view.name === name ? "active" : ""}" data-view="${name}">${label}</button>`;
  return `<header>
    <h1>${t().title}</h1>
    <nav>${nav("board", t().board)}${nav("punctuality", t().punctuality)}${nav("dispatch", t().dispatch)}</nav>
    <span id="status" class="status ${state.live ? "live" : "down"}" aria-live="polite">${state.live ? t().live : t().reconnecting}</span>
    ${radioStatus()}
    ${langSwitch()}
    <button id="signout">${t().signOut}</button>
  </header>`;
}

/** The hub's radio, when it has one and it is not well (adapter off, BlueZ or D-Bus gone). */
function radioStatus(): string {
  const ble = state.health?.parts.ble;
  if (!ble || ble.ok) return "";
  return `<span id="radio" class="status down" title="${esc(ble.detail ?? "")}">${t().radioDown}: ${esc(ble.detail ?? "")}</span>`;
}

/** A small line of a session's RSSI samples. */
function sparkline(samples: Array<[number, number]>): string {
  if (samples.length < 2) return "";
  const [t0] = samples[0] as [number, number];
  const t1 = (samples.at(-1) as [number, number])[0];
  const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * 120;
  const y = (v: number) => 24 - ((Math.max(-110, Math.min(-30, v)) + 110) / 80) * 24;
  const pts = samples.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  return `<svg class="spark" width="120" height="24" viewBox="0 0 120 24" role="img" aria-label="RSSI"><polyline fill="none" stroke="currentColor" points="${pts}"/></svg>`;
}

function presenceView(when: (ms: number) => string): string {
  if (state.presence.length === 0) return "";
  const rows = state.presence
    .map((p) => {
      const values = p.rssi.map(([, v]) => v).sort((a, b) => a - b);
      const range = values.length
        ? `${values[0]} … ${values[Math.floor(values.length / 2)]} … ${values.at(-1)}`
        : "—";
      return `<tr><td>${esc(p.gateway)}</td><td>${when(p.arrivedAt)}</td><td>${when(p.lastHeardAt)}</td>
        <td>${p.detectedAt === null ? t().stillPresent : when(p.detectedAt)}</td><td>${p.sightings}</td>
        <td>${range} ${sparkline(p.rssi)}</td></tr>`;
    })
    .join("");
  return `<h3>${t().presence}</h3><table class="presence"><thead><tr><th>${t().gateway}</th><th>${t().firstHeard}</th><th>${t().lastHeard}</th><th>${t().departedAt}</th><th>${t().sightings}</th><th>${t().rssi}</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function alarmBanner(): string {
  const alarms = activeAlarms();
  sound(alarms.length > 0);
  if (alarms.length === 0) return "";
  return `<section class="alarms" role="alert" aria-live="assertive">${alarms
    .map(
      (a) => `<div class="alarm ${a.kind}" data-alarm-visit="${esc(a.visit.visitId)}">
        <strong>${a.kind === "sos" ? t().sos : t().departedWithoutCleanup}</strong>
        ${esc(siteOf(a.visit.siteId)?.name ?? a.visit.siteId)} · ${esc(nameOf(a.visit.engineerId))} · ${formatTime(a.at, zoneOf(a.visit.siteId), state.lang)}
        <button data-ack="${esc(a.visit.visitId)}" data-at="${a.at}">${t().acknowledge}</button>
      </div>`,
    )
    .join("")}</section>`;
}

function boardView(): string {
  if (state.visits.length === 0) return `<p class="muted">${t().noVisits}</p>`;
  const bySite = new Map<string, VisitRow[]>();
  for (const v of state.visits) bySite.set(v.siteId, [...(bySite.get(v.siteId) ?? []), v]);
  return [...bySite.entries()]
    .map(([siteId, visits]) => {
      const zone = zoneOf(siteId);
      const rows = visits
        .map(
          (v) => `<tr data-visit="${esc(v.visitId)}" tabindex="0" class="state-${esc(v.state)}">
          <td>${esc(nameOf(v.engineerId))}</td>
          <td>${formatTime(v.window.from, zone, state.lang)}–${formatTime(v.window.to, zone, state.lang)}</td>
          <td class="state">${esc(t().states[v.state] ?? v.state)}</td>
          <td class="arrival ${v.arrival?.verdict.class ?? ""}">${arrivalText(v)}</td>
          <td>${v.gear.missing.length === 0 ? t().ok : `${t().missing}: ${esc(v.gear.missing.join(", "))}`}</td>
          <td>${v.completion ? (v.completion.resolved ? `${t().resolved} ★${v.completion.rating}` : t().unresolved) : "—"}</td>
          <td>${v.cleanup.completeAt !== null ? t().ok : `${v.cleanup.signed.length}/${v.cleanup.required.length}`}</td>
          <td class="violations">${violationBadges(v)}</td>
        </tr>`,
        )
        .join("");
      return `<section class="site"><h2>${esc(siteOf(siteId)?.name ?? siteId)} <small>${esc(zone)}</small></h2>
        <table><thead><tr><th>${t().engineer}</th><th>${t().window}</th><th>${t().state}</th><th>${t().arrival}</th><th>${t().ppe}</th><th>${t().completion}</th><th>${t().cleanup}</th><th>${t().violations}</th></tr></thead>
        <tbody>${rows}</tbody></table></section>`;
    })
    .join("");
}

function visitView(): string {
  const d = state.detail;
  if (!d) return "";
  const zone = d.timeZone;
  const when = (ms: number) => formatDateTime(ms, zone, state.lang);
  return `<section class="visit-detail">
    <button data-view="board">← ${t().back}</button>
    <h2>${esc(d.engineer?.name ?? d.engineerId)} · ${esc(d.site?.name ?? d.siteId)} · ${esc(t().states[d.state] ?? d.state)}</h2>
    <p>${t().window}: ${when(d.window.from)} – ${when(d.window.to)} (${esc(zone)}) · ${t().arrival}: ${arrivalText(d)}</p>
    <h3>${t().violations}</h3>
    <ul class="evidence">${d.violations.map((v) => `<li><span class="badge bad">${esc(v.kind)}</span> ${when(v.at)} — ${t().evidence}: ${v.evidence.map((e) => `${esc(e.device)}#${e.counter}`).join(", ") || "—"}</li>`).join("") || `<li>${t().none}</li>`}</ul>
    ${d.report ? `<h3>${t().report}</h3><p>${esc(d.report.cause)} — ${esc(d.report.workDone)}</p><p>${d.report.parts.map((p) => `${esc(p.name)} × ${p.quantity}`).join(", ")}</p><p>${esc(d.report.advice)}</p>` : ""}
    ${d.followUp ? `<p class="followup">${t().followUp}: ${esc(d.followUp.dueDate)}</p>` : ""}
    ${presenceView(when)}
    <h3>${t().timeline}</h3>
    <table class="timeline"><thead><tr><th>#</th><th>event</th><th>${t().deviceTime}</th><th>${t().hubTime}</th><th>status</th></tr></thead><tbody>
    ${d.timeline
      .map(
        (
          e,
        ) => `<tr class="${e.status}${e.lateData ? " late-data" : ""}"><td>${esc(e.ref.device)}#${e.ref.counter}</td><td>${esc(e.type)}</td>
        <td>${when(e.deviceTime)}</td><td>${when(e.hubTime)}</td>
        <td>${esc(e.status)}${e.reason ? ` — ${esc(e.reason)}` : ""}${e.lateData ? ` <span class="badge">${t().lateData}</span>` : ""}</td></tr>`,
      )
      .join("")}</tbody></table>
  </section>`;
}

function bars(data: Array<[string, number]>, max: number, label: string): string {
  const w = 320;
  const h = 22;
  return `<svg role="img" aria-label="${esc(label)}" width="${w + 140}" height="${data.length * (h + 6)}">${data
    .map(([k, n], i) => {
      const bw = max > 0 ? Math.round((n / max) * w) : 0;
      return `<g transform="translate(0 ${i * (h + 6)})"><text x="0" y="${h - 6}" class="axis">${esc(k)}</text>
        <rect x="120" y="0" width="${bw}" height="${h}" class="bar"></rect><text x="${126 + bw}" y="${h - 6}" class="value">${n}</text></g>`;
    })
    .join("")}</svg>`;
}

function punctualityView(): string {
  const arrived = state.visits.filter((v) => v.arrival);
  const onTime = arrived.filter((v) => v.arrival?.verdict.class !== "late").length;
  const share = arrived.length ? Math.round((onTime / arrived.length) * 100) : 0;
  const buckets: Array<[string, number]> = [
    ["0", onTime],
    ["1–5", 0],
    ["6–15", 0],
    ["16–30", 0],
    [">30", 0],
  ];
  for (const v of arrived) {
    const m = v.arrival?.verdict.class === "late" ? v.arrival.verdict.minutes : 0;
    if (m === 0) continue;
    const i = m <= 5 ? 1 : m <= 15 ? 2 : m <= 30 ? 3 : 4;
    (buckets[i] as [string, number])[1]++;
  }
  const per = new Map<string, { total: number; onTime: number }>();
  for (const v of arrived) {
    const p = per.get(v.engineerId) ?? { total: 0, onTime: 0 };
    p.total++;
    if (v.arrival?.verdict.class !== "late") p.onTime++;
    per.set(v.engineerId, p);
  }
  const perRows: Array<[string, number]> = [...per.entries()].map(([id, p]) => [
    nameOf(id),
    Math.round((p.onTime / p.total) * 100),
  ]);
  return `<section class="punctuality">
    <div class="kpi"><span class="big" id="on-time-share">${share}%</span> ${t().onTimeShare} (${onTime}/${arrived.length} ${t().visits})</div>
    <h3>${t().lateness}</h3>${bars(buckets, Math.max(1, ...buckets.map((b) => b[1])), t().lateness)}
    <h3>${t().perEngineer} (${t().onTimeShare} %)</h3>${bars(perRows, 100, t().perEngineer)}
    <p><button id="csv">${t().downloadCsv}</button></p>
  </section>`;
}

function dispatchView(): string {
  const opt = (items: Array<{ id: string; name: string }>) =>
    items.map((i) => `<option value="${esc(i.id)}">${esc(i.name)}</option>`).join("");
  return `<section class="dispatch">
    <h3>${t().createVisit}</h3>
    <form id="create-visit">
      <label>${t().site} <select name="siteId" required>${opt(state.sites)}</select></label>
      <label>${t().engineer} <select name="engineerId" required>${opt(state.engineers)}</select></label>
      <label>${t().from} <input type="datetime-local" name="from" required /></label>
      <label>${t().to} <input type="datetime-local" name="to" required /></label>
      <button type="submit">${t().create}</button>
    </form>
    <h3>${t().importCsv}</h3>
    <form id="import-csv">
      <label for="csv-text">id,site_id,engineer_id,date,from,to</label>
      <textarea id="csv-text" name="csv" rows="6" cols="60" required></textarea>
      <button type="submit">${t().import}</button>
    </form>
    <div id="dispatch-result" aria-live="polite">${state.dispatchResult}</div>
  </section>`;
}

function render(): void {
  document.documentElement.lang = state.lang;
  document.title = t().title;
  if (!state.token) {
    sound(false);
    app.innerHTML = loginView();
    return;
  }
  const body =
    state.view.name === "board"
      ? boardView()
      : state.view.name === "visit"
        ? visitView()
        : state.view.name === "punctuality"
          ? punctualityView()
          : dispatchView();
  // A live update re-renders the page: what someone is typing into a form must survive it.
  const typed = new Map<string, string>();
  for (const el of app.querySelectorAll<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(
    "form[id] [name]",
  )) {
    typed.set(`${el.form?.id}/${el.name}`, el.value);
  }
  const focused = document.activeElement as HTMLInputElement | null;
  const focusKey = focused?.form?.id && focused.name ? `${focused.form.id}/${focused.name}` : undefined;
  app.innerHTML = `${header()}${alarmBanner()}<main>${state.error ? `<p role="alert" class="error">${esc(state.error)}</p>` : ""}${body}</main>`;
  for (const el of app.querySelectorAll<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(
    "form[id] [name]",
  )) {
    const key = `${el.form?.id}/${el.name}`;
    const value = typed.get(key);
    if (value !== undefined) el.value = value;
    if (key === focusKey) el.focus();
  }
}

// ---------- events ----------

async function go(view: View): Promise<void> {
  state.view = view;
  state.error = "";
  try {
    await load();
  } catch (e) {
    handleError(e);
    return;
  }
  render();
}

app.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  const data = new FormData(form);
  if (form.id === "login") {
    state.token = String(data.get("token") ?? "").trim();
    audio = new AudioContext();
    try {
      await load();
    } catch (e) {
      handleError(e);
      return;
    }
    localStorage.setItem("onsite.token", state.token);
    state.error = "";
    connect();
    render();
  } else if (form.id === "create-visit") {
    const site = siteOf(String(data.get("siteId")));
    try {
      const v = await api<{ id: string }>(state.token, "POST", "/api/v1/visits", {
        siteId: data.get("siteId"),
        engineerId: data.get("engineerId"),
        window: { from: data.get("from"), to: data.get("to") },
      });
      state.dispatchResult = `<p class="ok">${t().imported}: ${esc(v.id)} (${esc(site?.timeZone ?? "")})</p>`;
    } catch (e) {
      state.dispatchResult = `<p role="alert" class="error">${esc((e as Error).message)}</p>`;
    }
    render();
  } else if (form.id === "import-csv") {
    const r = await api<{
      imported: string[];
      errors: Array<{ line: number; field: string; message: string }>;
    }>(state.token, "POST", "/api/v1/visits/import", String(data.get("csv")), "text/csv").catch(
      (e: Error) => ({ imported: [], errors: [{ line: 0, field: "-", message: e.message }] }),
    );
    state.dispatchResult = `<p class="ok">${t().imported}: ${r.imported.length}</p>${
      r.errors.length
        ? `<table class="errors"><thead><tr><th>${t().line}</th><th>${t().field}</th><th>${t().message}</th></tr></thead><tbody>${r.errors
            .map((e) => `<tr><td>${e.line}</td><td>${esc(e.field)}</td><td>${esc(e.message)}</td></tr>`)
            .join("")}</tbody></table>`
        : ""
    }`;
    render();
  }
});

app.addEventListener("click", async (ev) => {
  const el = (ev.target as HTMLElement).closest<HTMLElement>(
    "[data-view],[data-visit],[data-ack],#signout,#csv",
  );
  if (!el) return;
  if (el.id === "signout") return signOut();
  if (el.id === "csv") {
    const res = await fetch("/api/v1/reports/visits.csv?day=today", {
      headers: { authorization: `Bearer ${state.token}` },
    });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await res.blob());
    a.download = `visits-${today()}.csv`;
    a.click();
    return;
  }
  if (el.dataset.ack) {
    try {
      await api(state.token, "POST", `/api/v1/visits/${encodeURIComponent(el.dataset.ack)}/alarms/ack`, {
        alarmAt: Number(el.dataset.at),
      });
      await go(state.view);
    } catch (e) {
      handleError(e);
    }
    return;
  }
  if (el.dataset.visit) return go({ name: "visit", id: el.dataset.visit });
  if (el.dataset.view) return go({ name: el.dataset.view } as View);
});

app.addEventListener("keydown", (ev) => {
  const row = (ev.target as HTMLElement).closest<HTMLElement>("tr[data-visit]");
  if (row && (ev.key === "Enter" || ev.key === " ")) void go({ name: "visit", id: row.dataset.visit ?? "" });
});

app.addEventListener("change", (ev) => {
  const el = ev.target as HTMLSelectElement;
  if (el.id === "lang") {
    state.lang = el.value as Lang;
    saveLang(state.lang);
    render();
  }
});

if (state.token) {
  void go({ name: "board" }).then(() => {
    if (state.token) connect();
  });
} else {
  render();
}

// Browsers allow sound only after a gesture: any click arms the alarm tone.
document.addEventListener("click", () => {
  audio ??= new AudioContext();
  void audio.resume();
});
