/**
 * The store contract on the PostgreSQL store, against a real PostgreSQL (Debian's, a throwaway
 * cluster started here): a new database per test. Plus what only PostgreSQL has to show: BIGINTs
 * that do not fit a number are refused, and the schema's types.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KNOWN_VERSION } from "../../hub/adapters/store/postgres/migrate.js";
import { PG_MIGRATIONS } from "../../hub/adapters/store/postgres/migrations.js";
import { parseInt8 } from "../../hub/adapters/store/postgres/pool.js";
import { PostgresStore } from "../../hub/adapters/store/postgres/postgres-store.js";
import { MIGRATIONS } from "../../hub/adapters/store/sqlite/migrations.js";
import type { Store } from "../../hub/core/ports.js";
import { type PgCluster, startPostgres } from "../setup/postgres.js";
import { defineStoreContract } from "./store-contract.js";
import { badgeEvent } from "./store-contract-fixtures.js";

let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(async () => {
  await cluster?.stop();
});

async function sql<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/**
 * A schema per test in one database (the store's tables go where the connection's search_path
 * says, set in the URL as libpq's `options`): much cheaper than a database per test.
 */
let contractDb = "";
let n = 0;
defineStoreContract({
  name: "PostgreSQL",
  async fresh() {
    if (contractDb === "") contractDb = await cluster.createDatabase("contract");
    const schema = `c_${++n}`;
    await sql(contractDb, `CREATE SCHEMA ${schema}`);
    const url = `${contractDb}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const opened: Store[] = [];
    const open = async () => {
      const s = await PostgresStore.open({ url, max: 4 });
      opened.push(s);
      return s;
    };
    return {
      store: await open(),
      open,
      async markNewerSchema() {
        await sql(contractDb, `INSERT INTO ${schema}.schema_migrations VALUES (99, 'future', 0)`);
      },
      async dispose() {
        for (const s of opened) await s.close();
        await sql(contractDb, `DROP SCHEMA ${schema} CASCADE`);
      },
    };
  },
});

describe("PostgreSQL store specifics", () => {
  it("migrates to the same schema version as the SQLite store, once, even when two hubs open it together", async () => {
    const url = await cluster.createDatabase("together");
    const [a, b] = await Promise.all([PostgresStore.open({ url }), PostgresStore.open({ url })]);
    expect(a.schemaVersion).toBe(KNOWN_VERSION);
    expect(b.schemaVersion).toBe(KNOWN_VERSION);
    const rows = await sql<{ version: number }>(
      url,
      "SELECT version FROM schema_migrations ORDER BY version",
    );
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(PG_MIGRATIONS.map((m) => [m.version, m.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    await a.close();
    await b.close();
    await cluster.dropDatabase("together");
  });

  it("keeps epoch ms, counters and seqs as BIGINT, documents as JSON", async () => {
    const url = await cluster.createDatabase("types");
    const s = await PostgresStore.open({ url });
    const cols = await sql<{ column_name: string; data_type: string }>(
      url,
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'events'",
    );
    const type = Object.fromEntries(cols.map((c) => [c.column_name, c.data_type]));
    expect(type).toMatchObject({
      seq: "bigint",
      counter: "bigint",
      device_time: "bigint",
      eff_time: "bigint",
      hub_time: "bigint",
      body: "json",
      source: "json",
    });
    await s.close();
    await cluster.dropDatabase("types");
  });

  it("refuses a BIGINT that does not fit a JS number instead of rounding it", async () => {
    expect(parseInt8("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseInt8("-42")).toBe(-42);
    expect(() => parseInt8("9007199254740993")).toThrow(/does not fit/);
    const url = await cluster.createDatabase("bigint");
    const s = await PostgresStore.open({ url });
    await s.commitEvents([badgeEvent("b", 1, "E1")], []);
    await sql(url, "UPDATE events SET hub_time = 9007199254740993");
    await expect(s.eventsAfter(0, 10)).rejects.toThrow(/does not fit a JS number/);
    // The connection that refused the row stays usable.
    expect(await s.countEvents()).toBe(1);
    await s.close();
    await cluster.dropDatabase("bigint");
  });

  it("a server restart fails the commits in flight, crashes nothing, and every commit that resolved is there after", async () => {
    const url = await cluster.createDatabase("restart");
    const s = await PostgresStore.open({ url });
    const resolved: number[] = [];
    let failed = 0;
    let stop = false;
    const writers = [0, 1, 2].map(async (w) => {
      for (let i = 0; !stop && i < 100_000; i++) {
        try {
          const [seq] = await s.commitEvents([badgeEvent(`w${w}`, i, "E1")], []);
          if (typeof seq === "number") resolved.push(seq);
        } catch {
          failed++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    await cluster.restart(300);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(writers);
    expect(failed).toBeGreaterThan(0);
    const stored = new Set((await s.eventsAfter(0, 1_000_000)).map((e) => e.seq));
    expect(resolved.filter((seq) => !stored.has(seq))).toEqual([]);
    expect((await s.commitEvents([badgeEvent("after", 1, "E1")], []))[0]).toEqual(expect.any(Number));
    await s.close();
    await cluster.dropDatabase("restart");
  });

  it("the test setup fails, naming what is missing, when it cannot start PostgreSQL", async () => {
    const saved = process.env.ONSITE_PG_BINDIR;
    process.env.ONSITE_PG_BINDIR = "/nonexistent/bin";
    try {
      await expect(startPostgres()).rejects.toThrow(
        /no PostgreSQL server binaries.*apt-get install -y postgresql/,
      );
    } finally {
      if (saved === undefined) delete process.env.ONSITE_PG_BINDIR;
      else process.env.ONSITE_PG_BINDIR = saved;
    }
  });

  it("reports a server it cannot reach, naming it", async () => {
    await expect(
      PostgresStore.open({ url: `postgres://postgres:wrong@127.0.0.1:${cluster.port}/postgres` }),
    ).rejects.toThrow(/password authentication failed/);
  });
});
