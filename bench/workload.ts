/**
 * The real workload (`npm run bench workload`): a hub with 1,000 visits in progress at 100 sites
 * (an engineer's badge per visit, a kiosk per site, all on MQTT), projection, retained status and
 * notifications on, and 5 live dashboard streams open, while the load generator (its own process)
 * sends the event mix of a working day at a fixed rate. It reports PUBACK p50/p99 against bare
 * aedes under the same load in the same run, and tap-to-dashboard p50/p99: from the publish of an
 * event that changes a visit's board row to the stream message whose row shows it. Bounded in
 * devices, rate and time; loopback only.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { promisify } from "node:util";
import { Aedes } from "aedes";
import { createHub, type Hub } from "../hub/app.js";
import { DEFAULT_CONFIG } from "../hub/config/config.js";
import { defaultSite, type VisitPlan } from "../hub/core/model.js";
import { silentLogger } from "../hub/log.js";
import type { WorkloadResult, WorkloadSpec } from "./workload-client.js";

const run = promisify(execFile);
const SITES = Number(process.env.BENCH_SITES ?? 100);
const VISITS = Number(process.env.BENCH_VISITS ?? 1000);
const RATE = Number(process.env.BENCH_WORKLOAD_RATE ?? 2000);
const SECONDS = Number(process.env.BENCH_WORKLOAD_SECONDS ?? 20);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 5);
const MIN = 60_000;

type Cred = { id: string; password: string };

async function load(spec: WorkloadSpec, dir: string): Promise<WorkloadResult> {
  const file = join(dir, `workload-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/workload-client.ts", file], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as WorkloadResult;
}

/** The hub with the visits checked in and working, their devices provisioned. */
async function startHub(dir: string, sync: "full" | "normal") {
  const hub = await createHub(
    {
      ...DEFAULT_CONFIG,
      dataDir: dir,
      mqtt: {
        ...DEFAULT_CONFIG.mqtt,
        port: 0,
        ratePerSecond: 1000,
        rateBurst: 10_000,
        // Every device of the bench connects from 127.0.0.1.
        connectsPerAddress: { burst: 100_000, perSecond: 10_000 },
      },
      http: { ...DEFAULT_CONFIG.http, port: 0 },
      store: { sync },
      demo: { ...DEFAULT_CONFIG.demo, enabled: false },
      ble: { ...DEFAULT_CONFIG.ble, mode: "off" },
      log: { level: "silent" },
    },
    { log: silentLogger() },
  );
  const { store, provisioning, ingest, visits } = hub.ctx;
  const now = Date.now();
  const kiosks: Cred[] = [];
  for (let s = 0; s < SITES; s++) {
    await store.putSite(
      defaultSite({ id: `S${s}`, name: `Site ${s}`, timeZone: "UTC", requiredPpe: ["helmet"] }),
    );
    const k = await provisioning.provision({ id: `kiosk-${s}`, kind: "kiosk", siteId: `S${s}` });
    kiosks.push({ id: `kiosk-${s}`, password: k.password });
  }
  const plans: VisitPlan[] = [];
  const badges: Array<Cred & { visit: string }> = [];
  for (let v = 0; v < VISITS; v++) {
    await store.putEngineer({
      id: `E${v}`,
      name: `Engineer ${v}`,
      company: "Bench",
      certificates: [{ kind: "safety_training", validUntil: "2099-12-31" }],
    });
    const b = await provisioning.provision({ id: `badge-${v}`, kind: "badge", engineerId: `E${v}` });
    badges.push({ id: `badge-${v}`, password: b.password, visit: `V${v}` });
    plans.push({
      id: `V${v}`,
      siteId: `S${v % SITES}`,
      engineerId: `E${v}`,
      window: { from: now - 30 * MIN, to: now + 3 * 60 * MIN },
    });
  }
  await store.insertVisits(plans);
  visits.plansChanged(plans);
  // Each visit through arrival, the customer's consent, gear and the start of work.
  const steps = (v: number, at: number) =>
    [
      { dev: `badge-${v}`, body: { type: "arrival", source: "ble" } },
      { dev: `kiosk-${v % SITES}`, body: { type: "checkin_confirmed", engineer: `E${v}`, consent: true } },
      { dev: `badge-${v}`, body: { type: "gear_confirmed", items: ["helmet"] } },
      { dev: `badge-${v}`, body: { type: "work_started" } },
    ].map((s, i) => ({ ...s, time: at + i * 1000 }));
  const counters = new Map<string, number>();
  for (let i = 0; i < 4; i++) {
    await Promise.all(
      plans.map((p, v) => {
        const s = steps(v, now - 20 * MIN)[i] as ReturnType<typeof steps>[number];
        const counter = (counters.get(s.dev) ?? 0) + 1;
        counters.set(s.dev, counter);
        return ingest.submitEvent(
          { v: 1, device: s.dev, counter, time: s.time, visit: p.id, ...s.body },
          s.dev,
          "bench",
        );
      }),
    );
  }
  await ingest.settle();
  await hub.ctx.announcer.idle();
  const working = (await Promise.all(plans.map((p) => store.getView(p.id)))).filter(
    (view) => view?.state === "working",
  ).length;
  if (working !== VISITS) throw new Error(`only ${working} of ${VISITS} visits are working`);
  const { token } = await provisioning.createToken("supervisor", "bench");
  return { hub, badges, kiosks, token };
}

