/**
 * Presence of badges at site gateways, from verified radio sightings. Pure: the caller feeds
 * sightings and calls `tick(now)`; time is whatever the caller says it is.
 *
 * - Arrival: the first sighting with RSSI at or above `enterRssi` (or without RSSI: a GATT link), or
 *   `WINDOW` sightings within `silenceMs` whose median RSSI is at least `exitRssi` (a badge parked in
 *   a poor spot still arrives; a stray advert from the car park does not).
 * - Departure, whichever comes first:
 *   - silence: nothing heard for long enough. How long depends on how reliably this badge is heard
 *     here: the tracker estimates the share of advert rotations it receives (from the gaps in the
 *     signed counters) and waits until a silence that long would have had a chance below
 *     `epsilon` while the badge was present, clamped to [`minSilenceMs`, `silenceMs`];
 *   - walking away: the median RSSI of its last `WINDOW` sightings stayed below `exitRssi` for
 *     `weakHoldMs` (adverts from beyond the site boundary still get through now and then, and
 *     would otherwise hold the silence off).
 *   The gap between `enterRssi` and `exitRssi` is the hysteresis; a session also lasts at least
 *   `minDwellMs`. Together they keep a badge at the edge of range from flapping.
 * - Evidence: the RSSI series (bounded, thinned evenly when it grows) and the last frame.
 */
export interface PresenceConfig {
  /** Longest silence before a departure (also the default when nothing is known). */
  silenceMs: number;
  /** Shortest silence before a departure, however reliably the badge was heard. */
  minSilenceMs: number;
  /** A session lasts at least this long. */
  minDwellMs: number;
  /** dBm at or above which a single sighting is an arrival. */
  enterRssi: number;
  /** dBm below which the median of recent sightings means the badge is beyond the site boundary. */
  exitRssi: number;
  /** How long that median must stay below exitRssi for a departure. */
  weakHoldMs: number;
  /** How often a badge signs a new presence frame (its counter steps once per rotation). */
  rotationMs: number;
  /** Accepted chance that a present badge is declared departed. */
  epsilon: number;
  /** RSSI samples kept per session. */
  maxSamples: number;
}

export const DEFAULT_PRESENCE: PresenceConfig = {
  silenceMs: 30_000,
  minSilenceMs: 8_000,
  minDwellMs: 60_000,
  enterRssi: -85,
  exitRssi: -92,
  weakHoldMs: 10_000,
  rotationMs: 2_000,
  epsilon: 1e-7,
  maxSamples: 512,
};

export interface Sighting {
  badge: string;
  gateway: string;
  /** When it was received (hub clock). */
  at: number;
  rssi: number | null;
  counter: number;
  /** The frame, hex, as received. */
  frame: string;
}

export interface PresenceSession {
  id: string;
  badge: string;
  gateway: string;
  arrivedAt: number;
  lastHeardAt: number;
  /** The last sighting before the silence, or when it turned weak for good (null while present). */
  departedAt: number | null;
  /** When the departure was declared. */
  detectedAt: number | null;
  sightings: number;
  /** [time, dBm] pairs, thinned evenly to at most maxSamples. */
  rssi: Array<[number, number]>;
  lastFrame: string;
}

export type PresenceChange =
  | { kind: "arrived"; session: PresenceSession }
  | { kind: "departed"; session: PresenceSession };

interface Track {
  session: PresenceSession | null;
  /** Recent sightings' [time, dBm]: the arrival and walking-away rules use their median. */
  recent: Array<[number, number]>;
  /** Since when the median has been below exitRssi (null: it is not). */
  weakSince: number | null;
  highest: number;
  /** Estimated share of rotations heard. */
  heard: number;
  stride: number;
  skipped: number;
}

