/**
 * Loading and live updates. The board loads once; then the live stream's `visit` messages carry the
 * visit's row as it is now, and only that row is replaced (no refetch). Alarms follow the rows
 * they come from; an acknowledgement patches its alarm.
 */
import { type Alarm, alarmOrder, alarmsOf } from "../../protocol/browser.js";
import {
  ApiError,
  api,
  type Engineer,
  type Health,
  type Site,
  type StreamAlarmAck,
  type StreamVisit,
  type VisitRow,
  type WhoAmI,
} from "./api.js";
import { dictionaries } from "./i18n.js";
import { getState, putRows, update } from "./store.js";

const call = <T>(method: string, path: string, body?: unknown, type?: string) =>
  api<T>(getState().token, method, path, body, type);
export const get = <T>(path: string) => call<T>("GET", path);
export const post = <T>(path: string, body: unknown, type?: string) => call<T>("POST", path, body, type);
export const patch = <T>(path: string, body: unknown) => call<T>("PATCH", path, body);
export const put = <T>(path: string, body: unknown) => call<T>("PUT", path, body);

export async function loadBase(): Promise<void> {
  const me = await get<WhoAmI>("/api/v1/me");
  if (me.role === "kiosk") throw new ApiError(403, "kiosk");
  const [sites, engineers, today, alarms] = await Promise.all([
    get<Site[]>("/api/v1/sites"),
    get<Engineer[]>("/api/v1/engineers"),
    get<VisitRow[]>("/api/v1/visits?day=today"),
    get<Alarm[]>("/api/v1/alarms"),
  ]);
  update((s) => ({ me, sites, engineers, alarms, error: "", rows: new Map(), generation: s.generation + 1 }));
  putRows(today);
  void loadHealth();
}

export async function loadHealth(): Promise<void> {
  const health = await fetch("/healthz")
    .then((r) => r.json() as Promise<Health>)
    .catch(() => null);
  update({ health });
}

export async function reloadCatalog(): Promise<void> {
  const [sites, engineers] = await Promise.all([
    get<Site[]>("/api/v1/sites"),
    get<Engineer[]>("/api/v1/engineers"),
  ]);
  update({ sites, engineers });
}

export async function loadAlarms(): Promise<void> {
  update({ alarms: await get<Alarm[]>("/api/v1/alarms") });
}

/** The alarms of a row as the list shows them, acknowledgements kept from what is known. */
function mergeAlarms(row: VisitRow): void {
  update((s) => {
    const known = new Map(s.alarms.map((a) => [`${a.visitId}@${a.at}`, a]));
    const fresh: Alarm[] = alarmsOf(row).map((a) => {
      const k = known.get(`${a.visitId}@${a.at}`);
      const ack = k?.ack ?? (row.alarmAcks.includes(a.at) ? { by: "", at: a.at, note: null } : null);
      return { ...a, ack };
    });
    const same =
      fresh.length === s.alarms.filter((a) => a.visitId === row.visitId).length &&
      fresh.every((a) => known.get(`${a.visitId}@${a.at}`)?.ack === a.ack);
    if (same) return {};
    return { alarms: [...s.alarms.filter((a) => a.visitId !== row.visitId), ...fresh].sort(alarmOrder) };
  });
}

let stream: EventSource | null = null;

/** Opens the live stream; a reconnect loads the board again (what happened meanwhile). */
export function connect(onReconnect: () => void): void {
  stream?.close();
  let opened = false;
  stream = new EventSource(`/api/v1/stream?access_token=${encodeURIComponent(getState().token)}`);
  stream.addEventListener("open", () => {
    update({ live: true });
    if (opened) onReconnect();
    opened = true;
  });
  stream.addEventListener("error", () => update({ live: false }));
  stream.addEventListener("revoked", () => signOut(dictionaries[getState().lang].badToken));
  stream.addEventListener("visit", (e) => {
    const { row } = JSON.parse((e as MessageEvent<string>).data) as StreamVisit;
    applyRow(row);
  });
  stream.addEventListener("alarm_ack", (e) => {
    const ack = JSON.parse((e as MessageEvent<string>).data) as StreamAlarmAck;
    applyAck(ack);
  });
  stream.addEventListener("presence", () => void loadHealth());
}

/** A visit's new row: replaces its old one, and its alarms. */
export function applyRow(row: VisitRow): void {
  const start = performance.now();
  putRows([row]);
  mergeAlarms(row);
  // Preact renders in the microtask queued by the change above; this one runs after it, so the
  // measure spans patch and render (bench/web.ts reads it).
  queueMicrotask(() => performance.measure("onsite:row", { start, detail: row.visitId }));
}

export function applyAck(ack: StreamAlarmAck, note: string | null = null): void {
  update((s) => {
    const rows = new Map(s.rows);
    const row = rows.get(ack.visitId);
    if (row && !row.alarmAcks.includes(ack.alarmAt))
      rows.set(ack.visitId, { ...row, alarmAcks: [...row.alarmAcks, ack.alarmAt] });
    const alarms = s.alarms
      .map((a) =>
        a.visitId === ack.visitId && a.at === ack.alarmAt
          ? { ...a, ack: { by: ack.by, at: a.ack?.at ?? Date.now(), note: note ?? a.ack?.note ?? null } }
          : a,
      )
      .sort(alarmOrder);
    return { rows, alarms };
  });
}

export function signOut(message = ""): void {
  stream?.close();
  stream = null;
  localStorage.removeItem("onsite.token");
  update({ token: "", me: null, rows: new Map(), alarms: [], error: message, live: false });
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.field ? `${e.field}: ${e.message.replace(/^[^:]+: /, "")}` : e.message;
  return e instanceof Error ? e.message : String(e);
}
