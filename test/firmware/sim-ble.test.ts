import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSim, type SimSummary } from "../../firmware/sim/run.js";
import { SCENARIOS } from "../../firmware/sim/scenarios.js";
import { PrivateBus } from "../../hardware/virtual/bluez/private-bus.js";
import { BluezStandIn } from "../../hardware/virtual/bluez/stand-in.js";
import type { Hub } from "../../hub/app.js";
import { FAST_BLE } from "../hub/ble-rig.js";
import { startHub, tempDir } from "../hub/helpers.js";

describe("the site simulator with badges on BLE (node-ble central, BlueZ stand-in)", {
  timeout: 150_000,
}, () => {
  let dir: ReturnType<typeof tempDir>;
  let bus: PrivateBus;
  let bluez: BluezStandIn;
  let hub: Hub;
  let summary: SimSummary;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = tempDir();
    bus = await PrivateBus.start();
    bluez = await BluezStandIn.start(bus.address);
    hub = await startHub(
      dir.path,
      {},
      {
        rules: { lateDataThresholdMs: 60_000, tickMs: 500 },
        ble: { ...FAST_BLE, maxLinks: 12, busAddress: bus.address },
      },
    );
    summary = await runSim({
      httpUrl: `http://127.0.0.1:${hub.httpPort}`,
      mqttUrl: `mqtt://127.0.0.1:${hub.mqttPort}`,
      token: hub.adminToken ?? "",
      speed: 60,
      seed: 7,
      stateDir: dir.path,
      bluez,
      log: (l) => lines.push(l),
    });
  }, 150_000);
  afterAll(async () => {
    await hub.stop();
    await bluez.stopAll();
    await bus.stop();
    dir.cleanup();
  });

  it("every scenario of RULES.md comes out as expected with the badges heard over BLE", () => {
    expect(summary.results.map((r) => r.scenario)).toEqual(SCENARIOS.map((s) => s.name));
    for (const r of summary.results) {
      expect({ scenario: r.scenario, reported: r.reported, error: r.error }).toEqual({
        scenario: r.scenario,
        reported: r.expected,
        error: undefined,
      });
    }
    expect(summary.ok, lines.join("\n")).toBe(true);
  });

  it("the badges' frames came over BLE: adverts and GATT notifications, acked", () => {
    const m = hub.ctx.metrics;
    expect(m.value("onsite_ble_frames_total", { kind: "advert" })).toBeGreaterThan(0);
    expect(m.value("onsite_ble_frames_total", { kind: "gatt" })).toBeGreaterThan(0);
    expect(m.value("onsite_ble_writes_total", { type: "ack" })).toBeGreaterThan(0);
    expect(m.value("onsite_events_accepted_total", { type: "gear_confirmed" })).toBeGreaterThan(0);
  });
});
