/**
 * The HTTP adapter (fastify): the API under /api/v1 (OpenAPI at /docs), /healthz, /metrics and MQTT
 * over WebSocket at /mqtt. Every body is validated against its schema; a refusal names the field.
 */
import { createServer as createHttpsServer } from "node:https";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerFactory } from "fastify";
import { createWebSocketStream } from "ws";
import { InputError } from "../../admin/errors.js";
import type { HubContext } from "../../context.js";
import type { MqttBroker } from "../mqtt/broker.js";
import { authHook } from "./auth.js";
import { catalogRoutes } from "./routes/catalog.js";
import { deviceRoutes } from "./routes/devices.js";
import { kioskRoutes } from "./routes/kiosk.js";
import { presenceRoutes } from "./routes/presence.js";
import { streamRoutes } from "./routes/stream.js";
import { webRoutes } from "./web.js";

export interface HttpServer {
  app: FastifyInstance;
  close(): Promise<void>;
}

export interface HttpOptions {
  /** The hub's certificate and key: HTTPS, and MQTT over WebSocket over TLS (wss) at /mqtt. */
  tls?: { cert: Buffer; key: Buffer };
}

export async function createHttpServer(
  ctx: HubContext,
  broker: MqttBroker,
  opts: HttpOptions = {},
): Promise<HttpServer> {
  const { tls } = opts;
  // HTTPS through a server factory: the instance keeps the HTTP/1.1 types every route is written for.
  const serverFactory: FastifyServerFactory | undefined = tls
    ? (handler) => createHttpsServer({ cert: tls.cert, key: tls.key }, handler)
    : undefined;
  const app = Fastify({
    ...(serverFactory ? { serverFactory } : {}),
    logger: false,
    bodyLimit: 1_048_576,
    ajv: { customOptions: { allErrors: false, removeAdditional: false } },
  });
  const refused = (reason: string, status: number, field?: string) => {
    ctx.metrics.inc("onsite_http_refused_total", "HTTP requests refused", { reason, status: String(status) });
    if (field !== undefined)
      ctx.bus.emit("input.rejected", { boundary: "http", code: "invalid", message: reason, field });
  };

  await app.register(swagger, {
    openapi: {
      info: { title: "onsite hub API", version: "1" },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  await app.register(websocket, { options: { maxPayload: 1_048_576 } });

  app.addContentTypeParser(
    ["text/csv", "text/plain"],
    { parseAs: "string", bodyLimit: 5_242_880 },
    (_req, body, done) => done(null, body),
  );
  app.addHook(
    "onRequest",
    authHook(ctx.store, (reason, req) => {
      refused(reason, reason === "forbidden" ? 403 : 401);
      ctx.log.warn({ url: req.url.split("?")[0], reason }, "http request refused");
    }),
  );

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      const v = err.validation[0];
      const field =
        `${err.validationContext ?? "body"}${v?.instancePath ?? ""}`.replaceAll("/", ".") || "body";
      const extra =
        v?.params && "additionalProperty" in v.params ? `: ${String(v.params.additionalProperty)}` : "";
      const message = `${field}: ${v?.message ?? "invalid"}${extra}`;
      refused("validation", 400, field);
      ctx.log.warn({ url: req.url.split("?")[0], message }, "http body refused");
      return reply.code(400).send({ error: "bad_request", field, message });
    }
    if (err instanceof InputError) {
      refused("invalid", err.status, err.field);
      return reply.code(err.status).send({
        error: err.status === 404 ? "not_found" : err.status === 409 ? "conflict" : "bad_request",
        field: err.field,
        message: err.message,
      });
    }
    if (err.statusCode && err.statusCode < 500) {
      refused(err.code ?? "client_error", err.statusCode);
      return reply.code(err.statusCode).send({ error: "bad_request", message: err.message });
    }
    ctx.log.error({ err, url: req.url }, "http handler failed");
    return reply.code(500).send({ error: "internal", message: "internal error" });
  });

  app.get("/healthz", { schema: { tags: ["ops"] } }, async (_req, reply) => {
    const parts = Object.fromEntries(ctx.health);
    const ok = [...ctx.health.values()].every((h) => h.ok);
    return reply.code(ok ? 200 : 503).send({
      status: ok ? "ok" : "degraded",
      uptimeS: Math.round((ctx.clock.now() - ctx.startedAt) / 1000),
      mqtt: { clients: broker.aedes.connectedClients },
      events: await ctx.store.countEvents(),
      parts,
    });
  });
  app.get("/metrics", { schema: { tags: ["ops"] } }, async (_req, reply) =>
    reply.type("text/plain; version=0.0.4").send(ctx.metrics.render()),
  );
  app.get("/mqtt", { websocket: true, schema: { hide: true } }, (socket) => {
    broker.handle(createWebSocketStream(socket));
  });

  catalogRoutes(app, ctx);
  deviceRoutes(app, ctx);
  kioskRoutes(app, ctx);
  presenceRoutes(app, ctx);
  await webRoutes(app);
  const stopStream = streamRoutes(app, ctx);

  return {
    app,
    async close() {
      stopStream();
      await app.close();
    },
  };
}