/** A latency; a percentile of nothing comes back from the client as null. */
const ms = (x: number | null) => (x === null || Number.isNaN(x) ? "n/a" : `${x.toFixed(1)} ms`);

export async function benchWorkload(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "onsite-bench-workload-"));
  const figures: Record<string, number> = {};
  let hub: Hub | undefined;
  try {
    const { hub: h, badges, kiosks, token } = await startHub(join(root, "hub"), "full");
    hub = h;
    const spec = (port: number, http?: WorkloadSpec["http"]): WorkloadSpec => ({
      port,
      ...(http ? { http } : {}),
      streams: http ? STREAMS : 0,
      badges,
      kiosks,
      rate: RATE,
      seconds: SECONDS,
      counterBase: 1000,
    });

    const bare = await Aedes.createBroker();
    const bareServer = createServer(bare.handle);
    await new Promise<void>((r) => bareServer.listen(0, "127.0.0.1", () => r()));
    const bareRun = await load(spec((bareServer.address() as AddressInfo).port), root);
    await new Promise<void>((r) => bare.close(() => r()));
    await new Promise<void>((r) => bareServer.close(() => r()));

    if (typeof global.gc === "function") global.gc();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 200);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const cpu = process.cpuUsage();
    const hubRun = await load(spec(hub.mqttPort, { port: hub.httpPort, token }), root);
    const used = process.cpuUsage(cpu);
    loop.disable();
    clearInterval(sampler);
    const stored = await hub.ctx.store.countEvents();

    const p = hubRun.puback;
    const acceptedPerS = hubRun.acked / hubRun.seconds;
    Object.assign(figures, {
      barePubackP50: bareRun.puback.p50Ms,
      barePubackP99: bareRun.puback.p99Ms,
      pubackP50: p.p50Ms,
      pubackP99: p.p99Ms,
      tapP50: hubRun.tap.p50Ms,
      tapP99: hubRun.tap.p99Ms,
      sosP99: hubRun.sos.p99Ms,
      acceptedPerS,
    });
    const mix = Object.entries(hubRun.mix)
      .map(([k, n]) => `${k} ${((100 * n) / hubRun.sent).toFixed(1)}%`)
      .join(", ");
    console.log(
      `real workload: ${VISITS} visits in progress at ${SITES} sites, ${hubRun.connected} devices, ${RATE} events/s offered for ${SECONDS} s, ${STREAMS} live streams`,
    );
    console.log(`  mix: ${mix}`);
    console.log(
      `  bare aedes (same load, no auth, no storage): ${(bareRun.acked / bareRun.seconds).toFixed(0)} acked/s; PUBACK p50 ${ms(bareRun.puback.p50Ms)}, p99 ${ms(bareRun.puback.p99Ms)}`,
    );
    console.log(
      `  hub: ${acceptedPerS.toFixed(0)} durable events/s (${hubRun.acked} PUBACKs of ${hubRun.sent} sent; ratio to offered ${(acceptedPerS / RATE).toFixed(2)}); PUBACK p50 ${ms(p.p50Ms)}, p99 ${ms(p.p99Ms)}, max ${ms(p.maxMs)}; p99 ratio to bare ${(p.p99Ms / bareRun.puback.p99Ms).toFixed(2)}`,
    );
    console.log(
      `  tap-to-dashboard (publish to the stream's row, ${hubRun.tap.n} deliveries of ${hubRun.tap.events} visit steps): p50 ${ms(hubRun.tap.p50Ms)}, p99 ${ms(hubRun.tap.p99Ms)}, max ${ms(hubRun.tap.maxMs)} (goal p99 <= 50 ms); never shown ${hubRun.tap.missing}`,
    );
    console.log(
      `  SOS to dashboard (${hubRun.sos.n} deliveries of ${hubRun.sos.events}): p50 ${ms(hubRun.sos.p50Ms)}, p99 ${ms(hubRun.sos.p99Ms)}; never shown ${hubRun.sos.missing}`,
    );
    console.log(
      `  hub process: CPU ${((used.user + used.system) / 1e6 / hubRun.seconds).toFixed(2)} cores, event loop p99 ${ms(loop.percentile(99) / 1e6)}, max ${ms(loop.max / 1e6)}; RSS ${(rssBefore / 1048576).toFixed(0)} -> ${(rssPeak / 1048576).toFixed(0)} MB; ${stored} events stored; ${hubRun.streamMessages} stream messages`,
    );
  } finally {
    await hub?.stop();
    rmSync(root, { recursive: true, force: true });
  }
  return figures;
}
