/** Visits (create, list, get, change, CSV import), alarm acknowledgement. Reports: reports.ts. */
import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { DateTime } from "luxon";
import {
  VisitChangeSchema,
  VisitDetailSchema,
  VisitPlanSchema,
  VisitRowSchema,
  VisitStateSchema,
} from "../../../../protocol/api.js";
import { EntityId } from "../../../../protocol/index.js";
import { acknowledgeAlarms } from "../../../admin/alarms.js";
import {
  type ChangeVisit,
  ChangeVisitSchema,
  type CreateVisit,
  CreateVisitSchema,
  changedVisit,
  createVisit,
  importVisitsCsv,
} from "../../../admin/catalog.js";
import { InputError } from "../../../admin/errors.js";
import type { HubContext } from "../../../context.js";
import type { Site, VisitPlan } from "../../../core/model.js";
import type { VisitChangeKind } from "../../../core/ports.js";
import { toSiteIso } from "../../../core/time.js";
import type { VisitSummary, VisitView } from "../../../core/visit/types.js";
import { STAFF } from "../auth.js";

const IdParams = Type.Object({ id: EntityId });
const VisitQuerySchema = Type.Object(
  {
    /** YYYY-MM-DD in each site's time zone, or `today`: each site's own current day. */
    day: Type.Optional(
      Type.String({
        pattern: "^(?:\\d{4}-\\d{2}-\\d{2}|today)$",
        description: "YYYY-MM-DD in each site's time zone, or today (each site's own today)",
      }),
    ),
    site: Type.Optional(EntityId),
    engineer: Type.Optional(EntityId),
    state: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

/** What staff may record for a visit through the API. */
const OPERATOR_EVENTS = [
  "late_notice",
  "kit_checked",
  "completion_submitted",
  "arrival",
  "departure",
  "sos",
] as const;

/** A visit after a change: its plan, state and audit trail. */
const ChangedVisitSchema = Type.Composite([
  VisitPlanSchema,
  Type.Object({ state: VisitStateSchema, history: Type.Array(VisitChangeSchema) }),
]);

type VisitQuery = { day?: string; site?: string; engineer?: string; state?: string };

export function catalogRoutes(app: FastifyInstance, ctx: HubContext): void {
  const { store, clock } = ctx;

  const missing = (plan: VisitPlan) =>
    new InputError("id", `visit ${plan.id} refers to a missing site or engineer`, 404);
  const currentView = async (plan: VisitPlan): Promise<VisitView> => {
    const view = await ctx.visits.view(plan);
    if (!view) throw missing(plan);
    return view;
  };
  const currentSummary = async (plan: VisitPlan): Promise<VisitSummary> => {
    const summary = await ctx.visits.summary(plan);
    if (!summary) throw missing(plan);
    return summary;
  };

  const findVisits = async (q: VisitQuery): Promise<VisitPlan[]> => {
    const sites = q.site
      ? [await store.getSite(q.site)].filter((s): s is Site => s !== undefined)
      : await store.listSites();
    if (q.site && sites.length === 0) throw new InputError("site", `no site ${q.site}`, 404);
    const out: VisitPlan[] = [];
    for (const site of sites) {
      let range = {};
      if (q.day) {
        const start =
          q.day === "today"
            ? DateTime.fromMillis(clock.now(), { zone: site.timeZone }).startOf("day")
            : DateTime.fromISO(q.day, { zone: site.timeZone });
        if (!start.isValid) throw new InputError("day", `not a date: ${q.day}`);
        range = { from: start.toMillis(), to: start.plus({ days: 1 }).toMillis() };
      }
      out.push(
        ...(await store.listVisits({
          siteId: site.id,
          ...(q.engineer ? { engineerId: q.engineer } : {}),
          ...range,
        })),
      );
    }
    return out.sort((a, b) => a.window.from - b.window.from || a.id.localeCompare(b.id));
  };

  app.post<{ Body: CreateVisit }>(
    "/api/v1/visits",
    {
      config: { roles: ["admin", "dispatcher"] },
      schema: {
        tags: ["visits"],
        body: CreateVisitSchema,
        response: { 201: Type.Composite([VisitPlanSchema, Type.Object({ state: VisitStateSchema })]) },
      },
    },
    async (req, reply) => {
      const plan = await createVisit(store, req.body, clock.now(), req.principal?.name);
      ctx.bus.emit("plans.changed", { plans: [plan] });
      const view = await currentSummary(plan);
      return reply.code(201).send({ ...plan, state: view.state });
    },
  );

  app.get<{ Querystring: VisitQuery }>(
    "/api/v1/visits",
    {
      config: { roles: STAFF },
      schema: {
        tags: ["visits"],
        querystring: VisitQuerySchema,
        response: { 200: Type.Array(VisitRowSchema) },
      },
    },
    async (req) => {
      const plans = await findVisits(req.query);
      const rows = [];
      for (const plan of plans) {
        const summary = await currentSummary(plan);
        if (req.query.state && summary.state !== req.query.state) continue;
        rows.push({ ...summary, alarmAcks: (await store.alarmAcks(plan.id)).map((a) => a.alarmAt) });
      }
      return rows;
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/v1/visits/:id",
    {
      config: { roles: STAFF },
      schema: { tags: ["visits"], params: IdParams, response: { 200: VisitDetailSchema } },
    },
    async (req) => {
      const plan = await store.getVisit(req.params.id);
      if (!plan) throw new InputError("id", `no visit ${req.params.id}`, 404);
      const [site, engineer] = [await store.getSite(plan.siteId), await store.getEngineer(plan.engineerId)];
      const view = await currentView(plan);
      const zone = site?.timeZone ?? "UTC";
      return {
        ...view,
        timeZone: zone,
        windowLocal: { from: toSiteIso(plan.window.from, zone), to: toSiteIso(plan.window.to, zone) },
        engineer: engineer ? { id: engineer.id, name: engineer.name, company: engineer.company } : null,
        site: site ? { id: site.id, name: site.name } : null,
        alarmAcks: await store.alarmAcks(plan.id),
        history: await store.visitChanges(plan.id),
      };
    },
  );

  const change = async (
    req: { principal?: { name: string } | undefined },
    before: VisitPlan,
    after: VisitPlan,
    kind: VisitChangeKind,
    note?: string,
  ) => {
    await store.updateVisit(after, {
      at: clock.now(),
      by: req.principal?.name ?? "api",
      kind,
      ...(note === undefined ? {} : { note }),
    });
    // Attribution and verdicts follow the new plan; both windows are swept again.
    ctx.bus.emit("plans.changed", { plans: [before, after] });
    await ctx.ingest.settle();
    return {
      ...after,
      state: (await currentSummary(after)).state,
      history: await store.visitChanges(after.id),
    };
  };

  app.patch<{ Params: { id: string }; Body: ChangeVisit }>(
    "/api/v1/visits/:id",
    {
      config: { roles: ["admin", "dispatcher"] },
      schema: {
        tags: ["visits"],
        description:
          "Reschedule (a new window, site wall time) or reassign (engineer, site; not once arrived); kept in the audit trail",
        params: IdParams,
        body: ChangeVisitSchema,
        response: { 200: ChangedVisitSchema },
      },
    },
    async (req) => {
      const plan = await store.getVisit(req.params.id);
      if (!plan) throw new InputError("id", `no visit ${req.params.id}`, 404);
      const arrived = (await currentSummary(plan)).arrival !== null;
      const next = await changedVisit(store, plan, req.body, arrived);
      return change(req, plan, next.plan, next.kind, req.body.note);
    },
  );

  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    "/api/v1/visits/:id/cancel",
    {
      config: { roles: ["admin", "dispatcher"] },
      schema: {
        tags: ["visits"],
        description:
          "Cancel: from now on nothing is routed to it and no deadline runs; kept in the audit trail",
        params: IdParams,
        body: Type.Object(
          { reason: Type.String({ minLength: 1, maxLength: 500 }) },
          { additionalProperties: false },
        ),
        response: { 200: ChangedVisitSchema },
      },
    },
    async (req) => {
      const plan = await store.getVisit(req.params.id);
      if (!plan) throw new InputError("id", `no visit ${req.params.id}`, 404);
      if (plan.cancelledAt !== undefined)
        throw new InputError("id", `visit ${plan.id} is cancelled already`, 409);
      const after = { ...plan, cancelledAt: clock.now(), cancelReason: req.body.reason };
      return change(req, plan, after, "cancelled", req.body.reason);
    },
  );

  app.post<{ Params: { id: string }; Body: { note?: string } }>(
    "/api/v1/visits/:id/restore",
    {
      config: { roles: ["admin", "dispatcher"] },
      schema: {
        tags: ["visits"],
        description: "Undo a cancellation; kept in the audit trail",
        params: IdParams,
        body: Type.Object(
          { note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) },
          { additionalProperties: false },
        ),
        response: { 200: ChangedVisitSchema },
      },
    },
    async (req) => {
      const plan = await store.getVisit(req.params.id);
      if (!plan) throw new InputError("id", `no visit ${req.params.id}`, 404);
      if (plan.cancelledAt === undefined)
        throw new InputError("id", `visit ${plan.id} is not cancelled`, 409);
      const { cancelledAt: _c, cancelReason: _r, ...after } = plan;
      return change(req, plan, after, "restored", req.body.note);
    },
  );

  app.post<{ Body: string }>(
    "/api/v1/visits/import",
    {
      config: { roles: ["admin", "dispatcher"] },
      schema: {
        tags: ["visits"],
        description: "CSV with header id,site_id,engineer_id,date,from,to (site wall time)",
        consumes: ["text/csv"],
      },
    },
    async (req) => {
      const result = await importVisitsCsv(store, req.body, clock.now(), req.principal?.name);
      const imported = await Promise.all(result.imported.map((id) => store.getVisit(id)));
      ctx.bus.emit("plans.changed", { plans: imported.filter((p): p is VisitPlan => p !== undefined) });
      for (const e of result.errors) {
        ctx.ingest.reject({
          boundary: "csv",
          code: "invalid",
          message: `line ${e.line}: ${e.message}`,
          field: e.field,
        });
      }
      return result;
    },
  );

  app.post<{ Params: { id: string }; Body: Record<string, unknown> & { type: string } }>(
    "/api/v1/visits/:id/events",
    {
      config: { roles: ["admin", "dispatcher"] },
      schema: {
        tags: ["visits"],
        description:
          "Record an event for a visit on someone's behalf: a late notice taken by phone, the engineer's service report from the app, a manual arrival or departure. Customer confirmations come only from the site's kiosk.",
        params: IdParams,
        body: Type.Object(
          { type: Type.Union(OPERATOR_EVENTS.map((t) => Type.Literal(t))) },
          { additionalProperties: true },
        ),
      },
    },
    async (req, reply) => {
      const plan = await store.getVisit(req.params.id);
      if (!plan) throw new InputError("id", `no visit ${req.params.id}`, 404);
      const outcome = await ctx.ingest.submitOperatorEvent(req.body, req.principal?.name ?? "api", plan.id);
      if (outcome.status === "rejected") {
        return reply
          .code(400)
          .send({ error: "bad_request", field: outcome.field ?? "body", message: outcome.message });
      }
      await ctx.ingest.settle();
      return reply.code(201).send(outcome);
    },
  );

  app.post<{ Params: { id: string }; Body: { alarmAt: number; note?: string } }>(
    "/api/v1/visits/:id/alarms/ack",
    {
      config: { roles: ["admin", "supervisor"] },
      schema: {
        tags: ["visits"],
        params: IdParams,
        body: Type.Object(
          {
            alarmAt: Type.Integer({ minimum: 0 }),
            /** What the supervisor did about it (kept with the acknowledgement, and told to those who asked). */
            note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      await acknowledgeAlarms(
        ctx,
        [{ visitId: req.params.id, alarmAt: req.body.alarmAt }],
        req.principal?.name ?? "unknown",
        req.body.note,
        (_, key) => (key === "visitId" ? "id" : key),
      );
      return { acknowledged: true };
    },
  );
}
