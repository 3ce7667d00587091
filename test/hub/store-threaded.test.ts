/**
 * What only the SQLite store with a writer thread has to show (the contract itself runs in
 * store-sqlite.test.ts): the WAL is checkpointed by the writer on its timer and emptied on close;
 * a writer thread that dies fails the writes in flight, and the next write starts a new one with
 * nothing committed lost; the reader sees each write as soon as it resolves.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { ThreadedSqliteStore } from "../../hub/adapters/store/sqlite/threaded.js";
import { tempDir } from "./helpers.js";
import { badgeEvent, engineer, site } from "./store-contract-fixtures.js";

const dirs: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

function dbPath(): string {
  const dir = tempDir("onsite-threaded-");
  dirs.push(dir);
  return join(dir.path, "onsite.db");
}

const events = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => badgeEvent("badge-1", from + i, "E1"));

describe("SQLite store with a writer thread", () => {
  it("checkpoints the WAL on its own timer, and leaves it empty on close", async () => {
    const path = dbPath();
    const checkpoints: number[] = [];
    const store = await ThreadedSqliteStore.open({
      path,
      sync: "full",
      checkpointMs: 50,
      onCheckpoint: (r) => checkpoints.push(r.walFrames),
    });
    for (let i = 0; i < 20; i++) await store.commitEvents(events(i * 50, 50), []);
    const until = Date.now() + 5000;
    while (checkpoints.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(Math.max(...checkpoints)).toBeGreaterThan(0);
    await store.close();
    expect(statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0).toBe(0);
    const again = await ThreadedSqliteStore.open({ path });
    expect(await again.countEvents()).toBe(1000);
    await again.close();
  });

  it("a writer that dies fails the writes in flight; the next write starts a new one, nothing committed lost", async () => {
    const errors: Error[] = [];
    const store = await ThreadedSqliteStore.open({
      path: dbPath(),
      sync: "normal",
      onWriterError: (e) => errors.push(e),
    });
    await store.putSite(site("S1"));
    await store.putEngineer(engineer("E1"));
    expect(await store.commitEvents(events(1, 10), [])).toHaveLength(10);
    // The thread ends under a write (as an out-of-memory or a native crash would end it).
    const worker = (store as unknown as { worker: Worker }).worker;
    const inFlight = store.commitEvents(events(100, 10), []);
    await worker.terminate();
    const outcome = await inFlight.then(
      () => "committed",
      () => "failed",
    );
    expect(errors.length).toBe(1);
    // Either way the store is whole: the write in flight is all there or not at all.
    const after = await store.countEvents();
    expect(after === 10 || after === 20).toBe(true);
    expect(outcome === "committed").toBe(after === 20);
    expect(await store.commitEvents(events(200, 5), [])).toHaveLength(5);
    expect(await store.countEvents()).toBe(after + 5);
    expect(await store.getSite("S1")).toEqual(site("S1"));
    await store.close();
  });

  it("a write the database refuses is refused with SQLite's code, and the thread goes on", async () => {
    const store = await ThreadedSqliteStore.open({ path: dbPath(), sync: "normal" });
    // A visit of a site that does not exist: a foreign key violation.
    await expect(
      store.insertVisits([{ id: "V1", siteId: "nope", engineerId: "nope", window: { from: 0, to: 1 } }]),
    ).rejects.toMatchObject({ code: "SQLITE_CONSTRAINT_FOREIGNKEY" });
    await store.putSite(site("S1"));
    expect((await store.listSites()).map((s) => s.id)).toEqual(["S1"]);
    await store.close();
    await expect(store.putSite(site("S2"))).rejects.toThrow(/closed/);
  });
});
