/**
 * The site simulator: every scenario gets its own site, engineer, badge and kiosk, created through
 * the hub's API; the firmware programs run on virtual boards and play the scenario; at the end the
 * hub's verdict on each visit is checked against what the scenario intended.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DateTime } from "luxon";
import type { BoardKind } from "../../hardware/virtual/boards.js";
import { GatewayRadio } from "../badge/radio.js";
import { HubApi } from "./api.js";
import { ScenarioDriver } from "./driver.js";
import { bleSimRadio, gatewaySimRadio, type PeripheralSource, type SimRadio } from "./radios.js";
import { SCENARIOS, SITE_CLEANUP, SITE_PPE, type SimScenario } from "./scenarios.js";

export interface SimOptions {
  httpUrl: string;
  mqttUrl: string;
  token: string;
  /** Script minutes per real minute (1..60). */
  speed: number;
  seed: number;
  scenarios?: SimScenario[];
  /** Run the first kiosk on the emulated Uno with the real StandardFirmata. */
  emulate?: boolean;
  stateDir?: string;
  timeZone?: string;
  /** Prefix of every id the run creates. */
  runId?: string;
  log?: (line: string) => void;
  /** Badges advertise over BLE through this BlueZ stand-in (else: a gateway relays them over MQTT). */
  bluez?: PeripheralSource;
  /** Called once the world exists and the devices run (the demo uses it to show progress). */
  onStarted?: (visits: string[]) => void;
}

export interface SimResult {
  scenario: string;
  visitId: string;
  expected: string[];
  reported: string[];
  alarms: number;
  followUp: boolean;
  ok: boolean;
  error?: string;
}

export interface SimSummary {
  seed: number;
  runId: string;
  results: SimResult[];
  ok: boolean;
}

/** mulberry32: a small seeded PRNG, so a run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Provisions a device; one left from an earlier run with the same ids is revoked and provisioned anew. */
async function provision<T>(
  api: HubApi,
  body: { id: string; kind: string; rfidTag?: string } & Record<string, unknown>,
): Promise<T> {
  try {
    return await api.call<T>("POST", "/api/v1/devices", body);
  } catch (e) {
    if (!String((e as Error).message).includes(": 409 ")) throw e;
    await api.call("POST", `/api/v1/devices/${body.id}/revoke`);
    return api.call<T>("POST", "/api/v1/devices", body);
  }
}

const MIN = 60_000;
const NAMES = [
  "Zhang Wei",
  "Li Na",
  "Wang Fang",
  "Liu Yang",
  "Chen Jie",
  "Zhao Lei",
  "Sun Mei",
  "Zhou Tao",
  "Wu Hao",
  "Xu Jing",
  "Ma Lin",
  "Hu Bin",
];

