/** A small Prometheus registry: counters and gauges with labels, and fixed-bucket histograms. */
type Labels = Record<string, string>;

const key = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map(
      (k) => `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
    )
    .join(",");

interface Series {
  help: string;
  type: "counter" | "gauge";
  values: Map<string, number>;
}

interface Histogram {
  help: string;
  buckets: number[];
  counts: Map<string, { buckets: number[]; sum: number; count: number }>;
}

export class Metrics {
  private readonly series = new Map<string, Series>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly collectors: Array<() => void> = [];

  private get(name: string, type: Series["type"], help: string): Series {
    let s = this.series.get(name);
    if (!s) {
      s = { help, type, values: new Map() };
      this.series.set(name, s);
    }
    return s;
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const s = this.get(name, "counter", help);
    const k = key(labels);
    s.values.set(k, (s.values.get(k) ?? 0) + by);
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.get(name, "gauge", help).values.set(key(labels), value);
  }

  observe(name: string, help: string, value: number, buckets: number[], labels: Labels = {}): void {
    let h = this.histograms.get(name);
    if (!h) {
      h = { help, buckets, counts: new Map() };
      this.histograms.set(name, h);
    }
    const k = key(labels);
    let c = h.counts.get(k);
    if (!c) {
      c = { buckets: buckets.map(() => 0), sum: 0, count: 0 };
      h.counts.set(k, c);
    }
    for (let i = 0; i < buckets.length; i++)
      if (value <= (buckets[i] as number)) c.buckets[i] = (c.buckets[i] as number) + 1;
    c.sum += value;
    c.count += 1;
  }

  /** Read a counter or gauge (tests and /healthz). */
  value(name: string, labels: Labels = {}): number {
    return this.series.get(name)?.values.get(key(labels)) ?? 0;
  }

  /** Sum over all label sets of a series. */
  total(name: string): number {
    let sum = 0;
    for (const v of this.series.get(name)?.values.values() ?? []) sum += v;
    return sum;
  }

  /** Runs before each exposition, to refresh gauges. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  render(): string {
    for (const c of this.collectors) c();
    const out: string[] = [];
    for (const [name, s] of this.series) {
      out.push(`# HELP ${name} ${s.help}`, `# TYPE ${name} ${s.type}`);
      for (const [k, v] of s.values) out.push(`${name}${k ? `{${k}}` : ""} ${v}`);
    }
    for (const [name, h] of this.histograms) {
      out.push(`# HELP ${name} ${h.help}`, `# TYPE ${name} histogram`);
      for (const [k, c] of h.counts) {
        const sep = k ? `${k},` : "";
        for (const [i, b] of h.buckets.entries()) out.push(`${name}_bucket{${sep}le="${b}"} ${c.buckets[i]}`);
        out.push(
          `${name}_bucket{${sep}le="+Inf"} ${c.count}`,
          `${name}_sum${k ? `{${k}}` : ""} ${c.sum}`,
          `${name}_count${k ? `{${k}}` : ""} ${c.count}`,
        );
      }
    }
    return `${out.join("\n")}\n`;
  }
}
