/**
 * Copies and checks of an onsite SQLite database file, apart from the store's own connection, so a
 * backup can be taken from another process while the hub writes.
 *
 * - `copyDatabase`: `VACUUM INTO` on a read-only connection. It reads inside one read transaction,
 *   so the copy is a consistent snapshot holding every transaction committed before it began (WAL:
 *   the hub keeps writing meanwhile). The online backup API (better-sqlite3's `db.backup()`) would
 *   restart whenever another connection writes, which a busy hub does all the time.
 * - `inspectDatabase`: is this an onsite database of a schema this release knows, and intact?
 * - `databaseInUse`: does another connection (a running hub) hold the file open?
 */
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import Database from "better-sqlite3";
import { MIGRATIONS } from "./migrations.js";

export const LATEST_SCHEMA = Math.max(...MIGRATIONS.map((m) => m.version));

export class DatabaseFileError extends Error {
  override readonly name = "DatabaseFileError";
  constructor(
    readonly code: "missing" | "not_sqlite" | "not_onsite" | "newer_schema" | "unknown_schema" | "damaged",
    message: string,
  ) {
    super(message);
  }
}

/** Tables each schema version has, from the migrations' own SQL. */
function tablesOf(version: number): string[] {
  return MIGRATIONS.filter((m) => m.version <= version).flatMap((m) =>
    [...m.sql.matchAll(/CREATE TABLE (\w+)/g)].map((x) => x[1] ?? ""),
  );
}

export interface DatabaseSummary {
  schemaVersion: number;
  events: number;
  sites: number;
  visits: number;
  devices: number;
}

/** A consistent copy of the database at `source` into `dest` (which must not exist). */
export function copyDatabase(source: string, dest: string): void {
  if (!existsSync(source)) throw new DatabaseFileError("missing", `no database at ${source}`);
  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    db.prepare("VACUUM INTO ?").run(dest);
  } finally {
    db.close();
  }
}

function isSqlite(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const header = Buffer.alloc(16);
    return readSync(fd, header, 0, 16, 0) === 16 && header.toString("latin1") === "SQLite format 3\0";
  } finally {
    closeSync(fd);
  }
}

/** Checks `path` is an intact onsite database of a schema this release knows; what it holds. */
export function inspectDatabase(path: string): DatabaseSummary {
  if (!existsSync(path)) throw new DatabaseFileError("missing", `no such file: ${path}`);
  if (!isSqlite(path)) throw new DatabaseFileError("not_sqlite", `${path} is not an SQLite database`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = new Set(
      db
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((r) => r.name),
    );
    if (!tables.has("schema_migrations"))
      throw new DatabaseFileError(
        "not_onsite",
        `${path} is not an onsite database (no schema_migrations table)`,
      );
    const versions = db
      .prepare<[], { version: number }>("SELECT version FROM schema_migrations ORDER BY version")
      .all()
      .map((r) => r.version);
    const schemaVersion = versions.at(-1) ?? 0;
    if (schemaVersion > LATEST_SCHEMA)
      throw new DatabaseFileError(
        "newer_schema",
        `${path} has schema version ${schemaVersion}, newer than this release knows (${LATEST_SCHEMA}): restore it with a newer onsite`,
      );
    if (schemaVersion === 0 || versions.some((v, i) => v !== i + 1))
      throw new DatabaseFileError(
        "unknown_schema",
        `${path} has schema versions [${versions.join(", ")}], not a sequence this release made`,
      );
    const missing = tablesOf(schemaVersion).filter((t) => !tables.has(t));
    if (missing.length > 0)
      throw new DatabaseFileError(
        "not_onsite",
        `${path} says schema version ${schemaVersion} but lacks the tables ${missing.join(", ")}`,
      );
    const check = db.pragma("integrity_check", { simple: true });
    if (check !== "ok") throw new DatabaseFileError("damaged", `${path} is damaged: ${String(check)}`);
    const count = (t: string) =>
      db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${t}`).get()?.n ?? 0;
    return {
      schemaVersion,
      events: count("events"),
      sites: count("sites"),
      visits: count("visits"),
      devices: count("devices"),
    };
  } finally {
    db.close();
  }
}

/** One sealed badge key from the database, to check it opens with a data dir's master key. */
export function aSealedKey(path: string): string | undefined {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (
      db
        .prepare<[], { k: string }>(
          "SELECT sealed_key AS k FROM devices WHERE sealed_key IS NOT NULL LIMIT 1",
        )
        .get()?.k ?? undefined
    );
  } finally {
    db.close();
  }
}

/**
 * Whether another connection holds the database open (a running hub does, for its whole life):
 * an exclusive lock cannot be had while it does. Closing the probe of an idle file checkpoints
 * its WAL into it, so the file is complete afterwards.
 */
export function databaseInUse(path: string): boolean {
  if (!existsSync(path)) return false;
  const db = new Database(path, { fileMustExist: true, timeout: 0 });
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("COMMIT");
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === "SQLITE_BUSY") return true;
    throw e;
  } finally {
    db.close();
  }
}
