import type { Role, RollCall, VisitChangeKind, VisitChangeRecord } from "../../protocol/api.js";
import type { ReplayState } from "../../protocol/index.js";
import type { Engineer, Site, VisitPlan } from "./model.js";
import type { OutboxItem } from "./notify/plan.js";
import type { PresenceSession } from "./presence.js";
import type { Routable } from "./service/resolve.js";
import type { VisitSummary } from "./visit/types.js";

/** What hub/core needs from the outside world. Adapters implement these; core imports none of them. */

/** Time comes from here, never from `Date.now()` inside core. Epoch milliseconds. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Stored device kinds; "operator" is the in-memory stand-in for events staff record through the API. */
export type DeviceKind = "badge" | "kiosk" | "gateway" | "operator";

export interface DeviceRecord {
  id: string;
  kind: DeviceKind;
  /** The engineer a badge belongs to. */
  engineerId: string | null;
  /** The site a kiosk or gateway stands at. */
  siteId: string | null;
  /** A badge's 32-bit id, as its BLE frames carry it. */
  badgeNo: number | null;
  /** A badge's 125 kHz tag (10 hex digits), as the kiosk reader sees it. */
  rfidTag: string | null;
  /** MQTT password, salted hash. */
  passwordHash: string;
  /** A badge's frame key, sealed by the key vault. */
  sealedKey: string | null;
  createdAt: number;
  revokedAt: number | null;
  /** hub clock − device clock, from the last time sync. */
  clockOffsetMs: number;
  lastSeenAt: number | null;
  replay: ReplayState;
  /** A badge's battery as it last reported it, %. */
  battery: number | null;
}

/**
 * An accepted event with the engineer it is about (`subject`) and the visit it is attributed to
 * (null: none matches, yet). `seq` is the store's commit order, set once stored.
 */
export interface StoredEvent extends Routable {
  visitId: string | null;
  seq?: number;
  /** A badge frame's bytes as received (hex): the signed evidence, which a central hub verifies again. */
  frame?: string;
}

/** A change of attribution: the event `(device, counter)` now belongs to `visitId`. */
export interface Attribution {
  device: string;
  counter: number;
  visitId: string | null;
}

/** What one projection step writes, in one transaction. */
export interface ProjectionWrite {
  views: Array<{ view: VisitSummary; projectedAt: number }>;
  attribution: Attribution[];
  /** Every event with seq ≤ this has been projected (null: unchanged). */
  watermark: number | null;
  /** Notifications the projected changes call for, written in the same transaction. */
  outbox?: OutboxItem[];
  /**
   * A cluster's leader writes under its lock: the write is refused, nothing of it kept, unless the
   * database session `session` still holds the advisory lock `lock` when it commits. A store on one
   * machine (SQLite: no other writer) ignores it.
   */
  fence?: { lock: number; session: number };
}

export interface StoredWebhook {
  id: string;
  url: string;
  events: string[];
  /** The signing secret, sealed by the key vault. */
  sealedSecret: string;
  siteId: string | null;
  createdAt: number;
}

export interface OutboxQuery {
  status?: OutboxItem["status"];
  visitId?: string;
  siteId?: string;
  limit?: number;
}

export interface DeviceStateUpdate {
  id: string;
  replay: ReplayState;
  lastSeenAt: number;
  clockOffsetMs: number;
  battery: number | null;
}

export interface VisitQuery {
  siteId?: string;
  engineerId?: string;
  /** Windows overlapping [from, to) (epoch ms). */
  from?: number;
  to?: number;
}

export type { Role, VisitChangeKind, VisitChangeRecord } from "../../protocol/api.js";

/** Who changed something, and from when the change holds. */
export interface Change {
  at: number;
  by?: string;
}

export interface VisitChangeInput extends Change {
  kind: VisitChangeKind;
  note?: string;
}

export interface Versioned<T> {
  validFrom: number;
  by: string | null;
  doc: T;
}

export interface ApiToken {
  digest: string;
  role: Role;
  name: string;
  /** A kiosk token is bound to one site. */
  siteId: string | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface AlarmAck {
  visitId: string;
  alarmAt: number;
  by: string;
  at: number;
  /** What the supervisor did about it. */
  note?: string;
}

/** A presence session as stored: the site is the gateway's site (null if it has none). */
export interface StoredPresence extends PresenceSession {
  siteId: string | null;
}

export interface PresenceQuery {
  siteId?: string;
  badge?: string;
  /** Sessions overlapping [from, to) (epoch ms); an open session extends to now. */
  from?: number;
  to?: number;
  open?: boolean;
  limit?: number;
}

/**
 * The store port. SQLite implements it today (hub/adapters/store); a PostgreSQL adapter can later.
 * Writes of events are append-only; `commitEvents` is one atomic transaction per call.
 */
export interface Store {
  /**
   * Creates or updates a site; each call also keeps a version, in effect from `change.at` (default 0:
   * since always). Earlier versions stay: a visit is judged against the site as it was then.
   */
  putSite(site: Site, change?: Change): Promise<void>;
  /** The site now, or the version in effect at `at` (the earliest one for a time before it). */
  getSite(id: string, at?: number): Promise<Site | undefined>;
  listSites(): Promise<Site[]>;
  siteVersions(id: string): Promise<Array<Versioned<Site>>>;

