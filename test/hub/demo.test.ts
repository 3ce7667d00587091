import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCENARIOS } from "../../firmware/sim/scenarios.js";
import type { Hub } from "../../hub/app.js";
import type { Engineer } from "../../hub/core/model.js";
import { type Demo, startDemo } from "../../hub/demo/demo.js";
import { startHub, tempDir } from "./helpers.js";

/**
 * The demo of `npm start` left running: every round of all ten scenarios passes, round after round
 * and after a restart on the same data; the world is made once and history is not rewritten.
 */
describe("the demo of npm start, left running", { timeout: 400_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  const patch = { rules: { lateDataThresholdMs: 60_000, tickMs: 500 } };
  const before: Demo["rounds"] = [];
  const after: Demo["rounds"] = [];
  let namesBefore: Engineer[] = [];
  let hub: Hub;

  const run = async (rounds: number, into: Demo["rounds"]) => {
    const demo = await startDemo(hub, { speed: 60, rounds, pauseMs: 300 });
    await demo.done;
    await demo.stop();
    into.push(...demo.rounds);
  };

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path, {}, patch);
    await run(3, before);
    namesBefore = await hub.ctx.store.listEngineers();
    await hub.stop();
    hub = await startHub(dir.path, {}, patch);
    await run(2, after);
  }, 400_000);
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  it("every round passes, before and after a restart", () => {
    const rows = (rounds: Demo["rounds"]) =>
      rounds.map((r) => r.results.filter((x) => !x.ok).map((x) => `${x.scenario}: ${x.error ?? x.reported}`));
    expect(before).toHaveLength(3);
    expect(after).toHaveLength(2);
    expect(rows(before)).toEqual([[], [], []]);
    expect(rows(after)).toEqual([[], []]);
    for (const r of [...before, ...after]) expect(r.results).toHaveLength(SCENARIOS.length);
  });

  it("the world is made once: same sites, engineers and names; each round books new visits", async () => {
    expect((await hub.ctx.store.listSites()).map((s) => s.id).sort()).toEqual(
      SCENARIOS.map((_, i) => `DEMO-S${i + 1}`).sort(),
    );
    expect(await hub.ctx.store.listEngineers()).toEqual(namesBefore);
    const visitIds = [...before, ...after].flatMap((r) => r.results.map((x) => x.visitId));
    expect(new Set(visitIds).size).toBe(5 * SCENARIOS.length);
    expect((await hub.ctx.store.listVisits({})).length).toBe(5 * SCENARIOS.length);
  });

  it("no visit is left open to swallow the next round, and no counter was refused", async () => {
    for (const plan of await hub.ctx.store.listVisits({})) {
      const v = await hub.ctx.visits.summary(plan);
      if (v?.arrival) expect(v.departure, plan.id).not.toBeNull();
    }
    expect(hub.ctx.metrics.total("onsite_input_rejected_total")).toBe(0);
  });
});
