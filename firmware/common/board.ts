import five from "johnny-five";

/**
 * The program's board on any johnny-five IO plugin: no REPL, no auto-detected port, and no SIGINT
 * handler (johnny-five's exits the whole process, which would cut the hub's graceful shutdown short
 * and, one per board, pile up in a long-running demo).
 */
export function newBoard(io: object): five.Board {
  return new five.Board({
    io: io as never,
    repl: false,
    debug: false,
    sigint: false,
    timeout: 30_000,
  } as never);
}

/** Resolves when the board is ready; rejects on its error event. */
export function boardReady(board: five.Board): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    board.on("ready", () => {
      if (!settled) resolve();
      settled = true;
    });
    board.on("error", (e: unknown) => {
      if (!settled) reject(e instanceof Error ? e : new Error(String(e)));
      settled = true;
    });
  });
}

/** A program's timers, all cleared when it stops. */
export class Timers {
  private readonly all = new Set<NodeJS.Timeout>();

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.all.delete(t);
      fn();
    }, ms);
    this.all.add(t);
  }

  every(ms: number, fn: () => void): void {
    this.all.add(setInterval(fn, ms));
  }

  clear(): void {
    for (const t of this.all) clearTimeout(t);
    this.all.clear();
  }
}

/** `times` beeps of `ms` on an active buzzer. */
export function beep(timers: Timers, buzzer: five.Pin, ms: number, times = 1): void {
  for (let i = 0; i < times; i++) {
    timers.later(i * ms * 2, () => buzzer.high());
    timers.later(i * ms * 2 + ms, () => buzzer.low());
  }
}
