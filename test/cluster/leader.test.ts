/**
 * The cluster's leader election on a real PostgreSQL (test/setup/postgres.ts): one holder of the
 * advisory lock at a time; its session cut by the server (pg_terminate_backend, as when its machine
 * or network goes) is leadership lost at once and taken by another node at its next try; and the
 * store refuses a projection fenced by a session that no longer holds the lock.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStore } from "../../hub/adapters/store/postgres/postgres-store.js";
import { LeaderElection } from "../../hub/cluster/leader.js";
import { createLogger } from "../../hub/log.js";
import { type PgCluster, startPostgres } from "../setup/postgres.js";

let pgc: PgCluster;
beforeAll(async () => {
  pgc = await startPostgres();
});
afterAll(async () => {
  await pgc?.stop();
});

const log = createLogger({ level: "silent" });

async function until(f: () => boolean, ms: number, what: string): Promise<number> {
  const started = Date.now();
  while (!f()) {
    if (Date.now() - started > ms) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

describe("leader election on PostgreSQL", () => {
  it("one leader; its session cut, another leads, and the old one's fenced writes are refused", async () => {
    const url = await pgc.createDatabase("leader");
    const store = await PostgresStore.open({ url });
    const changes: Array<[string, boolean]> = [];
    const make = (id: string) =>
      new LeaderElection({ url, nodeId: id, retryMs: 200, log, onChange: (l) => changes.push([id, l]) });
    const a = make("a");
    const b = make("b");
    await a.start();
    await b.start();
    try {
      await until(() => a.isLeader || b.isLeader, 2000, "a leader");
      await new Promise((r) => setTimeout(r, 500)); // both have tried a few times
      expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
      const [leader, other] = a.isLeader ? [a, b] : [b, a];
      const write = (watermark: number, fence: { lock: number; session: number }) =>
        store.saveProjection({ views: [], attribution: [], watermark, fence });

      await write(5, leader.fence());
      expect(await store.projectionWatermark()).toBe(5);
      await expect(write(6, other.fence())).rejects.toMatchObject({ code: "fenced" });
      expect(await store.projectionWatermark()).toBe(5);

      // The server ends the leader's session (its machine gone, a network cut, an admin).
      const old = leader.fence();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend($1)", [old.session]);
      await admin.end();
      const lostMs = await until(() => !leader.isLeader, 2000, "the old leader stepping down");
      expect(changes.at(-1)).toEqual([leader === a ? "a" : "b", false]);
      // Whichever node tries first takes it again, on a new session (the old node reconnects too).
      const takenMs = await until(() => a.isLeader || b.isLeader, 3000, "a node leading again");
      const now = a.isLeader ? a : b;
      expect(now.fence().session).not.toBe(old.session);
      process.stdout.write(
        `[leader] session cut: stepped down in ${lostMs} ms, led again ${takenMs} ms later (by ${now === leader ? "the same node, on a new session" : "the other node"})\n`,
      );
      // The old session's step, had it been in flight, writes nothing; the new one's does.
      await expect(write(7, old)).rejects.toMatchObject({ code: "fenced" });
      expect(await store.projectionWatermark()).toBe(5);
      await write(8, now.fence());
      expect(await store.projectionWatermark()).toBe(8);
      await new Promise((r) => setTimeout(r, 600));
      expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    } finally {
      await a.stop();
      await b.stop();
      await store.close();
    }
  });

  it("a node that stops releases the lock: the other takes it at its next try", async () => {
    const url = await pgc.createDatabase("handover");
    const a = new LeaderElection({ url, nodeId: "a", retryMs: 200, log, onChange: () => {} });
    const b = new LeaderElection({ url, nodeId: "b", retryMs: 200, log, onChange: () => {} });
    await a.start();
    await until(() => a.isLeader, 2000, "a leading");
    await b.start();
    expect(b.isLeader).toBe(false);
    await a.stop();
    expect(a.isLeader).toBe(false);
    await until(() => b.isLeader, 2000, "b leading after a stopped");
    await b.stop();
  });
});
