import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSim, type SimSummary } from "../../firmware/sim/run.js";
import { SCENARIOS } from "../../firmware/sim/scenarios.js";
import type { Hub } from "../../hub/app.js";
import { startHub, tempDir } from "../hub/helpers.js";

describe("the site simulator", { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let summary: SimSummary;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path, {}, { rules: { lateDataThresholdMs: 60_000, tickMs: 500 } });
    summary = await runSim({
      httpUrl: `http://127.0.0.1:${hub.httpPort}`,
      mqttUrl: `mqtt://127.0.0.1:${hub.mqttPort}`,
      token: hub.adminToken ?? "",
      speed: 60,
      seed: 42,
      stateDir: dir.path,
      log: (l) => lines.push(l),
    });
  }, 120_000);
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  it("runs every scenario of RULES.md and the hub reports exactly the expected violations", () => {
    expect(summary.results.map((r) => r.scenario)).toEqual(SCENARIOS.map((s) => s.name));
    for (const r of summary.results) {
      expect({ scenario: r.scenario, reported: r.reported, error: r.error }).toEqual({
        scenario: r.scenario,
        reported: r.expected,
        error: undefined,
      });
    }
    expect(summary.ok).toBe(true);
  });

  it("prints the seed so a run can be replayed", () => {
    expect(lines.join("\n")).toMatch(/seed 42/);
    expect(lines.at(-1)).toMatch(/^\n?10 passed, 0 failed \(seed 42; replay with --seed 42\)/);
  });

  it("the badge that was out of range delivered its backlog in order, classified by its own time", async () => {
    const r = summary.results.find((x) => x.scenario.includes("out of range"));
    const view = await hub.ctx.visits.view(r?.visitId ?? "");
    const badgeEntries = view?.timeline.filter((e) => e.source.kind === "badge") ?? [];
    expect(badgeEntries.map((e) => e.type)).toEqual([
      "arrival",
      "gear_confirmed",
      "work_started",
      "departure",
    ]);
    expect(view?.arrival?.source).toBe("ble");
    expect(view?.arrival?.verdict.class).toBe("on_time");
    // The backlog's arrival reached the hub after the kiosk's newer tap: it is marked as late data.
    expect(badgeEntries[0]?.lateData).toBe(true);
  });
});
