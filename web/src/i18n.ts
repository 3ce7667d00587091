/**
 * Simplified Chinese and English for the dashboard: every code the API sends has its words here
 * (states, violations, event types, PPE and clean-up items, timeline statuses and reasons, audit
 * kinds, roles). The choice is remembered; times keep seconds where order matters.
 */
import { en } from "./lang/en.js";
import { zh } from "./lang/zh.js";

export type Lang = "zh-CN" | "en";
export type Dict = typeof en;

export const dictionaries: Record<Lang, Dict> = { en, "zh-CN": zh };

export function currentLang(fallback: Lang): Lang {
  const saved = localStorage.getItem("onsite.lang");
  return saved === "en" || saved === "zh-CN" ? saved : fallback;
}

export function saveLang(lang: Lang): void {
  localStorage.setItem("onsite.lang", lang);
  document.documentElement.lang = lang;
}

/** The word for a code in one of the dictionary's tables; the code itself if it has none. */
export function word(table: Record<string, string>, code: string): string {
  return table[code] ?? code;
}

/** `{n}`-style placeholders. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? `{${k}}`));
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function fmt(lang: Lang, zone: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${lang}|${zone}|${JSON.stringify(opts)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang, { timeZone: zone, hourCycle: "h23", ...opts });
    formatters.set(key, f);
  }
  return f;
}

/** 09:05 — a promised window. */
export const formatHm = (ms: number, zone: string, lang: Lang): string =>
  fmt(lang, zone, { hour: "2-digit", minute: "2-digit" }).format(ms);

/** 09:05:07 — where the order of events matters. */
export const formatTime = (ms: number, zone: string, lang: Lang): string =>
  fmt(lang, zone, { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(ms);

/** 11-25 09:05:07 */
export const formatDateTime = (ms: number, zone: string, lang: Lang): string =>
  fmt(lang, zone, {
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).format(ms);

/** 2026-11-25 (en-CA's order), the form date inputs and the API use. */
const days = new Map<string, string>();
export function isoDay(ms: number, zone: string): string {
  // The board asks this of every row on every update: the answers are kept (bounded).
  const key = `${zone}|${ms}`;
  const known = days.get(key);
  if (known !== undefined) return known;
  if (days.size > 20_000) days.clear();
  const day = computeIsoDay(ms, zone);
  days.set(key, day);
  return day;
}

function computeIsoDay(ms: number, zone: string): string {
  const parts = fmt("en", zone, { year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(ms);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** A readable day: 2026年11月25日 周三 / Wed, Nov 25, 2026. */
export const formatDay = (day: string, lang: Lang): string =>
  fmt(lang, "UTC", { weekday: "short", year: "numeric", month: "short", day: "numeric" }).format(
    Date.parse(`${day}T12:00:00Z`),
  );

/** The browser's own zone: for times that belong to no site (a token's creation). */
export const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The zone most sites are in, else the browser's own: for times that belong to no one site. */
export function mainZone(sites: ReadonlyArray<{ timeZone: string }>): string {
  const count = new Map<string, number>();
  for (const s of sites) count.set(s.timeZone, (count.get(s.timeZone) ?? 0) + 1);
  return [...count.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? browserZone;
}

/** Today where most sites are (the board's default day), else the browser's own. */
export function sitesToday(sites: ReadonlyArray<{ timeZone: string }>): string {
  return isoDay(Date.now(), mainZone(sites));
}

/** The browser's own today, YYYY-MM-DD. */
export const localToday = (): string => isoDay(Date.now(), browserZone);

const relative = new Map<Lang, Intl.RelativeTimeFormat>();
/** "12 seconds ago", "5 minutes ago" / "12秒钟前": how long ago, in the largest whole unit. */
export function formatAgo(ms: number, now: number, lang: Lang): string {
  let f = relative.get(lang);
  if (!f) {
    f = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    relative.set(lang, f);
  }
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return f.format(-s, "second");
  if (s < 3600) return f.format(-Math.floor(s / 60), "minute");
  if (s < 86_400) return f.format(-Math.floor(s / 3600), "hour");
  return f.format(-Math.floor(s / 86_400), "day");
}
