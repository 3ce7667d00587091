import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ProtocolError } from "./errors.js";

export interface Parser<T> {
  /** Parse an `unknown` into `T` or throw a `ProtocolError` (code `schema`) naming the field. */
  parse(input: unknown): T;
  check(input: unknown): input is T;
}

/** Compiles a TypeBox schema once into a strict parser. */
export function parserFor<S extends TSchema>(schema: S): Parser<Static<S>> {
  const compiled = TypeCompiler.Compile(schema);
  return {
    check: (input): input is Static<S> => compiled.Check(input),
    parse(input) {
      if (compiled.Check(input)) return input;
      const first = compiled.Errors(input).First();
      const field = first?.path ? first.path : "/";
      const message = first?.message ?? "does not match the schema";
      throw new ProtocolError("schema", message.toLowerCase(), field);
    },
  };
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** JSON text or bytes to `unknown`, with a `bad_json` error instead of a SyntaxError. */
export function parseJson(payload: string | Uint8Array): unknown {
  const text = typeof payload === "string" ? payload : utf8.decode(payload);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ProtocolError("bad_json", `not valid JSON (${(e as Error).message})`);
  }
}
