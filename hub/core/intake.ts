/**
 * The ports the device adapters hand their input to (ingest implements them): the MQTT broker
 * (events, relayed frames, refusals at its own boundary, the device a credential names) and the
 * BLE central (frames heard, the badge keys its GATT acks are signed with). Adapters see these,
 * not `hub/ingest`.
 */
import type { ProtocolErrorCode } from "../../protocol/index.js";
import type { DeviceRecord } from "./ports.js";

/** Input refused at a boundary, with a code (the bus' `input.rejected`). */
export interface Rejection {
  /** Which boundary refused it: mqtt, frame, http, csv, config. */
  boundary: string;
  code:
    | ProtocolErrorCode
    | "device_mismatch"
    | "revoked"
    | "unauthorized"
    | "rate_limited"
    | "too_large"
    | "invalid"
    | "visit_full"
    | "foreign_visit";
  message: string;
  field?: string;
  device?: string;
}

export type IngestOutcome =
  | { status: "accepted"; visitId: string | null }
  | { status: "duplicate" }
  | { status: "rejected"; code: Rejection["code"]; message: string; field?: string };

/** Where and how a badge frame was heard. */
export interface Reception {
  /** Hub clock when it was received (for relayed frames, the gateway's receive time). */
  at: number;
  /** The site gateway (or the hub's own radio) that heard it. */
  gateway: string;
  rssi: number | null;
}

/** A frame's outcome, with the badge and counter once the frame verified. */
export type FrameOutcome = IngestOutcome & {
  badge?: { device: string; no: number };
  counter?: number;
  /** A presence advert: proof of being there now, not an event kept in the log. */
  presence?: boolean;
};

/** What the MQTT adapter hands its input to. Each promise settles once the input is durable. */
export interface EventIntake {
  /** The device a credential or topic names (cached). */
  device(id: string): Promise<DeviceRecord | undefined>;
  /** Input the adapter refused itself (too large, rate limited, not allowed): counted and told. */
  reject(r: Rejection): IngestOutcome;
  /** A kiosk's or badge's JSON event. */
  submitJson(deviceId: string, payload: Uint8Array | string): Promise<IngestOutcome>;
  /** Badge frames a site gateway relayed. */
  submitFrames(gatewayId: string, payload: Uint8Array | string): Promise<FrameOutcome[]>;
  /** Kiosk and operator events a site hub relays (gateway mode). */
  submitRelayedEvents(gatewayId: string, payload: Uint8Array | string): Promise<IngestOutcome[]>;
}

/** What the BLE central hands frames to. */
export interface FrameSink {
  submitFrame(bytes: Uint8Array, rx: Reception): Promise<FrameOutcome>;
  keyOfBadge(no: number): Promise<Uint8Array | undefined>;
}
