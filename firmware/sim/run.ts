/**
 * The site simulator: every scenario gets its own site, engineer, badge and kiosk, created through
 * the hub's API; the firmware programs run on virtual boards and play the scenario; at the end the
 * hub's verdict on each visit is checked against what the scenario intended.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DateTime } from "luxon";
import { HubApi } from "./api.js";
import { SimDevices } from "./devices.js";
import type { ScenarioDriver } from "./driver.js";
import type { PeripheralSource } from "./radios.js";
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
  /** Stops a round at once: the devices stop, no verdict is taken. */
  signal?: AbortSignal;
  /** After the verdicts, close visits the engineer never left (the demo's rounds reuse engineers). */
  closeOpenVisits?: boolean;
  /**
   * The world's devices, already running (started for the same scenarios), kept across rounds by the
   * caller; without them the round boots its own and stops them at its end.
   */
  devices?: SimDevices;
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
  /** The round was stopped before its verdicts. */
  aborted?: boolean;
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

/** Creates a catalogue entry only if it is not there: an existing one is history and stays as it is. */
async function ensure(
  api: HubApi,
  path: string,
  body: { id: string } & Record<string, unknown>,
): Promise<void> {
  try {
    await api.call("GET", `${path}/${body.id}`);
    return;
  } catch (e) {
    if (!String((e as Error).message).includes(": 404 ")) throw e;
  }
  await api.call("POST", path, body);
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

/** One scenario's place in the world: its site, its engineer and their devices. */
export interface SimSlot {
  siteId: string;
  engineerId: string;
  badge: { id: string; badgeNo: number; key: string; tag: string };
  kiosk: { id: string; password: string };
}

/** What a run plays in: sites, engineers and devices, made once and reused round after round. */
export interface SimWorld {
  runId: string;
  zone: string;
  gateway: { id: string; password: string };
  slots: SimSlot[];
}

export interface WorldOptions {
  api: HubApi;
  runId: string;
  scenarios: SimScenario[];
  zone: string;
  random: () => number;
  /** Where the devices' credentials are kept, so a restart reuses the same devices. */
  credentialsFile?: string;
}

/**
 * Makes the world a run plays in: per scenario a site, an engineer (names chosen once, never
 * overwritten) and a badge and kiosk; one gateway. With `credentialsFile`, devices provisioned
 * earlier are reused as long as the hub still has them.
 */
export async function prepareWorld(o: WorldOptions): Promise<SimWorld> {
  const { api, runId, zone } = o;
  const lower = runId.toLowerCase();
  const today = DateTime.now().setZone(zone);
  for (const [i, s] of o.scenarios.entries()) {
    const n = i + 1;
    await ensure(api, "/api/v1/sites", {
      id: `${runId}-S${n}`,
      name: `Sim site ${n}: ${s.name}`,
      timeZone: zone,
      requiredPpe: SITE_PPE,
      cleanupChecklist: SITE_CLEANUP,
    });
    const validUntil = (
      s.certificateExpired ? today.minus({ days: 2 }) : today.plus({ years: 1 })
    ).toISODate();
    await ensure(api, "/api/v1/engineers", {
      id: `${runId}-E${n}`,
      name: NAMES[Math.floor(o.random() * NAMES.length)] ?? "Zhang Wei",
      company: "Shengda Service",
      certificates: [{ kind: "safety_training", validUntil }],
    });
  }
  const saved = o.credentialsFile
    ? await readWorld(o.credentialsFile, api, runId, o.scenarios.length)
    : undefined;
  if (saved) return saved;
  const g = await provision<{ password: string }>(api, {
    id: `${lower}-gw`,
    kind: "gateway",
    siteId: `${runId}-S1`,
  });
  const slots: SimSlot[] = [];
  for (const [i] of o.scenarios.entries()) {
    const n = i + 1;
    const siteId = `${runId}-S${n}`;
    const engineerId = `${runId}-E${n}`;
    const tag = Array.from({ length: 10 }, () => "0123456789ABCDEF"[Math.floor(o.random() * 16)]).join("");
    const badge = await provision<{ key: string; device: { badgeNo: string } }>(api, {
      id: `${lower}-b${n}`,
      kind: "badge",
      engineerId,
      rfidTag: tag,
    });
    const kiosk = await provision<{ password: string }>(api, { id: `${lower}-k${n}`, kind: "kiosk", siteId });
    slots.push({
      siteId,
      engineerId,
      badge: {
        id: `${lower}-b${n}`,
        badgeNo: Number.parseInt(badge.device.badgeNo, 16),
        key: badge.key,
        tag,
      },
      kiosk: { id: `${lower}-k${n}`, password: kiosk.password },
    });
  }
  const world: SimWorld = { runId, zone, gateway: { id: `${lower}-gw`, password: g.password }, slots };
  if (o.credentialsFile) {
    mkdirSync(dirname(o.credentialsFile), { recursive: true });
    writeFileSync(o.credentialsFile, JSON.stringify(world), { mode: 0o600 });
  }
  return world;
}

/** A saved world, if its devices are all still live on the hub. */
async function readWorld(
  file: string,
  api: HubApi,
  runId: string,
  slots: number,
): Promise<SimWorld | undefined> {
  let world: SimWorld;
  try {
    world = JSON.parse(readFileSync(file, "utf8")) as SimWorld;
  } catch {
    return undefined;
  }
  if (world.runId !== runId || world.slots?.length !== slots) return undefined;
  const devices = await api.call<Array<{ id: string; revokedAt: number | null }>>("GET", "/api/v1/devices");
  const live = new Set(devices.filter((d) => d.revokedAt === null).map((d) => d.id));
  const ids = [world.gateway.id, ...world.slots.flatMap((s) => [s.badge.id, s.kiosk.id])];
  return ids.every((id) => live.has(id)) ? world : undefined;
}

/**
 * Waits for `p`, or until `signal` aborts. Leaves no listener on the signal behind: the demo's
 * signal lives as long as the demo, round after round.
 */
async function unlessAborted(p: Promise<unknown>, signal?: AbortSignal): Promise<void> {
  if (!signal) {
    await p;
    return;
  }
  let off = () => {};
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const on = () => resolve();
    signal.addEventListener("abort", on, { once: true });
    off = () => signal.removeEventListener("abort", on);
  });
  try {
    await Promise.race([p, aborted]);
  } finally {
    off();
  }
}

