import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  acceptCounter,
  type BadgeFrame,
  checkCounter,
  decodeFrame,
  encodeFrame,
  frameToEvent,
  fromHex,
  INITIAL_REPLAY_STATE,
  isProtocolError,
  LATE_REASONS,
  PPE_ITEMS,
  ProtocolError,
  parseEvent,
  peekFrame,
  SHORT_FRAME_LENGTH,
  toHex,
} from "../../protocol/index.js";
import { frameVectors, negativeFrameVectors, testKey, testKeys } from "./vectors.js";

describe("golden frame vectors", () => {
  it.each(frameVectors.vectors)("encodes $name", ({ fields, hex }) => {
    expect(toHex(encodeFrame(fields, testKey))).toBe(hex);
  });

  it.each(frameVectors.vectors)("decodes $name", ({ fields, hex }) => {
    expect(decodeFrame(fromHex(hex), testKeys)).toEqual(fields);
  });

  it("lays out a short frame byte by byte and fits a legacy advertisement", () => {
    const v = frameVectors.vectors[0];
    if (!v) throw new Error("no vectors");
    const b = fromHex(v.hex);
    expect(b.length).toBe(SHORT_FRAME_LENGTH);
    // 31-byte advert: flags AD (3) + manufacturer AD header: length, type 0xFF, company id (4).
    expect(3 + 4 + b.length).toBeLessThanOrEqual(31);
    expect(b.length).toBeLessThanOrEqual(24);
    expect(b[0]).toBe(0x01); // version
    expect(b[1]).toBe(0x01); // type: presence
    expect(toHex(b.subarray(2, 6))).toBe("00001234"); // badge id
    expect(toHex(b.subarray(6, 10))).toBe("00000001"); // counter
    expect(toHex(b.subarray(10, 14))).toBe((1_764_072_000).toString(16).padStart(8, "0")); // time, s
    expect(b[14]).toBe(87); // battery %
  });

  it("every short frame type fits 24 bytes, long frames carry a 16-byte MAC", () => {
    for (const v of frameVectors.vectors) {
      const len = fromHex(v.hex).length;
      if ("battery" in v.fields) expect(len).toBe(23);
      else expect(len).toBe(14 + 1 + (fromHex(v.hex)[14] as number) + 16);
    }
  });
});

describe("negative frame vectors", () => {
  it.each(negativeFrameVectors.vectors)("refuses $name with $code", ({ hex, code, accepted }) => {
    const attempt = () => {
      const frame = decodeFrame(fromHex(hex), testKeys);
      let state = INITIAL_REPLAY_STATE;
      for (const c of accepted ?? []) state = acceptCounter(state, c);
      const verdict = checkCounter(state, frame.counter);
      if (verdict !== "fresh")
        throw new ProtocolError(verdict, `counter ${frame.counter} is ${verdict}`, "counter");
    };
    expect(attempt).toThrow(ProtocolError);
    try {
      attempt();
    } catch (e) {
      expect(isProtocolError(e) && e.code).toBe(code);
    }
  });

  it("a relay without the key cannot forge: any single-bit change fails to verify", () => {
    const v = frameVectors.vectors[7];
    if (!v) throw new Error("no vectors");
    const good = fromHex(v.hex);
    for (let i = 0; i < good.length * 8; i++) {
      const bad = Uint8Array.from(good);
      bad[i >> 3] = (bad[i >> 3] as number) ^ (1 << (i & 7));
      expect(() => decodeFrame(bad, testKeys)).toThrow(ProtocolError);
    }
  });

  it("a frame signed with another badge's key fails", () => {
    const other = fromHex("ffeeddccbbaa99887766554433221100");
    const f: BadgeFrame = { type: "sos", badge: 0x1234, counter: 9, time: 1_764_072_000, battery: 50 };
    expect(() => decodeFrame(encodeFrame(f, other), testKeys)).toThrow(/MAC/);
  });

  it("refuses to encode out-of-range fields", () => {
    const base = { badge: 1, counter: 1, time: 1_764_072_000 };
    expect(() => encodeFrame({ type: "presence", ...base, battery: 101 }, testKey)).toThrow(/battery/);
    expect(() => encodeFrame({ type: "presence", ...base, counter: -1, battery: 1 }, testKey)).toThrow(
      /counter/,
    );
    expect(() => encodeFrame({ type: "presence", ...base, badge: 2 ** 32, battery: 1 }, testKey)).toThrow(
      /badge/,
    );
    expect(() => encodeFrame({ type: "gear_confirmed", ...base, items: ["cape" as never] }, testKey)).toThrow(
      /PPE/,
    );
    expect(() =>
      encodeFrame({ type: "late_notice", ...base, eta: 1, reason: "aliens" as never }, testKey),
    ).toThrow(/reason/);
  });
});

