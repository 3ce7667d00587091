/**
 * One leader among the cluster's nodes: the node holding a PostgreSQL session-level advisory lock
 * (`pg_try_advisory_lock`) on a connection of its own. The server releases the lock when that
 * connection ends, so a node that dies (SIGKILL, a machine gone) or is cut off from the database
 * stops being the leader without a timeout of ours; another node takes the lock at its next try.
 *
 * A node that is not the leader tries every `retryMs`. The leader checks its connection as often
 * (`SELECT 1`): a query that fails, or the connection's `error`/`end`, is leadership lost at once,
 * before anything else is written as the leader.
 */
import pg from "pg";
import type { Logger } from "../log.js";

/** The lock's key: "ons" and 3, beside the event-commit lock 0x6f6e7302 and the migration lock. */
export const LEADER_LOCK_KEY = 0x6f6e7303;

export interface LeaderOptions {
  url: string;
  nodeId: string;
  retryMs: number;
  log: Logger;
  /** Called on every change, true on becoming the leader, false on losing it. */
  onChange: (leading: boolean) => void;
}

export class LeaderElection {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private stopped = false;
  private busy = false;
  /** When the lock was last lost (for the failover figure in the log). */
  private lostAt: number | undefined;
  /** The server session (backend pid) that took the lock last; -1 before the first time. */
  private session = -1;

  constructor(private readonly opts: LeaderOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * What the store checks before it saves a projection: the session that took the lock. Kept after
   * the lock is lost, so a step started as the leader and finished after is refused, not written.
   */
  fence(): { lock: number; session: number } {
    return { lock: LEADER_LOCK_KEY, session: this.session };
  }

  /** Tries at once, then every retryMs. */
  async start(): Promise<void> {
    await this.attempt();
    this.timer = setInterval(() => void this.attempt(), this.opts.retryMs);
    this.timer.unref();
  }

  private set(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) this.opts.log.info({ node: this.opts.nodeId }, "cluster: this node is the leader");
    else {
      this.lostAt = Date.now();
      this.opts.log.warn({ node: this.opts.nodeId }, "cluster: leadership lost");
    }
    this.opts.onChange(leading);
  }

  private drop(why: string): void {
    const c = this.client;
    this.client = undefined;
    if (c) {
      c.removeAllListeners("end");
      c.end().catch(() => undefined);
    }
    if (this.leading) this.opts.log.warn({ why }, "cluster: the leader's database connection is gone");
    this.set(false);
  }

  private async connect(): Promise<pg.Client> {
    const c = new pg.Client({
      connectionString: this.opts.url,
      application_name: `onsite-leader ${this.opts.nodeId}`.slice(0, 63),
      // A half-open connection (a machine gone) is noticed by the keep-alive, not after hours.
      keepAlive: true,
      keepAliveInitialDelayMillis: 1000,
      connectionTimeoutMillis: Math.max(this.opts.retryMs, 2000),
    });
    // Without a listener node-postgres throws a dead connection's error as uncaught.
    c.on("error", (e) => this.drop(`error: ${e.message}`));
    c.on("end", () => this.drop("connection ended"));
    await c.connect();
    return c;
  }

  private async attempt(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      if (this.leading && this.client) {
        // Still holding it? A query on the connection that holds the lock answers that.
        await this.client.query({ text: "SELECT 1", query_timeout: this.opts.retryMs } as pg.QueryConfig);
        return;
      }
      this.client ??= await this.connect();
      const r = await this.client.query<{ ok: boolean; pid: number }>(
        "SELECT pg_try_advisory_lock($1) AS ok, pg_backend_pid() AS pid",
        [LEADER_LOCK_KEY],
      );
      if (r.rows[0]?.ok === true && !this.stopped) {
        this.session = r.rows[0].pid;
        if (this.lostAt !== undefined)
          this.opts.log.info({ afterMs: Date.now() - this.lostAt }, "cluster: leadership taken again");
        this.set(true);
      }
    } catch (e) {
      this.drop(`query failed: ${(e as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  /** Releases the lock (the connection's end does) so another node takes over at its next try. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 10));
    const c = this.client;
    this.client = undefined;
    if (c) {
      c.removeAllListeners("end");
      await c.end().catch(() => undefined);
    }
    this.set(false);
  }
}
