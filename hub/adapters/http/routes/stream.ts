/**
 * The live stream (Server-Sent Events): what changed, as it happens. A `visit` message carries the
 * visit's board row as it is now (the dashboard patches that row, it does not refetch the board),
 * with its retained status and what changed; `alarm_ack` and `presence` likewise.
 *
 * Each message is serialized once for every stream, and what a turn of the event loop produced goes
 * out to each stream in one write. A stream that does not read (a phone gone into a tunnel) is
 * ended once it holds more than `http.streamBufferBytes` unsent: it reconnects and loads afresh, and the hub's
 * memory does not grow with it.
 */
import type {} from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { visitStatus } from "../../../announce.js";
import type { HubContext } from "../../../context.js";
import { STAFF } from "../auth.js";

/** How much a stream may hold unsent by default (`http.streamBufferBytes`). */
const MAX_BUFFERED = 4 * 1024 * 1024;

interface Client {
  write(text: string): boolean;
  buffered(): number;
  end(last?: string): void;
  digest: string;
  queue: string[];
}

export function streamRoutes(app: FastifyInstance, ctx: HubContext): () => void {
  const clients = new Set<Client>();
  const maxBuffered = ctx.config.http.streamBufferBytes ?? MAX_BUFFERED;
  let flushing = false;
  const flush = () => {
    flushing = false;
    for (const c of clients) {
      if (c.queue.length === 0) continue;
      const text = c.queue.join("");
      c.queue = [];
      if (c.buffered() > maxBuffered) {
        clients.delete(c);
        ctx.metrics.inc("onsite_stream_dropped_total", "Live streams ended for not reading");
        c.end();
        continue;
      }
      c.write(text);
    }
  };
  const broadcast = (event: string, data: unknown) => {
    if (clients.size === 0) return;
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.queue.push(text);
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  };
  // Rows need the visit's acknowledgements (a store read): one chain keeps the messages in order.
  let chain: Promise<void> = Promise.resolve();
  const off = [
    ctx.bus.on("visit.updated", (u) => {
      if (clients.size === 0) return;
      chain = chain
        .then(async () => {
          const row = { ...u.view, alarmAcks: (await ctx.store.alarmAcks(u.plan.id)).map((a) => a.alarmAt) };
          broadcast("visit", { status: visitStatus(u.view, ctx.clock.now()), row, changes: u.changes });
        })
        .catch((e: unknown) => ctx.log.warn({ err: e }, "live stream: visit row failed"));
    }),
    ctx.bus.on("alarm.acknowledged", (a) => {
      chain = chain.then(() => broadcast("alarm_ack", a));
    }),
    ctx.bus.on("credentials.revoked", (what) => {
      if (!("tokenDigest" in what)) return;
      for (const c of clients)
        if (c.digest === what.tokenDigest) {
          clients.delete(c);
          c.end("event: revoked\ndata: {}\n\n");
        }
    }),
    ctx.bus.on("presence.changed", ({ kind, session }) => {
      const { rssi: _series, lastFrame: _frame, ...summary } = session;
      broadcast("presence", { kind, session: summary });
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
      const client: Client = {
        write: (text) => res.write(text),
        // What the response has not handed to the socket yet, and what the socket has not sent.
        buffered: () => res.writableLength + (res.socket?.writableLength ?? 0),
        end: (last) => {
          if (last) {
            res.write(last);
            res.end();
          } else res.destroy(); // not reading: what it holds is dropped now, not when it reads
        },
        digest: req.principal?.digest ?? "",
        queue: [],
      };
      clients.add(client);
      const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
      req.raw.on("close", () => {
        clearInterval(ping);
        clients.delete(client);
      });
    },
  );
  // Stopping ends every stream (the browsers reconnect to the next hub): an open stream would
  // otherwise hold the HTTP server's close for as long as the browser stays.
  return () => {
    for (const f of off) f();
    for (const c of clients) c.end("event: restart\ndata: {}\n\n");
    clients.clear();
  };
}
