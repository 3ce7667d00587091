/**
 * How the central looks after its D-Bus connection and what it reports: pure (no D-Bus, no
 * timers), time from the injected clock; the central does the I/O and tells it what happened.
 *
 * - A D-Bus connection that cannot be opened is tried again after a back-off that doubles from
 *   1 s up to 30 s (500 ms · 2^failures, at most 2^6), and at once after one that worked.
 * - While it waits, the health entry keeps what it said (or says the bus is unavailable).
 * - The `ble` health entry: healthy names the scanning adapters and the links; a change is worth
 *   a log line when it comes up, recovers, or turns or stays bad with a new reason.
 */
import type { Clock } from "../../core/ports.js";

export interface BleHealth {
  ok: boolean;
  detail?: string;
}

/** The health entry's detail before the first check. */
export const STARTING = "starting";

/** What a change of the health entry is worth logging, if anything. */
export type HealthNote = "up" | "recovered" | "degraded" | undefined;

export function healthNote(prev: BleHealth | undefined, ok: boolean, detail: string): HealthNote {
  if (ok && prev?.ok !== true) return prev?.detail === STARTING ? "up" : "recovered";
  if (!ok && detail !== STARTING && detail !== prev?.detail) return "degraded";
  return undefined;
}

export function healthyDetail(adapters: number, linked: number): string {
  return `${adapters} adapter${adapters === 1 ? "" : "s"} scanning, ${linked} linked`;
}

export class BusSupervision {
  private failures = 0;
  private nextAttempt = 0;

  constructor(private readonly clock: Clock) {}

  /** Whether opening the bus may be tried now (not within the back-off of the last failure). */
  mayConnect(): boolean {
    return this.clock.now() >= this.nextAttempt;
  }

  connected(): void {
    this.failures = 0;
  }

  failed(): void {
    this.failures++;
    this.nextAttempt = this.clock.now() + Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
  }

  /** What the health entry says while a retry waits. */
  waiting(current: BleHealth | undefined): string {
    return current?.detail ?? "D-Bus unavailable";
  }
}
