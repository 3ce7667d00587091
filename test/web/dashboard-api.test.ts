/**
 * The API the dashboard stands on: the alarm list's order and its batch acknowledgement with a
 * note (all or none), report ranges, who may do what, and the live stream's visit row.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { api, eventually, startHub, tempDir } from "../hub/helpers.js";
import { buildWorld, playV1, shanghaiDay, type World } from "./world.js";

describe("the dashboard's API", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let w: World;

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    w = await buildWorld(hub);
    await playV1(hub, w);
  }, 30_000);
  afterAll(async () => {
    await w.close();
    await hub.stop();
    dir.cleanup();
  });

  it("lists alarms open first, SOS before the rest, newest first; acknowledges several at once with a note, all or none", async () => {
    const list = await api(hub, "GET", "/api/v1/alarms", w.tokens.supervisor);
    expect(list.status).toBe(200);
    const alarms = list.body as unknown as Array<{
      kind: string;
      at: number;
      visitId: string;
      severity: number;
    }>;
    expect(alarms.map((a) => [a.visitId, a.kind, a.severity])).toEqual([
      ["V1", "sos", 2],
      ["V1", "departed_without_cleanup", 1],
    ]);
    const [sos, departed] = alarms as [(typeof alarms)[0], (typeof alarms)[0]];
    // One wrong item refuses the whole batch, naming it; nothing is stored.
    const bad = await api(hub, "POST", "/api/v1/alarms/ack", w.tokens.supervisor, {
      alarms: [
        { visitId: "V1", alarmAt: sos.at },
        { visitId: "V1", alarmAt: 1 },
      ],
      note: "x",
    });
    expect(bad.status).toBe(404);
    expect(bad.body).toMatchObject({ field: "alarms.1.alarmAt" });
    expect(await hub.ctx.store.alarmAcksOf(["V1"])).toEqual([]);
    // Strict bodies: an unknown property is refused by name, a dispatcher may not acknowledge.
    const unknown = await api(hub, "POST", "/api/v1/alarms/ack", w.tokens.supervisor, {
      alarms: [{ visitId: "V1", alarmAt: sos.at }],
      notes: "typo",
    });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain("notes");
    const forbidden = await api(hub, "POST", "/api/v1/alarms/ack", w.tokens.dispatcher, {
      alarms: [{ visitId: "V1", alarmAt: sos.at }],
    });
    expect(forbidden.status).toBe(403);
    const ok = await api(hub, "POST", "/api/v1/alarms/ack", w.tokens.supervisor, {
      alarms: [
        { visitId: "V1", alarmAt: sos.at },
        { visitId: "V1", alarmAt: departed.at },
      ],
      note: "called the engineer",
    });
    expect(ok.status).toBe(200);
    expect((ok.body.acknowledged as unknown[]).length).toBe(2);
    const after = (await api(hub, "GET", "/api/v1/alarms?visit=V1", w.tokens.supervisor))
      .body as unknown as Array<{
      ack: { by: string; note: string } | null;
    }>;
    expect(after.map((a) => a.ack?.note)).toEqual(["called the engineer", "called the engineer"]);
    expect(
      ((await api(hub, "GET", "/api/v1/alarms?open=true", w.tokens.supervisor)).body as unknown[]).length,
    ).toBe(0);
    // The visit's row and the site's status see them as acknowledged.
    const rows = (await api(hub, "GET", "/api/v1/visits?day=today", w.tokens.supervisor))
      .body as unknown as Array<{
      visitId: string;
      alarmAcks: number[];
    }>;
    expect(rows.find((r) => r.visitId === "V1")?.alarmAcks.sort()).toEqual([sos.at, departed.at].sort());
    expect((await api(hub, "GET", "/api/v1/sites/S1/status", w.tokens.supervisor)).body).toMatchObject({
      condition: "normal",
    });
  });

  it("reports over a range of each site's days, filtered, and refuses a range that makes no sense", async () => {
    const yesterday = shanghaiDay(Date.now() - 86_400_000);
    const tomorrow = shanghaiDay(Date.now() + 86_400_000);
    const ids = async (q: string) =>
      (
        (await api(hub, "GET", `/api/v1/reports/visits?${q}`, w.tokens.supervisor)).body as unknown as Array<{
          visitId: string;
        }>
      ).map((r) => r.visitId);
    expect(await ids(`from=${yesterday}&to=${tomorrow}`)).toEqual(["V5", "V2", "V1", "V3", "V4"]);
    expect(await ids(`from=${yesterday}&to=${tomorrow}&site=S1`)).toEqual(["V5", "V1", "V4"]);
    expect(await ids(`from=${yesterday}&to=${tomorrow}&engineer=E2`)).toEqual(["V2", "V4"]);
    expect(await ids(`day=today&violation=departed_without_cleanup`)).toEqual(["V1"]);
    expect(await ids(`day=today&state=scheduled`)).toEqual(["V2", "V3"]);
    for (const [q, field] of [
      [`from=${tomorrow}&to=${yesterday}`, "to"],
      ["from=2020-01-01&to=2026-01-01", "to"],
      [`day=today&from=${yesterday}`, "day"],
      [`to=${tomorrow}`, "from"],
      ["day=today&violation=speeding", "querystring.violation"],
    ] as const) {
      const r = await api(hub, "GET", `/api/v1/reports/visits.csv?${q}`, w.tokens.supervisor);
      expect(r.status, q).toBe(400);
      expect(r.body.field, q).toBe(field);
    }
    expect((await api(hub, "GET", "/api/v1/reports/visits.xlsx?day=today", w.tokens.kiosk)).status).toBe(403);
  });

  it("writes the report from the CLI: CSV with its byte-order mark, XLSX to a file", async () => {
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ["--import", "tsx", "bin/onsite.ts", "report", ...args], {
        env: {
          ...process.env,
          ONSITE_URL: `http://127.0.0.1:${hub.httpPort}`,
          ONSITE_TOKEN: w.tokens.supervisor,
        },
      });
    const csv = join(dir.path, "r.csv");
    const xlsx = join(dir.path, "r.xlsx");
    const from = shanghaiDay(Date.now() - 86_400_000);
    const to = shanghaiDay(Date.now() + 86_400_000);
    await run("--from", from, "--to", to, "--engineer", "E2", "-o", csv);
    const bytes = readFileSync(csv);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString("utf8")).toContain("李娜");
    await run("--from", from, "--to", to, "--site", "S1", "--format", "xlsx", "--lang", "zh-CN", "-o", xlsx);
    expect(readFileSync(xlsx).subarray(0, 2).toString()).toBe("PK");
    await expect(run("--format", "xlsx")).rejects.toThrow(/needs -o/);
  }, 30_000);

  it("tells a token's bearer who they are", async () => {
    expect((await api(hub, "GET", "/api/v1/me", w.tokens.dispatcher)).body).toEqual({
      role: "dispatcher",
      name: "Dispatcher Li",
      siteId: null,
    });
    expect((await api(hub, "GET", "/api/v1/me", w.tokens.kiosk)).body).toMatchObject({
      role: "kiosk",
      siteId: "S1",
    });
    expect((await api(hub, "GET", "/api/v1/me", undefined)).status).toBe(401);
  });

  it("streams the visit's board row when it changes", async () => {
    const ctrl = new AbortController();
    const res = await fetch(
      `http://127.0.0.1:${hub.httpPort}/api/v1/stream?access_token=${w.tokens.supervisor}`,
      {
        signal: ctrl.signal,
      },
    );
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })().catch(() => {});
    await api(hub, "POST", "/api/v1/visits/V3/events", w.tokens.admin, {
      type: "late_notice",
      eta: Date.now() + 3 * 3_600_000,
      reason: "traffic",
    });
    const message = await eventually(() => {
      const m = /event: visit\ndata: (.*)\n/.exec(text);
      return m
        ? (JSON.parse(m[1] ?? "") as { row: { visitId: string; advanceNotice: unknown; alarmAcks: unknown } })
        : undefined;
    });
    expect(message.row.visitId).toBe("V3");
    expect(message.row.advanceNotice).toMatchObject({ reason: "traffic" });
    expect(message.row.alarmAcks).toEqual([]);
    ctrl.abort();
    await pump;
  });
});
