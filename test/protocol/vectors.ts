/** Loads the golden vectors: shared by protocol, hub and firmware tests. */
import { readFileSync } from "node:fs";
import { type BadgeFrame, type Downlink, fromHex, type ProtocolErrorCode } from "../../protocol/index.js";

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../protocol/vectors/${name}`, import.meta.url), "utf8")) as T;
}

export const frameVectors = load<{
  key: string;
  vectors: Array<{ name: string; fields: BadgeFrame; hex: string }>;
}>("frames.json");
export const negativeFrameVectors = load<{
  key: string;
  knownBadges: number[];
  vectors: Array<{ name: string; hex: string; code: ProtocolErrorCode; accepted?: number[] }>;
}>("negative.json");
export const eventVectors = load<{
  valid: Array<{ name: string; event: Record<string, unknown> }>;
  invalid: Array<{ name: string; payload: string; code: ProtocolErrorCode; field?: string }>;
}>("events.json");

export const testKey = fromHex(frameVectors.key);
/** Key lookup that knows the badges the vectors use. */
export const testKeys = (badge: number): Uint8Array | undefined =>
  negativeFrameVectors.knownBadges.includes(badge) ? testKey : undefined;
export const downlinkVectors = load<{
  key: string;
  vectors: Array<{ name: string; fields: Downlink; hex: string }>;
}>("downlink.json");
