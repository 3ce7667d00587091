/** Hash routes (`#/visit/V1?x=y`): every screen has an address, the browser's back button works. */
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /**
   * board, range, alarms, dispatch, reports, sites, engineers, devices, notifications, tokens, visit,
   * report, rollcall, rollcall-print
   */
  name: string;
  /** The path's second part: a visit's id, a roll-call's site. */
  id: string;
  /** The path's third part: a roll-call's id. */
  sub: string;
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = "", q = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name = "board", id = "", sub = "", last = ""] = path.split("/").map(decodeURIComponent);
  const printed =
    name === "visit" && sub === "report"
      ? "report"
      : name === "rollcall" && last === "print"
        ? "rollcall-print"
        : "";
  return {
    name: printed || name || "board",
    id,
    sub: name === "visit" ? "" : sub,
    query: new URLSearchParams(q),
  };
}

export function href(name: string, id?: string, query?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const qs = q.toString();
  return `#/${name}${id ? `/${encodeURIComponent(id)}` : ""}${qs ? `?${qs}` : ""}`;
}

export const visitHref = (id: string) => href("visit", id);
export const reportHref = (id: string) => `#/visit/${encodeURIComponent(id)}/report`;
/** A site's roll-call screen; with a roll-call's id, that roll-call; `print`: its printable result. */
export const rollCallHref = (siteId: string, rollCallId?: string, print = false) =>
  `#/rollcall/${encodeURIComponent(siteId)}${rollCallId ? `/${encodeURIComponent(rollCallId)}` : ""}${print && rollCallId ? "/print" : ""}`;

export function go(to: string): void {
  location.hash = to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
