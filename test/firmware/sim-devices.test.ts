import { getEventListeners } from "node:events";
import five from "johnny-five";
import { SerialPortMock } from "serialport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HubApi } from "../../firmware/sim/api.js";
import { SimDevices } from "../../firmware/sim/devices.js";
import { playRound, prepareWorld, prng, type SimSummary, type SimWorld } from "../../firmware/sim/run.js";
import { SCENARIOS } from "../../firmware/sim/scenarios.js";
import type { Hub } from "../../hub/app.js";
import { startHub, tempDir } from "../hub/helpers.js";

/** johnny-five's registry of every board made in this process (it never removes one). */
const boardsMade = () => (five.Board as unknown as { cache: unknown[] }).cache.length;
const mockPorts = async () => (await SerialPortMock.binding.list()).length;

/**
 * The demo plays round after round in one process: what a round starts must not pile up. The
 * devices boot once and play every round; a round leaves no listener on the demo's abort signal;
 * devices stopped give their mock serial ports back.
 */
describe("the simulator's devices, kept across rounds", { timeout: 120_000 }, () => {
  const scenarios = SCENARIOS.filter((s) => s.name === "no-show" || s.name.startsWith("missing PPE"));
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let world: SimWorld;
  const rounds: SimSummary[] = [];
  const abort = new AbortController();
  const counts = { boardsAfterStart: 0, boardsAfterRounds: 0, listeners: [] as number[] };
  const ports = { first: 0, second: 0 };

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path, {}, { rules: { lateDataThresholdMs: 60_000, tickMs: 500 } });
    const token = hub.adminToken ?? "";
    const httpUrl = `http://127.0.0.1:${hub.httpPort}`;
    const mqttUrl = `mqtt://127.0.0.1:${hub.mqttPort}`;
    const api = new HubApi(httpUrl, token);
    world = await prepareWorld({ api, runId: "KEEP", scenarios, zone: "Asia/Shanghai", random: prng(3) });
    const devices = await SimDevices.start(world, scenarios, { mqttUrl, api, stateDir: dir.path });
    counts.boardsAfterStart = boardsMade();
    ports.first = await mockPorts();
    try {
      for (let n = 0; n < 3; n++) {
        rounds.push(
          await playRound(world, {
            httpUrl,
            mqttUrl,
            token,
            speed: 60,
            seed: n,
            runId: "KEEP",
            stateDir: dir.path,
            scenarios,
            signal: abort.signal,
            closeOpenVisits: true,
            devices,
          }),
        );
        counts.listeners.push(getEventListeners(abort.signal, "abort").length);
      }
      counts.boardsAfterRounds = boardsMade();
    } finally {
      await devices.stop();
    }
    // Devices started again (the demo after a restart) take the mock ports the first ones gave back.
    const again = await SimDevices.start(world, scenarios, { mqttUrl, api, stateDir: dir.path });
    ports.second = await mockPorts();
    await again.stop();
  }, 120_000);
  afterAll(async () => {
    await hub?.stop();
    dir?.cleanup();
  });

  it("every round passes on the same devices", () => {
    expect(rounds.map((r) => r.results.filter((x) => !x.ok).map((x) => x.scenario))).toEqual([[], [], []]);
  });

  it("rounds boot no boards: johnny-five's registry does not grow", () => {
    // A kiosk and a badge per scenario, booted once.
    expect(counts.boardsAfterStart).toBeGreaterThanOrEqual(2 * scenarios.length);
    expect(counts.boardsAfterRounds).toBe(counts.boardsAfterStart);
  });

  it("a round leaves no listener on the abort signal", () => {
    expect(counts.listeners).toEqual([0, 0, 0]);
  });

  it("stopped devices give their mock serial ports back", () => {
    expect(ports.second).toBe(ports.first);
  });
});
