/** The hub's API from the browser: a bearer token kept in localStorage. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
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
    let field: string | undefined;
    try {
      const parsed = JSON.parse(text) as { message?: string; field?: string };
      message = parsed.message ?? text;
      field = parsed.field;
    } catch {
      /* plain text */
    }
    throw new ApiError(res.status, message, field);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A file the API makes (CSV, XLSX), saved under its own name. */
export async function download(token: string, path: string, fallbackName: string): Promise<void> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new ApiError(res.status, await res.text());
  const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? fallbackName;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await res.blob());
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

// The API's shapes, from the one definition the hub's routes declare (protocol/api.ts).
export type {
  Alarm,
  AlarmAckRequest,
  AlarmAckResult,
  Certificate,
  CreatedToken,
  DeviceHealth,
  Engineer,
  Health,
  KioskState,
  Notification,
  NotifyEvent,
  Presence,
  ProvisionedDevice,
  PublicDevice,
  PublicToken,
  Role,
  RollCall,
  RollCallPerson,
  Site,
  StreamAlarmAck,
  StreamVisit,
  Violation,
  VisitChangeRecord,
  VisitDetail,
  VisitRow,
  VisitState,
  WhoAmI,
} from "../../protocol/browser.js";
