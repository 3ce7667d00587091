/**
 * Presence, simulated: badges walking on and off a site over an 8-hour day, heard by one gateway.
 * Seeded and reproducible. The radio model (docs/performance.md):
 *   mean RSSI(d) = -59 dBm - 10 · 2.2 · log10(d / 1 m); each advert adds N(0, σ = 6 dB);
 *   adverts under -98 dBm are not received, and 30% of the rest are lost anyway;
 *   four adverts a second (the badge firmware's ADVERT_INTERVAL_MS), a newly signed presence frame
 *   every 2 s (the counter steps per rotation).
 * Truth: the badge is on site while within 25 m of the gateway (the site fence). On site it walks
 * between points 2–15 m out (a quarter of its stops at the far edge, 15–20 m) and pauses 1–10 min;
 * it arrives and leaves walking at 1.2 m/s from and to the car park 150 m out, and is away
 * (driven off: out of radio range) 10–60 min between stays.
 * The tracker (hub/core/presence.ts, default configuration) is compared with a baseline in the same
 * process: arrival at any sighting, departure after a fixed 30 s of silence.
 */
import { ADVERT_INTERVAL_MS } from "../firmware/badge/ble-radio.js";
import { prng } from "../firmware/sim/run.js";
import { DEFAULT_PRESENCE, type PresenceConfig, PresenceTracker } from "../hub/core/presence.js";
import { percentile } from "./measure.js";

const DAY_S = 8 * 3600;
const BOUNDARY_M = 25;
const SIGMA_DB = 6;
const LOSS = 0.3;
const SENSITIVITY = -98;
const ROTATION_S = 2;

