/**
 * Which badges get a GATT link, when, and for how long: the central's link policy. Pure (no D-Bus,
 * no timers): time from the injected clock, the caller does the I/O it decides and reports back.
 *
 * - Each badge heard in the last `heardWithinMs` on a scanning adapter gets a link, newest first,
 *   up to `maxLinks`. With every slot taken and a badge waiting, the link idle longest (nothing
 *   carried for `idleMs`) is released, so links go round in turn.
 * - A failed connect backs off (1 s, 2 s, 4 s … 30 s). A badge that keeps failing for `dropAfterMs`
 *   while still heard is dropped; it gets another chance once it has been out of earshot and
 *   returns. A badge that simply left range is not counted against it.
 * - A signal for a badge not linked now waits, newest only, for its next link within
 *   `signalTtlMs`. Signal sequence numbers are hub time, strictly increasing per badge.
 * - Linked badges are due a time sync every `timeSyncMs`.
 */
import type { DeviceCommand } from "../../../protocol/index.js";
import type { Clock } from "../../core/ports.js";

export interface LinkPolicyOptions {
  enabled: boolean;
  maxLinks: number;
  dropAfterMs: number;
  heardWithinMs: number;
  idleMs: number;
  signalTtlMs: number;
  timeSyncMs: number;
}

export const LINK_TIMING = { idleMs: 5_000, signalTtlMs: 60_000, timeSyncMs: 3_600_000 } as const;

/** A badge the central has verified a frame from, as it was last heard. */
export interface Heard {
  /** The caller's handle for where it was heard (given back in the plan). */
  key: string;
  device: string;
  badgeNo: number;
  address: string;
  adapter: string;
  lastHeard: number;
  /** Its adapter is powered and discovering (links are made only there). */
  scanning: boolean;
}

export interface LinkState {
  device: string;
  badgeNo: number;
  address: string;
  adapter: string;
  state: "idle" | "connecting" | "up";
  attempts: number;
  nextAttemptAt: number;
  failingSince: number | null;
  dropped: boolean;
  /** When the link last carried a frame (or came up). */
  lastActive: number;
  lastTimeSync: number;
  lastSignalSeq: number;
}

export type Signal = Extract<DeviceCommand, { type: "signal" }>;

/** One step of a plan: connect `connect`, after releasing `release` (an idle link) if given. */
export interface Start {
  connect: LinkState;
  /** Where the badge was heard: the caller connects there. */
  via: Heard;
  release?: LinkState;
}

export class LinkPolicy {
  private readonly links = new Map<string, LinkState>();
  private readonly pending = new Map<string, { command: Signal; at: number }>();

  constructor(
    private readonly opts: LinkPolicyOptions,
    private readonly clock: Clock,
  ) {}

  get(device: string): LinkState | undefined {
    return this.links.get(device);
  }

  all(): LinkState[] {
    return [...this.links.values()];
  }

  /** Devices whose link is up. */
  linked(): string[] {
    return this.all()
      .filter((l) => l.state === "up")
      .map((l) => l.device);
  }

  /**
   * The links to start now, given every badge heard (each with when and where). Marks them
   * connecting; a released link is idle again and waits `idleMs` before its own next turn.
   */
  plan(heard: Heard[]): Start[] {
    const now = this.clock.now();
    const out: Start[] = [];
    if (!this.opts.enabled) return out;
    let busy = this.all().filter((l) => l.state !== "idle").length;
    const candidates = heard
      .filter((h) => h.scanning && now - h.lastHeard <= this.opts.heardWithinMs)
      .sort((a, b) => b.lastHeard - a.lastHeard);
    for (const h of candidates) {
      const link = this.ensure(h);
      if (link.state !== "idle" || now < link.nextAttemptAt || link.dropped) continue;
      let release: LinkState | undefined;
      if (busy >= this.opts.maxLinks) {
        release = this.idlest(now);
        if (!release) break;
        release.state = "idle";
        release.nextAttemptAt = now + this.opts.idleMs;
        busy--;
      }
      link.address = h.address;
      link.adapter = h.adapter;
      link.state = "connecting";
      busy++;
      out.push(release ? { connect: link, via: h, release } : { connect: link, via: h });
    }
    // A dropped badge gets another chance once it has been out of earshot and is heard again.
    for (const link of this.links.values()) {
      const h = heard.find((x) => x.device === link.device);
      if (link.dropped && (!h || now - h.lastHeard > this.opts.heardWithinMs)) {
        link.dropped = false;
        link.failingSince = null;
        link.attempts = 0;
      }
    }
    return out;
  }