  putEngineer(engineer: Engineer, change?: Change): Promise<void>;
  getEngineer(id: string, at?: number): Promise<Engineer | undefined>;
  listEngineers(): Promise<Engineer[]>;
  engineerVersions(id: string): Promise<Array<Versioned<Engineer>>>;

  /** Inserts visits; false for an id that already exists. One transaction, with a `created` entry each. */
  insertVisits(plans: VisitPlan[], change?: Change): Promise<boolean[]>;
  /** Replaces a visit's plan and records what changed, in one transaction. */
  updateVisit(plan: VisitPlan, change: VisitChangeInput): Promise<void>;
  /** The visit's audit trail, oldest first. */
  visitChanges(visitId: string): Promise<VisitChangeRecord[]>;
  getVisit(id: string): Promise<VisitPlan | undefined>;
  listVisits(query: VisitQuery): Promise<VisitPlan[]>;

  putDevice(device: DeviceRecord): Promise<void>;
  getDevice(id: string): Promise<DeviceRecord | undefined>;
  listDevices(): Promise<DeviceRecord[]>;
  findBadge(by: { badgeNo: number } | { rfidTag: string }): Promise<DeviceRecord | undefined>;
  /** Live (not revoked) devices bound to an engineer or a site. */
  devicesOf(by: { engineerId: string } | { siteId: string }): Promise<DeviceRecord[]>;

  /**
   * Appends events and device state in one transaction. Per event, the seq it was stored under, or
   * null when `(device, counter)` was already stored (a duplicate: the store is what dedupes).
   */
  commitEvents(events: StoredEvent[], devices: DeviceStateUpdate[]): Promise<Array<number | null>>;
  /** Events attributed to a visit, with seq ≤ `maxSeq` if given, in commit order. */
  eventsOfVisit(visitId: string, maxSeq?: number): Promise<StoredEvent[]>;
  /** Events about an engineer with effective time ≥ `fromTime` and seq ≤ `maxSeq`. */
  eventsOfSubject(engineerId: string, fromTime: number, maxSeq: number): Promise<StoredEvent[]>;
  /** A kiosk's events about no engineer (subject null) at a site, effective time ≥ `fromTime`, seq ≤ `maxSeq`. */
  eventsOfSite(siteId: string, fromTime: number, maxSeq: number): Promise<StoredEvent[]>;
  /** The latest effective time of an event about an engineer with seq ≤ `maxSeq` (null: none). */
  lastTimeOfSubject(engineerId: string, maxSeq: number): Promise<number | null>;
  /** Events with seq > `afterSeq`, in commit order, at most `limit`. */
  eventsAfter(afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /** How far the uplink named has delivered the event log (a seq; 0: nothing yet). */
  uplinkCursor(name: string): Promise<number>;
  setUplinkCursor(name: string, seq: number): Promise<void>;
  /** Highest counter stored for a device (-1: none). */
  maxCounter(device: string): Promise<number>;
  countEvents(): Promise<number>;

  /** Views, attribution changes and the projection watermark, in one transaction. */
  saveProjection(write: ProjectionWrite): Promise<void>;
  getView(visitId: string): Promise<VisitSummary | undefined>;
  /** Every event with seq ≤ this has been projected (0: none). */
  projectionWatermark(): Promise<number>;

  putToken(token: ApiToken): Promise<void>;
  findToken(digest: string): Promise<ApiToken | undefined>;
  /** Newest first. */
  listTokens(): Promise<ApiToken[]>;
  countTokens(role?: Role): Promise<number>;

  /** Inserts or updates presence sessions (by id). */
  putPresence(sessions: StoredPresence[]): Promise<void>;
  /** Newest first. */
  listPresence(query: PresenceQuery): Promise<StoredPresence[]>;

  /** Records an acknowledgement, and the notifications it calls for, in one transaction. */
  putAlarmAck(ack: AlarmAck, outbox?: OutboxItem[]): Promise<void>;
  alarmAcks(visitId: string): Promise<AlarmAck[]>;
  /**
   * Acknowledges several alarms in one transaction with the notifications they make (a repeat
   * replaces the earlier acknowledgement): all or none.
   */
  putAlarmAcks(acks: AlarmAck[], outbox?: OutboxItem[]): Promise<void>;
  /** The acknowledgements of these visits, by visit (in the order given) then alarm time. */
  alarmAcksOf(visitIds: readonly string[]): Promise<AlarmAck[]>;

  /** Adds notifications (one per key: a key already there is left as it is); how many were new. */
  enqueueOutbox(items: OutboxItem[]): Promise<number>;
  /** Pending notifications due by `now`, soonest first. */
  dueOutbox(now: number, limit: number): Promise<OutboxItem[]>;
  updateOutbox(
    id: string,
    patch: Pick<OutboxItem, "status" | "attempts" | "nextAt" | "lastError" | "deliveredAt">,
  ): Promise<void>;
  /** Newest first. */
  listOutbox(query: OutboxQuery): Promise<OutboxItem[]>;

  putWebhook(hook: StoredWebhook): Promise<void>;
  listWebhooks(): Promise<StoredWebhook[]>;
  deleteWebhook(id: string): Promise<boolean>;

  /** A roll-call, and the notifications it calls for (an evacuation tells everyone), in one transaction. */
  putRollCall(rollCall: RollCall, outbox?: OutboxItem[]): Promise<void>;
  getRollCall(id: string): Promise<RollCall | undefined>;
  /** Newest first. */
  listRollCalls(siteId: string, limit: number): Promise<RollCall[]>;

  close(): Promise<void>;
}
