/**
 * The customer kiosk screen's API (`kiosk` role, bound to one site). It sees only the visit in
 * front of it — the engineer's name, company and arrival result, the step the customer is asked
 * for — and records the customer's confirmations as that site's kiosk.
 */
import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type KioskState, KioskStateSchema } from "../../../../protocol/api.js";
import { CLEANUP_ITEMS, EntityId } from "../../../../protocol/index.js";
import { InputError } from "../../../admin/errors.js";
import type { HubContext } from "../../../context.js";
import { kioskStep } from "../../../core/service/kiosk-prompts.js";
import type { VisitSummary } from "../../../core/visit/types.js";

const DAY = 86_400_000;

export function kioskRoutes(app: FastifyInstance, ctx: HubContext): void {
  const siteOf = (req: FastifyRequest<{ Params: { site: string } }>) => {
    if (req.principal?.siteId !== req.params.site)
      throw new InputError("site", "this kiosk token belongs to another site", 404);
    return req.params.site;
  };

  /** The visit the customer deals with now: the engineer on site who arrived last (or left just now). */
  const current = async (siteId: string) => {
    const now = ctx.clock.now();
    const plans = await ctx.store.listVisits({ siteId, from: now - DAY, to: now + DAY });
    let best: { view: VisitSummary; engineerId: string } | undefined;
    for (const plan of plans) {
      const view = await ctx.visits.summary(plan);
      if (!view?.arrival) continue;
      if (view.departure && now - view.departure.at > 60_000) continue;
      if (!best || view.arrival.at > (best.view.arrival?.at ?? 0))
        best = { view, engineerId: plan.engineerId };
    }
    return best;
  };

  app.get<{ Params: { site: string } }>(
    "/api/v1/kiosk/:site/state",
    {
      config: { roles: ["kiosk"] },
      schema: {
        tags: ["kiosk"],
        params: Type.Object({ site: EntityId }),
        response: { 200: KioskStateSchema },
      },
    },
    async (req): Promise<KioskState> => {
      const siteId = siteOf(req);
      const site = await ctx.store.getSite(siteId);
      const cur = await current(siteId);
      if (!cur) return { site: { id: siteId, name: site?.name ?? siteId }, step: kioskStep(undefined) };
      const engineer = await ctx.store.getEngineer(cur.engineerId);
      const v = cur.view;
      const name = engineer?.name ?? "";
      return {
        site: { id: siteId, name: site?.name ?? siteId },
        step: kioskStep(v),
        visit: v.visitId,
        engineer: {
          id: cur.engineerId,
          name,
          company: engineer?.company ?? "",
          initials: name
            .split(/\s+/)
            .map((w) => w[0] ?? "")
            .join("")
            .slice(0, 3)
            .toUpperCase(),
        },
        arrival: v.arrival ? v.arrival.verdict : null,
        cleanup: { required: v.cleanup.required, signed: v.cleanup.signed },
        report: v.report
          ? {
              cause: v.report.cause,
              workDone: v.report.workDone,
              advice: v.report.advice,
              parts: v.report.parts,
            }
          : null,
      };
    },
  );

  app.post<{ Params: { site: string }; Body: Record<string, unknown> & { type: string; visit: string } }>(
    "/api/v1/kiosk/:site/events",
    {
      config: { roles: ["kiosk"] },
      schema: {
        tags: ["kiosk"],
        params: Type.Object({ site: EntityId }),
        body: Type.Union([
          Type.Object(
            {
              type: Type.Literal("checkin_confirmed"),
              visit: EntityId,
              engineer: EntityId,
              consent: Type.Boolean(),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: Type.Literal("completion_confirmed"),
              visit: EntityId,
              resolved: Type.Boolean(),
              rating: Type.Integer({ minimum: 1, maximum: 5 }),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: Type.Literal("cleanup_signed_off"),
              visit: EntityId,
              items: Type.Array(Type.Union(CLEANUP_ITEMS.map((i) => Type.Literal(i))), { minItems: 1 }),
            },
            { additionalProperties: false },
          ),
        ]),
      },
    },
    async (req, reply) => {
      const siteId = siteOf(req);
      const plan = await ctx.store.getVisit(req.body.visit);
      if (!plan || plan.siteId !== siteId) throw new InputError("visit", "no such visit at this site", 404);
      const { visit, ...body } = req.body;
      const outcome = await ctx.ingest.submitOperatorEvent(body, `web-kiosk-${siteId}`, visit, {
        kind: "kiosk",
        siteId,
      });
      if (outcome.status === "rejected")
        return reply
          .code(400)
          .send({ error: "bad_request", field: outcome.field ?? "body", message: outcome.message });
      await ctx.ingest.settle();
      return reply.code(201).send(outcome);
    },
  );
}