const ALPHA = 0.1;
const MAX_GAP = 30;
/** Sightings the RSSI median is taken over. */
const WINDOW = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export class PresenceTracker {
  private readonly tracks = new Map<string, Track>();
  private seq = 0;

  constructor(
    readonly config: PresenceConfig = DEFAULT_PRESENCE,
    private readonly newId: (s: Sighting) => string = (s) => `${s.badge}@${s.gateway}#${s.at}-${++this.seq}`,
  ) {}

  private track(badge: string, gateway: string): Track {
    const key = `${badge}\u0000${gateway}`;
    let t = this.tracks.get(key);
    if (!t) {
      t = { session: null, recent: [], weakSince: null, highest: -1, heard: 0.7, stride: 1, skipped: 0 };
      this.tracks.set(key, t);
    }
    return t;
  }

  /** Continue a session that was open when the hub stopped (it departs on the next tick if silent). */
  resume(session: PresenceSession): void {
    const t = this.track(session.badge, session.gateway);
    t.session = { ...session, rssi: [...session.rssi] };
    t.stride = Math.max(1, Math.ceil(session.sightings / Math.max(1, session.rssi.length)));
  }

  observe(s: Sighting): PresenceChange[] {
    const t = this.track(s.badge, s.gateway);
    if (s.counter > t.highest) {
      if (t.highest >= 0) {
        const missed = Math.min(s.counter - t.highest - 1, MAX_GAP);
        t.heard *= (1 - ALPHA) ** missed;
      }
      t.heard += ALPHA * (1 - t.heard);
      t.highest = s.counter;
    }
    const out: PresenceChange[] = [];
    if (s.rssi !== null) {
      t.recent.push([s.at, s.rssi]);
      if (t.recent.length > WINDOW) t.recent.shift();
    }
    const recent = t.recent.filter(([at]) => s.at - at <= this.config.silenceMs).map(([, v]) => v);
    const med = recent.length > 0 ? median(recent) : null;
    if (!t.session) {
      const strong = s.rssi === null || s.rssi >= this.config.enterRssi;
      const steady = recent.length >= WINDOW && med !== null && med >= this.config.exitRssi;
      if (!strong && !steady) return out;
      t.weakSince = null;
      t.session = {
        id: this.newId(s),
        badge: s.badge,
        gateway: s.gateway,
        arrivedAt: s.at,
        lastHeardAt: s.at,
        departedAt: null,
        detectedAt: null,
        sightings: 0,
        rssi: [],
        lastFrame: s.frame,
      };
      t.stride = 1;
      t.skipped = 0;
      out.push({ kind: "arrived", session: t.session });
    } else if (s.rssi !== null && med !== null) {
      if (med < this.config.exitRssi) t.weakSince ??= s.at;
      else t.weakSince = null;
    } else if (s.rssi === null) {
      t.weakSince = null; // a live GATT link: it is here
    }
    const session = t.session;
    session.lastHeardAt = Math.max(session.lastHeardAt, s.at);
    session.lastFrame = s.frame;
    session.sightings++;
    if (s.rssi !== null) this.sample(t, session, s.at, s.rssi);
    return out;
  }

  private sample(t: Track, session: PresenceSession, at: number, rssi: number): void {
    if (++t.skipped < t.stride) return;
    t.skipped = 0;
    session.rssi.push([at, rssi]);
    if (session.rssi.length >= this.config.maxSamples) {
      session.rssi = session.rssi.filter((_, i) => i % 2 === 0);
      t.stride *= 2;
    }
  }

  /** The silence after which this badge counts as gone from this gateway. */
  requiredSilence(badge: string, gateway: string): number {
    const { silenceMs, minSilenceMs, rotationMs, epsilon } = this.config;
    const heard = Math.min(Math.max(this.track(badge, gateway).heard, 0.01), 0.999);
    const rotations = Math.ceil(Math.log(epsilon) / Math.log(1 - heard));
    return Math.min(silenceMs, Math.max(minSilenceMs, rotations * rotationMs));
  }

  tick(now: number): PresenceChange[] {
    const out: PresenceChange[] = [];
    for (const t of this.tracks.values()) {
      const s = t.session;
      if (!s) continue;
      if (now - s.arrivedAt < this.config.minDwellMs) continue;
      const silent = now - s.lastHeardAt >= this.requiredSilence(s.badge, s.gateway);
      const away = t.weakSince !== null && now - t.weakSince >= this.config.weakHoldMs;
      if (!silent && !away) continue;
      s.departedAt = away && t.weakSince !== null ? Math.min(t.weakSince, s.lastHeardAt) : s.lastHeardAt;
      s.detectedAt = now;
      t.session = null;
      t.weakSince = null;
      t.recent = [];
      out.push({ kind: "departed", session: s });
    }
    return out;
  }

  /** Open sessions. */
  present(): PresenceSession[] {
    return [...this.tracks.values()].flatMap((t) => (t.session ? [t.session] : []));
  }

  isPresent(badge: string, gateway: string): boolean {
    return this.tracks.get(`${badge}\u0000${gateway}`)?.session != null;
  }
}
