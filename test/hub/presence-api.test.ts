import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import type { StoredPresence } from "../../hub/core/ports.js";
import { openVisit } from "../firmware/rig.js";
import { api, newToken, seed, startHub, tempDir } from "./helpers.js";

describe("presence API", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let supervisor: string;
  const session = (
    id: string,
    badge: string,
    siteId: string | null,
    arrivedAt: number,
    open = false,
  ): StoredPresence => ({
    id,
    badge,
    gateway: "gw-1",
    siteId,
    arrivedAt,
    lastHeardAt: arrivedAt + 60_000,
    departedAt: open ? null : arrivedAt + 60_000,
    detectedAt: open ? null : arrivedAt + 75_000,
    sightings: 30,
    rssi: [[arrivedAt, -60]],
    lastFrame: "00",
  });

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    await seed(hub);
    await openVisit(hub);
    supervisor = await newToken(hub, "supervisor", "Supervisor Wang");
    const now = Date.now();
    await hub.ctx.store.putPresence([
      session("in-window", "badge-1", "S1", now - 10 * 60_000),
      session("open", "badge-1", "S1", now - 60_000, true),
      session("other-site", "badge-1", "S2", now - 5 * 60_000),
      session("long-ago", "badge-1", "S1", now - 3 * 86_400_000),
      session("other-badge", "badge-9", "S1", now - 60_000),
    ]);
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  it("lists sessions by site, badge and openness, newest first", async () => {
    const r = await api(hub, "GET", "/api/v1/presence?site=S1&badge=badge-1", supervisor);
    expect(r.status).toBe(200);
    expect((r.body as Array<{ id: string }>).map((p) => p.id)).toEqual(["open", "in-window", "long-ago"]);
    const open = await api(hub, "GET", "/api/v1/presence?open=true", supervisor);
    expect((open.body as Array<{ id: string }>).map((p) => p.id).sort()).toEqual(["open"]);
  });

  it("gives a visit the engineer's badge sessions at its site around its window", async () => {
    const r = await api(hub, "GET", "/api/v1/visits/V1/presence", supervisor);
    expect((r.body as Array<{ id: string }>).map((p) => p.id)).toEqual(["in-window", "open"]);
    expect((await api(hub, "GET", "/api/v1/visits/NOPE/presence", supervisor)).status).toBe(404);
  });

  it("refuses bad queries naming the field, and callers without a staff token", async () => {
    const r = await api(hub, "GET", "/api/v1/presence?limit=0", supervisor);
    expect(r.status).toBe(400);
    expect(r.text).toContain("limit");
    expect((await api(hub, "GET", "/api/v1/presence", undefined)).status).toBe(401);
  });
});