export async function runSim(o: SimOptions): Promise<SimSummary> {
  const log = o.log ?? (() => {});
  const random = prng(o.seed);
  const scenarios = o.scenarios ?? SCENARIOS;
  const zone = o.timeZone ?? "Asia/Shanghai";
  const api = new HubApi(o.httpUrl, o.token);
  const runId =
    o.runId ?? `SIM${o.seed.toString(36).toUpperCase()}${Date.now().toString(36).slice(-4).toUpperCase()}`;
  const lower = runId.toLowerCase();
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), "onsite-sim-"));
  const realMs = (scriptMinutes: number) => (scriptMinutes * MIN) / Math.min(o.speed, 60);
  log(`onsite sim: seed ${o.seed}, run ${runId}, ${scenarios.length} scenarios, speed ${o.speed}`);

  // One gateway hears every badge; it stands at the first site.
  const start = Date.now();
  const today = DateTime.fromMillis(start, { zone });
  const plans = scenarios.map((s, i) => {
    const arrival = s.steps.find((st) => st.do === "arrive" || st.do === "tap");
    const jitter = s.steps.map(() => (random() - 0.5) * 0.2);
    const [from, to] = s.window(start + realMs(arrival?.at ?? 0), start);
    return {
      s,
      i,
      jitter,
      from: Math.round(from),
      to: Math.round(to),
      name: NAMES[Math.floor(random() * NAMES.length)] ?? "Zhang Wei",
    };
  });
  const devices = [];
  let gateway: { id: string; password: string } | undefined;
  for (const p of plans) {
    const n = p.i + 1;
    const siteId = `${runId}-S${n}`;
    const engineerId = `${runId}-E${n}`;
    await api.call("POST", "/api/v1/sites", {
      id: siteId,
      name: `Sim site ${n}: ${p.s.name}`,
      timeZone: zone,
      requiredPpe: SITE_PPE,
      cleanupChecklist: SITE_CLEANUP,
    });
    const validUntil = (
      p.s.certificateExpired ? today.minus({ days: 2 }) : today.plus({ years: 1 })
    ).toISODate();
    await api.call("POST", "/api/v1/engineers", {
      id: engineerId,
      name: p.name,
      company: "Shengda Service",
      certificates: [{ kind: "safety_training", validUntil }],
    });
    if (!gateway) {
      const g = await provision<{ password: string }>(api, { id: `${lower}-gw`, kind: "gateway", siteId });
      gateway = { id: `${lower}-gw`, password: g.password };
    }
    const tag = Array.from({ length: 10 }, () => "0123456789ABCDEF"[Math.floor(random() * 16)]).join("");
    const badge = await provision<{ key: string; device: { badgeNo: string } }>(api, {
      id: `${lower}-b${n}`,
      kind: "badge",
      engineerId,
      rfidTag: tag,
    });
    const kiosk = await provision<{ password: string }>(api, { id: `${lower}-k${n}`, kind: "kiosk", siteId });
    const visitId = `${runId}-V${n}-${start.toString(36).toUpperCase()}`;
    await api.call("POST", "/api/v1/visits", {
      id: visitId,
      siteId,
      engineerId,
      window: {
        from: DateTime.fromMillis(p.from, { zone }).toISO(),
        to: DateTime.fromMillis(p.to, { zone }).toISO(),
      },
    });
    devices.push({
      visitId,
      badge: {
        id: `${lower}-b${n}`,
        badgeNo: Number.parseInt(badge.device.badgeNo, 16),
        key: badge.key,
        tag,
      },
      kiosk: { id: `${lower}-k${n}`, password: kiosk.password },
      ppe: p.s.ppe ?? SITE_PPE,
    });
  }
  if (!gateway) throw new Error("no scenarios to run");
  let radio: SimRadio;
  if (o.bluez) radio = bleSimRadio(o.bluez);
  else {
    const gw = new GatewayRadio({ url: o.mqttUrl, gatewayId: gateway.id, password: gateway.password });
    await gw.start();
    radio = gatewaySimRadio(gw);
  }
  const drivers = devices.map(
    (d, i) =>
      new ScenarioDriver(d, {
        mqttUrl: o.mqttUrl,
        radio,
        api,
        stateDir,
        kioskBoard: (o.emulate && i === 0 ? "emulated" : "light") as BoardKind,
      }),
  );
  const results: SimResult[] = [];
  try {
    await Promise.all(drivers.map((d) => d.start()));
    o.onStarted?.(devices.map((d) => d.visitId));
    const t0 = Date.now();
    const errors = new Map<number, string>();
    await Promise.all(
      plans.map(async (p, i) => {
        const driver = drivers[i] as ScenarioDriver;
        for (const [k, step] of p.s.steps.entries()) {
          const wait = t0 + realMs(step.at + (p.jitter[k] ?? 0)) - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          try {
            await driver.act(step);
          } catch (e) {
            errors.set(i, `${step.do}: ${(e as Error).message}`);
            log(`  ${p.s.name}: ${step.do} failed: ${(e as Error).message}`);
            return;
          }
        }
      }),
    );
    // Let the last frames and events land, and time-driven rules (no-show) be judged.
    await new Promise((r) => setTimeout(r, 1500));
    for (const [i, p] of plans.entries()) {
      const d = devices[i];
      if (!d) continue;
      const view = await api.call<{
        violations: Array<{ kind: string }>;
        alarms: unknown[];
        followUp: unknown;
      }>("GET", `/api/v1/visits/${d.visitId}`);
      const reported = view.violations.map((v) => v.kind).sort();
      const expected = [...p.s.expect.violations].sort();
      const alarms = view.alarms.length;
      const followUp = view.followUp !== null;
      const error = errors.get(i);
      const ok =
        error === undefined &&
        JSON.stringify(reported) === JSON.stringify(expected) &&
        alarms === (p.s.expect.alarms ?? 0) &&
        followUp === (p.s.expect.followUp ?? false);
      results.push({
        scenario: p.s.name,
        visitId: d.visitId,
        expected,
        reported,
        alarms,
        followUp,
        ok,
        ...(error ? { error } : {}),
      });
    }
  } finally {
    await Promise.all(drivers.map((d) => d.stop()));
    await radio.stop();
  }
  const ok = results.every((r) => r.ok);
  log("");
  for (const r of results) {
    log(
      `${r.ok ? "ok  " : "FAIL"} ${r.scenario.padEnd(36)} expected [${r.expected.join(", ")}] reported [${r.reported.join(", ")}]${r.alarms ? ` alarms ${r.alarms}` : ""}${r.followUp ? " follow-up" : ""}${r.error ? ` (${r.error})` : ""}`,
    );
  }
  log(
    `\n${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length} failed (seed ${o.seed}; replay with --seed ${o.seed})`,
  );
  return { seed: o.seed, runId, results, ok };
}
