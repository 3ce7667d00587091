/**
 * The load generator, run as its own process so it does not share the hub's event loop: raw MQTT
 * 3.1.1 over loopback sockets (mqtt-packet), QoS 1, PUBACK latency per message. Bounded by count and
 * time. Input: one JSON argument; output: one JSON line.
 */
import { readFileSync } from "node:fs";
import { RawDevice } from "./raw-device.js";

const HEARTBEAT = { type: "heartbeat", queued: 1 };

export interface LoadSpec {
  port: number;
  devices: Array<{ id: string; password: string }>;
  /** "throughput": each device keeps `window` messages in flight; "rate": `rate` msg/s in total; "idle": connect and hold. */
  mode: "throughput" | "rate" | "idle";
  window?: number;
  rate?: number;
  seconds: number;
  /** Counter to start from, per device (above anything the hub has seen). */
  counterBase: number;
}

export interface LoadResult {
  connected: number;
  sent: number;
  acked: number;
  seconds: number;
  /** PUBACK latency percentiles (rate mode). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  const record = (ms: number) => latencies.push(ms);
  const devices: RawDevice[] = [];
  for (let i = 0; i < spec.devices.length; i += 200) {
    const batch = spec.devices
      .slice(i, i + 200)
      .map((d) => new RawDevice(spec.port, d.id, d.password, spec.counterBase, record));
    await Promise.all(batch.map((d) => d.ready));
    devices.push(...batch);
  }
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  if (spec.mode === "throughput") {
    const window = spec.window ?? 16;
    await new Promise<void>((resolve) => {
      const pump = () => {
        if (elapsed() >= spec.seconds) return resolve();
        for (const d of devices) while (d.inflight.size < window) d.publish(HEARTBEAT);
        setImmediate(pump);
      };
      pump();
    });
  } else if (spec.mode === "rate") {
    const rate = spec.rate ?? 1000;
    let due = 0;
    let next = 0;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const t = elapsed();
        if (t >= spec.seconds) {
          clearInterval(tick);
          return resolve();
        }
        const target = Math.floor(t * rate);
        for (; due < target; due++) {
          const d = devices[next++ % devices.length];
          d?.publish(HEARTBEAT);
        }
      }, 2);
    });
  } else {
    await new Promise((r) => setTimeout(r, spec.seconds * 1000));
  }
  const seconds = elapsed();
  // Let the last PUBACKs land (bounded).
  const end = Date.now() + 3000;
  while (devices.some((d) => d.inflight.size > 0) && Date.now() < end)
    await new Promise((r) => setTimeout(r, 20));
  for (const d of devices) d.close();
  const sorted = spec.mode === "rate" ? latencies.sort((a, b) => a - b) : [];
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  return {
    connected: devices.length,
    sent: devices.reduce((s, d) => s + d.sent, 0),
    acked: devices.reduce((s, d) => s + d.acked, 0),
    seconds,
    p50Ms: at(50),
    p99Ms: at(99),
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
}

if (process.argv[1]?.endsWith("load-client.ts") && process.argv[2]) {
  const spec = JSON.parse(readFileSync(process.argv[2], "utf8")) as LoadSpec;
  runLoad(spec).then(
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
