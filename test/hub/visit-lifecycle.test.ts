/**
 * A visit's life through the API: rescheduled, reassigned, cancelled and restored, each change kept
 * in its audit trail with who made it; attribution and verdicts follow the plan as it is now.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { ManualClock } from "../../hub/core/ports.js";
import { api, connect, ENGINEER, type SeededDevices, seed, send, startHub, tempDir } from "./helpers.js";

const MIN = 60_000;
/** 2026-11-25 09:00 Shanghai. */
const T9 = Date.UTC(2026, 10, 25, 1, 0);

describe("a visit's life", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let devices: SeededDevices;
  const clock = new ManualClock(T9 - 60 * MIN);
  let dispatcher: string;

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path, { clock });
    devices = await seed(hub);
    await hub.ctx.store.putEngineer({ ...ENGINEER, id: "E2", name: "Li Na" });
    dispatcher = String(
      (
        await api(hub, "POST", "/api/v1/tokens", hub.adminToken, {
          role: "dispatcher",
          name: "Wang (dispatch)",
        })
      ).body.token,
    );
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  const visit = async (id: string) => (await api(hub, "GET", `/api/v1/visits/${id}`, dispatcher)).body;

  it("rescheduled and reassigned before arrival; each change in the audit trail, by whom", async () => {
    const made = await api(hub, "POST", "/api/v1/visits", dispatcher, {
      id: "V1",
      siteId: "S1",
      engineerId: "E2",
      window: { from: "2026-11-25T09:00", to: "2026-11-25T11:00" },
    });
    expect(made.status).toBe(201);
    const moved = await api(hub, "PATCH", "/api/v1/visits/V1", dispatcher, {
      window: { from: "2026-11-25T10:00", to: "2026-11-25T12:00" },
      note: "customer asked for later",
    });
    expect(moved.status).toBe(200);
    const reassigned = await api(hub, "PATCH", "/api/v1/visits/V1", dispatcher, { engineerId: "E1" });
    expect(reassigned.status).toBe(200);
    const v = await visit("V1");
    expect(v.window).toEqual({ from: T9 + 60 * MIN, to: T9 + 180 * MIN });
    expect(v.engineerId).toBe("E1");
    expect(
      (v.history as Array<{ kind: string; by: string; note: string | null }>).map((h) => [
        h.kind,
        h.by,
        h.note,
      ]),
    ).toEqual([
      ["created", "Wang (dispatch)", null],
      ["rescheduled", "Wang (dispatch)", "customer asked for later"],
      ["reassigned", "Wang (dispatch)", null],
    ]);
  });

  it("once the engineer has arrived it can still be rescheduled, not reassigned", async () => {
    const badge = await connect(hub, devices.badge.id, devices.badge.password);
    clock.set(T9 + 65 * MIN);
    await send(badge, {
      v: 1,
      type: "arrival",
      source: "ble",
      device: "badge-1",
      counter: 1,
      time: T9 + 65 * MIN,
    });
    await hub.ctx.ingest.settle();
    expect((await visit("V1")).state).toBe("arrived");
    const refused = await api(hub, "PATCH", "/api/v1/visits/V1", dispatcher, { engineerId: "E2" });
    expect(refused.status).toBe(409);
    expect(refused.body.field).toBe("engineerId");
    await badge.endAsync();
  });

  it("cancelled: no no-show when its window closes, and nothing after the cancellation lands in it; restored: judged again", async () => {
    await api(hub, "POST", "/api/v1/visits", dispatcher, {
      id: "V2",
      siteId: "S1",
      engineerId: "E2",
      window: { from: "2026-11-25T13:00", to: "2026-11-25T14:00" },
    });
    const c = await api(hub, "POST", "/api/v1/visits/V2/cancel", dispatcher, { reason: "customer away" });
    expect(c.status).toBe(200);
    expect(c.body.state).toBe("cancelled");
    clock.set(T9 + 6 * 60 * MIN); // 15:00, after the window
    hub.ctx.visits.tick();
    await hub.ctx.ingest.settle();
    const v = await visit("V2");
    expect(v.state).toBe("cancelled");
    expect(v.violations).toEqual([]);
    expect(v.cancelled).toMatchObject({ reason: "customer away" });
    expect((await api(hub, "POST", "/api/v1/visits/V2/cancel", dispatcher, { reason: "again" })).status).toBe(
      409,
    );
    expect((await api(hub, "PATCH", "/api/v1/visits/V2", dispatcher, { engineerId: "E1" })).status).toBe(409);
    const r = await api(hub, "POST", "/api/v1/visits/V2/restore", dispatcher, { note: "back on" });
    expect(r.status).toBe(200);
    const back = await visit("V2");
    expect(back.state).toBe("no_show");
    expect((back.history as Array<{ kind: string }>).map((h) => h.kind)).toEqual([
      "created",
      "cancelled",
      "restored",
    ]);
  });
});
