/**
 * MQTT topics, all under `onsite/v1`. One builder per kind and one parser that accepts exactly
 * these shapes and rejects everything else (wildcards, extra levels, bad ids, other prefixes).
 */
import { ProtocolError } from "./errors.js";
import { TOPIC_PREFIX } from "./version.js";

export type Topic =
  | { kind: "device_events"; device: string }
  | { kind: "device_commands"; device: string }
  | { kind: "site_status"; site: string }
  | { kind: "visit_status"; site: string; visit: string }
  | { kind: "gateway_frames"; gateway: string }
  | { kind: "gateway_events"; gateway: string }
  | { kind: "gateway_sync"; gateway: string };

const DEVICE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ENTITY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function segment(value: string, re: RegExp, what: string): string {
  if (!re.test(value)) throw new ProtocolError("bad_topic", `invalid ${what} ${JSON.stringify(value)}`, what);
  return value;
}

export const topics = {
  deviceEvents: (device: string) => `${TOPIC_PREFIX}/dev/${segment(device, DEVICE_ID, "device")}/events`,
  deviceCommands: (device: string) => `${TOPIC_PREFIX}/dev/${segment(device, DEVICE_ID, "device")}/cmd`,
  siteStatus: (site: string) => `${TOPIC_PREFIX}/site/${segment(site, ENTITY_ID, "site")}/status`,
  visitStatus: (site: string, visit: string) =>
    `${TOPIC_PREFIX}/site/${segment(site, ENTITY_ID, "site")}/visit/${segment(visit, ENTITY_ID, "visit")}/status`,
  gatewayFrames: (gateway: string) => `${TOPIC_PREFIX}/gw/${segment(gateway, DEVICE_ID, "gateway")}/frames`,
  gatewayEvents: (gateway: string) => `${TOPIC_PREFIX}/gw/${segment(gateway, DEVICE_ID, "gateway")}/events`,
  gatewaySync: (gateway: string) => `${TOPIC_PREFIX}/gw/${segment(gateway, DEVICE_ID, "gateway")}/sync`,
} as const;

export function buildTopic(t: Topic): string {
  switch (t.kind) {
    case "device_events":
      return topics.deviceEvents(t.device);
    case "device_commands":
      return topics.deviceCommands(t.device);
    case "site_status":
      return topics.siteStatus(t.site);
    case "visit_status":
      return topics.visitStatus(t.site, t.visit);
    case "gateway_frames":
      return topics.gatewayFrames(t.gateway);
    case "gateway_events":
      return topics.gatewayEvents(t.gateway);
    case "gateway_sync":
      return topics.gatewaySync(t.gateway);
  }
}

/** Parses a concrete topic name (no wildcards) into its kind, or throws `bad_topic`. */
export function parseTopic(topic: string): Topic {
  const fail = (why: string): never => {
    throw new ProtocolError("bad_topic", `${why}: ${JSON.stringify(topic.slice(0, 200))}`);
  };
  if (!topic.startsWith(`${TOPIC_PREFIX}/`)) return fail(`topic is not under ${TOPIC_PREFIX}/`);
  const parts = topic.slice(TOPIC_PREFIX.length + 1).split("/");
  const [root, id, leaf, ...rest] = parts;
  if (id === undefined || leaf === undefined) return fail("topic is too short");
  if (root === "dev" && rest.length === 0 && (leaf === "events" || leaf === "cmd")) {
    const device = segment(id, DEVICE_ID, "device");
    return leaf === "events" ? { kind: "device_events", device } : { kind: "device_commands", device };
  }
  if (root === "gw" && (leaf === "frames" || leaf === "events" || leaf === "sync") && rest.length === 0) {
    const gateway = segment(id, DEVICE_ID, "gateway");
    if (leaf === "frames") return { kind: "gateway_frames", gateway };
    return leaf === "events" ? { kind: "gateway_events", gateway } : { kind: "gateway_sync", gateway };
  }
  if (root === "site") {
    const site = segment(id, ENTITY_ID, "site");
    if (leaf === "status" && rest.length === 0) return { kind: "site_status", site };
    if (leaf === "visit" && rest.length === 2 && rest[1] === "status" && rest[0] !== undefined) {
      return { kind: "visit_status", site, visit: segment(rest[0], ENTITY_ID, "visit") };
    }
  }
  return fail("unknown topic");
}
