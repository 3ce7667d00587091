/**
 * Sites and engineers: create (409 for an id that exists), read, update explicitly (PUT replaces,
 * PATCH merges), and their versions. Every change is kept as a version from the time it was made,
 * with who made it; a visit is judged against the site and engineer as they were at the visit.
 */
import type {} from "@fastify/swagger";
import { type TSchema, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { EntityId, SiteStatusSchema } from "../../../../protocol/index.js";
import { InputError } from "../../../admin/errors.js";
import type { HubContext } from "../../../context.js";
import { defaultSite, type Engineer, EngineerSchema, type Site, SiteSchema } from "../../../core/model.js";
import { assertZone, TimeError } from "../../../core/time.js";
import { STAFF } from "../auth.js";

const IdParams = Type.Object({ id: EntityId }, { additionalProperties: false });
const SiteCreateSchema = Type.Composite(
  [
    Type.Pick(SiteSchema, ["id", "name", "timeZone"]),
    Type.Partial(Type.Omit(SiteSchema, ["id", "name", "timeZone"])),
  ],
  { additionalProperties: false },
);
const SitePutSchema = Type.Composite(
  [Type.Partial(Type.Pick(SiteSchema, ["id"])), Type.Omit(SiteSchema, ["id"])],
  { additionalProperties: false },
);
const SitePatchSchema = Type.Partial(Type.Omit(SiteSchema, ["id"]), {
  additionalProperties: false,
  minProperties: 1,
});
const EngineerPutSchema = Type.Composite(
  [Type.Partial(Type.Pick(EngineerSchema, ["id"])), Type.Omit(EngineerSchema, ["id"])],
  { additionalProperties: false },
);
const EngineerPatchSchema = Type.Partial(Type.Omit(EngineerSchema, ["id"]), {
  additionalProperties: false,
  minProperties: 1,
});

function checkZone(zone: string): void {
  try {
    assertZone(zone, "timeZone");
  } catch (e) {
    if (e instanceof TimeError) throw new InputError("timeZone", e.message.replace(/^[^:]+: /, ""));
    throw e;
  }
}

function sameId(path: string, body: { id?: string | undefined }): void {
  if (body.id !== undefined && body.id !== path)
    throw new InputError("id", `the body names ${body.id}, the path ${path}`);
}

export function siteRoutes(app: FastifyInstance, ctx: HubContext): void {
  const { store, clock } = ctx;
  const change = (req: FastifyRequest) => ({ at: clock.now(), by: req.principal?.name ?? "api" });

  /** A change holds for visits from now on: those are projected again with it. */
  const changed = async (by: { siteId: string } | { engineerId: string }) => {
    ctx.bus.emit("context.changed", {});
    ctx.bus.emit("plans.changed", { plans: await store.listVisits({ ...by, from: clock.now() }) });
  };

  const crud = <T extends { id: string }>(o: {
    path: string;
    tag: string;
    noun: string;
    create: TSchema;
    put: TSchema;
    patch: TSchema;
    /** The document's schema, for responses. */
    doc: TSchema;
    build: (body: T) => T;
    check: (doc: T) => void;
    get: (id: string) => Promise<T | undefined>;
    list: () => Promise<T[]>;
    save: (doc: T, req: FastifyRequest) => Promise<void>;
    versions: (id: string) => Promise<unknown>;
  }) => {
    const find = async (id: string) => {
      const doc = await o.get(id);
      if (!doc) throw new InputError("id", `no ${o.noun} ${id}`, 404);
      return doc;
    };
    const one = { 200: o.doc, 201: o.doc };
    app.get(
      o.path,
      { config: { roles: STAFF }, schema: { tags: [o.tag], response: { 200: Type.Array(o.doc) } } },
      () => o.list(),
    );
    app.get<{ Params: { id: string } }>(
      `${o.path}/:id`,
      { config: { roles: STAFF }, schema: { tags: [o.tag], params: IdParams, response: one } },
      (req) => find(req.params.id),
    );
    app.get<{ Params: { id: string } }>(
      `${o.path}/:id/versions`,
      {
        config: { roles: STAFF },
        schema: {
          tags: [o.tag],
          params: IdParams,
          description: `Every version of the ${o.noun}, oldest first`,
          response: {
            200: Type.Array(
              Type.Object({
                validFrom: Type.Integer(),
                by: Type.Union([Type.String(), Type.Null()]),
                doc: o.doc,
              }),
            ),
          },
        },
      },
      async (req) => {
        await find(req.params.id);
        return o.versions(req.params.id);
      },
    );
    // Bodies are typed by their schemas (checked before the handler runs).
    app.post(
      o.path,
      { config: { roles: ["admin"] }, schema: { tags: [o.tag], body: o.create, response: one } },
      async (req, reply) => {
        const body = req.body as T;
        if (await o.get(body.id))
          throw new InputError("id", `${o.noun} ${body.id} exists: update it with PUT or PATCH`, 409);
        const doc = o.build(body);
        o.check(doc);
        await o.save(doc, req);
        return reply.code(201).send(doc);
      },
    );
    app.put<{ Params: { id: string } }>(
      `${o.path}/:id`,
      {
        config: { roles: ["admin"] },
        schema: {
          tags: [o.tag],
          params: IdParams,
          body: o.put,
          response: one,
          description: `Replace the ${o.noun} (kept as a new version)`,
        },
      },
      async (req) => {
        await find(req.params.id);
        const body = req.body as Omit<T, "id"> & { id?: string };
        sameId(req.params.id, body);
        const doc = { ...body, id: req.params.id } as T;
        o.check(doc);
        await o.save(doc, req);
        return doc;
      },
    );
    app.patch<{ Params: { id: string } }>(
      `${o.path}/:id`,
      {
        config: { roles: ["admin"] },
        schema: {
          tags: [o.tag],
          params: IdParams,
          body: o.patch,
          response: one,
          description: "Change some fields (kept as a new version)",
        },
      },
      async (req) => {
        const doc = { ...(await find(req.params.id)), ...(req.body as Partial<T>), id: req.params.id } as T;
        o.check(doc);
        await o.save(doc, req);
        return doc;
      },
    );
  };

  crud<Site>({
    path: "/api/v1/sites",
    tag: "sites",
    noun: "site",
    create: SiteCreateSchema,
    put: SitePutSchema,
    patch: SitePatchSchema,
    doc: SiteSchema,
    build: (body) => defaultSite(body),
    check: (site) => checkZone(site.timeZone),
    get: (id) => store.getSite(id),
    list: () => store.listSites(),
    save: async (site, req) => {
      await store.putSite(site, change(req));
      await changed({ siteId: site.id });
    },
    versions: (id) => store.siteVersions(id),
  });
  app.get<{ Params: { id: string } }>(
    "/api/v1/sites/:id/status",
    {
      config: { roles: STAFF },
      schema: { tags: ["sites"], params: IdParams, response: { 200: SiteStatusSchema } },
    },
    async (req) => {
      if (!(await store.getSite(req.params.id))) throw new InputError("id", `no site ${req.params.id}`, 404);
      return ctx.announcer.siteStatus(req.params.id);
    },
  );

  crud<Engineer>({
    path: "/api/v1/engineers",
    tag: "engineers",
    noun: "engineer",
    create: EngineerSchema,
    put: EngineerPutSchema,
    patch: EngineerPatchSchema,
    doc: EngineerSchema,
    build: (body) => body,
    check: () => {},
    get: (id) => store.getEngineer(id),
    list: () => store.listEngineers(),
    save: async (engineer, req) => {
      await store.putEngineer(engineer, change(req));
      await changed({ engineerId: engineer.id });
    },
    versions: (id) => store.engineerVersions(id),
  });
}
