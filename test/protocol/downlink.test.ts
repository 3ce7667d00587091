import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Downlink,
  decodeDownlink,
  encodeDownlink,
  fromHex,
  isProtocolError,
  SIGNAL_PATTERNS,
  toHex,
} from "../../protocol/index.js";
import { downlinkVectors } from "./vectors.js";

const key = fromHex(downlinkVectors.key);
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (isProtocolError(e)) return { code: e.code, field: e.field };
    throw e;
  }
  return undefined;
};

describe("downlink (hub → badge GATT writes)", () => {
  it.each(downlinkVectors.vectors)("$name: encodes to the vector and decodes back", (v) => {
    expect(toHex(encodeDownlink(v.fields, key))).toBe(v.hex);
    expect(decodeDownlink(fromHex(v.hex), v.fields.badge, key)).toEqual(v.fields);
  });

  it("refuses a wrong key, another badge, a flipped bit, a cut or padded message — naming what is wrong", () => {
    const hex = downlinkVectors.vectors[0]?.hex ?? "";
    const bytes = fromHex(hex);
    expect(code(() => decodeDownlink(bytes, 0x1234, new Uint8Array(16)))).toEqual({
      code: "bad_mac",
      field: "mac",
    });
    expect(code(() => decodeDownlink(bytes, 0x9999, key))).toEqual({
      code: "unknown_device",
      field: "badge",
    });
    const flipped = Uint8Array.from(bytes);
    flipped[9] = (flipped[9] as number) ^ 1;
    expect(code(() => decodeDownlink(flipped, 0x1234, key))?.code).toBe("bad_mac");
    expect(code(() => decodeDownlink(bytes.subarray(0, bytes.length - 1), 0x1234, key))?.code).toBe(
      "truncated",
    );
    expect(code(() => decodeDownlink(Uint8Array.from([...bytes, 0]), 0x1234, key))?.code).toBe(
      "trailing_bytes",
    );
    const unknown = Uint8Array.from(bytes);
    unknown[1] = 0x99;
    expect(code(() => decodeDownlink(unknown, 0x1234, key))).toEqual({ code: "unknown_type", field: "type" });
    expect(
      code(() => encodeDownlink({ type: "signal", badge: 1, seq: 1, pattern: "off", repeat: 0 }, key)),
    ).toEqual({
      code: "bad_field",
      field: "repeat",
    });
  });

  it("an uplink frame's MAC is never a valid downlink MAC (separate domains)", () => {
    const ack = encodeDownlink({ type: "ack", badge: 1, counter: 1, status: "accepted" }, key);
    const other = fromHex(downlinkVectors.vectors[0]?.hex ?? "");
    expect(toHex(ack.subarray(-8))).not.toBe(toHex(other.subarray(-8)));
  });

  it("round-trips any message (property)", () => {
    const msg: fc.Arbitrary<Downlink> = fc.oneof(
      fc.record({
        type: fc.constant("ack" as const),
        badge: fc.nat(0xffff_ffff),
        counter: fc.nat(0xffff_ffff),
        status: fc.constantFrom("accepted" as const, "duplicate" as const, "rejected" as const),
      }),
      fc.record({
        type: fc.constant("time" as const),
        badge: fc.nat(0xffff_ffff),
        hubTime: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        counter: fc.nat(0xffff_ffff),
      }),
      fc.record({
        type: fc.constant("signal" as const),
        badge: fc.nat(0xffff_ffff),
        seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        pattern: fc.constantFrom(...SIGNAL_PATTERNS),
        repeat: fc.integer({ min: 1, max: 255 }),
      }),
    );
    fc.assert(
      fc.property(msg, fc.uint8Array({ minLength: 16, maxLength: 16 }), (m, k) => {
        expect(decodeDownlink(encodeDownlink(m, k), m.badge, k)).toEqual(m);
      }),
    );
  });
});
