import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { type Demo, startDemo } from "../../hub/demo/demo.js";
import { DEMO_SCENARIOS, type DemoScenario } from "../../hub/demo/scenarios.js";
import { eventually, startHub, tempDir } from "./helpers.js";

describe("the demo of npm start", { timeout: 90_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let demo: Demo;
  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    demo = await startDemo(hub, { speed: 60, rounds: 1 });
    await demo.done;
    await hub.ctx.ingest.settle();
  }, 60_000);
  afterAll(async () => {
    await demo.stop();
    await hub.stop();
    dir.cleanup();
  });

  it("plays every scenario through the real broker and the hub reports exactly the intended violations", async () => {
    expect(demo.played).toHaveLength(6);
    for (const { visitId, scenario } of demo.played) {
      const view = await eventually(async () => {
        const [u] = await hub.ctx.visits.refresh([visitId]);
        return u && u.view.timeline.length >= scenario.steps.length ? u.view : undefined;
      });
      expect({ scenario: scenario.name, violations: view.violations.map((v) => v.kind) }).toEqual({
        scenario: scenario.name,
        violations: scenario.expect,
      });
    }
  });

  it("badge steps arrived as signed frames via the gateway, kiosk steps as kiosk events", async () => {
    const sos = demo.played.find((p) => p.scenario.name.includes("SOS"));
    const view = await hub.ctx.store.getView(sos?.visitId ?? "");
    expect(view?.alarms).toHaveLength(1);
    expect(view?.timeline.find((e) => e.type === "arrival")?.ref.device).toBe("demo-badge-5");
    expect(view?.timeline.find((e) => e.type === "checkin_confirmed")?.ref.device).toBe("demo-kiosk");
    const unresolved = demo.played.find((p) => p.scenario.name.includes("unresolved"));
    expect((await hub.ctx.store.getView(unresolved?.visitId ?? ""))?.followUp?.reason).toBe("unresolved");
  });

  it("a second start reuses the demo devices and keeps their counters moving", async () => {
    const again = await startDemo(hub, {
      speed: 60,
      rounds: 1,
      scenarios: [
        { ...(DEMO_SCENARIOS[0] as DemoScenario), steps: DEMO_SCENARIOS[0]?.steps.slice(0, 2) ?? [] },
      ],
    });
    await again.done;
    await again.stop();
    await hub.ctx.ingest.settle();
    expect(
      hub.ctx.metrics.value("onsite_input_rejected_total", { boundary: "frame", code: "replayed" }),
    ).toBe(0);
    expect(again.played.map((p) => p.visitId)).not.toEqual(demo.played.map((p) => p.visitId));
  });
});
