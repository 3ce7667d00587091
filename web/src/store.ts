/**
 * The dashboard's state: one object, changed only through `update`, watched by the views through
 * `useApp`. Visit rows are kept by id, each row object replaced only when that visit changes, so a
 * live update re-renders one row of a board of hundreds (the rows are memoised components).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Alarm, Engineer, Health, Site, VisitRow, WhoAmI } from "./api.js";
import { currentLang, dictionaries, type Lang } from "./i18n.js";

export interface AppState {
  token: string;
  lang: Lang;
  me: WhoAmI | null;
  sites: Site[];
  engineers: Engineer[];
  /** Every visit row loaded: today's (the header summary) and the board's day or range. */
  rows: ReadonlyMap<string, VisitRow>;
  alarms: Alarm[];
  health: Health | null;
  live: boolean;
  error: string;
  /** A short message after an action (aria-live). */
  notice: string;
  /** Counts full loads (sign-in, reconnect): views that fetched for themselves fetch again. */
  generation: number;
}

let state: AppState = {
  token: localStorage.getItem("onsite.token") ?? "",
  lang: currentLang("zh-CN"),
  me: null,
  sites: [],
  engineers: [],
  rows: new Map(),
  alarms: [],
  health: null,
  live: false,
  error: "",
  notice: "",
  generation: 0,
};

const listeners = new Set<() => void>();

export const getState = (): AppState => state;

export function update(patch: Partial<AppState> | ((s: AppState) => Partial<AppState>)): void {
  state = { ...state, ...(typeof patch === "function" ? patch(state) : patch) };
  for (const l of listeners) l();
}

/** Replaces or adds rows (by visit id); every other row keeps its object. */
export function putRows(rows: readonly VisitRow[]): void {
  update((s) => {
    const next = new Map(s.rows);
    for (const r of rows) next.set(r.visitId, r);
    return { rows: next };
  });
}

export function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * The state (or a part of it) in a component; re-renders when that part changes (by identity: a
 * selector returns a stored object, not a new one).
 */
export function useApp<T>(select: (s: AppState) => T): T {
  const selectRef = useRef(select);
  selectRef.current = select;
  const value = select(state);
  const valueRef = useRef(value);
  valueRef.current = value;
  const [, force] = useState(0);
  useEffect(
    () =>
      subscribe(() => {
        if (selectRef.current(state) !== valueRef.current) force((n) => n + 1);
      }),
    [],
  );
  return value;
}

export const useT = () => dictionaries[useApp((s) => s.lang)];

export const siteOf = (s: AppState, id: string): Site | undefined => s.sites.find((x) => x.id === id);
export const zoneOf = (s: AppState, siteId: string): string => siteOf(s, siteId)?.timeZone ?? "UTC";
export const engineerOf = (s: AppState, id: string): Engineer | undefined =>
  s.engineers.find((e) => e.id === id);

/** A role may change visits (book, reschedule, cancel). */
export const canDispatch = (s: AppState): boolean => s.me?.role === "admin" || s.me?.role === "dispatcher";
/** A role may acknowledge alarms. */
export const canAcknowledge = (s: AppState): boolean => s.me?.role === "admin" || s.me?.role === "supervisor";
export const isAdmin = (s: AppState): boolean => s.me?.role === "admin";
