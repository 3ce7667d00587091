/** Device provisioning and revocation; API tokens. Secrets appear once, in the creating response. */
import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import {
  CreatedTokenSchema,
  ProvisionedDeviceSchema,
  PublicDeviceSchema,
  PublicTokenSchema,
} from "../../../../protocol/api.js";
import { DeviceId, EntityId } from "../../../../protocol/index.js";
import { InputError } from "../../../admin/errors.js";
import {
  type ProvisionRequest,
  ProvisionRequestSchema,
  publicDevice,
  publicToken,
} from "../../../admin/provisioning.js";
import type { HubContext } from "../../../context.js";
import type { Role } from "../../../core/ports.js";

export function deviceRoutes(app: FastifyInstance, ctx: HubContext): void {
  app.get(
    "/api/v1/devices",
    {
      config: { roles: ["admin"] },
      schema: { tags: ["devices"], response: { 200: Type.Array(PublicDeviceSchema) } },
    },
    async () => (await ctx.store.listDevices()).map(publicDevice),
  );

  app.post<{ Body: ProvisionRequest }>(
    "/api/v1/devices",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["devices"],
        body: ProvisionRequestSchema,
        response: { 201: ProvisionedDeviceSchema },
      },
    },
    async (req, reply) => {
      const p = await ctx.provisioning.provision(req.body);
      const mqtt = {
        host: ctx.config.mqtt.host,
        port: ctx.config.mqtt.port,
        username: p.device.id,
        clientId: p.device.id,
      };
      return reply
        .code(201)
        .header("cache-control", "no-store")
        .send({
          device: publicDevice(p.device),
          mqtt,
          password: p.password,
          ...(p.key ? { key: p.key } : {}),
        });
    },
  );

  app.post<{ Params: { id: string } }>(
    "/api/v1/devices/:id/revoke",
    { config: { roles: ["admin"] }, schema: { tags: ["devices"], params: Type.Object({ id: DeviceId }) } },
    async (req) => publicDevice(await ctx.provisioning.revoke(req.params.id)),
  );

  app.post<{ Body: { role: Role; name: string; siteId?: string } }>(
    "/api/v1/tokens",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["tokens"],
        body: Type.Object(
          {
            role: Type.Union(["admin", "dispatcher", "supervisor", "kiosk"].map((r) => Type.Literal(r))),
            name: Type.String({ minLength: 1, maxLength: 100 }),
            siteId: Type.Optional(EntityId),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedTokenSchema },
      },
    },
    async (req, reply) => {
      if (req.body.role === "kiosk" && !req.body.siteId)
        throw new InputError("siteId", "a kiosk token is bound to a site");
      const { token, record } = await ctx.provisioning.createToken(
        req.body.role,
        req.body.name,
        req.body.siteId ?? null,
      );
      return reply
        .code(201)
        .header("cache-control", "no-store")
        .send({ token, ...publicToken(record) });
    },
  );

  app.get(
    "/api/v1/tokens",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["tokens"],
        description: "Every API token, newest first (no secrets)",
        response: { 200: Type.Array(PublicTokenSchema) },
      },
    },
    async () => ctx.provisioning.listTokens(),
  );

  const TokenParams = Type.Object(
    { id: Type.String({ pattern: "^[0-9a-f]{16}$" }) },
    { additionalProperties: false },
  );
  app.post<{ Params: { id: string } }>(
    "/api/v1/tokens/:id/revoke",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["tokens"],
        params: TokenParams,
        description: "Revoke: requests and live sessions with it stop at once",
      },
    },
    async (req) => ctx.provisioning.revokeToken(req.params.id),
  );
  app.post<{ Params: { id: string } }>(
    "/api/v1/tokens/:id/rotate",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["tokens"],
        params: TokenParams,
        description: "A new secret for the same role, name and site; the old one is revoked",
      },
    },
    async (req, reply) => {
      const { token, record } = await ctx.provisioning.rotateToken(req.params.id);
      return reply
        .code(201)
        .header("cache-control", "no-store")
        .send({ token, ...publicToken(record) });
    },
  );
}
