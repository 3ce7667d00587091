/**
 * What a gateway (a site hub) relays to a central hub: `onsite/v1/gw/<gateway>/frames`, badge frames
 * relayed unaltered, and `onsite/v1/gw/<gateway>/events`, its site's kiosk and operator events.
 */
import { type Static, Type } from "@sinclair/typebox";
import { EngineerSchema, SiteSchema } from "./api.js";
import { DeviceId, EntityId, EpochMs } from "./fields.js";
import { parseJson, parserFor } from "./validate.js";
import { PROTOCOL_VERSION } from "./version.js";

export const GatewayFramesSchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    gateway: DeviceId,
    frames: Type.Array(
      Type.Object(
        {
          /** The frame exactly as received (manufacturer data after the company id, or a GATT value). */
          hex: Type.String({ pattern: "^(?:[0-9a-f]{2}){15,96}$" }),
          rssi: Type.Optional(Type.Integer({ minimum: -127, maximum: 20 })),
          /** When the gateway received it, gateway clock. */
          rxTime: EpochMs,
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 64 },
    ),
  },
  { additionalProperties: false },
);
export type GatewayFrames = Static<typeof GatewayFramesSchema>;

const parser = parserFor(GatewayFramesSchema);
export const parseGatewayFrames = (input: unknown): GatewayFrames => parser.parse(input);
export const decodeGatewayFramesPayload = (payload: string | Uint8Array): GatewayFrames =>
  parser.parse(parseJson(payload));

/** Validates and serialises a batch (a gateway never sends what the hub would refuse). */
export const encodeGatewayFrames = (batch: GatewayFrames): string => JSON.stringify(parser.parse(batch));

/**
 * Payload of `onsite/v1/gw/<gateway>/events`: events a site hub accepted from its site's kiosks and
 * operators, in its commit order, each with when the site hub received it and the device's clock
 * offset as the site hub knew it. Each `event` is checked as a device event by the central hub.
 */
export const GatewayEventsSchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    gateway: DeviceId,
    events: Type.Array(
      Type.Object(
        {
          event: Type.Unknown(),
          hubTime: EpochMs,
          clockOffsetMs: Type.Integer({ minimum: -31_536_000_000, maximum: 31_536_000_000 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 64 },
    ),
  },
  { additionalProperties: false },
);
export type GatewayEvents = Static<typeof GatewayEventsSchema>;

const eventsParser = parserFor(GatewayEventsSchema);
export const decodeGatewayEventsPayload = (payload: string | Uint8Array): GatewayEvents =>
  eventsParser.parse(parseJson(payload));
export const encodeGatewayEvents = (batch: GatewayEvents): string =>
  JSON.stringify(eventsParser.parse(batch));

/** A visit as the central hub plans it, as sent down to a site hub. */
export const SyncedVisitSchema = Type.Object(
  {
    id: EntityId,
    siteId: EntityId,
    engineerId: EntityId,
    window: Type.Object({ from: EpochMs, to: EpochMs }, { additionalProperties: false }),
    createdAt: Type.Optional(EpochMs),
    cancelledAt: Type.Optional(EpochMs),
    cancelReason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

/**
 * Payload of `onsite/v1/gw/<gateway>/sync`, central hub to site hub: the gateway's site as the
 * central tier has it, its visits from a day ago to two weeks ahead (cancelled ones too) and their
 * engineers. A whole picture each time: applying it twice changes nothing.
 */
export const GatewaySyncSchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    gateway: DeviceId,
    at: EpochMs,
    site: SiteSchema,
    engineers: Type.Array(EngineerSchema, { maxItems: 5000 }),
    visits: Type.Array(SyncedVisitSchema, { maxItems: 20_000 }),
  },
  { additionalProperties: false },
);
export type GatewaySync = Static<typeof GatewaySyncSchema>;

const syncParser = parserFor(GatewaySyncSchema);
export const decodeGatewaySyncPayload = (payload: string | Uint8Array): GatewaySync =>
  syncParser.parse(parseJson(payload));
export const encodeGatewaySync = (sync: GatewaySync): string => JSON.stringify(syncParser.parse(sync));
