/**
 * Presence of badges at site gateways, from verified radio sightings. Pure: the caller feeds
 * sightings and calls `tick(now)`; time is whatever the caller says it is.
 *
 * The tracker reasons per advert rotation (a badge signs a new presence frame every `rotationMs`
 * and advertises it several times): the *level* of a badge is the mean, over its last `levelOf`
 * rotations, of the mean RSSI heard in each, a rotation with nothing heard counting as
 * `floorRssi`. Far away, adverts still get through now and then (σ = 6 dB is a lot), but many
 * rotations are silent, so the level falls fast; near, a lost advert costs little.
 * - Arrival: a sighting at or above `enterRssi` while the level of the three rotations before it
 *   is at least 3 dB above `exitRssi` (one lucky advert from the car park is not an arrival), or a
 *   sighting without RSSI (a live GATT link).
 * - Departure, whichever comes first:
 *   - walking away: the level stayed below `exitRssi` for `weakHoldMs`; departed when it fell;
 *   - silence: nothing heard for long enough. How long depends on how reliably this badge is heard
 *     here: the share of rotations received (from the gaps in the signed counters) sets the silence
 *     whose chance while present is below `epsilon`, clamped to [`minSilenceMs`, `silenceMs`].
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
  /** dBm: a level below this means the badge is beyond the site boundary. */
  exitRssi: number;
  /** How long the level must stay below exitRssi for a departure. */
  weakHoldMs: number;
  /** dBm a rotation with nothing heard counts as. */
  floorRssi: number;
  /** Rotations the level is taken over. */
  levelOf: number;
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
  exitRssi: -91,
  weakHoldMs: 4_000,
  floorRssi: -100,
  levelOf: 8,
  rotationMs: 2_000,
  epsilon: 1e-9,
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
  /** Rotation index → [sum of dBm, sightings] heard in it (the last levelOf + 1 rotations). */
  slots: Map<number, [number, number]>;
  /** The level counts rotations from here on (set when a session is resumed after a restart). */
  levelFrom: number;
  /** Since when the level has been below exitRssi (null: it is not). */
  weakSince: number | null;
  highest: number;
  /** Estimated share of rotations heard. */
  heard: number;
  stride: number;
  skipped: number;
}

const trackKey = (badge: string, gateway: string) => `${badge}\u0000${gateway}`;

const ALPHA = 0.1;
const MAX_GAP = 30;
/**
 * The reception estimate is a moving average and runs high after a lucky streak; the silence rule
 * never assumes more than this share of rotations heard.
 */
const MAX_HEARD = 0.9;
/** Completed rotations whose level confirms an arrival, and by how much it must clear exitRssi. */
const ARRIVAL_ROTATIONS = 3;
const ARRIVAL_MARGIN_DB = 3;

export class PresenceTracker {
  private readonly tracks = new Map<string, Track>();
  private seq = 0;

  constructor(
    readonly config: PresenceConfig = DEFAULT_PRESENCE,
    private readonly newId: (s: Sighting) => string = (s) => `${s.badge}@${s.gateway}#${s.at}-${++this.seq}`,
  ) {}

  private track(badge: string, gateway: string): Track {
    const key = trackKey(badge, gateway);
    let t = this.tracks.get(key);
    if (!t) {
      t = {
        session: null,
        slots: new Map(),
        levelFrom: 0,
        weakSince: null,
        highest: -1,
        heard: 0.7,
        stride: 1,
        skipped: 0,
      };
      this.tracks.set(key, t);
    }
    return t;
  }

  /** Continue a session that was open when the hub stopped (it departs on the next tick if silent). */
  resume(session: PresenceSession, now: number): void {
    const t = this.track(session.badge, session.gateway);
    t.session = { ...session, rssi: [...session.rssi] };
    // The rotations before the restart were not recorded: judge the level only on what follows.
    t.levelFrom = now;
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
    const { enterRssi, exitRssi, levelOf, rotationMs } = this.config;
    const slot = Math.floor(s.at / rotationMs);
    const rssi = s.rssi ?? enterRssi;
    const cur = t.slots.get(slot) ?? [0, 0];
    t.slots.set(slot, [cur[0] + rssi, cur[1] + 1]);
    for (const k of t.slots.keys()) if (k < slot - levelOf) t.slots.delete(k);
    if (!t.session) {
      // Strong now, and the rotations just before heard clearly inside the boundary on average.
      const confirmed =
        s.rssi === null || (rssi >= enterRssi && this.recentLevel(t, slot) >= exitRssi + ARRIVAL_MARGIN_DB);
      if (!confirmed) return out;
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

  private recentLevel(t: Track, slot: number): number {
    let sum = 0;
    for (let k = slot - ARRIVAL_ROTATIONS; k < slot; k++) {
      const v = t.slots.get(k);
      sum += v ? v[0] / v[1] : this.config.floorRssi;
    }
    return sum / ARRIVAL_ROTATIONS;
  }

  /**
   * Mean over the last levelOf completed rotations of the strongest dBm heard in each (floorRssi
   * if none); null until the session has lasted that many rotations.
   */
  level(badge: string, gateway: string, now: number): number | null {
    const { levelOf, rotationMs, floorRssi } = this.config;
    const t = this.track(badge, gateway);
    const current = Math.floor(now / rotationMs);
    if (!t.session) return null;
    const from = Math.max(t.session.arrivedAt, t.levelFrom);
    if (Math.floor(from / rotationMs) > current - levelOf) return null;
    let sum = 0;
    for (let k = current - levelOf; k < current; k++) {
      const v = t.slots.get(k);
      sum += v ? v[0] / v[1] : floorRssi;
    }
    return sum / levelOf;
  }

  /** The silence after which this badge counts as gone from this gateway. */
  requiredSilence(badge: string, gateway: string): number {
    const { silenceMs, minSilenceMs, rotationMs, epsilon } = this.config;
    const heard = Math.min(Math.max(this.track(badge, gateway).heard, 0.01), MAX_HEARD);
    const rotations = Math.ceil(Math.log(epsilon) / Math.log(1 - heard));
    return Math.min(silenceMs, Math.max(minSilenceMs, rotations * rotationMs));
  }

  tick(now: number): PresenceChange[] {
    const out: PresenceChange[] = [];
    for (const t of this.tracks.values()) {
      const s = t.session;
      if (!s) continue;
      const level = this.level(s.badge, s.gateway, now);
      if (level !== null && level < this.config.exitRssi) t.weakSince ??= now;
      else t.weakSince = null;
      if (now - s.arrivedAt < this.config.minDwellMs) continue;
      const silent = now - s.lastHeardAt >= this.requiredSilence(s.badge, s.gateway);
      const away = t.weakSince !== null && now - t.weakSince >= this.config.weakHoldMs;
      if (!silent && !away) continue;
      s.departedAt = away && t.weakSince !== null ? Math.min(t.weakSince, s.lastHeardAt) : s.lastHeardAt;
      s.detectedAt = now;
      t.session = null;
      t.weakSince = null;
      out.push({ kind: "departed", session: s });
    }
    return out;
  }

  /** Open sessions. */
  present(): PresenceSession[] {
    return [...this.tracks.values()].flatMap((t) => (t.session ? [t.session] : []));
  }

  /** The open session of a badge at a gateway, if any. */
  sessionOf(badge: string, gateway: string): PresenceSession | null {
    return this.tracks.get(trackKey(badge, gateway))?.session ?? null;
  }

  isPresent(badge: string, gateway: string): boolean {
    return this.sessionOf(badge, gateway) !== null;
  }
}
