/**
 * The connection pool, its type parsing and its transactions. node-postgres returns BIGINT (int8)
 * as strings, since not every int8 fits a JS number; every int8 in this schema (epoch ms, counters,
 * seqs, counts) is far below 2^53, so they come back as numbers, and one that is not safe to hold
 * as a number fails its query instead of coming back rounded.
 */
import pg from "pg";

export type StoreErrorCode = "schema_too_new" | "unsafe_integer" | "not_committed" | "fenced";

export class PostgresStoreError extends Error {
  override readonly name = "PostgresStoreError";
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const INT8_OID = 20;

export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new PostgresStoreError("unsafe_integer", `BIGINT ${text} does not fit a JS number exactly`);
  return n;
}

/** Type parsers for this pool only: the `pg` module's global registry is left alone. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? "text")) as pg.CustomTypesConfig["getTypeParser"],
};

export interface PoolOptions {
  url: string;
  /** Connections at most (default 10). */
  max?: number;
  /** An idle pooled connection failed (the server restarted, the network dropped); the pool replaces it. */
  onError?: (e: Error) => void;
}

export function createPool(opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    types,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: "onsite-hub",
  });
  // Without a listener an idle connection's error would be thrown from the pool and end the process.
  pool.on("error", (e) => opts.onError?.(e));
  return pool;
}

/**
 * Runs `fn` in one transaction on one connection and resolves only once COMMIT has returned (with
 * the server's default synchronous_commit=on: the commit is in the WAL on disk). `lock`: a
 * transaction-level advisory lock taken first, released by the commit.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (c: pg.PoolClient) => Promise<T>,
  lock?: number,
): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no pool listener: without one, a connection dropped mid-transaction (the
  // server restarting) is thrown as an uncaught 'error' event. The queries in flight fail anyway.
  const onError = (e: Error) => {
    broken = e;
  };
  c.on("error", onError);
  try {
    await c.query(lock === undefined ? "BEGIN" : `BEGIN; SELECT pg_advisory_xact_lock(${lock})`);
    const out = await fn(c);
    const done = await c.query("COMMIT");
    // COMMIT of a transaction that failed along the way answers ROLLBACK, not an error.
    if (done.command !== "COMMIT")
      throw new PostgresStoreError("not_committed", `COMMIT answered ${done.command}`);
    return out;
  } catch (e) {
    try {
      await c.query("ROLLBACK");
    } catch (r) {
      broken = r as Error; // the connection is gone: drop it rather than pool it
    }
    throw e;
  } finally {
    c.off("error", onError);
    c.release(broken);
  }
}
