import { describe, expect, it } from "vitest";
import { GroupCommitter } from "../../hub/ingest/group-commit.js";

const turn = () => new Promise((r) => setImmediate(r));

/** A store whose commit takes `ms` (a network round trip and an fsync) and records its batches. */
function slowStore(ms: number) {
  const batches: number[][] = [];
  let running = 0;
  let overlapped = false;
  const commit = async (items: number[]) => {
    running++;
    if (running > 1) overlapped = true;
    batches.push(items);
    await new Promise((r) => setTimeout(r, ms));
    running--;
    return items.map((i) => i * 10);
  };
  return { batches, commit, overlapped: () => overlapped };
}

describe("group commit", () => {
  it("puts everything that arrives during a slow commit into the next batch, one commit at a time", async () => {
    const store = slowStore(30);
    const g = new GroupCommitter(store.commit);
    const results: Array<Promise<number>> = [g.submit(0)];
    await turn();
    await turn();
    // While the first commit runs, 40 items arrive over many event-loop turns.
    for (let i = 1; i <= 40; i++) {
      results.push(g.submit(i));
      if (i % 4 === 0) await turn();
    }
    expect(await Promise.all(results)).toEqual(results.map((_, i) => i * 10));
    expect(store.batches.map((b) => b.length)).toEqual([1, 40]);
    expect(store.overlapped()).toBe(false);
  });

  it("splits at maxBatch, settles each submitter with its own result, and fails only the failing batch", async () => {
    let calls = 0;
    const g = new GroupCommitter<number, number>(async (items) => {
      calls++;
      if (calls === 2) throw new Error("disk full");
      return items.map((i) => -i);
    }, 2);
    const out = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => g.submit(i)));
    expect(out.map((o) => (o.status === "fulfilled" ? o.value : "failed"))).toEqual([
      -1,
      -2,
      "failed",
      "failed",
      -5,
    ]);
    await g.drain();
  });

  it("drain resolves once everything submitted so far is committed", async () => {
    const store = slowStore(10);
    const g = new GroupCommitter(store.commit);
    let settled = 0;
    for (let i = 0; i < 5; i++) void g.submit(i).then(() => settled++);
    await g.drain();
    expect(settled).toBe(5);
  });
});
