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

// The API's shapes, from the one definition the hub's routes declare (protocol/api.ts).
export type {
  Engineer,
  Health,
  Presence,
  Site,
  Violation,
  VisitDetail,
  VisitRow,
} from "../../protocol/browser.js";
