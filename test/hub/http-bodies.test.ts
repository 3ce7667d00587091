/**
 * HTTP bodies are validated, not coerced: every endpoint that takes a body gets each of its valid
 * bodies mutated in every way that breaks its schema — a value of another JSON type in each field
 * (nested ones too), an unknown property, a misspelt key — and must refuse each one with a 400
 * that names the field, changing nothing. Then: 409 for an id that exists, and explicit updates
 * that keep history.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { api, eventually, newToken, seed, startHub, tempDir } from "./helpers.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values of every JSON type but the one `v` has. */
function otherTypes(v: Json): Json[] {
  const all: Array<[string, Json]> = [
    ["string", typeof v === "number" ? String(v) : typeof v === "boolean" ? String(v) : "x"],
    ["number", 7],
    ["boolean", true],
    ["array", typeof v === "string" ? [v] : [1]],
    ["object", { value: v }],
    ["null", null],
  ];
  const kind = v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
  return all.filter(([k]) => k !== kind).map(([, x]) => x);
}

/** Every mutation of `body` that breaks a strict schema, with the path of the field it breaks. */
function mutations(body: { [k: string]: Json }, path = ""): Array<{ body: Json; field: string }> {
  const out: Array<{ body: Json; field: string }> = [];
  for (const [k, v] of Object.entries(body)) {
    for (const x of otherTypes(v)) out.push({ body: { ...body, [k]: x }, field: `${path}${k}` });
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const m of mutations(v, `${path}${k}.`))
        out.push({ body: { ...body, [k]: m.body }, field: m.field });
    }
    if (Array.isArray(v) && v[0] !== null && typeof v[0] === "object" && !Array.isArray(v[0])) {
      for (const m of mutations(v[0] as { [k: string]: Json }, `${path}${k}.0.`))
        out.push({ body: { ...body, [k]: [m.body, ...v.slice(1)] }, field: m.field });
    }
    const { [k]: kept, ...rest } = body;
    out.push({ body: { ...rest, [`${k}x`]: kept as Json }, field: `${path}${k}` });
  }
  out.push({ body: { ...body, certificatPolicy: "refuse" }, field: `${path}certificatPolicy` });
  return out;
}

