/**
 * Alarms in one list (SOS, departure without clean-up sign-off): open first, then the most severe,
 * then the newest; acknowledged several at once, with a note kept beside each acknowledgement.
 */
import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import {
  type Alarm,
  type AlarmAckRequest,
  AlarmAckRequestSchema,
  AlarmAckResultSchema,
  AlarmSchema,
  alarmOrder,
  alarmsOf,
} from "../../../../protocol/api.js";
import { EntityId } from "../../../../protocol/index.js";
import { acknowledgeAlarms } from "../../../admin/alarms.js";
import { InputError } from "../../../admin/errors.js";
import type { HubContext } from "../../../context.js";
import type { VisitSummary } from "../../../core/visit/types.js";

const DAY = 86_400_000;

const AlarmQuerySchema = Type.Object(
  {
    days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 90, description: "visits of the last N days (default 7)" }),
    ),
    visit: Type.Optional(EntityId),
    open: Type.Optional(Type.Boolean({ description: "only alarms not acknowledged yet" })),
  },
  { additionalProperties: false },
);

export function alarmRoutes(app: FastifyInstance, ctx: HubContext): void {
  const { store, clock } = ctx;

  const summaries = async (plans: Awaited<ReturnType<typeof store.listVisits>>) => {
    const out: VisitSummary[] = [];
    for (const p of plans) {
      const s = await ctx.visits.summary(p);
      if (s) out.push(s);
    }
    return out;
  };

  app.get<{ Querystring: { days?: number; visit?: string; open?: boolean } }>(
    "/api/v1/alarms",
    {
      config: { roles: ["admin", "dispatcher", "supervisor"] },
      schema: {
        tags: ["alarms"],
        description: "Alarms of recent visits: open first, then the most severe, then the newest",
        querystring: AlarmQuerySchema,
        response: { 200: Type.Array(AlarmSchema) },
      },
    },
    async (req) => {
      const now = clock.now();
      let plans: Awaited<ReturnType<typeof store.listVisits>>;
      if (req.query.visit) {
        const plan = await store.getVisit(req.query.visit);
        if (!plan) throw new InputError("visit", `no visit ${req.query.visit}`, 404);
        plans = [plan];
      } else {
        plans = await store.listVisits({ from: now - (req.query.days ?? 7) * DAY, to: now + DAY });
      }
      const raised = (await summaries(plans)).flatMap(alarmsOf);
      const acks = new Map(
        (await store.alarmAcksOf([...new Set(raised.map((a) => a.visitId))])).map((a) => [
          `${a.visitId}@${a.alarmAt}`,
          a,
        ]),
      );
      const alarms: Alarm[] = raised.map((a) => {
        const ack = acks.get(`${a.visitId}@${a.at}`);
        return { ...a, ack: ack ? { by: ack.by, at: ack.at, note: ack.note ?? null } : null };
      });
      return alarms.filter((a) => !req.query.open || a.ack === null).sort(alarmOrder);
    },
  );

  app.post<{ Body: AlarmAckRequest }>(
    "/api/v1/alarms/ack",
    {
      config: { roles: ["admin", "supervisor"] },
      schema: {
        tags: ["alarms"],
        description: "Acknowledge one or several alarms with one note; all or none",
        body: AlarmAckRequestSchema,
        response: { 200: AlarmAckResultSchema },
      },
    },
    async (req) => {
      const acks = await acknowledgeAlarms(
        ctx,
        req.body.alarms,
        req.principal?.name ?? "unknown",
        req.body.note,
      );
      return { acknowledged: acks.map((a) => ({ ...a, note: a.note ?? null })) };
    },
  );
}
