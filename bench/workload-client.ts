/**
 * The real workload's load generator, run as its own process: badges and kiosks on raw MQTT 3.1.1
 * sockets (mqtt-packet, QoS 1) sending the event mix of visits in progress at a fixed total rate,
 * and live dashboard streams (Server-Sent Events) read at the same time. It measures PUBACK latency
 * per message and tap-to-dashboard latency: from the publish of an event that changes a visit's
 * board row to the stream message whose row shows it, on every stream. Bounded by rate and time,
 * loopback only. Input: one JSON file argument; output: one JSON line.
 */
import { readFileSync } from "node:fs";
import { get } from "node:http";
import { RawDevice } from "./raw-device.js";

export interface WorkloadSpec {
  port: number;
  /** The hub's HTTP port and a staff token for the streams (absent: no streams, as for bare aedes). */
  http?: { port: number; token: string };
  streams: number;
  badges: Array<{ id: string; password: string; visit: string }>;
  kiosks: Array<{ id: string; password: string }>;
  rate: number;
  seconds: number;
  counterBase: number;
}

export interface WorkloadResult {
  connected: number;
  sent: number;
  acked: number;
  seconds: number;
  mix: Record<string, number>;
  puback: Percentiles;
  /** From publish to the stream's row showing it, every stream's copy (visit steps). */
  tap: Percentiles & { events: number; missing: number };
  /** The same for SOS alone (the live path). */
  sos: Percentiles & { events: number; missing: number };
  streamMessages: number;
}

export interface Percentiles {
  n: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

function percentiles(xs: number[]): Percentiles {
  const s = xs.sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
  return { n: s.length, p50Ms: at(50), p99Ms: at(99), maxMs: s.at(-1) ?? Number.NaN };
}

/** A small deterministic PRNG (mulberry32), so every run sends the same mix in the same order. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What is measured to the dashboard: a token the event puts in the visit's row, and when it left. */
interface Pending {
  token: string;
  at: number;
}

interface Row {
  visitId: string;
  kitChecked: { missing: string[] } | null;
  report: { workDone: string } | null;
  alarms: Array<{ evidence: Array<{ device: string; counter: number }> }>;
}

/** One live stream: its own copy of what is still to be seen, per visit and kind, in send order. */
class Stream {
  readonly pending = new Map<string, Pending[]>();
  readonly tap: number[] = [];
  readonly sos: number[] = [];
  messages = 0;
  private buf = "";
  ready: Promise<void>;
  private close: () => void = () => {};

  constructor(port: number, token: string) {
    this.ready = new Promise((resolve, reject) => {
      const req = get(
        { host: "127.0.0.1", port, path: `/api/v1/stream?access_token=${encodeURIComponent(token)}` },
        (res) => {
          if (res.statusCode !== 200) return reject(new Error(`stream: HTTP ${res.statusCode}`));
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => this.feed(chunk));
          resolve();
        },
      );
      req.on("error", reject);
      this.close = () => req.destroy();
    });
  }

  expect(key: string, p: Pending): void {
    const list = this.pending.get(key);
    if (list) list.push(p);
    else this.pending.set(key, [p]);
  }

  /** The row shows `token`: it and every earlier one of the same kind are seen (updates coalesce). */
  private seen(key: string, token: string, into: number[], at: number): void {
    const list = this.pending.get(key);
    const i = list?.findIndex((p) => p.token === token) ?? -1;
    if (!list || i < 0) return;
    for (const p of list.splice(0, i + 1)) into.push(at - p.at);
    if (list.length === 0) this.pending.delete(key);
  }

  private feed(chunk: string): void {
    this.buf += chunk;
    for (let end = this.buf.indexOf("\n\n"); end >= 0; end = this.buf.indexOf("\n\n")) {
      const block = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 2);
      if (!block.startsWith("event: visit\n")) continue;
      const at = now();
      this.messages++;
      const data = block.slice(block.indexOf("data: ") + 6);
      const row = (JSON.parse(data) as { row?: Row }).row;
      if (!row) continue;
      const v = row.visitId;
      const kit = row.kitChecked?.missing[0];
      if (kit) this.seen(`${v}|kit`, kit, this.tap, at);
      if (row.report) this.seen(`${v}|report`, row.report.workDone, this.tap, at);
      const last = row.alarms.at(-1)?.evidence[0];
      if (last) this.seen(`${v}|sos`, `${last.device}#${last.counter}`, this.sos, at);
    }
  }

  end(): void {
    this.close();
  }
}

