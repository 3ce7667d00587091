/** Payload of `onsite/v1/gw/<gateway>/frames`: badge frames a gateway heard, relayed unaltered. */
import { type Static, Type } from "@sinclair/typebox";
import { DeviceId, EpochMs } from "./fields.js";
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
