/**
 * The device event catalogue: one schema per event, the TypeScript type inferred from it.
 * Every event carries the device id, a per-device monotonic counter and the device's own
 * event time (epoch ms, device clock). Payloads stay `unknown` until `parseEvent` accepts them.
 */
import { type Static, type TLiteral, type TSchema, Type } from "@sinclair/typebox";
import { ProtocolError } from "./errors.js";
import { Counter, DeviceId, EntityId, EpochMs, LongText, ShortText } from "./fields.js";
import { type Parser, parseJson, parserFor } from "./validate.js";
import { PROTOCOL_VERSION } from "./version.js";
import { CLEANUP_ITEMS, LATE_REASONS, PPE_ITEMS, PRESENCE_SOURCES } from "./vocab.js";

function oneOf<const T extends readonly string[]>(values: T) {
  return Type.Union(values.map((v) => Type.Literal(v)) as TLiteral<T[number]>[]);
}

export const PpeItemSchema = oneOf(PPE_ITEMS);
export const CleanupItemSchema = oneOf(CLEANUP_ITEMS);

function event<K extends string, P extends Record<string, TSchema>>(type: K, payload: P) {
  return Type.Object(
    {
      v: Type.Literal(PROTOCOL_VERSION),
      type: Type.Literal(type),
      device: DeviceId,
      counter: Counter,
      time: EpochMs,
      /** Set when the device knows which visit this belongs to (kiosk prompts carry it). */
      visit: Type.Optional(EntityId),
      ...payload,
    },
    { additionalProperties: false, $id: `event.${type}` },
  );
}

export const EventSchemas = {
  arrival: event("arrival", {
    source: oneOf(PRESENCE_SOURCES),
    rssi: Type.Optional(Type.Integer({ minimum: -127, maximum: 20 })),
  }),
  late_notice: event("late_notice", {
    eta: EpochMs,
    reason: oneOf(LATE_REASONS),
    note: Type.Optional(LongText),
  }),
  kit_checked: event("kit_checked", {
    complete: Type.Boolean(),
    missing: Type.Optional(Type.Array(ShortText, { maxItems: 50 })),
  }),
  /** The engineer has set off for the site (the engineer's app or badge): the customer is told. */
  en_route: event("en_route", {
    eta: Type.Optional(EpochMs),
  }),
  checkin_request: event("checkin_request", {
    /** The badge's RFID tag (10 hex digits of an RDM6300 frame). */
    tag: Type.String({ pattern: "^[0-9A-F]{10}$" }),
  }),
  checkin_confirmed: event("checkin_confirmed", {
    /** The engineer the customer saw on the kiosk. */
    engineer: EntityId,
    /** false: the customer refused entry. */
    consent: Type.Boolean(),
  }),
  gear_confirmed: event("gear_confirmed", {
    items: Type.Array(PpeItemSchema, { minItems: 1, maxItems: PPE_ITEMS.length, uniqueItems: true }),
  }),
  work_started: event("work_started", {}),
  sos: event("sos", { kind: oneOf(["injury", "hazard", "other"] as const) }),
  completion_submitted: event("completion_submitted", {
    cause: ShortText,
    parts: Type.Array(
      Type.Object(
        {
          name: ShortText,
          partNo: Type.Optional(Type.String({ maxLength: 64 })),
          quantity: Type.Integer({ minimum: 1, maximum: 10_000 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
    workDone: Type.String({ minLength: 1, maxLength: 2000 }),
    advice: LongText,
  }),
  completion_confirmed: event("completion_confirmed", {
    resolved: Type.Boolean(),
    rating: Type.Integer({ minimum: 1, maximum: 5 }),
    comment: Type.Optional(LongText),
  }),
  cleanup_signed_off: event("cleanup_signed_off", {
    items: Type.Array(CleanupItemSchema, { minItems: 1, maxItems: CLEANUP_ITEMS.length, uniqueItems: true }),
  }),
  departure: event("departure", { source: oneOf(PRESENCE_SOURCES) }),
  heartbeat: event("heartbeat", {
    battery: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    queued: Type.Optional(Type.Integer({ minimum: 0 })),
    dropped: Type.Optional(Type.Integer({ minimum: 0 })),
    uptimeS: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
};

export type EventType = keyof typeof EventSchemas;
export const EVENT_TYPES = Object.keys(EventSchemas) as EventType[];
export type EventOf<K extends EventType> = Static<(typeof EventSchemas)[K]>;
export type DeviceEvent = { [K in EventType]: EventOf<K> }[EventType];
export const DeviceEventSchema = Type.Union(Object.values(EventSchemas));

const parsers = Object.fromEntries(EVENT_TYPES.map((t) => [t, parserFor(EventSchemas[t])])) as {
  [K in EventType]: Parser<EventOf<K>>;
};

export function isEventType(t: unknown): t is EventType {
  return typeof t === "string" && Object.hasOwn(EventSchemas, t);
}

/** `unknown` (already JSON-decoded) to a typed event, or a ProtocolError naming the field. */
export function parseEvent(input: unknown): DeviceEvent {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ProtocolError("schema", "an event must be a JSON object", "/");
  }
  const record = input as Record<string, unknown>;
  if (record.v !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      "bad_version",
      `expected v=${PROTOCOL_VERSION}, got ${JSON.stringify(record.v)}`,
      "/v",
    );
  }
  if (!isEventType(record.type)) {
    throw new ProtocolError("unknown_type", `unknown event type ${JSON.stringify(record.type)}`, "/type");
  }
  return parsers[record.type].parse(input);
}

/** MQTT payload bytes to a typed event. */
export function decodeEventPayload(payload: string | Uint8Array): DeviceEvent {
  return parseEvent(parseJson(payload));
}

export function encodeEventPayload(event: DeviceEvent): string {
  return JSON.stringify(parseEvent(event));
}
