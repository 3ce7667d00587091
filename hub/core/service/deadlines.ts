/**
 * When each visit's time-driven rules next fall due (no-show at the window's end, the not-on-site
 * warning before it): a min-heap keyed by time, one live entry per visit (rescheduling supersedes).
 */
interface Entry {
  at: number;
  id: string;
  gen: number;
}

export class DeadlineQueue {
  private heap: Entry[] = [];
  private readonly gen = new Map<string, number>();

  /** Sets (or clears, with null) the one deadline of `id`. */
  schedule(id: string, at: number | null): void {
    const g = (this.gen.get(id) ?? 0) + 1;
    if (at === null) {
      this.gen.delete(id);
      return;
    }
    this.gen.set(id, g);
    this.push({ at, id, gen: g });
  }

  /** The ids whose deadline is ≤ now; each is removed (schedule it again if it has another). */
  popDue(now: number): string[] {
    const out: string[] = [];
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > now) break;
      this.pop();
      if (this.gen.get(top.id) === top.gen) {
        this.gen.delete(top.id);
        out.push(top.id);
      }
    }
    return out;
  }

  get size(): number {
    return this.gen.size;
  }

  /** Drops superseded entries when they outnumber live ones, so the heap stays bounded. */
  private compact(): void {
    if (this.heap.length < 1024 || this.heap.length < 4 * this.gen.size) return;
    const live = this.heap.filter((e) => this.gen.get(e.id) === e.gen);
    this.heap = [];
    for (const e of live) this.push(e);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Entry;
      if (parent.at <= e.at) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
    this.compact();
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      const at = (k: number) => (k === i ? last.at : (h[k] as Entry).at);
      if (l < h.length && at(l) < at(m)) m = l;
      if (r < h.length && at(r) < at(m)) m = r;
      if (m === i) break;
      h[i] = h[m] as Entry;
      i = m;
    }
    h[i] = last;
  }
}
