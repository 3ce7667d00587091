/**
 * Group commit: items submitted during one event-loop turn are committed together in one store
 * transaction; each submitter's promise settles when its batch is durable (or failed). One batch at
 * a time: items arriving during a commit wait for the next one.
 */
export class GroupCommitter<T, R> {
  private pending: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
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
    const go = () => {
      this.scheduled = false;
      const batch = this.pending.splice(0, this.maxBatch);
      if (batch.length === 0) return;
      this.running = this.running.then(async () => {
        try {
          const results = await this.commit(batch.map((b) => b.item));
          for (const [i, b] of batch.entries()) b.resolve(results[i] as R);
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      });
    };
    if (now) go();
    else setImmediate(go);
  }

  /** Resolves when everything submitted so far is committed. */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.scheduled) {
      await new Promise((r) => setImmediate(r));
    }
    await this.running;
  }
}
