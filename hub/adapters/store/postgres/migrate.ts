/**
 * Applies the missing migrations, all in one transaction under an advisory lock, so two hubs
 * starting together on an empty database neither race nor half-migrate. Refuses a database that a
 * newer hub has migrated past what this one knows.
 */
import type pg from "pg";
import { PG_MIGRATIONS } from "./migrations.js";
import { inTransaction, PostgresStoreError } from "./pool.js";

/** Advisory lock keys (bigint space, shared with anything else on the database: keep them distinctive). */
export const LOCKS = {
  migrations: 0x6f6e_7301, // "ons" 1
  /** Held by every event commit: seqs are handed out in commit order. */
  events: 0x6f6e_7302,
} as const;

export const KNOWN_VERSION = Math.max(...PG_MIGRATIONS.map((m) => m.version));

export async function migrate(pool: pg.Pool): Promise<number> {
  return inTransaction(
    pool,
    async (c) => {
      await c.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
      );
      const applied = new Set(
        (await c.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map(
          (r) => r.version,
        ),
      );
      const newest = Math.max(0, ...applied);
      if (newest > KNOWN_VERSION) {
        throw new PostgresStoreError(
          "schema_too_new",
          `database schema version ${newest} is newer than this hub knows (${KNOWN_VERSION}): upgrade the hub`,
        );
      }
      for (const m of PG_MIGRATIONS) {
        if (applied.has(m.version)) continue;
        await c.query(m.sql);
        await c.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
          m.version,
          m.name,
          Date.now(),
        ]);
      }
      return Math.max(newest, KNOWN_VERSION);
    },
    LOCKS.migrations,
  );
}
