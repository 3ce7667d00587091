/**
 * The HTTP adapter (fastify): the API under /api/v1 (OpenAPI at /docs), /healthz, /metrics and MQTT
 * over WebSocket at /mqtt. Every body is validated against its schema; a refusal names the field.
 */
import { createServer as createHttpsServer } from "node:https";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import websocket from "@fastify/websocket";
import type { TSchema } from "@sinclair/typebox";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerFactory } from "fastify";
import { createWebSocketStream } from "ws";
import { HealthSchema } from "../../../protocol/api.js";
import { InputError } from "../../admin/errors.js";
import type { HubContext } from "../../context.js";
import type { MqttBroker } from "../mqtt/broker.js";
import { authHook } from "./auth.js";
import { alarmRoutes } from "./routes/alarms.js";
import { catalogRoutes } from "./routes/catalog.js";
import { deviceRoutes } from "./routes/devices.js";
import { kioskRoutes } from "./routes/kiosk.js";
import { notifyRoutes } from "./routes/notify.js";
import { presenceRoutes } from "./routes/presence.js";
import { reportRoutes } from "./routes/reports.js";
import { rollCallRoutes } from "./routes/rollcall.js";
import { sessionRoutes } from "./routes/session.js";
import { siteRoutes } from "./routes/sites.js";
import { streamRoutes } from "./routes/stream.js";
import { strictValidatorCompiler } from "./validation.js";
import { webRoutes } from "./web.js";

export interface HttpServer {
  app: FastifyInstance;
  /** The success schema of each route (`GET /api/v1/visits/:id`), for the API contract test. */
  responseSchemas: ReadonlyMap<string, TSchema>;
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
  const app = Fastify({ ...(serverFactory ? { serverFactory } : {}), logger: false, bodyLimit: 1_048_576 });
  // Bodies are checked as sent: no coercion, no defaults, unknown properties refused (validation.ts).
  app.setValidatorCompiler(strictValidatorCompiler);
  // Response schemas document the API (/docs) and are checked by the contract test; a response is
  // written as it is (fast-json-stringify would drop what a schema forgot instead of showing it).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const responseSchemas = new Map<string, TSchema>();
  app.addHook("onRoute", (route) => {
    const ok =
      (route.schema?.response as Record<string, TSchema> | undefined)?.["200"] ??
      (route.schema?.response as Record<string, TSchema> | undefined)?.["201"];
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (ok) for (const m of methods) responseSchemas.set(`${m} ${route.url}`, ok);
  });
  // Request latency by route (its pattern, not the URL: bounded label values), for alerting.
  app.addHook("onResponse", async (req, reply) => {
    ctx.metrics.observe(
      "onsite_http_request_duration_seconds",
      "HTTP request latency",
      reply.elapsedTime / 1000,
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      { method: req.method, route: req.routeOptions.url ?? "unmatched", status: String(reply.statusCode) },
    );
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

  app.get(
    "/healthz",
    { schema: { tags: ["ops"], response: { 200: HealthSchema, 503: HealthSchema } } },
    async (_req, reply) => {
      const parts = Object.fromEntries(ctx.health);
      const ok = [...ctx.health.values()].every((h) => h.ok);
      return reply.code(ok ? 200 : 503).send({
        status: ok ? "ok" : "degraded",
        uptimeS: Math.round((ctx.clock.now() - ctx.startedAt) / 1000),
        mqtt: { clients: broker.aedes.connectedClients },
        events: await ctx.store.countEvents(),
        parts,
      });
    },
  );
  app.get("/metrics", { schema: { tags: ["ops"] } }, async (_req, reply) =>
    reply.type(ctx.metrics.contentType).send(await ctx.metrics.render()),
  );
  app.get("/mqtt", { websocket: true, schema: { hide: true } }, (socket) => {
    broker.handle(createWebSocketStream(socket));
  });

  siteRoutes(app, ctx);
  notifyRoutes(app, ctx);
  rollCallRoutes(app, ctx);
  catalogRoutes(app, ctx);
  deviceRoutes(app, ctx);
  kioskRoutes(app, ctx);
  presenceRoutes(app, ctx);
  reportRoutes(app, ctx);
  alarmRoutes(app, ctx);
  sessionRoutes(app);
  await webRoutes(app);
  const stopStream = streamRoutes(app, ctx);

  return {
    app,
    responseSchemas,
    async close() {
      stopStream();
      await app.close();
    },
  };
}
