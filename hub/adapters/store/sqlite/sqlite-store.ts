/**
 * The store on SQLite (better-sqlite3, WAL). Synchronous underneath; the async port lets a
 * networked database implement the same interface.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
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
  VisitChangeKind,
  VisitChangeRecord,
  VisitQuery,
} from "../../../core/ports.js";
import type { VisitSummary } from "../../../core/visit/types.js";
import { MIGRATIONS } from "./migrations.js";

interface DeviceRow {
  id: string;
  kind: DeviceRecord["kind"];
  engineer_id: string | null;
  site_id: string | null;
  badge_no: number | null;
  rfid_tag: string | null;
  password_hash: string;
  sealed_key: string | null;
  created_at: number;
  revoked_at: number | null;
  clock_offset_ms: number;
  last_seen_at: number | null;
  replay_highest: number;
  replay_seen: string;
  battery: number | null;
}

interface PresenceRow {
  id: string;
  badge: string;
  gateway: string;
  site_id: string | null;
  arrived_at: number;
  last_heard_at: number;
  departed_at: number | null;
  detected_at: number | null;
  sightings: number;
  rssi: string;
  last_frame: string;
}

interface EventRow {
  seq: number;
  visit_id: string | null;
  subject: string | null;
  hub_time: number;
  clock_offset_ms: number;
  source: string;
  body: string;
  frame: string | null;
}

const EVENT_COLUMNS = "seq, visit_id, subject, hub_time, clock_offset_ms, source, body, frame";

const toEvent = (r: EventRow): StoredEvent => ({
  event: JSON.parse(r.body) as StoredEvent["event"],
  source: JSON.parse(r.source) as StoredEvent["source"],
  hubTime: r.hub_time,
  clockOffsetMs: r.clock_offset_ms,
  visitId: r.visit_id,
  subject: r.subject,
  seq: r.seq,
  ...(r.frame === null ? {} : { frame: r.frame }),
});

interface VisitRow {
  id: string;
  site_id: string;
  engineer_id: string;
  window_from: number;
  window_to: number;
  created_at: number | null;
  cancelled_at: number | null;
  cancel_reason: string | null;
}

const toDevice = (r: DeviceRow): DeviceRecord => ({
  id: r.id,
  kind: r.kind,
  engineerId: r.engineer_id,
  siteId: r.site_id,
  badgeNo: r.badge_no,
  rfidTag: r.rfid_tag,
  passwordHash: r.password_hash,
  sealedKey: r.sealed_key,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  clockOffsetMs: r.clock_offset_ms,
  lastSeenAt: r.last_seen_at,
  replay: { highest: r.replay_highest, seen: BigInt(r.replay_seen) },
  battery: r.battery,
});

const toPlan = (r: VisitRow): VisitPlan => ({
  id: r.id,
  siteId: r.site_id,
  engineerId: r.engineer_id,
  window: { from: r.window_from, to: r.window_to },
  ...(r.created_at === null ? {} : { createdAt: r.created_at }),
  ...(r.cancelled_at === null ? {} : { cancelledAt: r.cancelled_at }),
  ...(r.cancel_reason === null ? {} : { cancelReason: r.cancel_reason }),
});

interface OutboxRow {
  id: string;
  key: string;
  type: OutboxItem["type"];
  at: number;
  site_id: string | null;
  visit_id: string | null;
  channel: OutboxItem["channel"];
  target: string;
  recipient: string | null;
  body: string;
  status: OutboxItem["status"];
  attempts: number;
  next_at: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

const toOutbox = (r: OutboxRow): OutboxItem => ({
  id: r.id,
  key: r.key,
  type: r.type,
  at: r.at,
  siteId: r.site_id,
  visitId: r.visit_id,
  channel: r.channel,
  target: r.target,
  recipient: r.recipient,
  body: r.body,
  status: r.status,
  attempts: r.attempts,
  nextAt: r.next_at,
  lastError: r.last_error,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

interface WebhookRow {
  id: string;
  url: string;
  events: string;
  sealed_secret: string;
  site_id: string | null;
  created_at: number;
}

interface RollCallRow {
  id: string;
  site_id: string;
  kind: RollCall["kind"];
  started_at: number;
  started_by: string;
  ended_at: number | null;
  people: string;
}

const toRollCall = (r: RollCallRow): RollCall => ({
  id: r.id,
  siteId: r.site_id,
  kind: r.kind,
  startedAt: r.started_at,
  startedBy: r.started_by,
  endedAt: r.ended_at,
  people: JSON.parse(r.people) as RollCall["people"],
});

interface VersionRow {
  valid_from: number;
  by: string | null;
  doc: string;
}

function toVersion<T>(r: VersionRow): Versioned<T> {
  return { validFrom: r.valid_from, by: r.by, doc: JSON.parse(r.doc) as T };
}

/** The version in effect at `at` among rows sorted by valid_from (the earliest for a time before all). */
function versionAt<T>(rows: VersionRow[], at: number): T | undefined {
  let pick: VersionRow | undefined = rows[0];
  for (const r of rows) if (r.valid_from <= at) pick = r;
  return pick ? (JSON.parse(pick.doc) as T) : undefined;
}

