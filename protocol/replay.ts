/**
 * A sliding window over the highest counter seen per device (as in IPsec/DTLS): newer counters are
 * `fresh`; counters inside the window are fresh once, then `duplicate`; anything below the window is
 * `replayed` — the window cannot tell. The hub uses it only as a fast path over counters it knows
 * are stored, and asks its store about the rest (a genuine late event is never refused for its
 * age). Pure: the state is a value the caller keeps.
 */
export interface ReplayState {
  /** Highest counter accepted so far, -1 before the first. */
  readonly highest: number;
  /** Bit i set: counter `highest - i` was accepted. Bit 0 is `highest` itself. */
  readonly seen: bigint;
}

export const REPLAY_WINDOW = 64;
export const INITIAL_REPLAY_STATE: ReplayState = { highest: -1, seen: 0n };

export type ReplayVerdict = "fresh" | "duplicate" | "replayed";

const WINDOW_MASK = (1n << BigInt(REPLAY_WINDOW)) - 1n;

export function checkCounter(state: ReplayState, counter: number): ReplayVerdict {
  if (counter > state.highest) return "fresh";
  const age = state.highest - counter;
  if (age >= REPLAY_WINDOW) return "replayed";
  return (state.seen >> BigInt(age)) & 1n ? "duplicate" : "fresh";
}

/** The state after accepting `counter` (call only when `checkCounter` said `fresh`). */
export function acceptCounter(state: ReplayState, counter: number): ReplayState {
  if (counter > state.highest) {
    const shift = state.highest < 0 ? REPLAY_WINDOW : counter - state.highest;
    const moved = shift >= REPLAY_WINDOW ? 0n : (state.seen << BigInt(shift)) & WINDOW_MASK;
    return { highest: counter, seen: moved | 1n };
  }
  return { highest: state.highest, seen: state.seen | (1n << BigInt(state.highest - counter)) };
}
