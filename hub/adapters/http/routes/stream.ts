/**
 * The live stream (Server-Sent Events): what changed, as it happens. A `visit` message carries the
 * visit's board row as it is now (the dashboard patches that row, it does not refetch the board),
 * with its retained status and what changed; `alarm_ack` and `presence` likewise.
 */
import type {} from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { visitStatus } from "../../../announce.js";
import type { HubContext } from "../../../context.js";
import { STAFF } from "../auth.js";

export function streamRoutes(app: FastifyInstance, ctx: HubContext): () => void {
  const clients = new Set<(event: string, data: unknown) => void>();
  /** The token behind each open stream, so revoking it ends the stream. */
  const ends = new Map<(event: string, data: unknown) => void, { digest: string; end: () => void }>();
  // Rows need the visit's acknowledgements (a store read): one chain keeps the messages in order.
  let chain: Promise<void> = Promise.resolve();
  const off = [
    ctx.bus.on("visit.updated", (u) => {
      if (clients.size === 0) return;
      chain = chain
        .then(async () => {
          const row = { ...u.view, alarmAcks: (await ctx.store.alarmAcks(u.plan.id)).map((a) => a.alarmAt) };
          const message = { status: visitStatus(u.view, ctx.clock.now()), row, changes: u.changes };
          for (const send of clients) send("visit", message);
        })
        .catch((e: unknown) => ctx.log.warn({ err: e }, "live stream: visit row failed"));
    }),
    ctx.bus.on("alarm.acknowledged", (a) => {
      chain = chain.then(() => {
        for (const send of clients) send("alarm_ack", a);
      });
    }),
    ctx.bus.on("credentials.revoked", (what) => {
      if (!("tokenDigest" in what)) return;
      for (const [send, { digest, end }] of ends)
        if (digest === what.tokenDigest) {
          clients.delete(send);
          ends.delete(send);
          end();
        }
    }),
    ctx.bus.on("presence.changed", ({ kind, session }) => {
      const { rssi: _series, lastFrame: _frame, ...summary } = session;
      for (const send of clients) send("presence", { kind, session: summary });
    }),
  ];
  ctx.metrics.onCollect(() =>
    ctx.metrics.set("onsite_stream_clients", "Open live-stream connections", clients.size),
  );

  app.get(
    "/api/v1/stream",
    {
      config: { roles: STAFF, queryToken: true },
      schema: { tags: ["stream"], description: "Server-Sent Events: `visit`, `alarm_ack` and `presence`" },
    },
    (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.write(`retry: 2000\n: connected\n\n`);
      const send = (event: string, data: unknown) =>
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      clients.add(send);
      const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
      ends.set(send, {
        digest: req.principal?.digest ?? "",
        end: () => {
          res.write("event: revoked\ndata: {}\n\n");
          res.end();
        },
      });
      req.raw.on("close", () => {
        clearInterval(ping);
        clients.delete(send);
        ends.delete(send);
      });
    },
  );
  return () => {
    for (const f of off) f();
  };
}
