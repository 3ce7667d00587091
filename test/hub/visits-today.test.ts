import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { defaultSite } from "../../hub/core/model.js";
import { ManualClock } from "../../hub/core/ports.js";
import { api, ENGINEER, newToken, SITE, startHub, tempDir } from "./helpers.js";

describe("visits of today: each site's own today", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let supervisor: string;
  // 16:40 UTC on 25 November: already the 26th in Shanghai, still the 25th in Berlin.
  const now = Date.parse("2026-11-25T16:40:00Z");

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path, { clock: new ManualClock(now) });
    await hub.ctx.store.putSite(SITE);
    await hub.ctx.store.putSite(defaultSite({ id: "B1", name: "Berlin depot", timeZone: "Europe/Berlin" }));
    await hub.ctx.store.putEngineer(ENGINEER);
    await hub.ctx.store.insertVisits([
      // 00:10–02:10 on the 26th in Shanghai
      {
        id: "SH",
        siteId: "S1",
        engineerId: "E1",
        window: { from: Date.parse("2026-11-25T16:10:00Z"), to: Date.parse("2026-11-25T18:10:00Z") },
      },
      // 17:00–19:00 on the 25th in Berlin
      {
        id: "BE",
        siteId: "B1",
        engineerId: "E1",
        window: { from: Date.parse("2026-11-25T16:00:00Z"), to: Date.parse("2026-11-25T18:00:00Z") },
      },
      // 10:00–12:00 on the 25th in Shanghai: yesterday there
      {
        id: "SH-Y",
        siteId: "S1",
        engineerId: "E1",
        window: { from: Date.parse("2026-11-25T02:00:00Z"), to: Date.parse("2026-11-25T04:00:00Z") },
      },
    ]);
    supervisor = await newToken(hub, "supervisor", "Supervisor Wang");
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  const ids = async (q: string) =>
    ((await api(hub, "GET", `/api/v1/visits?${q}`, supervisor)).body as Array<{ visitId: string }>)
      .map((v) => v.visitId)
      .sort();

  it("day=today takes each site's current day in its own zone", async () => {
    expect(await ids("day=today")).toEqual(["BE", "SH"]);
    expect(await ids("day=2026-11-25")).toEqual(["BE", "SH-Y"]);
  });

  it("refuses a day that is neither a date nor today, naming the field", async () => {
    const r = await api(hub, "GET", "/api/v1/visits?day=tomorrow", supervisor);
    expect(r.status).toBe(400);
    expect(r.text).toContain("day");
  });
});
