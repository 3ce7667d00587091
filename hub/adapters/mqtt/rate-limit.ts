/**
 * Token buckets per key: `perSecond` sustained, `burst` at once. A bucket belongs to its key (a
 * device id, an address), not to a connection: reconnecting does not refill it. At most `maxKeys`
 * buckets are kept; the least recently used go first (a full one is the same as a forgotten one).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  take(key: string, n = 1): boolean {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }
}

/** What the login throttle says about the next attempt. */
export type LoginVerdict =
  | { kind: "go"; delayMs: number }
  | { kind: "locked"; untilMs: number; scope: "address" | "client" }
  | { kind: "slow"; scope: "id" };

export interface LoginPolicy {
  /** Failures counted over this long. */
  windowMs: number;
  /** Failures of one id from one address before each attempt is delayed (doubling, capped). */
  freeFailures: number;
  maxDelayMs: number;
  /** Failures of one id from one address, or of any ids from one address, before a lock-out. */
  lockClientAfter: number;
  lockAddressAfter: number;
  lockMs: number;
  /** Failures of one id from anywhere before attempts for it are let through at most once a second. */
  slowIdAfter: number;
}

export const DEFAULT_LOGIN_POLICY: LoginPolicy = {
  windowMs: 15 * 60_000,
  freeFailures: 5,
  maxDelayMs: 8_000,
  lockClientAfter: 10,
  lockAddressAfter: 30,
  lockMs: 15 * 60_000,
  slowIdAfter: 20,
};

interface Failures {
  times: number[];
  lockedUntil: number;
}

/**
 * Failed-login throttling by source address, by (id, address) and by id. A guesser from one address
 * is slowed, then locked out; a guesser spread over many addresses is held to one attempt a second
 * for that id. The device itself, from its own address, is never locked out by someone else's
 * failures: only the per-id pace applies to it.
 */
export class LoginThrottle {
  private readonly log = new Map<string, Failures>();
  /** Attempts being checked now, per (id, address): concurrent guesses count as failures until they are not. */
  private readonly inFlight = new Map<string, number>();
  private readonly pace: RateLimiter;

  constructor(
    private readonly now: () => number,
    private readonly policy: LoginPolicy = DEFAULT_LOGIN_POLICY,
    private readonly maxKeys = 100_000,
  ) {
    this.pace = new RateLimiter(1, 1, now, maxKeys);
  }

  /** Before an attempt; a `go` must be followed by `failed` or `succeeded` for the same id and address. */
  check(id: string, address: string): LoginVerdict {
    const t = this.now();
    const p = this.policy;
    const a = this.entry(`a:${address}`, t);
    if (a.lockedUntil > t) return { kind: "locked", untilMs: a.lockedUntil, scope: "address" };
    const key = `c:${id}@${address}`;
    const c = this.entry(key, t);
    const pending = this.inFlight.get(key) ?? 0;
    if (c.lockedUntil > t || c.times.length + pending >= p.lockClientAfter)
      return { kind: "locked", untilMs: Math.max(c.lockedUntil, t + p.lockMs), scope: "client" };
    if (this.entry(`i:${id}`, t).times.length >= p.slowIdAfter && !this.pace.take(id))
      return { kind: "slow", scope: "id" };
    this.inFlight.set(key, pending + 1);
    const over = c.times.length + pending - p.freeFailures;
    const delayMs = over < 0 ? 0 : Math.min(p.maxDelayMs, 1000 * 2 ** over);
    return { kind: "go", delayMs };
  }

  private settle(id: string, address: string): void {
    const key = `c:${id}@${address}`;
    const n = (this.inFlight.get(key) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(key);
    else this.inFlight.set(key, n);
  }

  /** Records a failure; returns what it crossed (for an alert), if anything. */
  failed(id: string, address: string): "address_locked" | "client_locked" | "id_slowed" | undefined {
    this.settle(id, address);
    const t = this.now();
    const p = this.policy;
    const a = this.push(`a:${address}`, t);
    const c = this.push(`c:${id}@${address}`, t);
    const i = this.push(`i:${id}`, t);
    if (a.times.length >= p.lockAddressAfter && a.lockedUntil <= t) {
      a.lockedUntil = t + p.lockMs;
      return "address_locked";
    }
    if (c.times.length >= p.lockClientAfter && c.lockedUntil <= t) {
      c.lockedUntil = t + p.lockMs;
      return "client_locked";
    }
    if (i.times.length === p.slowIdAfter) return "id_slowed";
    return undefined;
  }

  succeeded(id: string, address: string): void {
    this.settle(id, address);
    this.log.delete(`c:${id}@${address}`);
  }

  private entry(key: string, t: number): Failures {
    const f = this.log.get(key);
    if (!f) return { times: [], lockedUntil: 0 };
    while (f.times.length > 0 && (f.times[0] as number) <= t - this.policy.windowMs) f.times.shift();
    return f;
  }

  private push(key: string, t: number): Failures {
    const f = this.entry(key, t);
    f.times.push(t);
    if (f.times.length > 1000) f.times.shift();
    this.log.delete(key);
    this.log.set(key, f);
    if (this.log.size > this.maxKeys) this.log.delete(this.log.keys().next().value as string);
    return f;
  }
}