const frameArb: fc.Arbitrary<BadgeFrame> = (() => {
  const header = {
    badge: fc.nat({ max: 0xffff_ffff }),
    counter: fc.nat({ max: 0xffff_ffff }),
    time: fc.nat({ max: 0xffff_ffff }),
  };
  return fc.oneof(
    fc.record({
      ...header,
      type: fc.constantFrom("presence", "arrival", "departure", "sos", "work_started" as const),
      battery: fc.option(fc.nat({ max: 100 }), { nil: null }),
    }),
    fc.record({
      ...header,
      type: fc.constant("gear_confirmed" as const),
      items: fc.subarray([...PPE_ITEMS], { minLength: 1 }),
    }),
    fc.record({
      ...header,
      type: fc.constant("late_notice" as const),
      eta: fc.nat({ max: 0xffff_ffff }),
      reason: fc.constantFrom(...LATE_REASONS),
    }),
    fc.record({ ...header, type: fc.constant("kit_checked" as const), complete: fc.boolean() }),
    fc.record({
      ...header,
      type: fc.constant("badge_status" as const),
      queued: fc.nat({ max: 0xffff }),
      dropped: fc.nat({ max: 0xffff }),
    }),
  );
})();

describe("frame codec properties", () => {
  it("decode(encode(f)) = f for every frame", () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        expect(decodeFrame(encodeFrame(f, testKey), () => testKey)).toEqual(f);
      }),
    );
  });

  it("never throws anything but a ProtocolError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          decodeFrame(bytes, () => testKey);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });

  it("peek reads the header without a key", () => {
    const v = frameVectors.vectors[9];
    if (!v) throw new Error("no vectors");
    expect(peekFrame(fromHex(v.hex))).toMatchObject({
      version: 1,
      type: "late_notice",
      badge: 0x1234,
      counter: 9,
    });
    expect(peekFrame(fromHex("01ee0000000100000001000000ff")).type).toBe("0xee");
  });

  it("maps every frame to a valid catalogue event", () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        // Event times must lie in 2000..2100; the 32-bit frame time reaches 2106.
        const clamp = (s: number) => Math.min(Math.max(s, 946_684_800), 4_102_444_800);
        const frame = { ...f, time: clamp(f.time), ...("eta" in f ? { eta: clamp(f.eta) } : {}) };
        const e = parseEvent(frameToEvent(frame as BadgeFrame, "badge-1"));
        expect(e.counter).toBe(f.counter);
        expect(e.time).toBe(frame.time * 1000);
      }),
    );
  });
});

describe("replay window", () => {
  it("accepts newer counters, each counter once, and refuses what fell out of the window", () => {
    let s = INITIAL_REPLAY_STATE;
    expect(checkCounter(s, 0)).toBe("fresh");
    s = acceptCounter(s, 5);
    expect(checkCounter(s, 5)).toBe("duplicate");
    expect(checkCounter(s, 4)).toBe("fresh"); // late but inside the window
    s = acceptCounter(s, 4);
    expect(checkCounter(s, 4)).toBe("duplicate");
    s = acceptCounter(s, 200);
    expect(checkCounter(s, 5)).toBe("replayed");
    expect(checkCounter(s, 137)).toBe("fresh");
    expect(checkCounter(s, 136)).toBe("replayed");
    s = acceptCounter(s, 201);
    expect(checkCounter(s, 200)).toBe("duplicate");
  });

  it("never accepts the same counter twice in any delivery order", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 300 }), { maxLength: 200 }), (counters) => {
        let s = INITIAL_REPLAY_STATE;
        const accepted = new Set<number>();
        for (const c of counters) {
          if (checkCounter(s, c) === "fresh") {
            expect(accepted.has(c)).toBe(false);
            accepted.add(c);
            s = acceptCounter(s, c);
          }
        }
      }),
    );
  });
});
