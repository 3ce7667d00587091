import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCENARIOS } from "../../firmware/sim/scenarios.js";
import type { Hub } from "../../hub/app.js";
import { type Demo, startDemo } from "../../hub/demo/demo.js";
import { startHub, tempDir } from "./helpers.js";

describe("the demo of npm start", { timeout: 90_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let demo: Demo;
  const pick = SCENARIOS.filter((s) => s.name === "no-show" || s.name === "late without notice");

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path, {}, { rules: { lateDataThresholdMs: 60_000, tickMs: 500 } });
    demo = await startDemo(hub, { speed: 60, rounds: 2, scenarios: pick });
    await demo.done;
  }, 90_000);
  afterAll(async () => {
    await demo.stop();
    await hub.stop();
    dir.cleanup();
  });

  it("plays simulator rounds through the firmware programs and the hub agrees with each", () => {
    expect(demo.rounds).toHaveLength(2);
    for (const round of demo.rounds) {
      expect(round.results.map((r) => [r.scenario, r.ok, r.error ?? "", r.reported.join(",")])).toEqual(
        pick.map((s) => [s.name, true, "", s.expect.violations.join(",")]),
      );
    }
  });

  it("a second round reuses the demo's sites and devices, with counters that keep moving", async () => {
    expect(
      hub.ctx.metrics.value("onsite_input_rejected_total", { boundary: "frame", code: "replayed" }),
    ).toBe(0);
    expect(hub.ctx.metrics.value("onsite_input_rejected_total", { boundary: "mqtt", code: "replayed" })).toBe(
      0,
    );
    expect((await hub.ctx.store.listSites()).map((s) => s.id)).toEqual(["DEMO-S1", "DEMO-S2"]);
    const [a, b] = demo.rounds;
    expect(a?.results[0]?.visitId).not.toBe(b?.results[0]?.visitId);
  });
});
