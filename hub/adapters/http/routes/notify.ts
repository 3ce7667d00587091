/**
 * Telling people: webhooks (register, list, delete), the notifications the outbox holds (pending,
 * delivered, failed, with the last error), and each device's health (online, stale, offline).
 */
import { randomUUID } from "node:crypto";
import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import {
  DeviceHealthSchema,
  NotificationSchema,
  type Webhook,
  type WebhookCreate,
  WebhookCreateSchema,
  WebhookSchema,
} from "../../../../protocol/api.js";
import { EntityId } from "../../../../protocol/index.js";
import { InputError } from "../../../admin/errors.js";
import type { HubContext } from "../../../context.js";
import type { OutboxItem } from "../../../core/notify/plan.js";
import type { StoredWebhook } from "../../../core/ports.js";
import { healthOf } from "../../../notify/notifier.js";
import { STAFF } from "../auth.js";

const publicWebhook = (w: StoredWebhook): Webhook => ({
  id: w.id,
  url: w.url,
  events: w.events,
  siteId: w.siteId,
  createdAt: w.createdAt,
});

const publicNotification = ({ key: _k, body: _b, ...n }: OutboxItem) => n;

export function notifyRoutes(app: FastifyInstance, ctx: HubContext): void {
  const { store, clock } = ctx;

  app.post<{ Body: WebhookCreate }>(
    "/api/v1/webhooks",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["notifications"],
        description:
          "Register a webhook: each delivery is a signed JSON POST (x-onsite-signature: sha256=<hex HMAC-SHA256 of the raw body>)",
        body: WebhookCreateSchema,
        response: { 201: WebhookSchema },
      },
    },
    async (req, reply) => {
      if (req.body.siteId && !(await store.getSite(req.body.siteId)))
        throw new InputError("siteId", `no site ${req.body.siteId}`, 404);
      const hook: StoredWebhook = {
        id: randomUUID(),
        url: req.body.url,
        events: req.body.events,
        sealedSecret: ctx.vault.seal(Buffer.from(req.body.secret, "utf8")),
        siteId: req.body.siteId ?? null,
        createdAt: clock.now(),
      };
      await store.putWebhook(hook);
      ctx.bus.emit("webhooks.changed", {});
      return reply.code(201).send(publicWebhook(hook));
    },
  );
  app.get(
    "/api/v1/webhooks",
    {
      config: { roles: ["admin"] },
      schema: { tags: ["notifications"], response: { 200: Type.Array(WebhookSchema) } },
    },
    async () => (await store.listWebhooks()).map(publicWebhook),
  );
  app.delete<{ Params: { id: string } }>(
    "/api/v1/webhooks/:id",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["notifications"],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      if (!(await store.deleteWebhook(req.params.id)))
        throw new InputError("id", `no webhook ${req.params.id}`, 404);
      ctx.bus.emit("webhooks.changed", {});
      return reply.code(204).send();
    },
  );

  app.get<{
    Querystring: {
      status?: "pending" | "delivered" | "failed";
      visit?: string;
      site?: string;
      limit?: number;
    };
  }>(
    "/api/v1/notifications",
    {
      config: { roles: STAFF },
      schema: {
        tags: ["notifications"],
        description:
          "The outbox, newest first: what was sent to whom, through which channel, and how it went",
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("failed")]),
            ),
            visit: Type.Optional(EntityId),
            site: Type.Optional(EntityId),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(NotificationSchema) },
      },
    },
    async (req) =>
      (
        await store.listOutbox({
          ...(req.query.status ? { status: req.query.status } : {}),
          ...(req.query.visit ? { visitId: req.query.visit } : {}),
          ...(req.query.site ? { siteId: req.query.site } : {}),
          ...(req.query.limit ? { limit: req.query.limit } : {}),
        })
      ).map(publicNotification),
  );

  app.get(
    "/api/v1/devices/health",
    {
      config: { roles: STAFF },
      schema: {
        tags: ["devices"],
        description:
          "Each device online, stale or offline (timeouts per kind), when it was last heard, a badge's battery",
        response: { 200: Type.Array(DeviceHealthSchema) },
      },
    },
    async () => {
      const now = clock.now();
      return (await store.listDevices())
        .filter((d) => d.revokedAt === null && d.kind !== "operator")
        .map((d) => ({
          id: d.id,
          kind: d.kind as "badge" | "kiosk" | "gateway",
          siteId: d.siteId,
          engineerId: d.engineerId,
          health: healthOf(d, ctx.connected(d.id), now),
          lastSeenAt: d.lastSeenAt,
          battery: d.battery,
        }));
    },
  );
}
