/**
 * The CLI's client for a running hub's HTTP API (`--url`, `--token`, `--cafile`). Every failure
 * becomes a CliError with a line a person can act on: an unreachable hub, a refused token, or
 * the hub's own refusal (its `message` names the field).
 */
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { type Command, Option } from "commander";
import { CliError, EXIT, fileError } from "./errors.js";

export interface ApiOptions {
  url: string;
  token?: string;
  /** PEM file of the CA that signed a hub's certificate (HTTPS with a private CA). */
  cafile?: string;
}

export const DEFAULT_URL = "http://127.0.0.1:8080";

/**
 * The options every command that talks to a hub takes. Environment values are read by commander
 * (`.env()`), so `--help` names the variable without printing its value (a token).
 */
export function withApiOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--url <url>", "hub base URL").env("ONSITE_URL").default(DEFAULT_URL))
    .addOption(new Option("--token <token>", "API token").env("ONSITE_TOKEN"))
    .addOption(
      new Option("--cafile <file>", "CA certificate (PEM) to trust for an https:// hub").env("ONSITE_CAFILE"),
    );
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: "nothing is listening there",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "the host name cannot be resolved now",
  EHOSTUNREACH: "no route to the host",
  ENETUNREACH: "the network is unreachable",
  ECONNRESET: "the connection was reset (an https:// hub asked over http://?)",
  ETIMEDOUT: "it did not answer in time",
  EPROTO: "TLS failed (an http:// hub asked over https://?)",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its certificate is self-signed: pass its CA with --cafile",
  SELF_SIGNED_CERT_IN_CHAIN: "its certificate's CA is not trusted: pass it with --cafile",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its certificate's CA is not trusted: pass it with --cafile",
  ERR_TLS_CERT_ALTNAME_INVALID: "its certificate is not for this host name",
  CERT_HAS_EXPIRED: "its certificate has expired",
};

function unreachable(url: URL, e: unknown): CliError {
  const code = (e as NodeJS.ErrnoException).code ?? "";
  const why = NETWORK[code] ?? ((e as Error).message || code || String(e));
  return new CliError(
    `cannot reach the hub at ${url.origin} (${why}); is it running? Point --url (or ONSITE_URL) at it`,
    EXIT.unreachable,
  );
}

/** The hub's refusal as a sentence: its JSON `message` when it sent one. */
function refusal(status: number, text: string): CliError {
  let message = text.trim().slice(0, 500);
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === "string") message = body.message;
  } catch {
    /* not JSON: the text as it is */
  }
  if (status === 401)
    return new CliError(
      `the hub refused the token (${message}): check --token or ONSITE_TOKEN`,
      EXIT.unauthorized,
    );
  if (status === 403) return new CliError(`not allowed: ${message}`, EXIT.unauthorized);
  if (status >= 500) return new CliError(`the hub failed (${status}): ${message}; see its log`, EXIT.refused);
  return new CliError(message || `refused (${status})`, EXIT.refused);
}

export interface ApiResponse {
  status: number;
  text: string;
}

/** One request; resolves on any 2xx, otherwise throws a CliError. */
export async function api(
  o: ApiOptions,
  method: string,
  path: string,
  body?: string,
  type = "application/json",
): Promise<ApiResponse> {
  const res = await apiBytes(o, method, path, body, type);
  return { status: res.status, text: res.bytes.toString("utf8") };
}

/** One request whose answer is kept as bytes (an XLSX file, a CSV with its byte-order mark). */
export async function apiBytes(
  o: ApiOptions,
  method: string,
  path: string,
  body?: string,
  type = "application/json",
): Promise<{ status: number; bytes: Buffer }> {
  if (!o.token) throw new CliError("an API token is required: --token or ONSITE_TOKEN", EXIT.usage);
  let url: URL;
  try {
    url = new URL(path, o.url);
  } catch {
    throw new CliError(`--url ${o.url} is not a URL (e.g. ${DEFAULT_URL})`, EXIT.usage);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new CliError(`--url ${o.url} must start with http:// or https://`, EXIT.usage);
  let ca: Buffer | undefined;
  if (o.cafile) {
    try {
      ca = readFileSync(o.cafile);
    } catch (e) {
      throw fileError(o.cafile, e);
    }
  }
  const headers: Record<string, string> = { authorization: `Bearer ${o.token}` };
  if (body !== undefined) headers["content-type"] = type;
  const res = await new Promise<{ status: number; bytes: Buffer }>((resolve, reject) => {
    const onResponse = (r: IncomingMessage) => {
      const chunks: Buffer[] = [];
      r.on("data", (d: Buffer) => chunks.push(d));
      r.on("end", () => resolve({ status: r.statusCode ?? 0, bytes: Buffer.concat(chunks) }));
      r.on("error", (e) => reject(unreachable(url, e)));
    };
    const opts = { method, headers, timeout: 30_000, ...(ca ? { ca } : {}) };
    const req =
      url.protocol === "https:" ? httpsRequest(url, opts, onResponse) : httpRequest(url, opts, onResponse);
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (e) => reject(unreachable(url, e)));
    req.end(body);
  });
  if (res.status < 200 || res.status >= 300) throw refusal(res.status, res.bytes.toString("utf8"));
  return res;
}

/** A request whose answer is JSON. */
export async function apiJson<T>(o: ApiOptions, method: string, path: string, body?: unknown): Promise<T> {
  const res = await api(o, method, path, body === undefined ? undefined : JSON.stringify(body));
  try {
    return JSON.parse(res.text) as T;
  } catch {
    throw new CliError(
      `the hub at ${o.url} answered ${path} with something that is not JSON (is it an onsite hub?)`,
    );
  }
}

/** A person's file, as text. */
export function readInput(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw fileError(path, e);
  }
}
