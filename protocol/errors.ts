/** Why a piece of input was refused. Every decoder and parser in protocol/ throws only this. */
export type ProtocolErrorCode =
  | "bad_json"
  | "schema"
  | "bad_topic"
  | "truncated"
  | "bad_version"
  | "unknown_type"
  | "bad_length"
  | "trailing_bytes"
  | "bad_mac"
  | "replayed"
  | "duplicate"
  | "bad_field"
  | "unknown_device";

export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly code: ProtocolErrorCode;
  /** JSON-pointer-like path of the offending field, when one field is to blame. */
  readonly field: string | undefined;

  constructor(code: ProtocolErrorCode, message: string, field?: string) {
    super(field === undefined ? message : `${field}: ${message}`);
    this.code = code;
    this.field = field;
  }
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}
