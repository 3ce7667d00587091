/**
 * Dispatch: create visits (one, or a CSV of them). Shared by the HTTP API and the CLI (reports are in
 * report.ts). Wall times are read in each site's own time zone.
 */
import { type Static, Type } from "@sinclair/typebox";
import { DateTime } from "luxon";
import { EntityId } from "../../protocol/index.js";
import type { VisitPlan } from "../core/model.js";
import type { Store } from "../core/ports.js";
import { resolveWindow, TimeError } from "../core/time.js";
import { CsvError, parseCsv } from "./csv.js";
import { InputError } from "./errors.js";

export const CreateVisitSchema = Type.Object(
  {
    id: Type.Optional(EntityId),
    siteId: EntityId,
    engineerId: EntityId,
    window: Type.Object(
      {
        from: Type.String({
          minLength: 16,
          maxLength: 40,
          description: "site wall time, e.g. 2026-11-25T09:00",
        }),
        to: Type.String({ minLength: 16, maxLength: 40 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type CreateVisit = Static<typeof CreateVisitSchema>;

let sequence = 0;
const newVisitId = (now: number) =>
  `V-${now.toString(36).toUpperCase()}-${(sequence++ % 1296).toString(36).toUpperCase().padStart(2, "0")}`;

export async function planVisit(store: Store, req: CreateVisit, now: number): Promise<VisitPlan> {
  const site = await store.getSite(req.siteId);
  if (!site) throw new InputError("siteId", `no site ${req.siteId}`, 404);
  if (!(await store.getEngineer(req.engineerId)))
    throw new InputError("engineerId", `no engineer ${req.engineerId}`, 404);
  try {
    const window = resolveWindow(req.window.from, req.window.to, site.timeZone);
    return {
      id: req.id ?? newVisitId(now),
      siteId: site.id,
      engineerId: req.engineerId,
      window,
      createdAt: now,
    };
  } catch (e) {
    if (e instanceof TimeError) throw new InputError(e.field ?? "window", e.message.replace(/^[^:]+: /, ""));
    throw e;
  }
}

export async function createVisit(
  store: Store,
  req: CreateVisit,
  now: number,
  by?: string,
): Promise<VisitPlan> {
  const plan = await planVisit(store, req, now);
  const [inserted] = await store.insertVisits([plan], { at: now, ...(by === undefined ? {} : { by }) });
  if (!inserted) throw new InputError("id", `visit ${plan.id} already exists`, 409);
  return plan;
}

export const ChangeVisitSchema = Type.Object(
  {
    siteId: Type.Optional(EntityId),
    engineerId: Type.Optional(EntityId),
    window: Type.Optional(CreateVisitSchema.properties.window),
    /** Why: kept in the visit's audit trail. */
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ChangeVisit = Static<typeof ChangeVisitSchema>;

/**
 * A visit rescheduled (new window) or reassigned (another engineer or site), as a new plan. Refused
 * for a cancelled visit, and a reassignment once the engineer has arrived.
 */
export async function changedVisit(
  store: Store,
  plan: VisitPlan,
  req: ChangeVisit,
  arrived: boolean,
): Promise<{ plan: VisitPlan; kind: "rescheduled" | "reassigned" }> {
  if (plan.cancelledAt !== undefined)
    throw new InputError("id", `visit ${plan.id} is cancelled: restore it before changing it`, 409);
  const siteId = req.siteId ?? plan.siteId;
  const engineerId = req.engineerId ?? plan.engineerId;
  const reassigned = siteId !== plan.siteId || engineerId !== plan.engineerId;
  if (reassigned && arrived)
    throw new InputError(
      req.engineerId ? "engineerId" : "siteId",
      "the engineer has arrived: it cannot be reassigned",
      409,
    );
  const site = await store.getSite(siteId);
  if (!site) throw new InputError("siteId", `no site ${siteId}`, 404);
  if (!(await store.getEngineer(engineerId)))
    throw new InputError("engineerId", `no engineer ${engineerId}`, 404);
  let window = plan.window;
  if (req.window) {
    try {
      window = resolveWindow(req.window.from, req.window.to, site.timeZone);
    } catch (e) {
      if (e instanceof TimeError)
        throw new InputError(e.field ?? "window", e.message.replace(/^[^:]+: /, ""));
      throw e;
    }
  }
  return { plan: { ...plan, siteId, engineerId, window }, kind: reassigned ? "reassigned" : "rescheduled" };
}

export interface ImportResult {
  imported: string[];
  errors: Array<{ line: number; field: string; message: string }>;
}

export const IMPORT_COLUMNS = ["id", "site_id", "engineer_id", "date", "from", "to"] as const;

/** Imports `id,site_id,engineer_id,date,from,to` rows (date YYYY-MM-DD, times HH:MM, site time). Bad rows are reported by line and field; good rows are kept. */
export async function importVisitsCsv(
  store: Store,
  text: string,
  now: number,
  by?: string,
): Promise<ImportResult> {
  const result: ImportResult = { imported: [], errors: [] };
  let rows: ReturnType<typeof parseCsv>;
  try {
    rows = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvError)
      return {
        imported: [],
        errors: [{ line: e.line, field: "(row)", message: e.message.replace(/^line \d+: /, "") }],
      };
    throw e;
  }
  const [head, ...body] = rows;
  const header = head?.cells.map((c) => c.trim().toLowerCase()) ?? [];
  const missing = IMPORT_COLUMNS.filter((c) => !header.includes(c));
  if (!head || missing.length > 0) {
    return {
      imported: [],
      errors: [
        {
          line: head?.line ?? 1,
          field: missing.join(","),
          message: `header must name the columns ${IMPORT_COLUMNS.join(",")}`,
        },
      ],
    };
  }
  const col = (r: string[], name: (typeof IMPORT_COLUMNS)[number]) => (r[header.indexOf(name)] ?? "").trim();
  const seen = new Set<string>();
  const plans: Array<{ line: number; plan: VisitPlan }> = [];
  for (const row of body) {
    const fail = (field: string, message: string) => result.errors.push({ line: row.line, field, message });
    if (row.cells.length !== header.length) {
      fail("(row)", `expected ${header.length} cells, found ${row.cells.length}`);
      continue;
    }
    const id = col(row.cells, "id");
    const date = col(row.cells, "date");
    const from = col(row.cells, "from");
    const to = col(row.cells, "to");
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id)) {
      fail("id", "must be 1-64 letters, digits, '.', '_' or '-'");
      continue;
    }
    if (seen.has(id)) {
      fail("id", `duplicate id ${id} in this file`);
      continue;
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !DateTime.fromISO(date).isValid) {
      fail("date", `expected YYYY-MM-DD, got ${JSON.stringify(date)}`);
      continue;
    }
    const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;
    if (!hhmm.test(from)) {
      fail("from", `expected HH:MM, got ${JSON.stringify(from)}`);
      continue;
    }
    if (!hhmm.test(to)) {
      fail("to", `expected HH:MM, got ${JSON.stringify(to)}`);
      continue;
    }
    try {
      const plan = await planVisit(
        store,
        {
          id,
          siteId: col(row.cells, "site_id"),
          engineerId: col(row.cells, "engineer_id"),
          window: { from: `${date}T${from}`, to: `${date}T${to}` },
        },
        now,
      );
      seen.add(id);
      plans.push({ line: row.line, plan });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      const field =
        { siteId: "site_id", engineerId: "engineer_id", "window.from": "from", "window.to": "to" }[e.field] ??
        e.field;
      fail(field, e.message.replace(/^[^:]+: /, ""));
    }
  }
  const inserted = await store.insertVisits(
    plans.map((p) => p.plan),
    { at: now, ...(by === undefined ? {} : { by }) },
  );
  plans.forEach((p, i) => {
    if (inserted[i]) result.imported.push(p.plan.id);
    else result.errors.push({ line: p.line, field: "id", message: `visit ${p.plan.id} already exists` });
  });
  result.errors.sort((a, b) => a.line - b.line);
  return result;
}
