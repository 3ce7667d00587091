/** Tiny timing helpers for benchmarks: bounded by count and by time, never by a fixed goal. */
export interface Rate {
  ops: number;
  seconds: number;
  perSecond: number;
}

/** Runs `fn` in batches until `maxOps` ops or `maxMs` ms, whichever first. */
export function rate(fn: () => void, { maxOps = 1_000_000, maxMs = 1500 } = {}): Rate {
  for (let i = 0; i < 1000; i++) fn(); // warm-up
  const start = process.hrtime.bigint();
  const limit = BigInt(maxMs) * 1_000_000n;
  let ops = 0;
  while (ops < maxOps) {
    for (let i = 0; i < 100; i++) fn();
    ops += 100;
    if (process.hrtime.bigint() - start > limit) break;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { ops, seconds, perSecond: ops / seconds };
}

export function fmt(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(1);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
