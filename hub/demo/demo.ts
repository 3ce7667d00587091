/**
 * The demo of `npm start`: rounds of the site simulator against this hub, so the dashboard moves
 * within seconds. The badge and kiosk firmware programs run on light virtual boards (the first
 * kiosk on the emulated Uno with `demo.emulate`), talking to this hub over its real broker.
 */
import { join } from "node:path";
import { runSim, type SimSummary } from "../../firmware/sim/run.js";
import type { SimScenario } from "../../firmware/sim/scenarios.js";
import type { Hub } from "../app.js";

export interface DemoOptions {
  /** Script minutes per real minute (1..60). */
  speed: number;
  emulate?: boolean;
  /** Stop after this many rounds (default: until stopped). */
  rounds?: number;
  scenarios?: SimScenario[];
}

export interface Demo {
  rounds: SimSummary[];
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function startDemo(hub: Hub, opts: DemoOptions): Promise<Demo> {
  const { log, config, provisioning } = hub.ctx;
  const host = (h: string) => (h === "0.0.0.0" || h === "::" ? "127.0.0.1" : h);
  // The simulator works through the API like any client; its token lives only in this process.
  const { token, record } = await provisioning.createToken("admin", "demo");
  const rounds: SimSummary[] = [];
  let stopped = false;
  let wake: (() => void) | undefined;
  const done = (async () => {
    for (let n = 1; !stopped && (opts.rounds === undefined || n <= opts.rounds); n++) {
      const summary = await runSim({
        httpUrl: `http://${host(config.http.host)}:${hub.httpPort}`,
        mqttUrl: `mqtt://${host(config.mqtt.host)}:${hub.mqttPort}`,
        token,
        speed: opts.speed,
        seed: Math.floor(Math.random() * 1_000_000),
        runId: "DEMO",
        stateDir: join(config.dataDir, "demo-devices"),
        emulate: opts.emulate === true,
        ...(hub.radio.virtual ? { bluez: hub.radio.virtual.bluez } : {}),
        ...(opts.scenarios ? { scenarios: opts.scenarios } : {}),
        log: (line) => {
          if (line.trim()) log.info({ demo: n }, line.trim());
        },
      });
      rounds.push(summary);
      if (stopped || (opts.rounds !== undefined && n >= opts.rounds)) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 20_000).unref();
      });
    }
  })().catch((e: unknown) => log.error({ err: e }, "demo failed"));
  return {
    rounds,
    done,
    async stop() {
      stopped = true;
      wake?.();
      await hub.ctx.store.putToken({ ...record, revokedAt: hub.ctx.clock.now() });
    },
  };
}
