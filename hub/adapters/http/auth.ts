/** Bearer tokens with roles. The stream route also accepts `?access_token=` (EventSource sends no headers). */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiToken, Role, Store } from "../../core/ports.js";
import { tokenDigest } from "../../security/secrets.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: ApiToken;
  }
  interface FastifyContextConfig {
    roles?: Role[];
    queryToken?: boolean;
  }
}

export const STAFF: Role[] = ["admin", "dispatcher", "supervisor"];

export function authHook(store: Store, onRefused: (reason: string, req: FastifyRequest) => void) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const roles = req.routeOptions.config.roles;
    if (!roles) return;
    const header = req.headers.authorization;
    let token = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
    if (!token && req.routeOptions.config.queryToken) {
      const q = (req.query as Record<string, unknown> | undefined)?.access_token;
      if (typeof q === "string") token = q;
    }
    if (!token) {
      onRefused("missing_token", req);
      await reply
        .code(401)
        .header("www-authenticate", "Bearer")
        .send({ error: "unauthorized", message: "a bearer token is required" });
      return reply;
    }
    const record = await store.findToken(tokenDigest(token));
    if (!record || record.revokedAt !== null) {
      onRefused("bad_token", req);
      await reply
        .code(401)
        .header("www-authenticate", "Bearer")
        .send({ error: "unauthorized", message: "unknown or revoked token" });
      return reply;
    }
    if (!roles.includes(record.role)) {
      onRefused("forbidden", req);
      await reply
        .code(403)
        .send({ error: "forbidden", message: `role ${record.role} may not use this endpoint` });
      return reply;
    }
    req.principal = record;
  };
}