export async function runWorkload(spec: WorkloadSpec): Promise<WorkloadResult> {
  const puback: number[] = [];
  const record = (ms: number) => puback.push(ms);
  const connectAll = async (list: Array<{ id: string; password: string }>) => {
    const out: RawDevice[] = [];
    for (let i = 0; i < list.length; i += 200) {
      const batch = list
        .slice(i, i + 200)
        .map((d) => new RawDevice(spec.port, d.id, d.password, spec.counterBase, record));
      await Promise.all(batch.map((d) => d.ready));
      out.push(...batch);
    }
    return out;
  };
  const badges = await connectAll(spec.badges);
  const kiosks = await connectAll(spec.kiosks);
  const visitOf = new Map(spec.badges.map((b) => [b.id, b.visit]));
  const streams: Stream[] = [];
  if (spec.http) {
    for (let i = 0; i < spec.streams; i++) streams.push(new Stream(spec.http.port, spec.http.token));
    await Promise.all(streams.map((s) => s.ready));
  }
  const expect = (key: string, token: string) => {
    const at = now();
    for (const s of streams) s.expect(key, { token, at });
  };

  // The mix of a site day with visits in progress, per 1,000 events: device health dominates, the
  // engineer's report is saved as it is written, kit lists change, and now and then an SOS.
  const random = prng(42);
  const mix: Record<string, number> = {};
  let tapEvents = 0;
  let sosEvents = 0;
  let b = 0;
  let k = 0;
  const send = () => {
    const r = random();
    if (r < 0.05) {
      const kiosk = kiosks[k++ % kiosks.length] as RawDevice;
      kiosk.publish({ type: "heartbeat", queued: 0 });
      mix.kiosk_heartbeat = (mix.kiosk_heartbeat ?? 0) + 1;
      return;
    }
    const badge = badges[b++ % badges.length] as RawDevice;
    const visit = visitOf.get(badge.id) as string;
    if (r < 0.6) {
      badge.publish({ type: "heartbeat", battery: 80, queued: 0 });
      mix.badge_heartbeat = (mix.badge_heartbeat ?? 0) + 1;
    } else if (r < 0.95) {
      const token = `report ${badge.id} ${badge.counter + 1}`;
      if (spec.http) expect(`${visit}|report`, token);
      badge.publish({
        type: "completion_submitted",
        visit,
        cause: "worn bearing",
        parts: [{ name: "bearing", quantity: 1 }],
        workDone: token,
        advice: "check again in six months",
      });
      mix.completion_submitted = (mix.completion_submitted ?? 0) + 1;
      tapEvents++;
    } else if (r < 0.999) {
      const token = `kit ${badge.id} ${badge.counter + 1}`;
      if (spec.http) expect(`${visit}|kit`, token);
      badge.publish({ type: "kit_checked", visit, complete: false, missing: [token] });
      mix.kit_checked = (mix.kit_checked ?? 0) + 1;
      tapEvents++;
    } else {
      if (spec.http) expect(`${visit}|sos`, `${badge.id}#${badge.counter + 1}`);
      badge.publish({ type: "sos", visit, kind: "hazard" });
      mix.sos = (mix.sos ?? 0) + 1;
      sosEvents++;
    }
  };

  const started = now();
  const elapsed = () => (now() - started) / 1000;
  let due = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const t = elapsed();
      if (t >= spec.seconds) {
        clearInterval(tick);
        return resolve();
      }
      for (const target = Math.floor(t * spec.rate); due < target; due++) send();
    }, 2);
  });
  const seconds = elapsed();
  const all = [...badges, ...kiosks];
  // Let the last PUBACKs and stream messages land (bounded).
  const end = Date.now() + 15_000;
  while (
    (all.some((d) => d.inflight.size > 0) || streams.some((s) => s.pending.size > 0)) &&
    Date.now() < end
  )
    await new Promise((r) => setTimeout(r, 20));
  for (const d of all) d.close();
  for (const s of streams) s.end();
  const missing = (kind: "sos" | "tap") =>
    streams.reduce(
      (n, s) =>
        n +
        [...s.pending.entries()]
          .filter(([key]) => key.endsWith("|sos") === (kind === "sos"))
          .reduce((m, [, list]) => m + list.length, 0),
      0,
    );
  return {
    connected: all.length,
    sent: all.reduce((s, d) => s + d.sent, 0),
    acked: all.reduce((s, d) => s + d.acked, 0),
    seconds,
    mix,
    puback: percentiles(puback),
    tap: { ...percentiles(streams.flatMap((s) => s.tap)), events: tapEvents, missing: missing("tap") },
    sos: { ...percentiles(streams.flatMap((s) => s.sos)), events: sosEvents, missing: missing("sos") },
    streamMessages: streams.reduce((n, s) => n + s.messages, 0),
  };
}

if (process.argv[1]?.endsWith("workload-client.ts") && process.argv[2]) {
  const spec = JSON.parse(readFileSync(process.argv[2], "utf8")) as WorkloadSpec;
  runWorkload(spec).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exit(1);
    },
  );
}