describe("HTTP bodies", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let kioskToken: string;
  const now = Date.now();

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    await seed(hub);
    await hub.ctx.store.insertVisits([
      { id: "V1", siteId: "S1", engineerId: "E1", window: { from: now - 3_600_000, to: now + 3_600_000 } },
    ]);
    kioskToken = await newToken(hub, "kiosk", "front desk", "S1");
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  const snapshot = async () => {
    const s = hub.ctx.store;
    return JSON.stringify([
      await s.listSites(),
      await s.listEngineers(),
      await s.listVisits({}),
      (await s.listDevices()).map((d) => d.id),
      (await s.listTokens()).length,
      await s.countEvents(),
      await s.alarmAcks("V1"),
    ]);
  };

  const cases: Array<{ method: string; path: string; body: { [k: string]: Json }; token?: () => string }> = [
    {
      method: "POST",
      path: "/api/v1/sites",
      body: {
        id: "FZ1",
        name: "Fuzz plant",
        timeZone: "Asia/Shanghai",
        requiredPpe: ["helmet"],
        certificatePolicy: "refuse",
        atRiskMinutes: 30,
        workingDays: [1, 2, 3],
        holidays: ["2026-12-25"],
      },
    },
    {
      method: "PUT",
      path: "/api/v1/sites/S1",
      body: {
        name: "Shenyang plant",
        timeZone: "Asia/Shanghai",
        requiredPpe: ["helmet"],
        cleanupChecklist: ["work_area_clean"],
        requiredCertificates: ["safety_training"],
        certificatePolicy: "warn",
        workingDays: [1, 2, 3, 4, 5],
        holidays: [],
        atRiskMinutes: 20,
      },
    },
    { method: "PATCH", path: "/api/v1/sites/S1", body: { name: "Renamed", atRiskMinutes: 10 } },
    {
      method: "POST",
      path: "/api/v1/engineers",
      body: {
        id: "FZE",
        name: "Fuzz",
        company: "Shengda",
        certificates: [{ kind: "safety_training", validUntil: "2099-01-01" }],
      },
    },
    {
      method: "PATCH",
      path: "/api/v1/engineers/E1",
      body: { company: "Other", certificates: [{ kind: "x", validUntil: "2099-01-01" }] },
    },
    {
      method: "POST",
      path: "/api/v1/visits",
      body: { siteId: "S1", engineerId: "E1", window: { from: "2026-12-24T09:00", to: "2026-12-24T11:00" } },
    },
    { method: "POST", path: "/api/v1/devices", body: { id: "kiosk-fz", kind: "kiosk", siteId: "S1" } },
    { method: "POST", path: "/api/v1/tokens", body: { role: "supervisor", name: "fuzz" } },
    { method: "POST", path: "/api/v1/visits/V1/alarms/ack", body: { alarmAt: 123 } },
    {
      method: "POST",
      path: "/api/v1/visits/V1/events",
      body: { type: "late_notice", eta: now, reason: "traffic" },
    },
    {
      method: "POST",
      path: "/api/v1/kiosk/S1/events",
      body: { type: "completion_confirmed", visit: "V1", resolved: true, rating: 4 },
      token: () => kioskToken,
    },
  ];

  it("every body that breaks its schema is refused with 400 and the field named, and changes nothing", async () => {
    const before = await snapshot();
    const accepted: string[] = [];
    const unnamed: string[] = [];
    let tried = 0;
    for (const c of cases) {
      for (const m of mutations(c.body)) {
        tried++;
        const res = await api(hub, c.method, c.path, c.token?.() ?? hub.adminToken, m.body);
        const what = `${c.method} ${c.path} ${JSON.stringify(m.body)} → ${res.status} ${res.text}`;
        if (res.status !== 400) accepted.push(what);
        else if (!String(res.body.field ?? "").includes(m.field.split(".")[0] ?? "")) unnamed.push(what);
      }
    }
    expect(tried).toBeGreaterThan(250);
    expect(accepted).toEqual([]);
    expect(unnamed).toEqual([]);
    expect(await snapshot()).toEqual(before);
  }, 60_000);

  it("creating an id that exists is a 409 and leaves it as it was", async () => {
    const site = await hub.ctx.store.getSite("S1");
    const again = await api(hub, "POST", "/api/v1/sites", hub.adminToken, {
      id: "S1",
      name: "Other",
      timeZone: "UTC",
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: "conflict", field: "id" });
    expect(await hub.ctx.store.getSite("S1")).toEqual(site);
    const eng = await api(hub, "POST", "/api/v1/engineers", hub.adminToken, {
      id: "E1",
      name: "Someone else",
      company: "X",
      certificates: [],
    });
    expect(eng.status).toBe(409);
    expect((await hub.ctx.store.getEngineer("E1"))?.name).toBe("Zhang Wei");
  });

  it("updates are explicit and kept as versions; a visit is judged against the site as it was then", async () => {
    const past = await hub.ctx.visits.summary("V1");
    const ppe = past?.gear.required;
    const patched = await api(hub, "PATCH", "/api/v1/sites/S1", hub.adminToken, {
      requiredPpe: ["helmet", "safety_shoes", "safety_glasses"],
    });
    expect(patched.status).toBe(200);
    const versions = (await api(hub, "GET", "/api/v1/sites/S1/versions", hub.adminToken))
      .body as unknown as Array<{
      validFrom: number;
      by: string | null;
      doc: { requiredPpe: string[] };
    }>;
    expect(versions.at(-1)).toMatchObject({
      by: "first-admin",
      doc: { requiredPpe: ["helmet", "safety_shoes", "safety_glasses"] },
    });
    expect(versions.length).toBeGreaterThanOrEqual(2);
    // V1 started before the change: it keeps the rules it started with.
    await hub.ctx.ingest.settle();
    expect((await hub.ctx.visits.summary("V1"))?.gear.required).toEqual(ppe);
    // A visit booked for later is judged with the new rules.
    const later = await api(hub, "POST", "/api/v1/visits", hub.adminToken, {
      id: "V-LATER",
      siteId: "S1",
      engineerId: "E1",
      window: { from: "2099-01-05T09:00", to: "2099-01-05T11:00" },
    });
    expect(later.status).toBe(201);
    await eventually(async () =>
      (await hub.ctx.visits.summary("V-LATER"))?.gear.required.includes("safety_glasses"),
    );
    const renamed = await api(hub, "PUT", "/api/v1/engineers/E1", hub.adminToken, {
      name: "Zhang Wei (Jr)",
      company: "Shengda",
      certificates: [{ kind: "safety_training", validUntil: "2099-12-31" }],
    });
    expect(renamed.status).toBe(200);
    expect((await api(hub, "GET", "/api/v1/engineers/E1/versions", hub.adminToken)).body).toHaveLength(2);
    expect(
      (
        await api(hub, "PUT", "/api/v1/engineers/E1", hub.adminToken, {
          id: "E9",
          name: "x",
          company: "y",
          certificates: [],
        })
      ).status,
    ).toBe(400);
  });
});
