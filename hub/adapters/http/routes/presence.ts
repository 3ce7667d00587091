/** Presence: which badge was heard at which gateway, when, and how strongly (the raw evidence). */

import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { PresenceSchema } from "../../../../protocol/api.js";
import { DeviceId, EntityId } from "../../../../protocol/index.js";
import { InputError } from "../../../admin/errors.js";
import type { HubContext } from "../../../context.js";
import type { PresenceQuery, StoredPresence } from "../../../core/ports.js";
import { STAFF } from "../auth.js";

const PresenceQuerySchema = Type.Object(
  {
    site: Type.Optional(EntityId),
    badge: Type.Optional(DeviceId),
    open: Type.Optional(Type.Boolean()),
    from: Type.Optional(Type.Integer({ minimum: 0, description: "epoch ms" })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: "epoch ms" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
  },
  { additionalProperties: false },
);

/** Presence around a visit: from this long before its window opens… */
const BEFORE_MS = 2 * 3_600_000;
/** …to this long after it closes. */
const AFTER_MS = 6 * 3_600_000;

export function presenceRoutes(app: FastifyInstance, ctx: HubContext): void {
  app.get<{
    Querystring: {
      site?: string;
      badge?: string;
      open?: boolean;
      from?: number;
      to?: number;
      limit?: number;
    };
  }>(
    "/api/v1/presence",
    {
      config: { roles: STAFF },
      schema: {
        tags: ["presence"],
        description: "Presence sessions, newest first: arrival, last sighting, departure and the RSSI series",
        querystring: PresenceQuerySchema,
        response: { 200: Type.Array(PresenceSchema) },
      },
    },
    async (req) => {
      const q = req.query;
      const query: PresenceQuery = {
        ...(q.site === undefined ? {} : { siteId: q.site }),
        ...(q.badge === undefined ? {} : { badge: q.badge }),
        ...(q.open === undefined ? {} : { open: q.open }),
        ...(q.from === undefined ? {} : { from: q.from }),
        ...(q.to === undefined ? {} : { to: q.to }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
      };
      return live(ctx, await ctx.store.listPresence(query));
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/v1/visits/:id/presence",
    {
      config: { roles: STAFF },
      schema: {
        tags: ["presence", "visits"],
        description:
          "The engineer's badges heard at the visit's site around its window (evidence beside the events)",
        params: Type.Object({ id: EntityId }),
        response: { 200: Type.Array(PresenceSchema) },
      },
    },
    async (req) => {
      const plan = await ctx.store.getVisit(req.params.id);
      if (!plan) throw new InputError("id", `no visit ${req.params.id}`, 404);
      const badges = (await ctx.store.devicesOf({ engineerId: plan.engineerId })).filter(
        (d) => d.kind === "badge",
      );
      const from = plan.window.from - BEFORE_MS;
      const to = plan.window.to + AFTER_MS;
      const rows = (
        await Promise.all(
          badges.map((b) =>
            ctx.store.listPresence({ badge: b.id, siteId: plan.siteId, from, to, limit: 100 }),
          ),
        )
      ).flat();
      return live(
        ctx,
        rows.sort((a, b) => a.arrivedAt - b.arrivedAt),
      );
    },
  );
}

/** Stored rows, with open sessions' newest evidence from the tracker (stored only every few seconds). */
function live(ctx: HubContext, rows: StoredPresence[]): StoredPresence[] {
  const open = new Map(ctx.presence.tracker.present().map((s) => [s.id, s]));
  return rows.map((r) => {
    const s = r.departedAt === null ? open.get(r.id) : undefined;
    return s
      ? {
          ...r,
          lastHeardAt: s.lastHeardAt,
          sightings: s.sightings,
          rssi: [...s.rssi],
          lastFrame: s.lastFrame,
        }
      : r;
  });
}
