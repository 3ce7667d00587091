import { describe, expect, it } from "vitest";
import {
  DEFAULT_PRESENCE,
  type PresenceConfig,
  PresenceTracker,
  type Sighting,
} from "../../../hub/core/presence.js";

const cfg: PresenceConfig = { ...DEFAULT_PRESENCE, minDwellMs: 0 };
const at = (t: number, counter: number, rssi: number | null = -60): Sighting => ({
  badge: "b1",
  gateway: "g1",
  at: t,
  rssi,
  counter,
  frame: "00",
});

/** Feeds one sighting per rotation from t0, every `every`-th rotation heard, for n rotations. */
function feed(tr: PresenceTracker, t0: number, c0: number, n: number, every = 1, rssi = -60) {
  for (let i = 0; i < n; i++) if (i % every === 0) tr.observe(at(t0 + i * cfg.rotationMs, c0 + i, rssi));
  return { t: t0 + (n - 1) * cfg.rotationMs, c: c0 + n - 1 };
}

describe("presence tracker", () => {
  it("arrives at a strong sighting once the rotations before it were heard clearly; a lone lucky advert is not an arrival", () => {
    const tr = new PresenceTracker(cfg);
    expect(tr.observe(at(0, 1, -80))).toEqual([]);
    expect(tr.observe(at(2000, 2, -80))).toEqual([]); // rotations before: -100, -100, -80
    const [c] = tr.observe(at(4000, 3, -80)); // -100, -80, -80: 3 dB above exitRssi
    expect(c?.kind).toBe("arrived");
    expect(c?.session.arrivedAt).toBe(4000);
    const carPark = new PresenceTracker(cfg);
    for (let i = 0; i < 20; i++) expect(carPark.observe(at(i * 60_000, i + 1, -84))).toEqual([]);
    expect(carPark.isPresent("b1", "g1")).toBe(false);
    const gatt = new PresenceTracker(cfg);
    expect(gatt.observe(at(0, 1, null))[0]?.kind).toBe("arrived");
  });

  it("departs when the level stays beyond the boundary for weakHold, while still heard now and then", () => {
    const tr = new PresenceTracker(cfg);
    const r = feed(tr, 0, 1, 30);
    let t = r.t;
    let c = r.c;
    for (let i = 0; i < 40; i++) {
      t += cfg.rotationMs;
      c += 1;
      if (i % 2 === 0) tr.observe(at(t, c, -97)); // every other rotation heard, weakly
      const d = [...tr.tick(t), ...tr.tick(t + cfg.rotationMs / 2)];
      if (d.length > 0) {
        const s = d[0]?.session;
        expect(s?.lastHeardAt).toBeGreaterThan(r.t); // heard after it turned weak: not a silence
        expect((s?.detectedAt ?? 0) - (s?.departedAt ?? 0)).toBeGreaterThanOrEqual(cfg.weakHoldMs);
        expect((s?.detectedAt ?? 0) - (s?.departedAt ?? 0)).toBeLessThanOrEqual(
          cfg.weakHoldMs + cfg.rotationMs,
        );
        return;
      }
    }
    throw new Error("no departure");
  });

  it("departs after the silence its reception rate calls for: sooner when heard reliably, never past silenceMs", () => {
    const reliable = new PresenceTracker(cfg);
    const r = feed(reliable, 0, 1, 100);
    const quick = reliable.requiredSilence("b1", "g1");
    expect(quick).toBeLessThan(cfg.silenceMs);
    expect(quick).toBeGreaterThanOrEqual(cfg.minSilenceMs);
    expect(reliable.tick(r.t + quick - 1)).toEqual([]);
    const [d] = reliable.tick(r.t + quick);
    expect(d?.kind).toBe("departed");
    expect(d?.session.departedAt).toBe(r.t);
    expect(d?.session.detectedAt).toBe(r.t + quick);

    const lossy = new PresenceTracker(cfg);
    feed(lossy, 0, 1, 100, 3); // one rotation in three heard
    expect(lossy.requiredSilence("b1", "g1")).toBe(cfg.silenceMs);
  });

  it("a session lasts at least minDwell", () => {
    const tr = new PresenceTracker({ ...cfg, minDwellMs: 60_000 });
    tr.observe(at(0, 1));
    tr.observe(at(2000, 2)); // arrival: confirmed by the first
    expect(tr.tick(40_000)).toEqual([]);
    expect(tr.tick(62_000)[0]?.kind).toBe("departed");
  });

  it("keeps the RSSI series bounded, thinned evenly over the whole session", () => {
    const tr = new PresenceTracker({ ...cfg, maxSamples: 16 });
    feed(tr, 0, 1, 1000);
    const s = tr.present()[0];
    expect(s?.sightings).toBe(999); // the first one only confirms the arrival
    expect(s?.rssi.length).toBeLessThan(16);
    expect(s?.rssi[0]?.[0]).toBe(cfg.rotationMs);
    expect(s?.rssi.at(-1)?.[0]).toBeGreaterThan(0.9 * 999 * cfg.rotationMs);
  });

  it("a resumed session departs after its silence, at its last sighting; one still heard stays", () => {
    const tr = new PresenceTracker(cfg);
    tr.observe(at(0, 1));
    const [c] = tr.observe(at(2000, 2));
    const open = { ...(c?.session as NonNullable<typeof c>["session"]), lastHeardAt: 5000 };
    const later = new PresenceTracker(cfg);
    later.resume(open, 6000);
    const [d] = later.tick(5000 + cfg.silenceMs);
    expect(d?.session.departedAt).toBe(5000);
    // After a restart the rotations before it are unknown, not silent: a badge heard again stays.
    const again = new PresenceTracker(cfg);
    const t0 = 1_000_000;
    again.resume({ ...open, lastHeardAt: t0 - 3000 }, t0);
    for (let i = 0; i < 30; i++) {
      again.observe(at(t0 + i * cfg.rotationMs, 100 + i));
      expect(again.tick(t0 + i * cfg.rotationMs + 500)).toEqual([]);
    }
    expect(again.isPresent("b1", "g1")).toBe(true);
  });
});
