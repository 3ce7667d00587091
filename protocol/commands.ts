/** Hub → device commands: display a prompt, play a signal, sync the clock, acknowledge an event. */
import { type Static, type TLiteral, type TSchema, Type } from "@sinclair/typebox";
import { ProtocolError } from "./errors.js";
import { Counter, DeviceId, EntityId, EpochMs } from "./fields.js";
import { type Parser, parseJson, parserFor } from "./validate.js";
import { PROTOCOL_VERSION } from "./version.js";
import { SIGNAL_PATTERNS } from "./vocab.js";

function command<K extends string, P extends Record<string, TSchema>>(type: K, payload: P) {
  return Type.Object(
    { v: Type.Literal(PROTOCOL_VERSION), type: Type.Literal(type), time: EpochMs, ...payload },
    { additionalProperties: false, $id: `command.${type}` },
  );
}

export const CommandSchemas = {
  /** Text for the kiosk LCD (or a badge with a screen); `prompt` names it for localised renderers. */
  display: command("display", {
    prompt: Type.String({ pattern: "^[a-z_]{1,40}$" }),
    lines: Type.Array(Type.String({ maxLength: 40 }), { minItems: 1, maxItems: 4 }),
    visit: Type.Optional(EntityId),
    engineer: Type.Optional(EntityId),
    /** The checklist item the prompt asks about (clean-up sign-off). */
    item: Type.Optional(Type.String({ pattern: "^[a-z_]{1,40}$" })),
    ttlMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
  }),
  signal: command("signal", {
    pattern: Type.Union(
      SIGNAL_PATTERNS.map((p) => Type.Literal(p)) as TLiteral<(typeof SIGNAL_PATTERNS)[number]>[],
    ),
    repeat: Type.Integer({ minimum: 1, maximum: 20 }),
  }),
  /** Answer to a heartbeat: echoes the device time and gives the hub time. */
  time_sync: command("time_sync", { deviceTime: EpochMs, hubTime: EpochMs }),
  ack: command("ack", {
    device: DeviceId,
    counter: Counter,
    status: Type.Union([Type.Literal("accepted"), Type.Literal("duplicate"), Type.Literal("rejected")]),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
    /** For a refusal: the JSON pointer of the field that was wrong (e.g. /counter, /visit). */
    field: Type.Optional(Type.String({ maxLength: 100 })),
  }),
};

export type CommandType = keyof typeof CommandSchemas;
export type CommandOf<K extends CommandType> = Static<(typeof CommandSchemas)[K]>;
export type DeviceCommand = { [K in CommandType]: CommandOf<K> }[CommandType];
export const COMMAND_TYPES = Object.keys(CommandSchemas) as CommandType[];

const parsers = Object.fromEntries(COMMAND_TYPES.map((t) => [t, parserFor(CommandSchemas[t])])) as {
  [K in CommandType]: Parser<CommandOf<K>>;
};

export function parseCommand(input: unknown): DeviceCommand {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ProtocolError("schema", "a command must be a JSON object", "/");
  }
  const record = input as Record<string, unknown>;
  if (record.v !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      "bad_version",
      `expected v=${PROTOCOL_VERSION}, got ${JSON.stringify(record.v)}`,
      "/v",
    );
  }
  const type = record.type;
  if (typeof type !== "string" || !Object.hasOwn(CommandSchemas, type)) {
    throw new ProtocolError("unknown_type", `unknown command type ${JSON.stringify(type)}`, "/type");
  }
  return parsers[type as CommandType].parse(input);
}

export function decodeCommandPayload(payload: string | Uint8Array): DeviceCommand {
  return parseCommand(parseJson(payload));
}

export function encodeCommandPayload(command: DeviceCommand): string {
  return JSON.stringify(parseCommand(command));
}
