/** Who a token's bearer is: the dashboard shows the name and offers what the role may do. */
import type {} from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { WhoAmISchema } from "../../../../protocol/api.js";

export function sessionRoutes(app: FastifyInstance): void {
  app.get(
    "/api/v1/me",
    {
      config: { roles: ["admin", "dispatcher", "supervisor", "kiosk"] },
      schema: {
        tags: ["tokens"],
        description: "The role, name and site of this token",
        response: { 200: WhoAmISchema },
      },
    },
    async (req) => ({
      role: req.principal?.role ?? "supervisor",
      name: req.principal?.name ?? "",
      siteId: req.principal?.siteId ?? null,
    }),
  );
}