  private ensure(h: Heard): LinkState {
    let link = this.links.get(h.device);
    if (!link) {
      link = {
        device: h.device,
        badgeNo: h.badgeNo,
        address: h.address,
        adapter: h.adapter,
        state: "idle",
        attempts: 0,
        nextAttemptAt: 0,
        failingSince: null,
        dropped: false,
        lastActive: 0,
        lastTimeSync: 0,
        lastSignalSeq: 0,
      };
      this.links.set(h.device, link);
    }
    return link;
  }

  /** The up link idle longest, if one has carried nothing for `idleMs`. */
  private idlest(now: number): LinkState | undefined {
    return this.all()
      .filter((l) => l.state === "up" && now - l.lastActive >= this.opts.idleMs)
      .sort((a, b) => a.lastActive - b.lastActive)[0];
  }

  /** The link came up. */
  up(link: LinkState): void {
    link.state = "up";
    link.lastActive = this.clock.now();
    link.attempts = 0;
    link.failingSince = null;
  }

  /**
   * A connect that began at `startedAt` failed; `heardSince`: the badge was heard after it began
   * (it refused, rather than left). True when this drops the badge.
   */
  failed(link: LinkState, startedAt: number, heardSince: boolean): boolean {
    const now = this.clock.now();
    link.state = "idle";
    link.attempts++;
    if (heardSince) link.failingSince ??= startedAt;
    else link.failingSince = null;
    link.nextAttemptAt = now + Math.min(30_000, 1000 * 2 ** Math.min(link.attempts - 1, 5));
    if (link.failingSince !== null && now - link.failingSince >= this.opts.dropAfterMs && !link.dropped) {
      link.dropped = true;
      return true;
    }
    return false;
  }

  /** An up link went down (disconnected, a write failed); false if it was not up. */
  down(link: LinkState): boolean {
    if (link.state !== "up") return false;
    link.state = "idle";
    link.nextAttemptAt = this.clock.now() + 1000;
    return true;
  }

  /** The adapter went away or off: its up links (returned) go down, the rest back to idle. */
  adapterDown(adapter?: string): LinkState[] {
    const wasUp: LinkState[] = [];
    for (const link of this.links.values()) {
      if (adapter !== undefined && link.adapter !== adapter) continue;
      if (link.state === "up") {
        this.down(link);
        wasUp.push(link);
      } else link.state = "idle";
    }
    return wasUp;
  }

  /** The link carried a frame. */
  active(link: LinkState): void {
    link.lastActive = this.clock.now();
  }

  /** Up links due a time sync. */
  timeSyncsDue(): LinkState[] {
    const now = this.clock.now();
    return this.all().filter((l) => l.state === "up" && now - l.lastTimeSync >= this.opts.timeSyncMs);
  }

  timeSynced(link: LinkState): void {
    link.lastTimeSync = this.clock.now();
  }

  /** The next signal sequence number for this link: hub time, strictly increasing. */
  nextSignalSeq(link: LinkState): number {
    const seq = Math.max(this.clock.now(), link.lastSignalSeq + 1);
    link.lastSignalSeq = seq;
    return seq;
  }

  /** A signal for a badge not linked now: the newest waits for its next link. */
  hold(device: string, command: Signal): void {
    this.pending.set(device, { command, at: this.clock.now() });
  }

  /** The signal waiting for this badge, if it still means something; it is taken either way. */
  takeHeld(device: string): Signal | undefined {
    const p = this.pending.get(device);
    this.pending.delete(device);
    return p && this.clock.now() - p.at <= this.opts.signalTtlMs ? p.command : undefined;
  }
}
