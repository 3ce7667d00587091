import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../hub/adapters/store/sqlite/migrations.js";
import { SqliteStore } from "../../hub/adapters/store/sqlite/sqlite-store.js";
import { ENGINEER, SITE, tempDir } from "./helpers.js";

describe("SQLite store", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const path = join(dir.path, "s.db");

  it("migrates once, runs in WAL, and reopens", async () => {
    const s = new SqliteStore({ path });
    expect(s.schemaVersion).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
    await s.putSite(SITE);
    await s.close();
    const again = new SqliteStore({ path });
    expect(await again.getSite("S1")).toEqual(SITE);
    await again.close();
    const db = new Database(path);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("refuses a database from a newer hub", async () => {
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 0)").run();
    db.close();
    expect(() => new SqliteStore({ path })).toThrow(/schema version 99 is newer/);
  });

  it("appends events once per (device, counter) and finds views behind the log", async () => {
    const s = new SqliteStore({ path: ":memory:" });
    await s.putSite(SITE);
    await s.putEngineer(ENGINEER);
    await s.insertVisits([{ id: "V1", siteId: "S1", engineerId: "E1", window: { from: 0, to: 1 } }]);
    const e = {
      event: {
        v: 1 as const,
        type: "work_started" as const,
        device: "b",
        counter: 1,
        time: 1_764_072_000_000,
      },
      source: { kind: "badge" as const, engineerId: "E1" },
      hubTime: 1,
      clockOffsetMs: 0,
      visitId: "V1",
      subject: "E1",
    };
    // The store is what dedupes: a second copy of (device, counter) gets no seq.
    const seqs = await s.commitEvents([e, e, { ...e, event: { ...e.event, counter: 2 } }], []);
    expect(seqs[1]).toBeNull();
    expect(seqs[0]).toBe(1);
    expect(seqs[2]).toBeGreaterThan(1);
    expect(await s.eventsOfVisit("V1")).toHaveLength(2);
    expect((await s.eventsOfSubject("E1", 0, 1)).map((x) => x.event.counter)).toEqual([1]);
    expect(await s.lastTimeOfSubject("E1", 10)).toBe(e.event.time);
    expect(await s.projectionWatermark()).toBe(0);
    await s.saveProjection({
      views: [],
      attribution: [{ device: "b", counter: 2, visitId: null }],
      watermark: seqs[2] ?? 0,
    });
    expect(await s.projectionWatermark()).toBe(seqs[2]);
    expect((await s.eventsOfVisit("V1")).map((x) => x.event.counter)).toEqual([1]);
    expect((await s.eventsAfter(1, 10)).map((x) => [x.seq, x.visitId])).toEqual([[seqs[2], null]]);
    expect(
      await s.insertVisits([{ id: "V1", siteId: "S1", engineerId: "E1", window: { from: 0, to: 1 } }]),
    ).toEqual([false]);
    await s.close();
  });
});