function gauss(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const meanRssi = (d: number) => -59 - 22 * Math.log10(Math.max(d, 1));

/** A badge's distance from the gateway, second by second, for one day. */
function walk(rng: () => number): Float64Array {
  const d = new Float64Array(DAY_S);
  let t = 0;
  let pos = 150;
  const span = (a: number, b: number) => a + rng() * (b - a);
  const move = (to: number, speed: number) => {
    while (t < DAY_S && Math.abs(pos - to) > 1e-9) {
      const step = Math.min(speed, Math.abs(to - pos));
      pos += Math.sign(to - pos) * step;
      d[t++] = pos;
    }
  };
  const stay = (s: number, at = pos) => {
    for (const end = t + Math.round(s); t < end && t < DAY_S; ) d[t++] = at;
  };
  const AWAY = 5000;
  stay(span(0, 1800), AWAY);
  while (t < DAY_S) {
    pos = 150;
    move(span(2, 15), 1.2);
    const stayUntil = t + span(30, 150) * 60;
    while (t < stayUntil && t < DAY_S) {
      stay(span(60, 600));
      move(rng() < 0.25 ? span(15, 20) : span(2, 15), 0.5);
    }
    move(150, 1.2);
    stay(span(10, 60) * 60, AWAY);
  }
  return d;
}

interface Result {
  arrival: number[];
  departure: number[];
  falseDepartures: number;
  missed: number;
  stays: number;
  sessions: number;
}

type Detector = {
  observe(at: number, counter: number, rssi: number): void;
  tick(now: number): void;
  /** Detected [arrivedAt, detectedDepartureAt | null] in order. */
  events: Array<{ kind: "arrived" | "departed"; at: number }>;
};

function trackerDetector(config: PresenceConfig): Detector {
  const tr = new PresenceTracker(config, () => "s");
  const events: Detector["events"] = [];
  const push = (cs: ReturnType<PresenceTracker["tick"]>, now: number) => {
    for (const c of cs) events.push({ kind: c.kind, at: c.kind === "arrived" ? c.session.arrivedAt : now });
  };
  return {
    events,
    observe: (at, counter, rssi) =>
      push(tr.observe({ badge: "b", gateway: "g", at, rssi, counter, frame: "" }), at),
    tick: (now) => push(tr.tick(now), now),
  };
}

/** What many products do: present at any advert, gone after a fixed silence. */
function naiveDetector(silenceMs: number): Detector {
  const events: Detector["events"] = [];
  let last: number | null = null;
  return {
    events,
    observe(at) {
      if (last === null) events.push({ kind: "arrived", at });
      last = at;
    },
    tick(now) {
      if (last !== null && now - last >= silenceMs) {
        events.push({ kind: "departed", at: now });
        last = null;
      }
    },
  };
}

function runDay(seed: number, make: () => Detector, advertMs: number): Result {
  const rng = prng(seed);
  const d = walk(rng);
  const radio = prng(seed ^ 0x9e3779b9);
  const det = make();
  const counter0 = Math.floor(radio() * 1e6);
  const perSecond = Math.round(1000 / advertMs);
  for (let s = 0; s < DAY_S; s++) {
    const dist = d[s] as number;
    for (let k = 0; k < perSecond; k++) {
      const at = s * 1000 + k * advertMs;
      const rssi = Math.round(meanRssi(dist) + SIGMA_DB * gauss(radio));
      if (radio() >= LOSS && rssi >= SENSITIVITY)
        det.observe(at, counter0 + Math.floor(s / ROTATION_S), rssi);
      if (at % 500 === 0) det.tick(at);
    }
  }
  // Truth: crossings of the boundary.
  const ins: number[] = [];
  const outs: number[] = [];
  for (let s = 1; s < DAY_S; s++) {
    const was = (d[s - 1] as number) <= BOUNDARY_M;
    const is = (d[s] as number) <= BOUNDARY_M;
    if (!was && is) ins.push(s * 1000);
    if (was && !is) outs.push(s * 1000);
  }
  const inside = (ms: number) => (d[Math.min(DAY_S - 1, Math.floor(ms / 1000))] as number) <= BOUNDARY_M;
  const arrivals = det.events.filter((e) => e.kind === "arrived").map((e) => e.at);
  const departures = det.events.filter((e) => e.kind === "departed").map((e) => e.at);
  const r: Result = {
    arrival: [],
    departure: [],
    falseDepartures: 0,
    missed: 0,
    stays: ins.length,
    sessions: arrivals.length,
  };
  for (const t of ins) {
    const a = arrivals.find((x) => x >= t - 120_000 && x <= t + 300_000);
    if (a !== undefined) r.arrival.push((a - t) / 1000);
  }
  for (const t of outs) {
    const dep = departures.find((x) => x >= t);
    if (dep === undefined || dep - t > 300_000) r.missed++;
    else r.departure.push((dep - t) / 1000);
  }
  r.falseDepartures = departures.filter((x) => inside(x)).length;
  return r;
}

function summarise(results: Result[]) {
  const arrival = results.flatMap((r) => r.arrival).sort((a, b) => a - b);
  const departure = results.flatMap((r) => r.departure).sort((a, b) => a - b);
  const sum = (f: (r: Result) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    arrivalP50: percentile(arrival, 50),
    arrivalP95: percentile(arrival, 95),
    departureP50: percentile(departure, 50),
    departureP95: percentile(departure, 95),
    departureMax: departure.at(-1) ?? Number.NaN,
    falsePerDay: sum((r) => r.falseDepartures) / results.length,
    missed: sum((r) => r.missed),
    stays: sum((r) => r.stays),
    sessions: sum((r) => r.sessions),
  };
}

export function benchPresence(
  days = 50,
  seed = 42,
  config: PresenceConfig = { ...DEFAULT_PRESENCE },
): ReturnType<typeof summarise> {
  const started = Date.now();
  const run = (make: () => Detector, advertMs = ADVERT_INTERVAL_MS) =>
    summarise(Array.from({ length: days }, (_, i) => runDay(seed + i, make, advertMs)));
  const ours = run(() => trackerDetector(config));
  // The same tracker with one advert a second: less evidence per second.
  const slow = run(() => trackerDetector(config), 1000);
  const base = run(() => naiveDetector(30_000));
  const cols = [ours, slow, base];
  const row = (name: string, f: (r: ReturnType<typeof summarise>) => string) =>
    console.log(`${name.padEnd(34)}${cols.map((c) => f(c).padStart(16)).join("")}`);
  const s = (x: number) => `${x.toFixed(0)} s`;
  console.log(
    `presence: ${days} badge-days of 8 h (seed ${seed}), σ = ${SIGMA_DB} dB, ${LOSS * 100}% adverts lost, fence at ${BOUNDARY_M} m, ${ours.stays} stays`,
  );
  console.log(`${"".padEnd(34)}${["onsite", "1 advert/s", "baseline"].map((h) => h.padStart(16)).join("")}`);
  row("arrival delay p50 / p95", (r) => `${s(r.arrivalP50)} / ${s(r.arrivalP95)}`);
  row("departure delay p50 / p95", (r) => `${s(r.departureP50)} / ${s(r.departureP95)}`);
  row("departure delay max", (r) => s(r.departureMax));
  row("false departures per badge-day", (r) => r.falsePerDay.toFixed(3));
  row("sessions per true stay", (r) => (r.sessions / r.stays).toFixed(2));
  row("departures not seen within 5 min", (r) => String(r.missed));
  console.log(
    `departure p95 ratio to the baseline: ${(ours.departureP95 / base.departureP95).toFixed(2)} (onsite), ${(slow.departureP95 / base.departureP95).toFixed(2)} (1 advert/s)`,
  );
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return ours;
}
