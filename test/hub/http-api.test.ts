import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { api, connect, eventually, newToken, send, startHub, tempDir } from "./helpers.js";

describe("HTTP API", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let admin: string;
  let dispatcher: string;
  let supervisor: string;
  let kioskToken: string;

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    admin = hub.adminToken ?? "";
    expect(
      (
        await api(hub, "POST", "/api/v1/sites", admin, {
          id: "S1",
          name: "Plant",
          timeZone: "Europe/Berlin",
          requiredPpe: ["helmet"],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api(hub, "POST", "/api/v1/engineers", admin, {
          id: "E1",
          name: "Anna Schmidt",
          company: "Service GmbH",
          certificates: [{ kind: "safety_training", validUntil: "2099-01-01" }],
        })
      ).status,
    ).toBe(201);
    dispatcher = await newToken(hub, "dispatcher", "disp");
    supervisor = await newToken(hub, "supervisor", "sup");
    kioskToken = await newToken(hub, "kiosk", "tablet", "S1");
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  describe("auth", () => {
    it("refuses a missing or wrong token, and a role without the right", async () => {
      expect((await api(hub, "GET", "/api/v1/visits", undefined)).status).toBe(401);
      expect((await api(hub, "GET", "/api/v1/visits", "not-a-token")).status).toBe(401);
      expect(
        (await api(hub, "POST", "/api/v1/devices", dispatcher, { id: "k9", kind: "kiosk", siteId: "S1" }))
          .status,
      ).toBe(403);
      expect((await api(hub, "GET", "/api/v1/visits", supervisor)).status).toBe(200);
      expect(hub.ctx.metrics.value("onsite_http_refused_total", { reason: "bad_token", status: "401" })).toBe(
        1,
      );
    });
    it("a kiosk token cannot read the dashboard API", async () => {
      for (const path of [
        "/api/v1/visits",
        "/api/v1/sites",
        "/api/v1/engineers",
        "/api/v1/reports/visits.csv",
        "/api/v1/stream",
      ]) {
        expect((await api(hub, "GET", path, kioskToken)).status).toBe(403);
      }
    });
  });

  describe("visits", () => {
    it("creates a visit from site wall time and lists it by day in the site's zone", async () => {
      const r = await api(hub, "POST", "/api/v1/visits", dispatcher, {
        id: "V-1",
        siteId: "S1",
        engineerId: "E1",
        window: { from: "2026-03-29T01:30", to: "2026-03-29T03:30" },
      });
      expect(r.status).toBe(201);
      expect(r.body.window).toEqual({
        from: Date.parse("2026-03-29T00:30:00Z"),
        to: Date.parse("2026-03-29T01:30:00Z"),
      });
      const day = await api(hub, "GET", "/api/v1/visits?day=2026-03-29&site=S1", supervisor);
      expect((day.body as Array<{ visitId: string }>).map((v) => v.visitId)).toEqual(["V-1"]);
      expect((await api(hub, "GET", "/api/v1/visits?day=2026-03-30", supervisor)).body).toEqual([]);
      const one = await api(hub, "GET", "/api/v1/visits/V-1", supervisor);
      expect(one.body).toMatchObject({
        state: "no_show",
        windowLocal: { from: "2026-03-29T01:30:00+01:00", to: "2026-03-29T03:30:00+02:00" },
      });
    });

    it.each([
      ["missing window", { siteId: "S1", engineerId: "E1" }, 400, "body"],
      [
        "extra property",
        {
          siteId: "S1",
          engineerId: "E1",
          window: { from: "2026-01-01T09:00", to: "2026-01-01T10:00" },
          priority: 1,
        },
        400,
        "body",
      ],
      [
        "unknown site",
        { siteId: "S9", engineerId: "E1", window: { from: "2026-01-01T09:00", to: "2026-01-01T10:00" } },
        404,
        "siteId",
      ],
      [
        "unknown engineer",
        { siteId: "S1", engineerId: "E9", window: { from: "2026-01-01T09:00", to: "2026-01-01T10:00" } },
        404,
        "engineerId",
      ],
      [
        "time in the DST gap",
        { siteId: "S1", engineerId: "E1", window: { from: "2026-03-29T02:30", to: "2026-03-29T04:00" } },
        400,
        "window.from",
      ],
      [
        "ambiguous time",
        { siteId: "S1", engineerId: "E1", window: { from: "2026-10-25T02:30", to: "2026-10-25T04:00" } },
        400,
        "window.from",
      ],
      [
        "window ends first",
        { siteId: "S1", engineerId: "E1", window: { from: "2026-01-01T10:00", to: "2026-01-01T09:00" } },
        400,
        "window.to",
      ],
    ])("refuses %s, naming the field", async (_n, body, status, field) => {
      const r = await api(hub, "POST", "/api/v1/visits", dispatcher, body);
      expect(r.status).toBe(status);
      expect(String(r.body.field)).toContain(field);
      expect(String(r.body.message).length).toBeGreaterThan(5);
    });

    it("refuses malformed JSON and a bad time zone", async () => {
      expect((await api(hub, "POST", "/api/v1/visits", dispatcher, "{nope")).status).toBe(400);
      const r = await api(hub, "POST", "/api/v1/sites", admin, {
        id: "S2",
        name: "x",
        timeZone: "Mars/Base",
      });
      expect(r.status).toBe(400);
      expect(r.body.field).toBe("timeZone");
    });

    it("imports a CSV: bad rows reported by line and field, good rows kept", async () => {
      const csv = [
        "id,site_id,engineer_id,date,from,to",
        "C-1,S1,E1,2026-12-01,09:00,11:00",
        "C-2,S1,E9,2026-12-01,09:00,11:00",
        "C-3,S1,E1,2026-13-01,09:00,11:00",
        "C-4,S1,E1,2026-12-01,9am,11:00",
        "C-1,S1,E1,2026-12-02,09:00,11:00",
        "C-5,S1,E1,2026-12-01,12:00,11:00",
        "C-6,S1,E1",
        '"C-7",S1,E1,2026-12-01,13:00,15:00',
        "V-1,S1,E1,2026-12-03,09:00,10:00",
      ].join("\n");
      const r = await api(hub, "POST", "/api/v1/visits/import", dispatcher, csv, "text/csv");
      expect(r.status).toBe(200);
      expect(r.body.imported).toEqual(["C-1", "C-7"]);
      expect(r.body.errors).toEqual([
        { line: 3, field: "engineer_id", message: "no engineer E9" },
        { line: 4, field: "date", message: 'expected YYYY-MM-DD, got "2026-13-01"' },
        { line: 5, field: "from", message: 'expected HH:MM, got "9am"' },
        { line: 6, field: "id", message: "duplicate id C-1 in this file" },
        { line: 7, field: "to", message: "window must end after it starts" },
        { line: 8, field: "(row)", message: "expected 6 cells, found 3" },
        { line: 10, field: "id", message: "visit V-1 already exists" },
      ]);
      const bad = await api(hub, "POST", "/api/v1/visits/import", dispatcher, "a,b\n1,2\n", "text/csv");
      expect((bad.body.errors as unknown[])[0]).toMatchObject({
        line: 1,
        field: "id,site_id,engineer_id,date,from,to",
      });
    });

    it("reports visits as CSV in site time, formulas neutralised", async () => {
      const r = await api(hub, "GET", "/api/v1/reports/visits.csv?site=S1", supervisor);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/text\/csv/);
      const lines = r.text.trim().split("\r\n");
      expect(lines[0]).toMatch(
        /^visit_id,site_id,engineer_id,engineer_name,window_from,window_to,state,arrived_at,arrival_class,minutes_late/,
      );
      const v1 = lines.find((l) => l.startsWith("V-1,"));
      expect(v1).toContain("2026-03-29T01:30:00+01:00");
      expect(v1).toContain(",no_show,");
      expect(v1).toContain("no_show");
    });
  });

  describe("devices", () => {
    it("provisions a kiosk once with its secret, and a revoked device can no longer connect", async () => {
      const r = await api(hub, "POST", "/api/v1/devices", admin, {
        id: "kiosk-9",
        kind: "kiosk",
        siteId: "S1",
      });
      expect(r.status).toBe(201);
      expect(r.headers.get("cache-control")).toBe("no-store");
      const password = String(r.body.password);
      expect(password.length).toBeGreaterThanOrEqual(20);
      const list = await api(hub, "GET", "/api/v1/devices", admin);
      expect(JSON.stringify(list.body)).not.toContain(password);
      expect(JSON.stringify(list.body)).not.toContain("sha256$");
      expect(
        (await api(hub, "POST", "/api/v1/devices", admin, { id: "kiosk-9", kind: "kiosk", siteId: "S1" }))
          .status,
      ).toBe(409);
      const c = await connect(hub, "kiosk-9", password);
      await c.endAsync();
      expect((await api(hub, "POST", "/api/v1/devices/kiosk-9/revoke", admin)).body.revokedAt).toBeTypeOf(
        "number",
      );
      await expect(
        mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
          clientId: "kiosk-9",
          username: "kiosk-9",
          password,
          reconnectPeriod: 0,
        }),
      ).rejects.toThrow();
    });

    it("provisions a badge with a frame key, and refuses a badge without an engineer", async () => {
      const r = await api(hub, "POST", "/api/v1/devices", admin, {
        id: "badge-7",
        kind: "badge",
        engineerId: "E1",
        rfidTag: "00AABBCCDD",
      });
      expect(r.status).toBe(201);
      expect(String(r.body.key)).toMatch(/^[0-9a-f]{32}$/);
      const bad = await api(hub, "POST", "/api/v1/devices", admin, { id: "badge-8", kind: "badge" });
      expect(bad).toMatchObject({ status: 400, body: { field: "engineerId" } });
    });
  });

  describe("live", () => {
    it("streams visit updates over SSE and lets a supervisor acknowledge an SOS", async () => {
      const now = Date.now();
      const local = (ms: number) =>
        new Date(ms).toLocaleString("sv-SE", { timeZone: "Europe/Berlin" }).replace(" ", "T").slice(0, 16);
      expect(
        (
          await api(hub, "POST", "/api/v1/visits", dispatcher, {
            id: "V-LIVE",
            siteId: "S1",
            engineerId: "E1",
            window: { from: local(now - 600_000), to: local(now + 3_600_000) },
          })
        ).status,
      ).toBe(201);
      const p = await api(hub, "POST", "/api/v1/devices", admin, {
        id: "kiosk-live",
        kind: "kiosk",
        siteId: "S1",
      });
      const ctrl = new AbortController();
      const res = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/stream?access_token=${supervisor}`, {
        signal: ctrl.signal,
      });
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = "";
      const pump = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += new TextDecoder().decode(value);
        }
      })().catch(() => {});
      const k = await connect(hub, "kiosk-live", String(p.body.password));
      await send(k, {
        v: 1,
        type: "arrival",
        device: "kiosk-live",
        counter: 1,
        time: now,
        source: "kiosk_tap",
        visit: "V-LIVE",
      });
      await send(k, {
        v: 1,
        type: "sos",
        device: "kiosk-live",
        counter: 2,
        time: now + 1000,
        kind: "hazard",
        visit: "V-LIVE",
      });
      await eventually(() => text.includes('"kind":"alarm"'));
      expect(text).toMatch(/event: visit\ndata: .*"visit":"V-LIVE"/);
      const status = await api(hub, "GET", "/api/v1/sites/S1/status", supervisor);
      expect(status.body).toMatchObject({
        condition: "incident",
        activeAlarms: [{ visit: "V-LIVE", at: now + 1000 }],
      });
      expect(
        (await api(hub, "POST", "/api/v1/visits/V-LIVE/alarms/ack", dispatcher, { alarmAt: now + 1000 }))
          .status,
      ).toBe(403);
      expect(
        (await api(hub, "POST", "/api/v1/visits/V-LIVE/alarms/ack", supervisor, { alarmAt: 1 })).status,
      ).toBe(404);
      expect(
        (await api(hub, "POST", "/api/v1/visits/V-LIVE/alarms/ack", supervisor, { alarmAt: now + 1000 }))
          .status,
      ).toBe(200);
      await eventually(() => text.includes("event: alarm_ack"));
      expect((await api(hub, "GET", "/api/v1/sites/S1/status", supervisor)).body).toMatchObject({
        condition: "normal",
        activeAlarms: [],
      });
      await k.endAsync();
      ctrl.abort();
      await pump;
    });
  });

  describe("ops", () => {
    it("serves /healthz, /metrics and the OpenAPI document", async () => {
      const h = await api(hub, "GET", "/healthz", undefined);
      expect(h.status).toBe(200);
      expect(h.body).toMatchObject({ status: "ok" });
      const doc = await api(hub, "GET", "/docs/json", undefined);
      expect(doc.status).toBe(200);
      expect(Object.keys(doc.body.paths as object)).toEqual(
        expect.arrayContaining([
          "/api/v1/visits",
          "/api/v1/visits/import",
          "/api/v1/devices",
          "/api/v1/stream",
        ]),
      );
      const ui = await api(hub, "GET", "/docs/", undefined);
      expect(ui.status).toBe(200);
      expect(ui.text).toMatch(/swagger/i);
      const m = await api(hub, "GET", "/metrics", undefined);
      expect(m.text).toMatch(/onsite_mqtt_clients \d+/);
    });
  });
});
