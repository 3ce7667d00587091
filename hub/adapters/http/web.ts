/** Serves the built dashboard (`/`) and kiosk screen (`/kiosk/<site>`) from dist/web: no CDN, all local. */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** dist/web, from the source tree (hub/adapters/http) or from the build (dist/hub/adapters/http). */
export function webRoot(): string {
  const inDist = import.meta.url.includes("/dist/hub/");
  return fileURLToPath(new URL(inDist ? "../../../web/" : "../../../dist/web/", import.meta.url));
}

export async function webRoutes(app: FastifyInstance): Promise<void> {
  const root = webRoot();
  if (!existsSync(`${root}index.html`)) {
    const missing = async (
      _req: unknown,
      reply: { code(n: number): { type(t: string): { send(b: string): unknown } } },
    ) => reply.code(503).type("text/plain").send("The dashboard is not built: run `npm run build`.\n");
    app.get("/", missing);
    app.get("/kiosk/:site", missing);
    return;
  }
  await app.register(fastifyStatic, { root, prefix: "/", index: false, wildcard: false, serve: true });
  app.get("/", { schema: { hide: true } }, (_req, reply) => reply.sendFile("index.html"));
  app.get("/kiosk/:site", { schema: { hide: true } }, (_req, reply) => reply.sendFile("kiosk.html"));
}
