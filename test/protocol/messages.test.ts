import { describe, expect, it } from "vitest";
import {
  buildTopic,
  type DeviceCommand,
  decodeCommandPayload,
  decodeEventPayload,
  decodeGatewayFramesPayload,
  EVENT_TYPES,
  encodeCommandPayload,
  encodeEventPayload,
  ProtocolError,
  parseCommand,
  parseEvent,
  parseTopic,
  type Topic,
  topics,
} from "../../protocol/index.js";
import { eventVectors } from "./vectors.js";

function codeOf(fn: () => unknown): { code: string; field: string | undefined } {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return { code: e.code, field: e.field };
    throw e;
  }
  throw new Error("did not throw");
}

describe("event catalogue", () => {
  it("has a valid vector for every event type", () => {
    const covered = new Set(eventVectors.valid.map((v) => v.event.type));
    expect([...covered].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it.each(eventVectors.valid)("accepts $name and round-trips it", ({ event }) => {
    const parsed = parseEvent(event);
    expect(parsed).toEqual(event);
    expect(decodeEventPayload(encodeEventPayload(parsed))).toEqual(event);
    expect(decodeEventPayload(new TextEncoder().encode(JSON.stringify(event)))).toEqual(event);
  });

  it.each(eventVectors.invalid)("refuses $name with $code naming $field", ({ payload, code, field }) => {
    const got = codeOf(() => decodeEventPayload(payload));
    expect(got.code).toBe(code);
    if (field !== undefined) expect(got.field).toBe(field);
  });

  it("names the field in the message", () => {
    expect(() => decodeEventPayload(eventVectors.invalid[8]?.payload ?? "")).toThrow(/^\/rating: /);
  });

  it("refuses null and primitives", () => {
    for (const x of [null, 1, "s", true]) expect(codeOf(() => parseEvent(x)).code).toBe("schema");
  });
});

describe("commands", () => {
  const t = 1_764_072_000_000;
  const good: DeviceCommand[] = [
    {
      v: 1,
      type: "display",
      time: t,
      prompt: "checkin_confirm",
      lines: ["Zhang Wei", "On time"],
      visit: "V-1",
    },
    { v: 1, type: "signal", time: t, pattern: "cleanup_missing", repeat: 3 },
    { v: 1, type: "time_sync", time: t, deviceTime: t - 2000, hubTime: t },
    { v: 1, type: "ack", time: t, device: "badge-1", counter: 4, status: "duplicate" },
  ];
  it.each(good)("round-trips $type", (c) => {
    expect(decodeCommandPayload(encodeCommandPayload(c))).toEqual(c);
  });
  it("refuses bad commands with a code and field", () => {
    expect(
      codeOf(() => parseCommand({ v: 1, type: "signal", time: t, pattern: "disco", repeat: 1 })),
    ).toEqual({
      code: "schema",
      field: "/pattern",
    });
    expect(codeOf(() => parseCommand({ v: 1, type: "explode", time: t })).code).toBe("unknown_type");
    expect(codeOf(() => parseCommand({ v: 0, type: "ack" })).code).toBe("bad_version");
    expect(codeOf(() => parseCommand([])).code).toBe("schema");
    expect(codeOf(() => decodeCommandPayload("nope")).code).toBe("bad_json");
    expect(
      codeOf(() => parseCommand({ v: 1, type: "display", time: t, prompt: "x", lines: ["a".repeat(41)] }))
        .field,
    ).toBe("/lines/0");
  });
});

describe("topics", () => {
  const cases: Array<[Topic, string]> = [
    [{ kind: "device_events", device: "badge-0001" }, "onsite/v1/dev/badge-0001/events"],
    [{ kind: "device_commands", device: "kiosk-a1" }, "onsite/v1/dev/kiosk-a1/cmd"],
    [{ kind: "site_status", site: "S-Shenyang-1" }, "onsite/v1/site/S-Shenyang-1/status"],
    [{ kind: "visit_status", site: "S1", visit: "V-1001" }, "onsite/v1/site/S1/visit/V-1001/status"],
    [{ kind: "gateway_frames", gateway: "gw-1" }, "onsite/v1/gw/gw-1/frames"],
  ];
  it.each(cases)("builds and parses %j", (topic, name) => {
    expect(buildTopic(topic)).toBe(name);
    expect(parseTopic(name)).toEqual(topic);
  });

  it.each([
    "onsite/v2/dev/badge-1/events",
    "other/v1/dev/badge-1/events",
    "onsite/v1/dev/badge-1/events/extra",
    "onsite/v1/dev/+/events",
    "onsite/v1/dev/#",
    "onsite/v1/dev/BADGE/events",
    "onsite/v1/dev/badge-1/status",
    "onsite/v1/site/S1/visit/V1",
    "onsite/v1/site/S1/visit/V1/status/x",
    "onsite/v1/site/S1",
    "onsite/v1/gw/gw-1/cmd",
    "onsite/v1/",
    "",
  ])("rejects %j", (name) => {
    expect(codeOf(() => parseTopic(name)).code).toBe("bad_topic");
  });

  it("the builder refuses ids that would break the topic tree", () => {
    expect(() => topics.deviceEvents("a/b")).toThrow(ProtocolError);
    expect(() => topics.deviceCommands("#")).toThrow(ProtocolError);
    expect(() => topics.visitStatus("S1", "+")).toThrow(ProtocolError);
  });
});

describe("gateway frames payload", () => {
  const hex = "0101000012340000000169259a405763a13355c776f2a4";
  it("accepts relayed frames", () => {
    const p = decodeGatewayFramesPayload(
      JSON.stringify({ v: 1, gateway: "gw-1", frames: [{ hex, rssi: -70, rxTime: 1_764_072_000_000 }] }),
    );
    expect(p.frames[0]?.hex).toBe(hex);
  });
  it("refuses an empty batch, odd hex and oversize batches", () => {
    expect(
      codeOf(() => decodeGatewayFramesPayload(JSON.stringify({ v: 1, gateway: "gw-1", frames: [] }))).field,
    ).toBe("/frames");
    expect(
      codeOf(() =>
        decodeGatewayFramesPayload(
          JSON.stringify({ v: 1, gateway: "gw-1", frames: [{ hex: "abc", rxTime: 1_764_072_000_000 }] }),
        ),
      ).field,
    ).toBe("/frames/0/hex");
    const many = Array.from({ length: 65 }, () => ({ hex, rxTime: 1_764_072_000_000 }));
    expect(
      codeOf(() => decodeGatewayFramesPayload(JSON.stringify({ v: 1, gateway: "gw-1", frames: many }))).code,
    ).toBe("schema");
  });
});
