import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { ManualClock } from "../../hub/core/ports.js";
import { api, ENGINEER, eventually, SITE, startHub, tempDir } from "./helpers.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The visit status topics the broker holds a retained message for. */
async function retainedTopics(hub: Hub): Promise<string[]> {
  const persistence = (
    hub.broker.aedes as unknown as {
      persistence: { createRetainedStream(pattern: string): AsyncIterable<{ topic: string }> };
    }
  ).persistence;
  const topics: string[] = [];
  for await (const p of persistence.createRetainedStream("onsite/v1/site/+/visit/+/status"))
    topics.push(p.topic);
  return topics.sort();
}

/**
 * A visit's retained status stays on the broker while the visit is of today (a day after its
 * window, the site status' horizon), then it is cleared: the broker keeps retained messages in
 * memory, and one per visit ever announced would grow for as long as the hub runs.
 */
describe("retained visit status", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  const clock = new ManualClock(Date.parse("2026-11-25T02:00:00Z"));
  const book = async (id: string) => {
    const from = clock.now() - HOUR;
    const r = await api(hub, "POST", "/api/v1/visits", hub.adminToken, {
      id,
      siteId: SITE.id,
      engineerId: ENGINEER.id,
      window: { from: new Date(from).toISOString(), to: new Date(from + 2 * HOUR).toISOString() },
    });
    expect(r.status).toBe(201);
  };

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path, { clock });
    await hub.ctx.store.putSite(SITE);
    await hub.ctx.store.putEngineer(ENGINEER);
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  it("is retained while the visit is of today, and cleared a day after its window", async () => {
    await book("V1");
    await eventually(async () => (await retainedTopics(hub)).length === 1);
    expect(await retainedTopics(hub)).toEqual(["onsite/v1/site/S1/visit/V1/status"]);
    // Later the same day: both are kept.
    clock.advance(6 * HOUR);
    await book("V2");
    await eventually(async () => (await retainedTopics(hub)).length === 2);
    // A day after V1's window ended: the next announcement clears V1's status, V3's is retained.
    clock.advance(DAY);
    await book("V3");
    await eventually(async () => (await retainedTopics(hub)).includes("onsite/v1/site/S1/visit/V3/status"));
    await hub.ctx.announcer.idle();
    expect(await retainedTopics(hub)).toEqual([
      "onsite/v1/site/S1/visit/V2/status",
      "onsite/v1/site/S1/visit/V3/status",
    ]);
  });
});
