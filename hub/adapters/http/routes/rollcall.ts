/**
 * The site roll-call: who is there now (checked in on a visit, or a badge heard at the site), a
 * roll-call a warden works through marking each person safe or missing, its printable result; an
 * evacuation started here tells everyone on the site's list at once.
 */
import { randomUUID } from "node:crypto";
import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import {
  type RollCall,
  type RollCallPerson,
  RollCallPersonSchema,
  RollCallSchema,
} from "../../../../protocol/api.js";
import { EntityId } from "../../../../protocol/index.js";
import { InputError } from "../../../admin/errors.js";
import type { HubContext } from "../../../context.js";
import { toSiteIso } from "../../../core/time.js";
import { STAFF } from "../auth.js";

const DAY = 86_400_000;
const IdParams = Type.Object({ id: EntityId }, { additionalProperties: false });
const RollCallParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

export function rollCallRoutes(app: FastifyInstance, ctx: HubContext): void {
  const { store, clock } = ctx;

  /** Everyone the hub knows to be at the site now. */
  const present = async (siteId: string): Promise<RollCallPerson[]> => {
    const now = clock.now();
    const people = new Map<string, RollCallPerson>();
    const add = async (
      engineerId: string,
      evidence: "checked_in" | "badge_heard",
      visitId: string | null,
    ) => {
      let p = people.get(engineerId);
      if (!p) {
        const e = await store.getEngineer(engineerId);
        p = {
          engineerId,
          name: e?.name ?? engineerId,
          company: e?.company ?? "",
          evidence: [],
          visitId,
          status: "unknown",
          markedBy: null,
          markedAt: null,
        };
        people.set(engineerId, p);
      }
      if (!p.evidence.includes(evidence)) p.evidence.push(evidence);
      if (visitId !== null) p.visitId = visitId;
    };
    for (const plan of await store.listVisits({ siteId, from: now - DAY, to: now + DAY })) {
      const v = await ctx.visits.summary(plan);
      if (v?.checkin?.consent && v.departure === null) await add(plan.engineerId, "checked_in", plan.id);
    }
    for (const s of await store.listPresence({ siteId, open: true })) {
      const badge = await store.getDevice(s.badge);
      if (badge?.engineerId) await add(badge.engineerId, "badge_heard", null);
    }
    return [...people.values()].sort((a, b) => a.name.localeCompare(b.name));
  };

  app.get<{ Params: { id: string } }>(
    "/api/v1/sites/:id/present",
    {
      config: { roles: STAFF },
      schema: { tags: ["roll-call"], params: IdParams, response: { 200: Type.Array(RollCallPersonSchema) } },
    },
    async (req) => {
      if (!(await store.getSite(req.params.id))) throw new InputError("id", `no site ${req.params.id}`, 404);
      return present(req.params.id);
    },
  );

  app.post<{ Params: { id: string }; Body: { kind: "drill" | "evacuation" } }>(
    "/api/v1/sites/:id/rollcalls",
    {
      config: { roles: ["admin", "supervisor"] },
      schema: {
        tags: ["roll-call"],
        description:
          "Start a roll-call of everyone on site now; an evacuation tells everyone on the site's contact list",
        params: IdParams,
        body: Type.Object(
          { kind: Type.Union([Type.Literal("drill"), Type.Literal("evacuation")]) },
          { additionalProperties: false },
        ),
        response: { 201: RollCallSchema },
      },
    },
    async (req, reply) => {
      const siteId = req.params.id;
      if (!(await store.getSite(siteId))) throw new InputError("id", `no site ${siteId}`, 404);
      const rc: RollCall = {
        id: randomUUID(),
        siteId,
        kind: req.body.kind,
        startedAt: clock.now(),
        startedBy: req.principal?.name ?? "api",
        endedAt: null,
        people: await present(siteId),
      };
      const outbox =
        rc.kind === "evacuation" ? await ctx.notifier.evacuation(siteId, rc.id, rc.startedAt) : [];
      await store.putRollCall(rc, outbox);
      ctx.dispatcher.kick();
      return reply.code(201).send(rc);
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/v1/sites/:id/rollcalls",
    {
      config: { roles: STAFF },
      schema: { tags: ["roll-call"], params: IdParams, response: { 200: Type.Array(RollCallSchema) } },
    },
    async (req) => store.listRollCalls(req.params.id, 50),
  );

  const find = async (id: string) => {
    const rc = await store.getRollCall(id);
    if (!rc) throw new InputError("id", `no roll-call ${id}`, 404);
    return rc;
  };

  app.get<{ Params: { id: string } }>(
    "/api/v1/rollcalls/:id",
    {
      config: { roles: STAFF },
      schema: { tags: ["roll-call"], params: RollCallParams, response: { 200: RollCallSchema } },
    },
    async (req) => find(req.params.id),
  );

  app.post<{ Params: { id: string }; Body: { engineerId: string; status: "safe" | "missing" | "unknown" } }>(
    "/api/v1/rollcalls/:id/marks",
    {
      config: { roles: ["admin", "supervisor"] },
      schema: {
        tags: ["roll-call"],
        description: "Mark a person safe or missing (someone found who was not on the list is added)",
        params: RollCallParams,
        body: Type.Object(
          {
            engineerId: EntityId,
            status: Type.Union([Type.Literal("safe"), Type.Literal("missing"), Type.Literal("unknown")]),
          },
          { additionalProperties: false },
        ),
        response: { 200: RollCallSchema },
      },
    },
    async (req) => {
      const rc = await find(req.params.id);
      if (rc.endedAt !== null) throw new InputError("id", "this roll-call has ended", 409);
      let p = rc.people.find((x) => x.engineerId === req.body.engineerId);
      if (!p) {
        const e = await store.getEngineer(req.body.engineerId);
        if (!e) throw new InputError("engineerId", `no engineer ${req.body.engineerId}`, 404);
        p = {
          engineerId: e.id,
          name: e.name,
          company: e.company,
          evidence: [],
          visitId: null,
          status: "unknown",
          markedBy: null,
          markedAt: null,
        };
        rc.people.push(p);
      }
      p.status = req.body.status;
      p.markedBy = req.principal?.name ?? "api";
      p.markedAt = clock.now();
      await store.putRollCall(rc);
      return rc;
    },
  );

  app.post<{ Params: { id: string } }>(
    "/api/v1/rollcalls/:id/end",
    {
      config: { roles: ["admin", "supervisor"] },
      schema: { tags: ["roll-call"], params: RollCallParams, response: { 200: RollCallSchema } },
    },
    async (req) => {
      const rc = await find(req.params.id);
      if (rc.endedAt === null) {
        rc.endedAt = clock.now();
        await store.putRollCall(rc);
      }
      return rc;
    },
  );

  app.get<{ Params: { id: string }; Querystring: { lang?: "zh-CN" | "en" } }>(
    "/api/v1/rollcalls/:id/print",
    {
      config: { roles: STAFF, queryToken: true },
      schema: {
        tags: ["roll-call"],
        description: "The roll-call's result as a printable page",
        params: RollCallParams,
        querystring: Type.Object(
          {
            lang: Type.Optional(Type.Union([Type.Literal("zh-CN"), Type.Literal("en")])),
            access_token: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const rc = await find(req.params.id);
      const site = await store.getSite(rc.siteId);
      const zone = site?.timeZone ?? "UTC";
      const zh = req.query.lang === "zh-CN";
      const t = (ms: number | null) =>
        ms === null ? "—" : toSiteIso(ms, zone).replace("T", " ").slice(0, 19);
      const status = (s: string) =>
        zh ? (({ safe: "安全", missing: "失踪", unknown: "未确认" } as Record<string, string>)[s] ?? s) : s;
      const rows = rc.people
        .map(
          (p) =>
            `<tr class="${p.status}"><td>${esc(p.name)}</td><td>${esc(p.company)}</td><td>${esc(p.evidence.join(", "))}</td><td><b>${esc(status(p.status))}</b></td><td>${esc(p.markedBy ?? "")} ${t(p.markedAt)}</td></tr>`,
        )
        .join("");
      const count = (s: string) => rc.people.filter((p) => p.status === s).length;
      const html = `<!doctype html><html lang="${zh ? "zh-CN" : "en"}"><meta charset="utf-8"><title>${esc(site?.name ?? rc.siteId)}</title>
<style>body{font:12pt/1.4 system-ui,"Noto Sans CJK SC",sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3em .5em;text-align:left}
tr.missing td{background:#fdd}tr.unknown td{background:#ffd}@page{size:A4;margin:15mm}</style>
<h1>${zh ? (rc.kind === "evacuation" ? "疏散点名" : "点名演练") : rc.kind === "evacuation" ? "Evacuation roll-call" : "Roll-call drill"} — ${esc(site?.name ?? rc.siteId)}</h1>
<p>${zh ? "开始" : "Started"}: ${t(rc.startedAt)} (${esc(zone)}) · ${esc(rc.startedBy)} · ${zh ? "结束" : "Ended"}: ${t(rc.endedAt)}</p>
<p>${zh ? "安全" : "Safe"} ${count("safe")} · ${zh ? "失踪" : "Missing"} ${count("missing")} · ${zh ? "未确认" : "Not yet accounted for"} ${count("unknown")}</p>
<table><tr><th>${zh ? "姓名" : "Name"}</th><th>${zh ? "公司" : "Company"}</th><th>${zh ? "依据" : "Known by"}</th><th>${zh ? "状态" : "Status"}</th><th>${zh ? "确认人" : "Marked by"}</th></tr>${rows}</table></html>`;
      return reply.type("text/html; charset=utf-8").send(html);
    },
  );
}
