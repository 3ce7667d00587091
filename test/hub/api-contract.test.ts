/**
 * The API answers what it declares: after a visit has been played over MQTT, every route with a
 * response schema is called and its body checked against that schema (the same schemas the web
 * app's types come from, and /docs shows). The browser entry of protocol/ stays browser-safe.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import type { DeviceEvent } from "../../protocol/index.js";
import { api, connect, newToken, seed, send, startHub, tempDir } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("the API contract", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let rollCallId = "";
  let kioskToken = "";

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    const devices = await seed(hub);
    const now = Date.now();
    const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);
    await api(hub, "POST", "/api/v1/visits", hub.adminToken, {
      id: "V1",
      siteId: "S1",
      engineerId: "E1",
      window: { from: local(now - 3_600_000), to: local(now + 3_600_000) },
    });
    const badge = await connect(hub, devices.badge.id, devices.badge.password);
    const kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    let b = 0;
    let k = 0;
    const be = (body: Record<string, unknown>) =>
      send(badge, { v: 1, device: "badge-1", counter: ++b, time: Date.now(), ...body } as DeviceEvent);
    const ke = (body: Record<string, unknown>) =>
      send(kiosk, { v: 1, device: "kiosk-1", counter: ++k, time: Date.now(), ...body } as DeviceEvent);
    await be({ type: "arrival", source: "ble" });
    await ke({ type: "checkin_request", tag: "0A1B2C3D4E" });
    await ke({ type: "checkin_confirmed", engineer: "E1", consent: true, visit: "V1" });
    await be({ type: "gear_confirmed", items: ["helmet"] });
    await be({ type: "work_started" });
    await be({ type: "sos", kind: "hazard" });
    await hub.ctx.ingest.settle();
    kioskToken = await newToken(hub, "kiosk", "front desk", "S1");
    await api(hub, "POST", "/api/v1/webhooks", hub.adminToken, {
      url: "http://127.0.0.1:9/hook",
      events: ["*"],
      secret: "a-long-enough-secret",
    });
    rollCallId = String(
      (await api(hub, "POST", "/api/v1/sites/S1/rollcalls", hub.adminToken, { kind: "drill" })).body.id,
    );
    await badge.endAsync();
    await kiosk.endAsync();
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  it("every GET with a response schema answers a body that matches it", async () => {
    const calls: Array<[route: string, url: string]> = [
      ["GET /api/v1/sites", "/api/v1/sites"],
      ["GET /api/v1/sites/:id", "/api/v1/sites/S1"],
      ["GET /api/v1/sites/:id/versions", "/api/v1/sites/S1/versions"],
      ["GET /api/v1/sites/:id/status", "/api/v1/sites/S1/status"],
      ["GET /api/v1/engineers", "/api/v1/engineers"],
      ["GET /api/v1/engineers/:id", "/api/v1/engineers/E1"],
      ["GET /api/v1/engineers/:id/versions", "/api/v1/engineers/E1/versions"],
      ["GET /api/v1/visits", "/api/v1/visits"],
      ["GET /api/v1/visits", "/api/v1/visits?day=today"],
      ["GET /api/v1/visits/:id", "/api/v1/visits/V1"],
      ["GET /api/v1/visits/:id/presence", "/api/v1/visits/V1/presence"],
      ["GET /api/v1/presence", "/api/v1/presence"],
      ["GET /api/v1/devices", "/api/v1/devices"],
      ["GET /api/v1/tokens", "/api/v1/tokens"],
      ["GET /api/v1/me", "/api/v1/me"],
      ["GET /api/v1/alarms", "/api/v1/alarms"],
      ["GET /api/v1/alarms", "/api/v1/alarms?visit=V1&open=true"],
      ["GET /api/v1/reports/visits", "/api/v1/reports/visits?day=today"],
      [
        "GET /api/v1/reports/visits",
        "/api/v1/reports/visits?from=2026-01-01&to=2026-12-31&site=S1&engineer=E1",
      ],
      ["GET /healthz", "/healthz"],
      ["GET /api/v1/webhooks", "/api/v1/webhooks"],
      ["GET /api/v1/notifications", "/api/v1/notifications"],
      ["GET /api/v1/devices/health", "/api/v1/devices/health"],
      ["GET /api/v1/sites/:id/present", "/api/v1/sites/S1/present"],
      ["GET /api/v1/sites/:id/rollcalls", "/api/v1/sites/S1/rollcalls"],
      ["GET /api/v1/rollcalls/:id", `/api/v1/rollcalls/${rollCallId}`],
      ["GET /api/v1/kiosk/:site/state", "/api/v1/kiosk/S1/state"],
    ];
    const tokenFor = (route: string) =>
      route.startsWith("GET /api/v1/kiosk/") ? kioskToken : hub.adminToken;
    const declared = [...hub.http.responseSchemas.keys()].filter((k) => k.startsWith("GET "));
    // Every GET route that declares a schema is exercised here.
    expect(declared.filter((r) => !calls.some(([c]) => c === r))).toEqual([]);
    const wrong: string[] = [];
    for (const [route, url] of calls) {
      const schema = hub.http.responseSchemas.get(route);
      if (!schema) throw new Error(`${route} declares no response schema`);
      const res = await api(hub, "GET", url, tokenFor(route));
      const check = TypeCompiler.Compile(schema);
      if (!check.Check(res.body)) {
        const e = check.Errors(res.body).First();
        wrong.push(`${url}: ${e?.path} ${e?.message}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("writes answer their declared shapes too", async () => {
    const admin = hub.adminToken;
    const [sos] = (await api(hub, "GET", "/api/v1/alarms?open=true", admin)).body as unknown as Array<{
      visitId: string;
      at: number;
    }>;
    const writes: Array<[route: string, method: string, url: string, body: unknown]> = [
      [
        "POST /api/v1/alarms/ack",
        "POST",
        "/api/v1/alarms/ack",
        { alarms: [{ visitId: sos?.visitId, alarmAt: sos?.at }], note: "called the engineer" },
      ],
      [
        "PATCH /api/v1/visits/:id",
        "PATCH",
        "/api/v1/visits/V1",
        { note: "moved", window: { from: "2026-12-30T09:00", to: "2026-12-30T11:00" } },
      ],
      ["POST /api/v1/visits/:id/cancel", "POST", "/api/v1/visits/V1/cancel", { reason: "customer away" }],
      ["POST /api/v1/visits/:id/restore", "POST", "/api/v1/visits/V1/restore", {}],
      [
        "POST /api/v1/visits",
        "POST",
        "/api/v1/visits",
        { siteId: "S1", engineerId: "E1", window: { from: "2026-12-31T09:00", to: "2026-12-31T10:00" } },
      ],
      ["POST /api/v1/devices", "POST", "/api/v1/devices", { id: "badge-9", kind: "badge", engineerId: "E1" }],
      ["POST /api/v1/devices", "POST", "/api/v1/devices", { id: "kiosk-9", kind: "kiosk", siteId: "S1" }],
      ["POST /api/v1/tokens", "POST", "/api/v1/tokens", { role: "kiosk", name: "lobby", siteId: "S1" }],
      ["POST /api/v1/sites", "POST", "/api/v1/sites", { id: "S9", name: "Ninth", timeZone: "UTC" }],
      ["PATCH /api/v1/sites/:id", "PATCH", "/api/v1/sites/S9", { atRiskMinutes: 5 }],
      [
        "PUT /api/v1/engineers/:id",
        "PUT",
        "/api/v1/engineers/E1",
        { name: "Zhang Wei", company: "Shengda", certificates: [] },
      ],
    ];
    const wrong: string[] = [];
    for (const [route, method, url, body] of writes) {
      const res = await api(hub, method, url, admin, body);
      const schema = hub.http.responseSchemas.get(route);
      if (!schema) throw new Error(`${route} declares no response schema`);
      const check = TypeCompiler.Compile(schema);
      if (res.status >= 300 || !check.Check(res.body))
        wrong.push(`${method} ${url}: ${res.status} ${check.Errors(res.body).First()?.path ?? ""}`);
    }
    expect(wrong).toEqual([]);
  });

  it("protocol's browser entry reaches no Node-only module", () => {
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/from\s+"([^"]+)"/g)) {
        const spec = m[1] ?? "";
        expect(spec.startsWith("node:"), `${file} imports ${spec}`).toBe(false);
        if (spec.startsWith(".")) walk(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      }
    };
    walk(join(root, "protocol/browser.ts"));
    expect([...seen].some((f) => f.includes("/frames/"))).toBe(false);
    expect(seen.size).toBeGreaterThan(5);
  });
});