export interface SqliteOptions {
  /** A file path, or ":memory:". */
  path: string;
  sync?: "full" | "normal";
  /**
   * auto (default): SQLite checkpoints the WAL when a commit takes it past 1,000 pages, inside that
   * commit. manual: never inside a commit; the owner calls `checkpoint()` on a schedule of its own.
   */
  checkpoint?: "auto" | "manual";
}

export interface CheckpointResult {
  /** WAL frames, and how many of them are now in the database file. */
  walFrames: number;
  checkpointed: number;
  /** Another connection's read kept part of the WAL from being checkpointed. */
  busy: boolean;
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly dynamic = new Map<string, Database.Statement>();

  constructor(opts: SqliteOptions) {
    if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new Database(opts.path);
    this.db.pragma("journal_mode = WAL");
    // full: a commit is fsynced before the PUBACK goes out, so it survives power loss.
    // normal: survives a crash of the hub process, not of the machine (WAL is fsynced at checkpoints).
    this.db.pragma(`synchronous = ${opts.sync === "normal" ? "NORMAL" : "FULL"}`);
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    if (opts.checkpoint === "manual") this.db.pragma("wal_autocheckpoint = 0");
    this.migrate();
    const db = this.db;
    this.stmt = {
      putSite: db.prepare(
        "INSERT INTO sites (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
      ),
      getSite: db.prepare<[string], { doc: string }>("SELECT doc FROM sites WHERE id = ?"),
      listSites: db.prepare<[], { doc: string }>("SELECT doc FROM sites ORDER BY id"),
      putEngineer: db.prepare(
        "INSERT INTO engineers (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
      ),
      getEngineer: db.prepare<[string], { doc: string }>("SELECT doc FROM engineers WHERE id = ?"),
      putSiteVersion: db.prepare(
        "INSERT OR REPLACE INTO site_versions (site_id, valid_from, by, doc) VALUES (?, ?, ?, ?)",
      ),
      siteVersions: db.prepare<[string], { valid_from: number; by: string | null; doc: string }>(
        "SELECT valid_from, by, doc FROM site_versions WHERE site_id = ? ORDER BY valid_from",
      ),
      putEngineerVersion: db.prepare(
        "INSERT OR REPLACE INTO engineer_versions (engineer_id, valid_from, by, doc) VALUES (?, ?, ?, ?)",
      ),
      engineerVersions: db.prepare<[string], { valid_from: number; by: string | null; doc: string }>(
        "SELECT valid_from, by, doc FROM engineer_versions WHERE engineer_id = ? ORDER BY valid_from",
      ),
      listEngineers: db.prepare<[], { doc: string }>("SELECT doc FROM engineers ORDER BY id"),
      insertVisit: db.prepare(
        `INSERT OR IGNORE INTO visits (id, site_id, engineer_id, window_from, window_to, created_at, cancelled_at,
          cancel_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      getVisit: db.prepare<[string], VisitRow>("SELECT * FROM visits WHERE id = ?"),
      updateVisit: db.prepare(`UPDATE visits SET site_id = ?, engineer_id = ?, window_from = ?, window_to = ?,
        cancelled_at = ?, cancel_reason = ? WHERE id = ?`),
      putChange: db.prepare(
        "INSERT INTO visit_changes (visit_id, at, by, kind, note, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      changes: db.prepare<
        [string],
        {
          visit_id: string;
          at: number;
          by: string | null;
          kind: string;
          note: string | null;
          before: string | null;
          after: string;
        }
      >(
        "SELECT visit_id, at, by, kind, note, before, after FROM visit_changes WHERE visit_id = ? ORDER BY seq",
      ),
      putDevice:
        db.prepare(`INSERT INTO devices (id, kind, engineer_id, site_id, badge_no, rfid_tag, password_hash,
          sealed_key, created_at, revoked_at, clock_offset_ms, last_seen_at, replay_highest, replay_seen, battery)
        VALUES (@id, @kind, @engineer_id, @site_id, @badge_no, @rfid_tag, @password_hash, @sealed_key, @created_at,
          @revoked_at, @clock_offset_ms, @last_seen_at, @replay_highest, @replay_seen, @battery)
        ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, engineer_id = excluded.engineer_id,
          site_id = excluded.site_id, badge_no = excluded.badge_no, rfid_tag = excluded.rfid_tag,
          password_hash = excluded.password_hash, sealed_key = excluded.sealed_key, revoked_at = excluded.revoked_at,
          clock_offset_ms = excluded.clock_offset_ms, last_seen_at = excluded.last_seen_at,
          replay_highest = excluded.replay_highest, replay_seen = excluded.replay_seen, battery = excluded.battery`),
      getDevice: db.prepare<[string], DeviceRow>("SELECT * FROM devices WHERE id = ?"),
      listDevices: db.prepare<[], DeviceRow>("SELECT * FROM devices ORDER BY id"),
      byBadgeNo: db.prepare<[number], DeviceRow>("SELECT * FROM devices WHERE badge_no = ?"),
      ofEngineer: db.prepare<[string], DeviceRow>(
        "SELECT * FROM devices WHERE engineer_id = ? AND revoked_at IS NULL",
      ),
      ofSite: db.prepare<[string], DeviceRow>(
        "SELECT * FROM devices WHERE site_id = ? AND revoked_at IS NULL",
      ),
      byTag: db.prepare<[string], DeviceRow>("SELECT * FROM devices WHERE rfid_tag = ?"),
      insertEvent: db.prepare(`INSERT OR IGNORE INTO events
          (device, counter, type, visit_id, subject, site_id, device_time, eff_time, hub_time, clock_offset_ms,
           source, body, frame)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      getCursor: db.prepare<[string], { seq: number }>("SELECT seq FROM uplink_cursors WHERE name = ?"),
      putCursor: db.prepare(
        "INSERT INTO uplink_cursors (name, seq) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq",
      ),
      updateDevice: db.prepare(
        "UPDATE devices SET replay_highest = ?, replay_seen = ?, last_seen_at = ?, clock_offset_ms = ?, battery = coalesce(?, battery) WHERE id = ?",
      ),
      eventsOfVisit: db.prepare<[string, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE visit_id = ? AND seq <= ? ORDER BY seq`,
      ),
      eventsOfSubject: db.prepare<[string, number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE subject = ? AND eff_time >= ? AND seq <= ? ORDER BY eff_time, seq`,
      ),
      eventsOfSite: db.prepare<[string, number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE site_id = ? AND subject IS NULL AND eff_time >= ? AND seq <= ?
          ORDER BY eff_time, seq`,
      ),
      lastTimeOfSubject: db.prepare<[string, number], { t: number }>(
        "SELECT eff_time AS t FROM events WHERE subject = ? AND seq <= ? ORDER BY eff_time DESC LIMIT 1",
      ),
      eventsAfter: db.prepare<[number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
      ),
      attribute: db.prepare("UPDATE events SET visit_id = ? WHERE device = ? AND counter = ?"),
      getMeta: db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
      putMeta: db.prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      ),
      countEvents: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM events"),
      maxCounter: db.prepare<[string], { m: number | null }>(
        "SELECT max(counter) AS m FROM events WHERE device = ?",
      ),
      putView: db.prepare(`INSERT INTO views (visit_id, doc, last_seq, projected_at) VALUES (?, ?, 0, ?)
        ON CONFLICT(visit_id) DO UPDATE SET doc = excluded.doc, projected_at = excluded.projected_at`),
      getView: db.prepare<[string], { doc: string }>("SELECT doc FROM views WHERE visit_id = ?"),
      putToken: db.prepare(`INSERT INTO tokens (digest, role, name, site_id, created_at, revoked_at)
          VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(digest) DO UPDATE SET revoked_at = excluded.revoked_at`),
      findToken: db.prepare<
        [string],
        {
          digest: string;
          role: Role;
          name: string;
          site_id: string | null;
          created_at: number;
          revoked_at: number | null;
        }
      >("SELECT * FROM tokens WHERE digest = ?"),
      listTokens: db.prepare<
        [],
        {
          digest: string;
          role: Role;
          name: string;
          site_id: string | null;
          created_at: number;
          revoked_at: number | null;
        }
      >("SELECT * FROM tokens ORDER BY created_at DESC, digest"),
      countTokens: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM tokens WHERE revoked_at IS NULL"),
      countTokensByRole: db.prepare<[string], { n: number }>(
        "SELECT count(*) AS n FROM tokens WHERE revoked_at IS NULL AND role = ?",
      ),
      putPresence: db.prepare(`INSERT INTO presence (id, badge, gateway, site_id, arrived_at, last_heard_at,
          departed_at, detected_at, sightings, rssi, last_frame)
        VALUES (@id, @badge, @gateway, @site_id, @arrived_at, @last_heard_at, @departed_at, @detected_at,
          @sightings, @rssi, @last_frame)
        ON CONFLICT(id) DO UPDATE SET last_heard_at = excluded.last_heard_at, departed_at = excluded.departed_at,
          detected_at = excluded.detected_at, sightings = excluded.sightings, rssi = excluded.rssi,
          last_frame = excluded.last_frame`),
      putOutbox:
        db.prepare(`INSERT OR IGNORE INTO outbox (id, key, type, at, site_id, visit_id, channel, target,
          recipient, body, status, attempts, next_at, last_error, created_at, delivered_at)
        VALUES (@id, @key, @type, @at, @site_id, @visit_id, @channel, @target, @recipient, @body, @status, @attempts,
          @next_at, @last_error, @created_at, @delivered_at)`),
      dueOutbox: db.prepare<[number, number], OutboxRow>(
        "SELECT * FROM outbox WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, created_at LIMIT ?",
      ),
      updateOutbox: db.prepare(
        "UPDATE outbox SET status = ?, attempts = ?, next_at = ?, last_error = ?, delivered_at = ? WHERE id = ?",
      ),
      putWebhook: db.prepare(
        "INSERT OR REPLACE INTO webhooks (id, url, events, sealed_secret, site_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      listWebhooks: db.prepare<[], WebhookRow>("SELECT * FROM webhooks ORDER BY created_at, id"),
      deleteWebhook: db.prepare("DELETE FROM webhooks WHERE id = ?"),
      putRollCall:
        db.prepare(`INSERT INTO rollcalls (id, site_id, kind, started_at, started_by, ended_at, people)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET ended_at = excluded.ended_at, people = excluded.people`),
      getRollCall: db.prepare<[string], RollCallRow>("SELECT * FROM rollcalls WHERE id = ?"),
      listRollCalls: db.prepare<[string, number], RollCallRow>(
        "SELECT * FROM rollcalls WHERE site_id = ? ORDER BY started_at DESC LIMIT ?",
      ),
      putAck: db.prepare(
        "INSERT OR REPLACE INTO alarm_acks (visit_id, alarm_at, by, at, note) VALUES (?, ?, ?, ?, ?)",
      ),
      acks: db.prepare<
        [string],
        { visit_id: string; alarm_at: number; by: string; at: number; note: string | null }
      >("SELECT * FROM alarm_acks WHERE visit_id = ? ORDER BY alarm_at"),
    };
  }

  /**
   * A statement for SQL built from a query's filters, prepared once per distinct text: a query's
   * shapes are few (which filters are set), and preparing costs more than running a small query.
   */
  private prepared<P extends unknown[] | Record<string, unknown>, R>(sql: string): Database.Statement<P, R> {
    let s = this.dynamic.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.dynamic.set(sql, s);
    }
    return s as Database.Statement<P, R>;
  }

  private migrate(): void {
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at INTEGER)",
    );
    const applied = new Set(
      this.db
        .prepare<[], { version: number }>("SELECT version FROM schema_migrations")
        .all()
        .map((r) => r.version),
    );
    const newest = Math.max(0, ...applied);
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    if (newest > known) {
      throw new Error(
        `database schema version ${newest} is newer than this hub knows (${known}): upgrade the hub`,
      );
    }
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(m.version, m.name, Date.now());
      })();
    }
  }

  get schemaVersion(): number {
    return (
      this.db.prepare<[], { v: number }>("SELECT max(version) AS v FROM schema_migrations").get()?.v ?? 0
    );
  }

  async putSite(site: Site, change?: Change): Promise<void> {
    const doc = JSON.stringify(site);
    this.db.transaction(() => {
      this.stmt.putSite.run(site.id, doc);
      this.stmt.putSiteVersion.run(site.id, change?.at ?? 0, change?.by ?? null, doc);
    })();
  }
  async getSite(id: string, at?: number): Promise<Site | undefined> {
    if (at !== undefined) return versionAt<Site>(this.stmt.siteVersions.all(id), at);
    const r = this.stmt.getSite.get(id);
    return r ? (JSON.parse(r.doc) as Site) : undefined;
  }
  async siteVersions(id: string): Promise<Array<Versioned<Site>>> {
    return this.stmt.siteVersions.all(id).map(toVersion<Site>);
  }
  async listSites(): Promise<Site[]> {
    return this.stmt.listSites.all().map((r) => JSON.parse(r.doc) as Site);
  }

  async putEngineer(e: Engineer, change?: Change): Promise<void> {
    const doc = JSON.stringify(e);
    this.db.transaction(() => {
      this.stmt.putEngineer.run(e.id, doc);
      this.stmt.putEngineerVersion.run(e.id, change?.at ?? 0, change?.by ?? null, doc);
    })();
  }
  async getEngineer(id: string, at?: number): Promise<Engineer | undefined> {
    if (at !== undefined) return versionAt<Engineer>(this.stmt.engineerVersions.all(id), at);
    const r = this.stmt.getEngineer.get(id);
    return r ? (JSON.parse(r.doc) as Engineer) : undefined;
  }
  async engineerVersions(id: string): Promise<Array<Versioned<Engineer>>> {
    return this.stmt.engineerVersions.all(id).map(toVersion<Engineer>);
  }
  async listEngineers(): Promise<Engineer[]> {
    return this.stmt.listEngineers.all().map((r) => JSON.parse(r.doc) as Engineer);
  }

  async insertVisits(plans: VisitPlan[], change?: Change): Promise<boolean[]> {
    return this.db.transaction(() =>
      plans.map((p) => {
        const ok =
          this.stmt.insertVisit.run(
            p.id,
            p.siteId,
            p.engineerId,
            p.window.from,
            p.window.to,
            p.createdAt ?? null,
            p.cancelledAt ?? null,
            p.cancelReason ?? null,
          ).changes === 1;
        if (ok && change)
          this.stmt.putChange.run(
            p.id,
            change.at,
            change.by ?? null,
            "created",
            null,
            null,
            JSON.stringify(p),
          );
        return ok;
      }),
    )();
  }
  async updateVisit(plan: VisitPlan, change: VisitChangeInput): Promise<void> {
    this.db.transaction(() => {
      const before = this.stmt.getVisit.get(plan.id);
      if (!before) throw new Error(`no visit ${plan.id}`);
      this.stmt.updateVisit.run(
        plan.siteId,
        plan.engineerId,
        plan.window.from,
        plan.window.to,
        plan.cancelledAt ?? null,
        plan.cancelReason ?? null,
        plan.id,
      );
      this.stmt.putChange.run(
        plan.id,
        change.at,
        change.by ?? null,
        change.kind,
        change.note ?? null,
        JSON.stringify(toPlan(before)),
        JSON.stringify(plan),
      );
    })();
  }
  async visitChanges(visitId: string): Promise<VisitChangeRecord[]> {
    return this.stmt.changes.all(visitId).map((r) => ({
      visitId: r.visit_id,
      at: r.at,
      by: r.by,
      kind: r.kind as VisitChangeKind,
      note: r.note,
      before: r.before === null ? null : (JSON.parse(r.before) as VisitPlan),
      after: JSON.parse(r.after) as VisitPlan,
    }));
  }
  async getVisit(id: string): Promise<VisitPlan | undefined> {
    const r = this.stmt.getVisit.get(id);
    return r ? toPlan(r) : undefined;
  }
  async listVisits(q: VisitQuery): Promise<VisitPlan[]> {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.siteId !== undefined) {
      where.push("site_id = ?");
      args.push(q.siteId);
    }
    if (q.engineerId !== undefined) {
      where.push("engineer_id = ?");
      args.push(q.engineerId);
    }
    if (q.to !== undefined) {
      where.push("window_from < ?");
      args.push(q.to);
    }
    if (q.from !== undefined) {
      where.push("window_to >= ?");
      args.push(q.from);
    }
    const sql = `SELECT * FROM visits ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY window_from, id`;
    return this.prepared<Array<string | number>, VisitRow>(sql)
      .all(...args)
      .map(toPlan);
  }

  async putDevice(d: DeviceRecord): Promise<void> {
    this.stmt.putDevice.run({
      id: d.id,
      kind: d.kind,
      engineer_id: d.engineerId,
      site_id: d.siteId,
      badge_no: d.badgeNo,
      rfid_tag: d.rfidTag,
      password_hash: d.passwordHash,
      sealed_key: d.sealedKey,
      created_at: d.createdAt,
      revoked_at: d.revokedAt,
      clock_offset_ms: d.clockOffsetMs,
      last_seen_at: d.lastSeenAt,
      replay_highest: d.replay.highest,
      replay_seen: d.replay.seen.toString(),
      battery: d.battery,
    });
  }
  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    const r = this.stmt.getDevice.get(id);
    return r ? toDevice(r) : undefined;
  }
  async listDevices(): Promise<DeviceRecord[]> {
    return this.stmt.listDevices.all().map(toDevice);
  }

  async findBadge(by: { badgeNo: number } | { rfidTag: string }): Promise<DeviceRecord | undefined> {
    const r = "badgeNo" in by ? this.stmt.byBadgeNo.get(by.badgeNo) : this.stmt.byTag.get(by.rfidTag);
    return r ? toDevice(r) : undefined;
  }

  async devicesOf(by: { engineerId: string } | { siteId: string }): Promise<DeviceRecord[]> {
    return (
      "engineerId" in by ? this.stmt.ofEngineer.all(by.engineerId) : this.stmt.ofSite.all(by.siteId)
    ).map(toDevice);
  }

  async commitEvents(events: StoredEvent[], devices: DeviceStateUpdate[]): Promise<Array<number | null>> {
    return this.db.transaction(() => {
      const seqs = events.map((e) => {
        const r = this.stmt.insertEvent.run(
          e.event.device,
          e.event.counter,
          e.event.type,
          e.visitId,
          e.subject,
          e.source.kind === "kiosk" ? e.source.siteId : null,
          e.event.time,
          e.event.time + e.clockOffsetMs,
          e.hubTime,
          e.clockOffsetMs,
          JSON.stringify(e.source),
          JSON.stringify(e.event),
          e.frame ?? null,
        );
        return r.changes === 1 ? Number(r.lastInsertRowid) : null;
      });
      for (const d of devices) {
        this.stmt.updateDevice.run(
          d.replay.highest,
          d.replay.seen.toString(),
          d.lastSeenAt,
          d.clockOffsetMs,
          d.battery,
          d.id,
        );
      }
      return seqs;
    })();
  }

  async eventsOfVisit(visitId: string, maxSeq = Number.MAX_SAFE_INTEGER): Promise<StoredEvent[]> {
    return this.stmt.eventsOfVisit.all(visitId, maxSeq).map(toEvent);
  }
  async eventsOfSubject(engineerId: string, fromTime: number, maxSeq: number): Promise<StoredEvent[]> {
    return this.stmt.eventsOfSubject.all(engineerId, fromTime, maxSeq).map(toEvent);
  }
  async eventsOfSite(siteId: string, fromTime: number, maxSeq: number): Promise<StoredEvent[]> {
    return this.stmt.eventsOfSite.all(siteId, fromTime, maxSeq).map(toEvent);
  }
  async lastTimeOfSubject(engineerId: string, maxSeq: number): Promise<number | null> {
    return this.stmt.lastTimeOfSubject.get(engineerId, maxSeq)?.t ?? null;
  }
  async eventsAfter(afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.stmt.eventsAfter.all(afterSeq, limit).map(toEvent);
  }
  async maxCounter(device: string): Promise<number> {
    return this.stmt.maxCounter.get(device)?.m ?? -1;
  }
  async countEvents(): Promise<number> {
    return this.stmt.countEvents.get()?.n ?? 0;
  }

  async saveProjection(w: ProjectionWrite): Promise<void> {
    this.db.transaction(() => {
      for (const a of w.attribution) this.stmt.attribute.run(a.visitId, a.device, a.counter);
      for (const { view, projectedAt } of w.views) {
        this.stmt.putView.run(view.visitId, JSON.stringify(view), projectedAt);
      }
      if (w.watermark !== null) this.stmt.putMeta.run("projection_watermark", String(w.watermark));
      this.insertOutbox(w.outbox ?? []);
    })();
  }
  async getView(visitId: string): Promise<VisitSummary | undefined> {
    const r = this.stmt.getView.get(visitId);
    return r ? (JSON.parse(r.doc) as VisitSummary) : undefined;
  }
  async projectionWatermark(): Promise<number> {
    return Number(this.stmt.getMeta.get("projection_watermark")?.value ?? 0);
  }

  async putToken(t: ApiToken): Promise<void> {
    this.stmt.putToken.run(t.digest, t.role, t.name, t.siteId, t.createdAt, t.revokedAt);
  }
  async findToken(digest: string): Promise<ApiToken | undefined> {
    const r = this.stmt.findToken.get(digest);
    return r
      ? {
          digest: r.digest,
          role: r.role,
          name: r.name,
          siteId: r.site_id,
          createdAt: r.created_at,
          revokedAt: r.revoked_at,
        }
      : undefined;
  }
  async listTokens(): Promise<ApiToken[]> {
    return this.stmt.listTokens.all().map((r) => ({
      digest: r.digest,
      role: r.role,
      name: r.name,
      siteId: r.site_id,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }
  async countTokens(role?: Role): Promise<number> {
    return (role === undefined ? this.stmt.countTokens.get() : this.stmt.countTokensByRole.get(role))?.n ?? 0;
  }

  async putPresence(sessions: StoredPresence[]): Promise<void> {
    this.db.transaction(() => {
      for (const p of sessions) {
        this.stmt.putPresence.run({
          id: p.id,
          badge: p.badge,
          gateway: p.gateway,
          site_id: p.siteId,
          arrived_at: p.arrivedAt,
          last_heard_at: p.lastHeardAt,
          departed_at: p.departedAt,
          detected_at: p.detectedAt,
          sightings: p.sightings,
          rssi: JSON.stringify(p.rssi),
          last_frame: p.lastFrame,
        });
      }
    })();
  }

  async listPresence(q: PresenceQuery): Promise<StoredPresence[]> {
    const where: string[] = [];
    const args: Record<string, string | number> = {};
    if (q.siteId !== undefined) {
      where.push("site_id = @site");
      args.site = q.siteId;
    }
    if (q.badge !== undefined) {
      where.push("badge = @badge");
      args.badge = q.badge;
    }
    if (q.to !== undefined) {
      where.push("arrived_at < @to");
      args.to = q.to;
    }
    if (q.from !== undefined) {
      where.push("(departed_at IS NULL OR departed_at >= @from)");
      args.from = q.from;
    }
    if (q.open !== undefined) where.push(q.open ? "departed_at IS NULL" : "departed_at IS NOT NULL");
    args.limit = Math.min(Math.max(q.limit ?? 500, 1), 5000);
    const sql = `SELECT * FROM presence ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY arrived_at DESC LIMIT @limit`;
    return this.prepared<Record<string, string | number>, PresenceRow>(sql)
      .all(args)
      .map((r) => ({
        id: r.id,
        badge: r.badge,
        gateway: r.gateway,
        siteId: r.site_id,
        arrivedAt: r.arrived_at,
        lastHeardAt: r.last_heard_at,
        departedAt: r.departed_at,
        detectedAt: r.detected_at,
        sightings: r.sightings,
        rssi: JSON.parse(r.rssi) as Array<[number, number]>,
        lastFrame: r.last_frame,
      }));
  }

  async putAlarmAck(a: AlarmAck, outbox: OutboxItem[] = []): Promise<void> {
    this.db.transaction(() => {
      this.stmt.putAck.run(a.visitId, a.alarmAt, a.by, a.at, a.note ?? null);
      this.insertOutbox(outbox);
    })();
  }

  private insertOutbox(items: readonly OutboxItem[]): number {
    let n = 0;
    for (const i of items) {
      n += this.stmt.putOutbox.run({
        id: i.id,
        key: i.key,
        type: i.type,
        at: i.at,
        site_id: i.siteId,
        visit_id: i.visitId,
        channel: i.channel,
        target: i.target,
        recipient: i.recipient,
        body: i.body,
        status: i.status,
        attempts: i.attempts,
        next_at: i.nextAt,
        last_error: i.lastError,
        created_at: i.createdAt,
        delivered_at: i.deliveredAt,
      }).changes;
    }
    return n;
  }

  async enqueueOutbox(items: OutboxItem[]): Promise<number> {
    return this.db.transaction(() => this.insertOutbox(items))();
  }
  async dueOutbox(now: number, limit: number): Promise<OutboxItem[]> {
    return this.stmt.dueOutbox.all(now, limit).map(toOutbox);
  }
  async updateOutbox(
    id: string,
    p: Pick<OutboxItem, "status" | "attempts" | "nextAt" | "lastError" | "deliveredAt">,
  ): Promise<void> {
    this.stmt.updateOutbox.run(p.status, p.attempts, p.nextAt, p.lastError, p.deliveredAt, id);
  }
  async listOutbox(q: OutboxQuery): Promise<OutboxItem[]> {
    const where: string[] = [];
    const args: Record<string, string | number> = {};
    if (q.status !== undefined) {
      where.push("status = @status");
      args.status = q.status;
    }
    if (q.visitId !== undefined) {
      where.push("visit_id = @visit");
      args.visit = q.visitId;
    }
    if (q.siteId !== undefined) {
      where.push("site_id = @site");
      args.site = q.siteId;
    }
    args.limit = Math.min(Math.max(q.limit ?? 200, 1), 2000);
    const sql = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at DESC, id LIMIT @limit`;
    return this.prepared<Record<string, string | number>, OutboxRow>(sql).all(args).map(toOutbox);
  }

  async putWebhook(w: StoredWebhook): Promise<void> {
    this.stmt.putWebhook.run(w.id, w.url, JSON.stringify(w.events), w.sealedSecret, w.siteId, w.createdAt);
  }
  async listWebhooks(): Promise<StoredWebhook[]> {
    return this.stmt.listWebhooks.all().map((r) => ({
      id: r.id,
      url: r.url,
      events: JSON.parse(r.events) as string[],
      sealedSecret: r.sealed_secret,
      siteId: r.site_id,
      createdAt: r.created_at,
    }));
  }
  async deleteWebhook(id: string): Promise<boolean> {
    return this.stmt.deleteWebhook.run(id).changes === 1;
  }

  async putRollCall(rc: RollCall, outbox: OutboxItem[] = []): Promise<void> {
    this.db.transaction(() => {
      this.stmt.putRollCall.run(
        rc.id,
        rc.siteId,
        rc.kind,
        rc.startedAt,
        rc.startedBy,
        rc.endedAt,
        JSON.stringify(rc.people),
      );
      this.insertOutbox(outbox);
    })();
  }
  async getRollCall(id: string): Promise<RollCall | undefined> {
    const r = this.stmt.getRollCall.get(id);
    return r ? toRollCall(r) : undefined;
  }
  async listRollCalls(siteId: string, limit: number): Promise<RollCall[]> {
    return this.stmt.listRollCalls.all(siteId, limit).map(toRollCall);
  }
  async alarmAcks(visitId: string): Promise<AlarmAck[]> {
    return this.stmt.acks.all(visitId).map((r) => ({
      visitId: r.visit_id,
      alarmAt: r.alarm_at,
      by: r.by,
      at: r.at,
      ...(r.note === null ? {} : { note: r.note }),
    }));
  }

  /**
   * Copies WAL frames into the database file. passive: as far as readers allow, without waiting
   * for them; truncate: all of it, then empties the WAL (on close).
   */
  checkpoint(mode: "passive" | "truncate" = "passive"): CheckpointResult {
    const [r] = this.db.pragma(`wal_checkpoint(${mode.toUpperCase()})`) as Array<{
      busy: number;
      log: number;
      checkpointed: number;
    }>;
    return { walFrames: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0, busy: (r?.busy ?? 0) !== 0 };
  }

  async uplinkCursor(name: string): Promise<number> {
    return this.stmt.getCursor.get(name)?.seq ?? 0;
  }
  async setUplinkCursor(name: string, seq: number): Promise<void> {
    this.stmt.putCursor.run(name, seq);
  }

  async putAlarmAcks(acks: AlarmAck[], outbox: OutboxItem[] = []): Promise<void> {
    this.db.transaction(() => {
      for (const a of acks) this.stmt.putAck.run(a.visitId, a.alarmAt, a.by, a.at, a.note ?? null);
      this.insertOutbox(outbox);
    })();
  }
  async alarmAcksOf(visitIds: readonly string[]): Promise<AlarmAck[]> {
    const out: AlarmAck[] = [];
    for (const id of new Set(visitIds)) out.push(...(await this.alarmAcks(id)));
    return out;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
