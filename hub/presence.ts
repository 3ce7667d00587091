/**
 * Presence, as the hub runs it: the pure tracker (core/presence.ts) fed with sightings from ingest,
 * ticked by the hub clock, its sessions stored (with their RSSI evidence) and announced on the bus.
 * Sessions open when the hub stops are resumed on start: one silent since then departs on the first
 * tick, with its departure at the last sighting.
 */
import type { Bus } from "./bus.js";
import type { Clock, Store, StoredPresence } from "./core/ports.js";
import { type PresenceChange, type PresenceConfig, PresenceTracker, type Sighting } from "./core/presence.js";
import type { SightingSink } from "./ingest/ingest.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";

export interface PresenceDeps {
  store: Store;
  bus: Bus;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

/** Evidence of open sessions is written at most this often. */
const FLUSH_MS = 10_000;

export class PresenceService implements SightingSink {
  readonly tracker: PresenceTracker;
  private readonly sites = new Map<string, string | null>();
  private readonly dirty = new Set<string>();
  private readonly resolving = new Map<string, Sighting[]>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: PresenceDeps,
    config: PresenceConfig,
  ) {
    this.tracker = new PresenceTracker(config);
    deps.metrics.onCollect(() =>
      deps.metrics.set(
        "onsite_presence_open",
        "Badges present at a gateway now",
        this.tracker.present().length,
      ),
    );
  }

  /** Which site a gateway stands at (the hub's own radio, or a gateway device). */
  setGatewaySite(gateway: string, siteId: string | null): void {
    this.sites.set(gateway, siteId);
  }

  async start(tickMs = 500): Promise<void> {
    for (const s of await this.deps.store.listPresence({ open: true, limit: 5000 })) {
      if (!this.sites.has(s.gateway)) this.sites.set(s.gateway, s.siteId);
      this.tracker.resume(s, this.deps.clock.now());
    }
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  sighted(s: Sighting): void {
    if (this.sites.has(s.gateway)) {
      this.observe(s);
      return;
    }
    // A relayed gateway seen for the first time: its site comes from its device record. Sightings
    // wait (in order) for that lookup, so even the arrival is stored with its site.
    const waiting = this.resolving.get(s.gateway);
    if (waiting) {
      waiting.push(s);
      return;
    }
    this.resolving.set(s.gateway, [s]);
    void this.deps.store
      .getDevice(s.gateway)
      .catch(() => undefined)
      .then((d) => {
        this.sites.set(s.gateway, d?.siteId ?? null);
        const queued = this.resolving.get(s.gateway) ?? [];
        this.resolving.delete(s.gateway);
        for (const q of queued) this.observe(q);
      });
  }

  private observe(s: Sighting): void {
    this.apply(this.tracker.observe(s));
    const open = this.tracker.sessionOf(s.badge, s.gateway);
    if (open) this.dirty.add(open.id);
  }

  tick(): void {
    this.apply(this.tracker.tick(this.deps.clock.now()));
    if (this.deps.clock.now() - this.lastFlush >= FLUSH_MS) this.flush();
  }

  private stored(s: PresenceChange["session"]): StoredPresence {
    return { ...s, rssi: [...s.rssi], siteId: this.sites.get(s.gateway) ?? null };
  }

  private apply(changes: PresenceChange[]): void {
    if (changes.length === 0) return;
    const rows = changes.map((c) => this.stored(c.session));
    for (const c of changes) this.dirty.delete(c.session.id);
    this.write(rows);
    changes.forEach((c, i) => {
      const session = rows[i] as StoredPresence;
      this.deps.metrics.inc(
        `onsite_presence_${c.kind === "arrived" ? "arrivals" : "departures"}_total`,
        `Presence ${c.kind === "arrived" ? "arrivals" : "departures"} detected`,
      );
      this.deps.log.info(
        { badge: session.badge, gateway: session.gateway, site: session.siteId },
        c.kind === "arrived" ? "badge arrived at gateway" : "badge departed from gateway",
      );
      this.deps.bus.emit("presence.changed", { kind: c.kind, session });
    });
  }

  /** Writes the evidence of open sessions that changed since the last flush. */
  flush(): void {
    this.lastFlush = this.deps.clock.now();
    if (this.dirty.size === 0) return;
    const rows = this.tracker
      .present()
      .filter((s) => this.dirty.has(s.id))
      .map((s) => this.stored(s));
    this.dirty.clear();
    this.write(rows);
  }

  private write(rows: StoredPresence[]): void {
    this.writing = this.writing
      .then(() => this.deps.store.putPresence(rows))
      .catch((e: unknown) => this.deps.log.error({ err: e }, "storing presence failed"));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    await this.writing;
  }
}
