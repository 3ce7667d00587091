/**
 * `onsite backup` and `onsite restore`: a consistent copy of a data dir's database (live or not),
 * and putting one back (never under a running hub). The master key is not in the database: a
 * backup's badge keys open only with the `master.key` of the install it came from.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  aSealedKey,
  copyDatabase,
  type DatabaseSummary,
  databaseInUse,
  inspectDatabase,
} from "../adapters/store/sqlite/backup.js";
import { KeyVault } from "../security/secrets.js";

export class BackupError extends Error {
  override readonly name = "BackupError";
  constructor(
    readonly code: "no_database" | "exists" | "in_use" | "invalid" | "foreign_key",
    message: string,
  ) {
    super(message);
  }
}

export const DB_FILE = "onsite.db";
export const KEY_FILE = "master.key";

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface BackupReport extends DatabaseSummary {
  source: string;
  file: string;
  bytes: number;
}

/** Writes a consistent copy of `<dataDir>/onsite.db` to `file` (atomically: whole or not at all). */
export function backup(dataDir: string, file: string, opts: { force?: boolean } = {}): BackupReport {
  const source = join(dataDir, DB_FILE);
  if (!existsSync(source))
    throw new BackupError("no_database", `no database at ${source} (is --data-dir right?)`);
  if (existsSync(file) && !opts.force)
    throw new BackupError("exists", `${file} exists; --force overwrites it`);
  const partial = join(dirname(file), `.${basename(file)}.partial-${process.pid}`);
  rmSync(partial, { force: true });
  try {
    copyDatabase(source, partial);
    const summary = inspectDatabase(partial);
    fsyncPath(partial);
    renameSync(partial, file);
    fsyncPath(dirname(file));
    return { ...summary, source, file, bytes: statSync(file).size };
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
}

export interface RestoreReport extends DatabaseSummary {
  file: string;
  target: string;
  /** Where the database it replaced was moved (its -wal and -shm beside it), if there was one. */
  previous: string | undefined;
}

/**
 * Replaces `<dataDir>/onsite.db` by the backup `file`: refuses while a hub holds the database open,
 * when `file` is no intact onsite database of a known schema, or when its badge keys do not open
 * with this data dir's master key (`force` skips that last check). The replaced database is kept.
 */
export function restore(
  file: string,
  dataDir: string,
  opts: { force?: boolean; now?: Date } = {},
): RestoreReport {
  if (!existsSync(file)) throw new BackupError("no_database", `no such file: ${file}`);
  let summary: DatabaseSummary;
  try {
    summary = inspectDatabase(file);
  } catch (e) {
    throw new BackupError("invalid", (e as Error).message);
  }
  const target = join(dataDir, DB_FILE);
  if (databaseInUse(target))
    throw new BackupError(
      "in_use",
      `${target} is in use: a hub is running on ${dataDir}; stop it first (systemctl stop onsite), then restore`,
    );
  const sealed = aSealedKey(file);
  const keyPath = join(dataDir, KEY_FILE);
  if (sealed && !opts.force) {
    const foreign = `the badge keys in ${file} do not open with ${keyPath}`;
    const fix = `copy the master.key of the install the backup came from into ${dataDir}, or --force (badges then need new keys)`;
    if (!existsSync(keyPath)) throw new BackupError("foreign_key", `${keyPath} does not exist: ${fix}`);
    try {
      KeyVault.open(keyPath).open(sealed);
    } catch {
      throw new BackupError("foreign_key", `${foreign}: ${fix}`);
    }
  }
  const stamp = (opts.now ?? new Date())
    .toISOString()
    .replaceAll(":", "")
    .replace(/\.\d+Z$/, "Z");
  mkdirSync(dataDir, { recursive: true });
  const incoming = join(dataDir, `.${DB_FILE}.restoring-${process.pid}`);
  copyFileSync(file, incoming);
  fsyncPath(incoming);
  let previous: string | undefined;
  if (existsSync(target)) {
    previous = join(dataDir, `${DB_FILE}.before-restore-${stamp}`);
    renameSync(target, previous);
    // The probe above checkpointed the WAL into the database; any -wal/-shm left go with it.
    for (const suffix of ["-wal", "-shm"])
      if (existsSync(target + suffix)) renameSync(target + suffix, previous + suffix);
  }
  renameSync(incoming, target);
  fsyncPath(dataDir);
  return { ...summary, file, target, previous };
}
