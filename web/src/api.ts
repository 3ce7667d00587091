/** The hub's API from the browser: a bearer token kept in localStorage. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  type = "application/json",
): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": type }) },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      /* plain text */
    }
    throw new ApiError(res.status, message);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface Site {
  id: string;
  name: string;
  timeZone: string;
}
export interface Engineer {
  id: string;
  name: string;
  company: string;
}
export interface Violation {
  kind: string;
  at: number;
  minutesLate?: number;
  missing?: string[];
  evidence: Array<{ device: string; counter: number }>;
}
export interface VisitRow {
  visitId: string;
  siteId: string;
  engineerId: string;
  window: { from: number; to: number };
  state: string;
  arrival: {
    at: number;
    source: string;
    verdict: { class: "early" | "on_time" | "late"; minutes: number };
  } | null;
  gear: { required: string[]; confirmed: string[]; missing: string[] };
  completion: { resolved: boolean; rating: number } | null;
  cleanup: { required: string[]; signed: string[]; missing: string[]; completeAt: number | null };
  complete: boolean;
  departure: { at: number } | null;
  violations: Violation[];
  alarms: Array<{ at: number; sosKind: string }>;
  alarmAcks: number[];
  followUp: { dueDate: string } | null;
}
export interface VisitDetail extends VisitRow {
  timeZone: string;
  engineer: Engineer | null;
  site: { id: string; name: string } | null;
  report: {
    cause: string;
    parts: Array<{ name: string; partNo?: string; quantity: number }>;
    workDone: string;
    advice: string;
  } | null;
  timeline: Array<{
    ref: { device: string; counter: number };
    type: string;
    deviceTime: number;
    hubTime: number;
    effectiveTime: number;
    status: string;
    reason?: string;
    lateData: boolean;
  }>;
}

/** A presence session: a badge heard at a gateway (GET /api/v1/visits/:id/presence). */
export interface Presence {
  id: string;
  badge: string;
  gateway: string;
  siteId: string | null;
  arrivedAt: number;
  lastHeardAt: number;
  departedAt: number | null;
  detectedAt: number | null;
  sightings: number;
  rssi: Array<[number, number]>;
}

export interface Health {
  status: "ok" | "degraded";
  parts: Record<string, { ok: boolean; detail?: string }>;
}
