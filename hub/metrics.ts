/**
 * The hub's metrics on prom-client: counters, gauges and histograms by name and labels, each hub with
 * its own registry (no module singletons: tests build many hubs), with Node's and the process's
 * default metrics. `value`/`total` read a counter or gauge back (tests, /healthz).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

type Labels = Record<string, string>;

const key = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");

export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly histograms = new Map<string, Histogram>();
  /** What was counted or set, by name and label set, to read back without an async collect. */
  private readonly values = new Map<string, Map<string, number>>();
  private readonly collectors: Array<() => void> = [];

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry });
  }

  private remember(name: string, labels: Labels, f: (v: number) => number): void {
    let m = this.values.get(name);
    if (!m) {
      m = new Map();
      this.values.set(name, m);
    }
    const k = key(labels);
    m.set(k, f(m.get(k) ?? 0));
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    let c = this.counters.get(name);
    if (!c) {
      c = new Counter({ name, help, labelNames: Object.keys(labels).sort(), registers: [this.registry] });
      this.counters.set(name, c);
    }
    c.inc(labels, by);
    this.remember(name, labels, (v) => v + by);
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    let g = this.gauges.get(name);
    if (!g) {
      g = new Gauge({ name, help, labelNames: Object.keys(labels).sort(), registers: [this.registry] });
      this.gauges.set(name, g);
    }
    g.set(labels, value);
    this.remember(name, labels, () => value);
  }

  observe(name: string, help: string, value: number, buckets: number[], labels: Labels = {}): void {
    let h = this.histograms.get(name);
    if (!h) {
      h = new Histogram({
        name,
        help,
        buckets,
        labelNames: Object.keys(labels).sort(),
        registers: [this.registry],
      });
      this.histograms.set(name, h);
    }
    h.observe(labels, value);
  }

  /** Read a counter or gauge (tests and /healthz). */
  value(name: string, labels: Labels = {}): number {
    return this.values.get(name)?.get(key(labels)) ?? 0;
  }

  /** Sum over all label sets of a series. */
  total(name: string): number {
    let sum = 0;
    for (const v of this.values.get(name)?.values() ?? []) sum += v;
    return sum;
  }

  /** Runs before each exposition, to refresh gauges. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  /** The Prometheus text exposition. */
  async render(): Promise<string> {
    for (const c of this.collectors) c();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
