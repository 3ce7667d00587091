/**
 * The store on PostgreSQL (node-postgres, a Pool). Same guarantees as the SQLite store: every
 * multi-statement write is one transaction, a commit resolves after COMMIT has returned, dedupe is by
 * the stored `UNIQUE (device, counter)` (`ON CONFLICT DO NOTHING`), and seqs are handed out in
 * commit order — every event commit holds one advisory lock, so a reader following `eventsAfter`
 * never sees a seq appear behind one it has already read, even with several hubs on one database.
 * Batches are one statement each (`unnest` of arrays), whatever their size.
 */
import type pg from "pg";
import type { RollCall } from "../../../../protocol/api.js";
import type { Engineer, Site, VisitPlan } from "../../../core/model.js";
import type { OutboxItem } from "../../../core/notify/plan.js";
import type {
  AlarmAck,
  ApiToken,
  Change,
  DeviceRecord,
  DeviceStateUpdate,
  OutboxQuery,
  PresenceQuery,
  ProjectionWrite,
  Role,
  Store,
  StoredEvent,
  StoredPresence,
  StoredWebhook,
  Versioned,
  VisitChangeInput,
  VisitChangeRecord,
  VisitQuery,
} from "../../../core/ports.js";
import type { VisitSummary } from "../../../core/visit/types.js";
import { LOCKS, migrate } from "./migrate.js";
import { createPool, inTransaction, type PoolOptions, PostgresStoreError } from "./pool.js";
import {
  type DeviceRow,
  EVENT_COLUMNS,
  type EventRow,
  firstPerKey,
  lastPerKey,
  type OutboxRow,
  outboxColumns,
  type PresenceRow,
  type RollCallRow,
  type TokenRow,
  toDevice,
  toEvent,
  toOutbox,
  toPlan,
  toPresence,
  toRollCall,
  toToken,
  toVersion,
  toVisitChange,
  toWebhook,
  type VersionRow,
  type VisitChangeRow,
  type VisitRow,
  type WebhookRow,
} from "./rows.js";
import {
  ATTRIBUTE,
  bound,
  deviceState,
  eventKey,
  INSERT_CREATED,
  INSERT_EVENTS,
  INSERT_VISITS,
  PUT_DEVICE,
  PUT_META,
  PUT_OUTBOX,
  PUT_PRESENCE,
  PUT_VIEWS,
  putVersioned,
  versionAt,
} from "./statements.js";

export type PostgresOptions = PoolOptions;

/** Notifications written in the transaction of the change that calls for them (a key already there is kept). */
async function putOutbox(c: pg.PoolClient, items: readonly OutboxItem[]): Promise<void> {
  await c.query({ name: "outbox-put", text: PUT_OUTBOX, values: outboxColumns(items) });
}

