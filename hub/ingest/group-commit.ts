/**
 * Group commit: items submitted while a commit runs are committed together in the next store
 * transaction; each submitter's promise settles when its batch is durable (or failed). One batch at
 * a time. A batch is cut when the commit before it is done, not when its first item arrived, so a
 * store whose commit takes a network round trip and an fsync (PostgreSQL) gets everything that came
 * in meanwhile in one batch, instead of a queue of small batches that never catches up.
 */
export class GroupCommitter<T, R> {
  private pending: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  /** A commit is chained that has not cut its batch yet. */
  private waiting = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly commit: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 2000,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flushSoon(true);
      else this.flushSoon(false);
    });
  }

  private flushSoon(now: boolean): void {
    if (this.scheduled && !now) return;
    this.scheduled = true;
    if (now) this.chain();
    else setImmediate(() => this.chain());
  }

  /** Chains one commit behind the running one, unless one is already waiting to cut its batch. */
  private chain(): void {
    this.scheduled = false;
    if (this.waiting || this.pending.length === 0) return;
    this.waiting = true;
    this.running = this.running.then(async () => {
      this.waiting = false;
      const batch = this.pending.splice(0, this.maxBatch);
      if (this.pending.length > 0) this.chain(); // more than one batch's worth: the rest goes next
      if (batch.length === 0) return;
      try {
        const results = await this.commit(batch.map((b) => b.item));
        for (const [i, b] of batch.entries()) b.resolve(results[i] as R);
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    });
  }

  /** Resolves when everything submitted so far is committed. */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.scheduled) {
      await new Promise((r) => setImmediate(r));
    }
    await this.running;
  }
}