async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  try {
    await unlessAborted(new Promise((r) => (t = setTimeout(r, Math.max(0, ms)))), signal);
  } finally {
    clearTimeout(t);
  }
}

export async function runSim(o: SimOptions): Promise<SimSummary> {
  const random = prng(o.seed);
  const runId =
    o.runId ?? `SIM${o.seed.toString(36).toUpperCase()}${Date.now().toString(36).slice(-4).toUpperCase()}`;
  const world = await prepareWorld({
    api: new HubApi(o.httpUrl, o.token),
    runId,
    scenarios: o.scenarios ?? SCENARIOS,
    zone: o.timeZone ?? "Asia/Shanghai",
    random,
  });
  return playRound(world, o, random);
}

/**
 * One round in a world: each scenario gets a new visit for its engineer at its site; the firmware
 * programs play it; the hub's verdicts are checked. Visits the scenario left open (the engineer
 * never left) are then closed by the dispatcher, so the next round starts from a clean site.
 */
export async function playRound(world: SimWorld, o: SimOptions, random = prng(o.seed)): Promise<SimSummary> {
  const log = o.log ?? (() => {});
  const scenarios = o.scenarios ?? SCENARIOS;
  const { zone, runId } = world;
  const api = new HubApi(o.httpUrl, o.token);
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), "onsite-sim-"));
  const realMs = (scriptMinutes: number) => (scriptMinutes * MIN) / Math.min(o.speed, 60);
  const aborted = () => o.signal?.aborted === true;
  log(`onsite sim: seed ${o.seed}, run ${runId}, ${scenarios.length} scenarios, speed ${o.speed}`);

  const start = Date.now();
  const plans = scenarios.map((s, i) => {
    const arrival = s.steps.find((st) => st.do === "arrive" || st.do === "tap");
    const jitter = s.steps.map(() => (random() - 0.5) * 0.2);
    const [from, to] = s.window(start + realMs(arrival?.at ?? 0), start);
    return { s, i, jitter, from: Math.round(from), to: Math.round(to) };
  });
  if (o.devices && o.devices.drivers.length !== scenarios.length)
    throw new Error("the devices were started for other scenarios");
  const visits: Array<{ visitId: string }> = [];
  for (const p of plans) {
    const slot = world.slots[p.i];
    if (!slot) throw new Error(`the world has no place for scenario ${p.s.name}`);
    const visitId = `${runId}-V${p.i + 1}-${start.toString(36).toUpperCase()}`;
    await api.call("POST", "/api/v1/visits", {
      id: visitId,
      siteId: slot.siteId,
      engineerId: slot.engineerId,
      window: {
        from: DateTime.fromMillis(p.from, { zone }).toISO(),
        to: DateTime.fromMillis(p.to, { zone }).toISO(),
      },
    });
    visits.push({ visitId });
  }
  const devices =
    o.devices ??
    (await SimDevices.start(world, scenarios, {
      mqttUrl: o.mqttUrl,
      api,
      stateDir,
      ...(o.emulate ? { emulate: true } : {}),
      ...(o.bluez ? { bluez: o.bluez } : {}),
    }));
  const { drivers } = devices;
  const results: SimResult[] = [];
  try {
    for (const [i, d] of visits.entries()) (drivers[i] as ScenarioDriver).begin(d.visitId);
    o.onStarted?.(visits.map((d) => d.visitId));
    const t0 = Date.now();
    const errors = new Map<number, string>();
    const played = Promise.all(
      plans.map(async (p, i) => {
        const driver = drivers[i] as ScenarioDriver;
        for (const [k, step] of p.s.steps.entries()) {
          await sleep(t0 + realMs(step.at + (p.jitter[k] ?? 0)) - Date.now(), o.signal);
          if (aborted()) return;
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
    await unlessAborted(played, o.signal);
    // Let the last frames and events land, and time-driven rules (no-show) be judged.
    await sleep(1500, o.signal);
    if (aborted()) return { seed: o.seed, runId, results, ok: false, aborted: true };
    for (const [i, p] of plans.entries()) {
      const d = visits[i];
      if (!d) continue;
      const view = await api.call<{
        violations: Array<{ kind: string }>;
        alarms: unknown[];
        followUp: unknown;
        arrival: unknown;
        departure: unknown;
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
      if (o.closeOpenVisits && view.arrival !== null && view.departure === null) {
        // The engineer left without a goodbye: the dispatcher closes the visit, as on a real site.
        await api.call("POST", `/api/v1/visits/${d.visitId}/events`, { type: "departure", source: "manual" });
      }
    }
  } finally {
    if (devices !== o.devices) await devices.stop();
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