export class PostgresStore implements Store {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    /** The schema version the database is at after opening. */
    readonly schemaVersion: number,
  ) {}

  /** Connects, migrates (or refuses a newer schema) and returns the store. */
  static async open(opts: PostgresOptions): Promise<PostgresStore> {
    const pool = createPool(opts);
    try {
      return new PostgresStore(pool, await migrate(pool));
    } catch (e) {
      await pool.end();
      throw e;
    }
  }

  private async rows<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
    name?: string,
  ): Promise<R[]> {
    return (await this.pool.query<R>(name === undefined ? { text, values } : { name, text, values })).rows;
  }

  private async one<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<R | undefined> {
    return (await this.rows<R>(text, values, name))[0];
  }

  // ---- sites and engineers, with versions ----

  async putSite(site: Site, change?: Change): Promise<void> {
    await this.rows(putVersioned("sites", "site_versions", "site_id"), [
      site.id,
      JSON.stringify(site),
      change?.at ?? 0,
      change?.by ?? null,
    ]);
  }
  async getSite(id: string, at?: number): Promise<Site | undefined> {
    const r =
      at === undefined
        ? await this.one<{ doc: Site }>("SELECT doc FROM sites WHERE id = $1", [id], "site")
        : await this.one<{ doc: Site }>(
            versionAt("site_versions", "site_id"),
            [id, bound(at, "floor")],
            "site-at",
          );
    return r?.doc;
  }
  async listSites(): Promise<Site[]> {
    return (await this.rows<{ doc: Site }>("SELECT doc FROM sites ORDER BY id")).map((r) => r.doc);
  }
  async siteVersions(id: string): Promise<Array<Versioned<Site>>> {
    return (
      await this.rows<VersionRow<Site>>(
        "SELECT valid_from, changed_by, doc FROM site_versions WHERE site_id = $1 ORDER BY valid_from",
        [id],
      )
    ).map(toVersion);
  }

  async putEngineer(e: Engineer, change?: Change): Promise<void> {
    await this.rows(putVersioned("engineers", "engineer_versions", "engineer_id"), [
      e.id,
      JSON.stringify(e),
      change?.at ?? 0,
      change?.by ?? null,
    ]);
  }
  async getEngineer(id: string, at?: number): Promise<Engineer | undefined> {
    const r =
      at === undefined
        ? await this.one<{ doc: Engineer }>("SELECT doc FROM engineers WHERE id = $1", [id], "engineer")
        : await this.one<{ doc: Engineer }>(
            versionAt("engineer_versions", "engineer_id"),
            [id, bound(at, "floor")],
            "engineer-at",
          );
    return r?.doc;
  }
  async listEngineers(): Promise<Engineer[]> {
    return (await this.rows<{ doc: Engineer }>("SELECT doc FROM engineers ORDER BY id")).map((r) => r.doc);
  }
  async engineerVersions(id: string): Promise<Array<Versioned<Engineer>>> {
    return (
      await this.rows<VersionRow<Engineer>>(
        "SELECT valid_from, changed_by, doc FROM engineer_versions WHERE engineer_id = $1 ORDER BY valid_from",
        [id],
      )
    ).map(toVersion);
  }

  // ---- visits ----

  async insertVisits(plans: VisitPlan[], change?: Change): Promise<boolean[]> {
    if (plans.length === 0) return [];
    return inTransaction(this.pool, async (c) => {
      const inserted = await c.query<{ id: string }>({
        name: "visits-insert",
        text: INSERT_VISITS,
        values: [
          plans.map((p) => p.id),
          plans.map((p) => p.siteId),
          plans.map((p) => p.engineerId),
          plans.map((p) => p.window.from),
          plans.map((p) => p.window.to),
          plans.map((p) => p.createdAt ?? null),
          plans.map((p) => p.cancelledAt ?? null),
          plans.map((p) => p.cancelReason ?? null),
        ],
      });
      // A second plan with the same id in one call is a duplicate too (the first one is inserted).
      const ok = firstPerKey(plans, (p) => p.id, new Map(inserted.rows.map((r) => [r.id, true]))).map(
        (v) => v === true,
      );
      const created = plans.filter((_, i) => ok[i]);
      if (change && created.length > 0) {
        await c.query({
          name: "visits-created",
          text: INSERT_CREATED,
          values: [
            created.map((p) => p.id),
            created.map((p) => JSON.stringify(p)),
            change.at,
            change.by ?? null,
          ],
        });
      }
      return ok;
    });
  }
  async updateVisit(plan: VisitPlan, change: VisitChangeInput): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      const before = (
        await c.query<VisitRow>({
          name: "visit-for-update",
          text: "SELECT * FROM visits WHERE id = $1 FOR UPDATE",
          values: [plan.id],
        })
      ).rows[0];
      if (!before) throw new Error(`no visit ${plan.id}`);
      await c.query({
        name: "visit-update",
        text: `UPDATE visits SET site_id = $1, engineer_id = $2, window_from = $3, window_to = $4,
          cancelled_at = $5, cancel_reason = $6 WHERE id = $7`,
        values: [
          plan.siteId,
          plan.engineerId,
          plan.window.from,
          plan.window.to,
          plan.cancelledAt ?? null,
          plan.cancelReason ?? null,
          plan.id,
        ],
      });
      await c.query({
        name: "visit-change",
        text: `INSERT INTO visit_changes (visit_id, at, changed_by, kind, note, before, after)
          VALUES ($1, $2, $3, $4, $5, $6::json, $7::json)`,
        values: [
          plan.id,
          change.at,
          change.by ?? null,
          change.kind,
          change.note ?? null,
          JSON.stringify(toPlan(before)),
          JSON.stringify(plan),
        ],
      });
    });
  }
  async visitChanges(visitId: string): Promise<VisitChangeRecord[]> {
    return (
      await this.rows<VisitChangeRow>(
        "SELECT visit_id, at, changed_by, kind, note, before, after FROM visit_changes WHERE visit_id = $1 ORDER BY seq",
        [visitId],
        "visit-changes",
      )
    ).map(toVisitChange);
  }
  async getVisit(id: string): Promise<VisitPlan | undefined> {
    const r = await this.one<VisitRow>("SELECT * FROM visits WHERE id = $1", [id], "visit");
    return r ? toPlan(r) : undefined;
  }
  async listVisits(q: VisitQuery): Promise<VisitPlan[]> {
    const where: string[] = [];
    const args: Array<string | number | null> = [];
    const add = (cond: string, v: string | number | null) => {
      args.push(v);
      where.push(cond.replace("?", `$${args.length}`));
    };
    if (q.siteId !== undefined) add("site_id = ?", q.siteId);
    if (q.engineerId !== undefined) add("engineer_id = ?", q.engineerId);
    if (q.to !== undefined) add("window_from < ?", bound(q.to, "ceil"));
    if (q.from !== undefined) add("window_to >= ?", bound(q.from, "ceil"));
    const sql = `SELECT * FROM visits ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY window_from, id`;
    return (await this.rows<VisitRow>(sql, args)).map(toPlan);
  }

  // ---- devices ----

  async putDevice(d: DeviceRecord): Promise<void> {
    await this.rows(
      PUT_DEVICE,
      [
        d.id,
        d.kind,
        d.engineerId,
        d.siteId,
        d.badgeNo,
        d.rfidTag,
        d.passwordHash,
        d.sealedKey,
        d.createdAt,
        d.revokedAt,
        d.clockOffsetMs,
        d.lastSeenAt,
        d.replay.highest,
        d.replay.seen.toString(),
        d.battery,
      ],
      "device-put",
    );
  }
  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    const r = await this.one<DeviceRow>("SELECT * FROM devices WHERE id = $1", [id], "device");
    return r ? toDevice(r) : undefined;
  }
  async listDevices(): Promise<DeviceRecord[]> {
    return (await this.rows<DeviceRow>("SELECT * FROM devices ORDER BY id")).map(toDevice);
  }
  async findBadge(by: { badgeNo: number } | { rfidTag: string }): Promise<DeviceRecord | undefined> {
    const r =
      "badgeNo" in by
        ? await this.one<DeviceRow>("SELECT * FROM devices WHERE badge_no = $1", [by.badgeNo], "badge-no")
        : await this.one<DeviceRow>("SELECT * FROM devices WHERE rfid_tag = $1", [by.rfidTag], "badge-tag");
    return r ? toDevice(r) : undefined;
  }
  async devicesOf(by: { engineerId: string } | { siteId: string }): Promise<DeviceRecord[]> {
    const [col, v] = "engineerId" in by ? ["engineer_id", by.engineerId] : ["site_id", by.siteId];
    return (
      await this.rows<DeviceRow>(
        `SELECT * FROM devices WHERE ${col} = $1 AND revoked_at IS NULL ORDER BY id`,
        [v],
        `devices-of-${col}`,
      )
    ).map(toDevice);
  }

  // ---- events ----

  async commitEvents(events: StoredEvent[], devices: DeviceStateUpdate[]): Promise<Array<number | null>> {
    if (events.length === 0 && devices.length === 0) return [];
    const states = lastPerKey(devices, (d) => d.id);
    const stateValues = [
      states.map((d) => d.id),
      states.map((d) => d.replay.highest),
      states.map((d) => d.replay.seen.toString()),
      states.map((d) => d.lastSeenAt),
      states.map((d) => d.clockOffsetMs),
      states.map((d) => d.battery),
    ];
    if (events.length === 0) {
      await this.rows(deviceState(1), stateValues, "devices-state");
      return [];
    }
    // BEGIN and the lock, the insert with the state, COMMIT: three round trips whatever the batch.
    return inTransaction(
      this.pool,
      async (c) => {
        const r = await c.query<{ seq: number; device: string; counter: number }>({
          name: "events-insert",
          text: INSERT_EVENTS,
          values: [
            events.map((e) => e.event.device),
            events.map((e) => e.event.counter),
            events.map((e) => e.event.type),
            events.map((e) => e.visitId),
            events.map((e) => e.subject),
            events.map((e) => (e.source.kind === "kiosk" ? e.source.siteId : null)),
            events.map((e) => e.event.time),
            events.map((e) => e.event.time + e.clockOffsetMs),
            events.map((e) => e.hubTime),
            events.map((e) => e.clockOffsetMs),
            events.map((e) => JSON.stringify(e.source)),
            events.map((e) => JSON.stringify(e.event)),
            events.map((e) => e.frame ?? null),
            ...stateValues,
          ],
        });
        const stored = new Map(r.rows.map((row) => [eventKey(row.device, row.counter), row.seq]));
        // The first copy of a (device, counter) in the batch is the one stored; later copies are duplicates.
        return firstPerKey(events, (e) => eventKey(e.event.device, e.event.counter), stored);
      },
      LOCKS.events,
    );
  }

  async eventsOfVisit(visitId: string, maxSeq = Number.MAX_SAFE_INTEGER): Promise<StoredEvent[]> {
    return (
      await this.rows<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE visit_id = $1 AND seq <= $2 ORDER BY seq`,
        [visitId, bound(maxSeq, "floor")],
        "events-of-visit",
      )
    ).map(toEvent);
  }
  async eventsOfSubject(engineerId: string, fromTime: number, maxSeq: number): Promise<StoredEvent[]> {
    return (
      await this.rows<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE subject = $1 AND eff_time >= $2 AND seq <= $3
          ORDER BY eff_time, seq`,
        [engineerId, bound(fromTime, "ceil"), bound(maxSeq, "floor")],
        "events-of-subject",
      )
    ).map(toEvent);
  }
  async eventsOfSite(siteId: string, fromTime: number, maxSeq: number): Promise<StoredEvent[]> {
    return (
      await this.rows<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE site_id = $1 AND subject IS NULL AND eff_time >= $2
          AND seq <= $3 ORDER BY eff_time, seq`,
        [siteId, bound(fromTime, "ceil"), bound(maxSeq, "floor")],
        "events-of-site",
      )
    ).map(toEvent);
  }
  async lastTimeOfSubject(engineerId: string, maxSeq: number): Promise<number | null> {
    const r = await this.one<{ t: number }>(
      "SELECT eff_time AS t FROM events WHERE subject = $1 AND seq <= $2 ORDER BY eff_time DESC LIMIT 1",
      [engineerId, bound(maxSeq, "floor")],
      "last-time-of-subject",
    );
    return r?.t ?? null;
  }
  async eventsAfter(afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return (
      await this.rows<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [bound(afterSeq, "floor"), bound(limit, "floor")],
        "events-after",
      )
    ).map(toEvent);
  }
  async uplinkCursor(name: string): Promise<number> {
    return (
      (
        await this.one<{ seq: number }>(
          "SELECT seq FROM uplink_cursors WHERE name = $1",
          [name],
          "uplink-cursor",
        )
      )?.seq ?? 0
    );
  }
  async setUplinkCursor(name: string, seq: number): Promise<void> {
    await this.rows(
      "INSERT INTO uplink_cursors (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
      [name, seq],
      "uplink-cursor-set",
    );
  }
  async maxCounter(device: string): Promise<number> {
    const r = await this.one<{ m: number | null }>(
      "SELECT max(counter) AS m FROM events WHERE device = $1",
      [device],
      "max-counter",
    );
    return r?.m ?? -1;
  }
  async countEvents(): Promise<number> {
    return (await this.one<{ n: number }>("SELECT count(*) AS n FROM events", []))?.n ?? 0;
  }

  // ---- projection ----

  async saveProjection(w: ProjectionWrite): Promise<void> {
    const attribution = lastPerKey(w.attribution, (a) => eventKey(a.device, a.counter));
    const views = lastPerKey(w.views, (v) => v.view.visitId);
    const outbox = w.outbox ?? [];
    if (attribution.length === 0 && views.length === 0 && w.watermark === null && outbox.length === 0) return;
    const fence = w.fence;
    await inTransaction(this.pool, async (c) => {
      if (fence) {
        // The lock is held by a session until it ends; a leader whose session is gone writes nothing.
        // Session locks on one bigint key: classid = high 32 bits, objid = low 32 bits, objsubid 1.
        const held = await c.query({
          name: "fence",
          text: `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid
            AND objid = $2::bigint::oid AND objsubid = 1 AND pid = $3 AND granted`,
          values: [Math.floor(fence.lock / 2 ** 32), fence.lock % 2 ** 32, fence.session],
        });
        if (held.rowCount === 0)
          throw new PostgresStoreError(
            "fenced",
            `projection not saved: session ${fence.session} no longer holds lock ${fence.lock} (another node leads)`,
          );
      }
      if (attribution.length > 0) {
        await c.query({
          name: "attribute",
          text: ATTRIBUTE,
          values: [
            attribution.map((a) => a.device),
            attribution.map((a) => a.counter),
            attribution.map((a) => a.visitId),
          ],
        });
      }
      if (views.length > 0) {
        await c.query({
          name: "views-put",
          text: PUT_VIEWS,
          values: [
            views.map((v) => v.view.visitId),
            views.map((v) => JSON.stringify(v.view)),
            views.map((v) => v.projectedAt),
          ],
        });
      }
      if (w.watermark !== null) {
        await c.query({
          name: "meta-put",
          text: PUT_META,
          values: ["projection_watermark", String(w.watermark)],
        });
      }
      if (outbox.length > 0) await putOutbox(c, outbox);
    });
  }
  async getView(visitId: string): Promise<VisitSummary | undefined> {
    const r = await this.one<{ doc: VisitSummary }>(
      "SELECT doc FROM views WHERE visit_id = $1",
      [visitId],
      "view",
    );
    return r?.doc;
  }
  async projectionWatermark(): Promise<number> {
    const r = await this.one<{ value: string }>(
      "SELECT value FROM meta WHERE key = 'projection_watermark'",
      [],
      "watermark",
    );
    return Number(r?.value ?? 0);
  }

  // ---- API tokens ----

  async putToken(t: ApiToken): Promise<void> {
    await this.rows(
      `INSERT INTO tokens (digest, role, name, site_id, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (digest) DO UPDATE SET revoked_at = excluded.revoked_at`,
      [t.digest, t.role, t.name, t.siteId, t.createdAt, t.revokedAt],
    );
  }
  async findToken(digest: string): Promise<ApiToken | undefined> {
    const r = await this.one<TokenRow>("SELECT * FROM tokens WHERE digest = $1", [digest], "token");
    return r ? toToken(r) : undefined;
  }
  async listTokens(): Promise<ApiToken[]> {
    return (await this.rows<TokenRow>("SELECT * FROM tokens ORDER BY created_at DESC, digest")).map(toToken);
  }
  async countTokens(role?: Role): Promise<number> {
    const r =
      role === undefined
        ? await this.one<{ n: number }>("SELECT count(*) AS n FROM tokens WHERE revoked_at IS NULL", [])
        : await this.one<{ n: number }>(
            "SELECT count(*) AS n FROM tokens WHERE revoked_at IS NULL AND role = $1",
            [role],
          );
    return r?.n ?? 0;
  }

  // ---- presence ----

  async putPresence(sessions: StoredPresence[]): Promise<void> {
    const s = lastPerKey(sessions, (p) => p.id);
    if (s.length === 0) return;
    await this.rows(
      PUT_PRESENCE,
      [
        s.map((p) => p.id),
        s.map((p) => p.badge),
        s.map((p) => p.gateway),
        s.map((p) => p.siteId),
        s.map((p) => p.arrivedAt),
        s.map((p) => p.lastHeardAt),
        s.map((p) => p.departedAt),
        s.map((p) => p.detectedAt),
        s.map((p) => p.sightings),
        s.map((p) => JSON.stringify(p.rssi)),
        s.map((p) => p.lastFrame),
      ],
      "presence-put",
    );
  }
  async listPresence(q: PresenceQuery): Promise<StoredPresence[]> {
    const where: string[] = [];
    const args: Array<string | number | null> = [];
    const arg = (v: string | number | null) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (q.siteId !== undefined) where.push(`site_id = ${arg(q.siteId)}`);
    if (q.badge !== undefined) where.push(`badge = ${arg(q.badge)}`);
    if (q.to !== undefined) where.push(`arrived_at < ${arg(bound(q.to, "ceil"))}`);
    if (q.from !== undefined)
      where.push(`(departed_at IS NULL OR departed_at >= ${arg(bound(q.from, "ceil"))})`);
    if (q.open !== undefined) where.push(q.open ? "departed_at IS NULL" : "departed_at IS NOT NULL");
    const limit = arg(Math.floor(Math.min(Math.max(q.limit ?? 500, 1), 5000)));
    const sql = `SELECT * FROM presence ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY arrived_at DESC LIMIT ${limit}`;
    return (await this.rows<PresenceRow>(sql, args)).map(toPresence);
  }

  // ---- alarm acknowledgements ----

  async putAlarmAck(a: AlarmAck, outbox: OutboxItem[] = []): Promise<void> {
    await this.putAlarmAcks([a], outbox);
  }
  async putAlarmAcks(acks: AlarmAck[], outbox: OutboxItem[] = []): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      for (const a of acks)
        await c.query({
          name: "alarm-ack-put",
          text: `INSERT INTO alarm_acks (visit_id, alarm_at, acked_by, acked_at, note) VALUES ($1, $2, $3, $4, $5)
          ON CONFLICT (visit_id, alarm_at) DO UPDATE SET acked_by = excluded.acked_by, acked_at = excluded.acked_at,
            note = excluded.note`,
          values: [a.visitId, a.alarmAt, a.by, a.at, a.note ?? null],
        });
      if (outbox.length > 0) await putOutbox(c, outbox);
    });
  }
  async alarmAcks(visitId: string): Promise<AlarmAck[]> {
    return this.alarmAcksOf([visitId]);
  }
  async alarmAcksOf(visitIds: readonly string[]): Promise<AlarmAck[]> {
    const ids = [...new Set(visitIds)];
    if (ids.length === 0) return [];
    const rows = await this.rows<{
      visit_id: string;
      alarm_at: number;
      acked_by: string;
      acked_at: number;
      note: string | null;
    }>(
      "SELECT * FROM alarm_acks WHERE visit_id = ANY($1::text[]) ORDER BY array_position($1::text[], visit_id), alarm_at",
      [ids],
      "alarm-acks-of",
    );
    return rows.map((r) => ({
      visitId: r.visit_id,
      alarmAt: r.alarm_at,
      by: r.acked_by,
      at: r.acked_at,
      ...(r.note === null ? {} : { note: r.note }),
    }));
  }

  // ---- notifications ----

  async enqueueOutbox(items: OutboxItem[]): Promise<number> {
    if (items.length === 0) return 0;
    return (
      (await this.pool.query({ name: "outbox-put", text: PUT_OUTBOX, values: outboxColumns(items) }))
        .rowCount ?? 0
    );
  }
  async dueOutbox(now: number, limit: number): Promise<OutboxItem[]> {
    return (
      await this.rows<OutboxRow>(
        "SELECT * FROM outbox WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, created_at LIMIT $2",
        [bound(now, "floor"), bound(limit, "floor")],
        "outbox-due",
      )
    ).map(toOutbox);
  }
  async updateOutbox(
    id: string,
    p: Pick<OutboxItem, "status" | "attempts" | "nextAt" | "lastError" | "deliveredAt">,
  ): Promise<void> {
    await this.rows(
      "UPDATE outbox SET status = $1, attempts = $2, next_at = $3, last_error = $4, delivered_at = $5 WHERE id = $6",
      [p.status, p.attempts, p.nextAt, p.lastError, p.deliveredAt, id],
      "outbox-update",
    );
  }
  async listOutbox(q: OutboxQuery): Promise<OutboxItem[]> {
    const where: string[] = [];
    const args: Array<string | number> = [];
    const arg = (v: string | number) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (q.status !== undefined) where.push(`status = ${arg(q.status)}`);
    if (q.visitId !== undefined) where.push(`visit_id = ${arg(q.visitId)}`);
    if (q.siteId !== undefined) where.push(`site_id = ${arg(q.siteId)}`);
    const limit = arg(Math.floor(Math.min(Math.max(q.limit ?? 200, 1), 2000)));
    const sql = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at DESC, id LIMIT ${limit}`;
    return (await this.rows<OutboxRow>(sql, args)).map(toOutbox);
  }

  async putWebhook(w: StoredWebhook): Promise<void> {
    await this.rows(
      `INSERT INTO webhooks (id, url, events, sealed_secret, site_id, created_at) VALUES ($1, $2, $3::json, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events,
          sealed_secret = excluded.sealed_secret, site_id = excluded.site_id, created_at = excluded.created_at`,
      [w.id, w.url, JSON.stringify(w.events), w.sealedSecret, w.siteId, w.createdAt],
    );
  }
  async listWebhooks(): Promise<StoredWebhook[]> {
    return (
      await this.rows<WebhookRow>("SELECT * FROM webhooks ORDER BY created_at, id", [], "webhooks")
    ).map(toWebhook);
  }
  async deleteWebhook(id: string): Promise<boolean> {
    return ((await this.pool.query("DELETE FROM webhooks WHERE id = $1", [id])).rowCount ?? 0) === 1;
  }

  async putRollCall(rc: RollCall, outbox: OutboxItem[] = []): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query({
        name: "rollcall-put",
        text: `INSERT INTO rollcalls (id, site_id, kind, started_at, started_by, ended_at, people)
          VALUES ($1, $2, $3, $4, $5, $6, $7::json)
          ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, people = excluded.people`,
        values: [
          rc.id,
          rc.siteId,
          rc.kind,
          rc.startedAt,
          rc.startedBy,
          rc.endedAt,
          JSON.stringify(rc.people),
        ],
      });
      if (outbox.length > 0) await putOutbox(c, outbox);
    });
  }
  async getRollCall(id: string): Promise<RollCall | undefined> {
    const r = await this.one<RollCallRow>("SELECT * FROM rollcalls WHERE id = $1", [id], "rollcall");
    return r ? toRollCall(r) : undefined;
  }
  async listRollCalls(siteId: string, limit: number): Promise<RollCall[]> {
    return (
      await this.rows<RollCallRow>(
        "SELECT * FROM rollcalls WHERE site_id = $1 ORDER BY started_at DESC LIMIT $2",
        [siteId, bound(limit, "floor")],
        "rollcalls",
      )
    ).map(toRollCall);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
