/**
 * The demo of `npm start`: seeds the demo site, then plays rounds of the demo scenarios through
 * virtual devices against this hub's real broker, so the dashboard moves within seconds.
 */
import type { Hub } from "../app.js";
import { type DemoDriver, MqttDemoDriver } from "./mqtt-driver.js";
import { DEMO_SCENARIOS, type DemoScenario } from "./scenarios.js";
import { seedDemo } from "./seed.js";

export interface DemoOptions {
  /** Script minutes per real minute. */
  speed: number;
  /** Replace the device driver (tests, the firmware driver). */
  driver?: DemoDriver;
  /** Stop after this many rounds (default: run until stopped). */
  rounds?: number;
  /** Play these instead of all demo scenarios. */
  scenarios?: DemoScenario[];
}

export interface Demo {
  /** Visit ids of every round so far, with the violations each scenario should produce. */
  played: Array<{ visitId: string; scenario: DemoScenario }>;
  done: Promise<void>;
  stop(): Promise<void>;
}

const MIN = 60_000;

export async function startDemo(hub: Hub, opts: DemoOptions): Promise<Demo> {
  const { log, clock, store } = hub.ctx;
  const { credentials, site } = await seedDemo(hub);
  const host = hub.ctx.config.mqtt.host === "0.0.0.0" ? "127.0.0.1" : hub.ctx.config.mqtt.host;
  const driver =
    opts.driver ??
    new MqttDemoDriver({ url: `mqtt://${host}:${hub.mqttPort}`, creds: credentials, store, clock });
  await driver.start();
  const realMs = (scriptMinutes: number) => (scriptMinutes * MIN) / opts.speed;
  const timers = new Set<NodeJS.Timeout>();
  const played: Demo["played"] = [];
  let stopped = false;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const pulse = setInterval(() => {
    driver.pulse().catch((e: unknown) => log.warn({ err: e }, "demo pulse failed"));
  }, 10_000);

  async function round(n: number): Promise<void> {
    const start = clock.now();
    const plans = (opts.scenarios ?? DEMO_SCENARIOS).map((s, i) => {
      const arrival = s.steps.find((st) => st.do === "arrive" || st.do === "tap");
      const arrivalAt = start + realMs(arrival?.at ?? 0);
      const [from, to] = s.window(arrivalAt, start);
      const visitId = `DEMO-${start.toString(36).toUpperCase()}-${i + 1}`;
      return {
        plan: {
          id: visitId,
          siteId: site.id,
          engineerId: `DEMO-E${s.engineer + 1}`,
          window: { from: Math.round(from), to: Math.round(to) },
        },
        scenario: s,
      };
    });
    await store.insertVisits(plans.map((p) => p.plan));
    for (const p of plans) played.push({ visitId: p.plan.id, scenario: p.scenario });
    log.info({ round: n, visits: plans.length }, "demo round started");
    const steps = plans
      .flatMap((p) =>
        p.scenario.steps.map((st) => ({ ...st, engineer: p.scenario.engineer, visitId: p.plan.id })),
      )
      .sort((a, b) => a.at - b.at);
    for (const step of steps) {
      const wait = start + realMs(step.at) - clock.now();
      if (wait > 0) await sleep(wait);
      if (stopped) return;
      await driver
        .act(step.engineer, step, step.visitId)
        .catch((e: unknown) => log.warn({ err: e, step: step.do }, "demo step failed"));
    }
  }

  const done = (async () => {
    for (let n = 1; !stopped && (opts.rounds === undefined || n <= opts.rounds); n++) {
      await round(n);
      if (!stopped && (opts.rounds === undefined || n < opts.rounds)) await sleep(realMs(10));
    }
  })().catch((e: unknown) => log.error({ err: e }, "demo failed"));

  return {
    played,
    done,
    async stop() {
      stopped = true;
      clearInterval(pulse);
      for (const t of timers) clearTimeout(t);
      await driver.stop();
    },
  };
}
