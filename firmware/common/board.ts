import type five from "johnny-five";

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
