/**
 * Reports over any range of days (each site's own days), per site and per engineer: the rows as JSON
 * (the dashboard's range view), CSV with a byte-order mark (Excel reads it as UTF-8) and XLSX.
 */
import type {} from "@fastify/swagger";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { DateTime } from "luxon";
import { VIOLATION_KINDS, VisitRowSchema, VisitStateSchema } from "../../../../protocol/api.js";
import { EntityId } from "../../../../protocol/index.js";
import { InputError } from "../../../admin/errors.js";
import { type ReportLang, reportCsv, reportRows, reportXlsx } from "../../../admin/report.js";
import type { HubContext } from "../../../context.js";
import type { Site, VisitPlan } from "../../../core/model.js";
import type { VisitSummary } from "../../../core/visit/types.js";
import { STAFF } from "../auth.js";

const IsoDay = Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$", description: "YYYY-MM-DD" });
export const ReportQuerySchema = Type.Object(
  {
    day: Type.Optional(
      Type.String({
        pattern: "^(?:\\d{4}-\\d{2}-\\d{2}|today)$",
        description: "one day, YYYY-MM-DD in each site's time zone, or today (each site's own today)",
      }),
    ),
    from: Type.Optional({ ...IsoDay, description: "first day of a range (each site's zone)" }),
    to: Type.Optional({ ...IsoDay, description: "last day of a range, inclusive (default: from)" }),
    site: Type.Optional(EntityId),
    engineer: Type.Optional(EntityId),
    state: Type.Optional(VisitStateSchema),
    violation: Type.Optional(Type.Union(VIOLATION_KINDS.map((k) => Type.Literal(k)))),
    lang: Type.Optional(
      Type.Union([Type.Literal("en"), Type.Literal("zh-CN")], { description: "XLSX titles" }),
    ),
  },
  { additionalProperties: false },
);
type ReportQuery = Static<typeof ReportQuerySchema>;

/** The longest range one report covers. */
const MAX_DAYS = 366;

/** The days a query covers in a site's zone, as [from, to) instants; null: every visit. */
export function rangeOf(q: ReportQuery, site: Site, now: number): { from: number; to: number } | null {
  if (q.day !== undefined && (q.from !== undefined || q.to !== undefined))
    throw new InputError("day", "give either day or from/to");
  if (q.to !== undefined && q.from === undefined) throw new InputError("from", "a range needs its first day");
  if (q.day === undefined && q.from === undefined) return null;
  const zone = site.timeZone;
  const day = (text: string, field: string) => {
    const d =
      text === "today"
        ? DateTime.fromMillis(now, { zone }).startOf("day")
        : DateTime.fromISO(text, { zone }).startOf("day");
    if (!d.isValid) throw new InputError(field, `not a date: ${text}`);
    return d;
  };
  const first = day(q.day ?? q.from ?? "", q.day !== undefined ? "day" : "from");
  const last = q.to !== undefined ? day(q.to, "to") : first;
  if (last < first) throw new InputError("to", "the range ends before it starts");
  if (last.diff(first, "days").days >= MAX_DAYS) throw new InputError("to", `at most ${MAX_DAYS} days`);
  return { from: first.toMillis(), to: last.plus({ days: 1 }).toMillis() };
}

export function reportRoutes(app: FastifyInstance, ctx: HubContext): void {
  const { store, clock } = ctx;

  const summaryOf = async (plan: VisitPlan): Promise<VisitSummary> => {
    const summary = await ctx.visits.summary(plan);
    if (!summary) throw new InputError("id", `visit ${plan.id} refers to a missing site or engineer`, 404);
    return summary;
  };

  /** The visits a query selects, by window start, with their summaries. */
  const select = async (q: ReportQuery) => {
    const sites = q.site
      ? [await store.getSite(q.site)].filter((s): s is Site => s !== undefined)
      : await store.listSites();
    if (q.site && sites.length === 0) throw new InputError("site", `no site ${q.site}`, 404);
    const plans: VisitPlan[] = [];
    for (const site of sites) {
      const range = rangeOf(q, site, clock.now());
      plans.push(
        ...(await store.listVisits({
          siteId: site.id,
          ...(q.engineer ? { engineerId: q.engineer } : {}),
          ...(range ?? {}),
        })),
      );
    }
    plans.sort((a, b) => a.window.from - b.window.from || a.id.localeCompare(b.id));
    const out: Array<{ plan: VisitPlan; view: VisitSummary }> = [];
    for (const plan of plans) {
      const view = await summaryOf(plan);
      if (q.state && view.state !== q.state) continue;
      if (q.violation && !view.violations.some((v) => v.kind === q.violation)) continue;
      out.push({ plan, view });
    }
    return out;
  };

  const rowsFor = async (q: ReportQuery) => {
    const selected = await select(q);
    const views = new Map(selected.map((s) => [s.plan.id, s.view]));
    return reportRows(
      selected.map((s) => s.plan),
      {
        site: (id) => store.getSite(id),
        engineer: (id) => store.getEngineer(id),
        view: async (p) => views.get(p.id) ?? summaryOf(p),
      },
    );
  };

  const fileName = (q: ReportQuery, ext: string) => {
    const span = q.day ?? (q.from ? (q.to && q.to !== q.from ? `${q.from}_${q.to}` : q.from) : "all");
    const who = [q.site, q.engineer].filter(Boolean).join("-");
    return `visits-${span}${who ? `-${who}` : ""}.${ext}`;
  };

  app.get<{ Querystring: ReportQuery }>(
    "/api/v1/reports/visits",
    {
      config: { roles: STAFF },
      schema: {
        tags: ["reports"],
        description: "Board rows over a day or a range of days, filtered by site, engineer, state, violation",
        querystring: ReportQuerySchema,
        response: { 200: Type.Array(VisitRowSchema) },
      },
    },
    async (req) => {
      const selected = await select(req.query);
      const acks = await store.alarmAcksOf(selected.map((s) => s.plan.id));
      const byVisit = new Map<string, number[]>();
      for (const a of acks) byVisit.set(a.visitId, [...(byVisit.get(a.visitId) ?? []), a.alarmAt]);
      return selected.map((s) => ({ ...s.view, alarmAcks: byVisit.get(s.plan.id) ?? [] }));
    },
  );

  app.get<{ Querystring: ReportQuery }>(
    "/api/v1/reports/visits.csv",
    {
      config: { roles: STAFF },
      schema: {
        tags: ["reports"],
        description: "CSV (UTF-8 with a byte-order mark), times in each site's zone",
        querystring: ReportQuerySchema,
      },
    },
    async (req, reply) =>
      reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="${fileName(req.query, "csv")}"`)
        .send(reportCsv(await rowsFor(req.query))),
  );

  app.get<{ Querystring: ReportQuery }>(
    "/api/v1/reports/visits.xlsx",
    {
      config: { roles: STAFF },
      schema: {
        tags: ["reports"],
        description: "XLSX: the visits (date cells in site wall time), a sheet per engineer and one per site",
        querystring: ReportQuerySchema,
      },
    },
    async (req, reply) => {
      const lang: ReportLang = req.query.lang ?? "en";
      return reply
        .type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .header("content-disposition", `attachment; filename="${fileName(req.query, "xlsx")}"`)
        .send(await reportXlsx(await rowsFor(req.query), lang));
    },
  );
}
