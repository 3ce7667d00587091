/** Rows as PostgreSQL returns them (BIGINT as numbers, JSON parsed) and their mapping to the port's types. */
import type { RollCall } from "../../../../protocol/api.js";
import type { VisitPlan } from "../../../core/model.js";
import type { OutboxItem } from "../../../core/notify/plan.js";
import type {
  ApiToken,
  DeviceRecord,
  Role,
  StoredEvent,
  StoredPresence,
  StoredWebhook,
  Versioned,
  VisitChangeKind,
  VisitChangeRecord,
} from "../../../core/ports.js";

export interface DeviceRow {
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

export const toDevice = (r: DeviceRow): DeviceRecord => ({
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

export interface EventRow {
  seq: number;
  visit_id: string | null;
  subject: string | null;
  hub_time: number;
  clock_offset_ms: number;
  source: StoredEvent["source"];
  body: StoredEvent["event"];
  frame: string | null;
}

export const EVENT_COLUMNS = "seq, visit_id, subject, hub_time, clock_offset_ms, source, body, frame";

export const toEvent = (r: EventRow): StoredEvent => ({
  event: r.body,
  source: r.source,
  hubTime: r.hub_time,
  clockOffsetMs: r.clock_offset_ms,
  visitId: r.visit_id,
  subject: r.subject,
  seq: r.seq,
  ...(r.frame === null ? {} : { frame: r.frame }),
});

export interface VisitRow {
  id: string;
  site_id: string;
  engineer_id: string;
  window_from: number;
  window_to: number;
  created_at: number | null;
  cancelled_at: number | null;
  cancel_reason: string | null;
}

export const toPlan = (r: VisitRow): VisitPlan => ({
  id: r.id,
  siteId: r.site_id,
  engineerId: r.engineer_id,
  window: { from: r.window_from, to: r.window_to },
  ...(r.created_at === null ? {} : { createdAt: r.created_at }),
  ...(r.cancelled_at === null ? {} : { cancelledAt: r.cancelled_at }),
  ...(r.cancel_reason === null ? {} : { cancelReason: r.cancel_reason }),
});

export interface VisitChangeRow {
  visit_id: string;
  at: number;
  changed_by: string | null;
  kind: VisitChangeKind;
  note: string | null;
  before: VisitPlan | null;
  after: VisitPlan;
}

export const toVisitChange = (r: VisitChangeRow): VisitChangeRecord => ({
  visitId: r.visit_id,
  at: r.at,
  by: r.changed_by,
  kind: r.kind,
  note: r.note,
  before: r.before,
  after: r.after,
});

export interface OutboxRow {
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

export const toOutbox = (r: OutboxRow): OutboxItem => ({
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

/** The outbox items as the arrays PUT_OUTBOX takes. */
export const outboxColumns = (items: readonly OutboxItem[]): unknown[] => [
  items.map((i) => i.id),
  items.map((i) => i.key),
  items.map((i) => i.type),
  items.map((i) => i.at),
  items.map((i) => i.siteId),
  items.map((i) => i.visitId),
  items.map((i) => i.channel),
  items.map((i) => i.target),
  items.map((i) => i.recipient),
  items.map((i) => i.body),
  items.map((i) => i.status),
  items.map((i) => i.attempts),
  items.map((i) => i.nextAt),
  items.map((i) => i.lastError),
  items.map((i) => i.createdAt),
  items.map((i) => i.deliveredAt),
];

export interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  sealed_secret: string;
  site_id: string | null;
  created_at: number;
}

export const toWebhook = (r: WebhookRow): StoredWebhook => ({
  id: r.id,
  url: r.url,
  events: r.events,
  sealedSecret: r.sealed_secret,
  siteId: r.site_id,
  createdAt: r.created_at,
});

export interface RollCallRow {
  id: string;
  site_id: string;
  kind: RollCall["kind"];
  started_at: number;
  started_by: string;
  ended_at: number | null;
  people: RollCall["people"];
}

export const toRollCall = (r: RollCallRow): RollCall => ({
  id: r.id,
  siteId: r.site_id,
  kind: r.kind,
  startedAt: r.started_at,
  startedBy: r.started_by,
  endedAt: r.ended_at,
  people: r.people,
});

export interface VersionRow<T> {
  valid_from: number;
  changed_by: string | null;
  doc: T;
}

export const toVersion = <T>(r: VersionRow<T>): Versioned<T> => ({
  validFrom: r.valid_from,
  by: r.changed_by,
  doc: r.doc,
});

export interface TokenRow {
  digest: string;
  role: Role;
  name: string;
  site_id: string | null;
  created_at: number;
  revoked_at: number | null;
}

export const toToken = (r: TokenRow): ApiToken => ({
  digest: r.digest,
  role: r.role,
  name: r.name,
  siteId: r.site_id,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

export interface PresenceRow {
  id: string;
  badge: string;
  gateway: string;
  site_id: string | null;
  arrived_at: number;
  last_heard_at: number;
  departed_at: number | null;
  detected_at: number | null;
  sightings: number;
  rssi: Array<[number, number]>;
  last_frame: string;
}

export const toPresence = (r: PresenceRow): StoredPresence => ({
  id: r.id,
  badge: r.badge,
  gateway: r.gateway,
  siteId: r.site_id,
  arrivedAt: r.arrived_at,
  lastHeardAt: r.last_heard_at,
  departedAt: r.departed_at,
  detectedAt: r.detected_at,
  sightings: r.sightings,
  rssi: r.rssi,
  lastFrame: r.last_frame,
});

/** The last item per key (a later item overrides an earlier one, as sequential statements would). */
export function lastPerKey<T>(items: readonly T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const t of items) {
    const k = key(t);
    m.delete(k);
    m.set(k, t);
  }
  return [...m.values()];
}

/** For a batch insert that skips conflicts: true/the value for the first item of each returned key. */
export function firstPerKey<T, V>(
  items: readonly T[],
  key: (t: T) => string,
  returned: Map<string, V>,
): Array<V | null> {
  return items.map((t) => {
    const k = key(t);
    const v = returned.get(k);
    if (v === undefined) return null;
    returned.delete(k);
    return v;
  });
}
