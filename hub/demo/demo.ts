/**
 * The demo of `npm start`: rounds of the site simulator against this hub, so the dashboard moves
 * within seconds, for as long as the hub runs. The world (sites, engineers, devices) is made once
 * and kept across rounds and restarts; each round books new visits for the same engineers. The
 * badge and kiosk firmware programs run on light virtual boards (the first kiosk on the emulated
 * Uno with `demo.emulate`), talking to this hub over its real broker. They boot once and keep
 * running from round to round, as a site's kiosk and an engineer's badge do (booted every round,
 * they would pile up: johnny-five never frees a board).
 */
import { join } from "node:path";
import { HubApi } from "../../firmware/sim/api.js";
import { SimDevices } from "../../firmware/sim/devices.js";
import { playRound, prepareWorld, prng, type SimSummary, type SimWorld } from "../../firmware/sim/run.js";
import { SCENARIOS, type SimScenario } from "../../firmware/sim/scenarios.js";
import type { Hub } from "../app.js";

export interface DemoOptions {
  /** Script minutes per real minute (1..60). */
  speed: number;
  emulate?: boolean;
  /** Stop after this many rounds (default: until stopped). */
  rounds?: number;
  scenarios?: SimScenario[];
  /** Pause between rounds (default 20 s). */
  pauseMs?: number;
}

export interface Demo {
  rounds: SimSummary[];
  done: Promise<void>;
  stop(): Promise<void>;
}

const RUN_ID = "DEMO";

export async function startDemo(hub: Hub, opts: DemoOptions): Promise<Demo> {
  const { log, config, provisioning } = hub.ctx;
  const host = (h: string) => (h === "0.0.0.0" || h === "::" ? "127.0.0.1" : h);
  // The simulator works through the API like any client; its token lives only in this process.
  const { token, record } = await provisioning.createToken("admin", "demo");
  const httpUrl = `http://${host(config.http.host)}:${hub.httpPort}`;
  const stateDir = join(config.dataDir, "demo-devices");
  const scenarios = opts.scenarios ?? SCENARIOS;
  const rounds: SimSummary[] = [];
  const abort = new AbortController();
  let wake: (() => void) | undefined;
  const mqttUrl = `mqtt://${host(config.mqtt.host)}:${hub.mqttPort}`;
  const bluez = hub.radio.virtual?.bluez;
  /** Rounds on the world's devices until stopped (or `opts.rounds`). */
  async function play(world: SimWorld, devices: SimDevices): Promise<void> {
    for (let n = 1; !abort.signal.aborted && (opts.rounds === undefined || n <= opts.rounds); n++) {
      const summary = await playRound(world, {
        httpUrl,
        mqttUrl,
        token,
        speed: opts.speed,
        seed: Math.floor(Math.random() * 1_000_000),
        runId: RUN_ID,
        stateDir,
        scenarios,
        signal: abort.signal,
        closeOpenVisits: true,
        devices,
        log: (line) => {
          if (line.trim()) log.info({ demo: n }, line.trim());
        },
      });
      if (summary.aborted) break;
      rounds.push(summary);
      if (opts.rounds !== undefined && n >= opts.rounds) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, opts.pauseMs ?? 20_000).unref();
      });
    }
  }
  const done = (async () => {
    const api = new HubApi(httpUrl, token);
    const world = await prepareWorld({
      api,
      runId: RUN_ID,
      scenarios,
      zone: "Asia/Shanghai",
      random: prng(1),
      credentialsFile: join(stateDir, "world.json"),
    });
    const devices = await SimDevices.start(world, scenarios, {
      mqttUrl,
      api,
      stateDir,
      ...(opts.emulate ? { emulate: true } : {}),
      ...(bluez ? { bluez } : {}),
    });
    try {
      await play(world, devices);
    } finally {
      await devices.stop();
    }
  })().catch((e: unknown) => {
    if (!abort.signal.aborted) log.error({ err: e }, "demo failed");
  });
  return {
    rounds,
    done,
    async stop() {
      abort.abort();
      wake?.();
      await done;
      await hub.ctx.store.putToken({ ...record, revokedAt: hub.ctx.clock.now() });
    },
  };
}
