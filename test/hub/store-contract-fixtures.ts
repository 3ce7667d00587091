/** Records for the store contract suite: sites, engineers, devices, events and views, built small. */
import { defaultSite, type Engineer, type Site, type VisitPlan } from "../../hub/core/model.js";
import type { OutboxItem } from "../../hub/core/notify/plan.js";
import type { DeviceRecord, StoredEvent, StoredPresence } from "../../hub/core/ports.js";
import { emptySummary } from "../../hub/core/visit/project.js";
import type { VisitSummary } from "../../hub/core/visit/types.js";
import type { DeviceEvent } from "../../protocol/index.js";

/** 2025-11-25 12:00 UTC. */
export const T0 = 1_764_072_000_000;
export const MIN = 60_000;

export const site = (id: string, patch: Partial<Site> = {}): Site =>
  defaultSite({ id, name: `Site ${id}`, timeZone: "Asia/Shanghai", ...patch });

export const engineer = (id: string, patch: Partial<Engineer> = {}): Engineer => ({
  id,
  name: `Engineer ${id}`,
  company: "Shengda",
  certificates: [{ kind: "safety_training", validUntil: "2099-12-31" }],
  ...patch,
});

export const plan = (id: string, from: number, to: number, patch: Partial<VisitPlan> = {}): VisitPlan => ({
  id,
  siteId: "S1",
  engineerId: "E1",
  window: { from, to },
  ...patch,
});

export const device = (id: string, patch: Partial<DeviceRecord> = {}): DeviceRecord => ({
  id,
  kind: "gateway",
  engineerId: null,
  siteId: null,
  badgeNo: null,
  rfidTag: null,
  passwordHash: `hash-of-${id}`,
  sealedKey: null,
  createdAt: T0,
  revokedAt: null,
  clockOffsetMs: 0,
  lastSeenAt: null,
  replay: { highest: -1, seen: 0n },
  battery: null,
  ...patch,
});

/** A pending notification to an e-mail address, due at `nextAt`. */
export const outboxItem = (id: string, patch: Partial<OutboxItem> = {}): OutboxItem => ({
  id,
  key: `key-${id}`,
  type: "sos",
  at: T0,
  siteId: "S1",
  visitId: "V1",
  channel: "email",
  target: "warden@example.test",
  recipient: "c1",
  body: `{"subject":"SOS ${id}","text":"…"}`,
  status: "pending",
  attempts: 0,
  nextAt: T0,
  lastError: null,
  createdAt: T0,
  deliveredAt: null,
  ...patch,
});

export interface EventOptions {
  time?: number;
  offset?: number;
  visitId?: string | null;
  hubTime?: number;
}

/** A badge's `work_started` about its engineer. */
export function badgeEvent(
  dev: string,
  counter: number,
  engineerId: string,
  o: EventOptions = {},
): StoredEvent {
  const time = o.time ?? T0 + counter * 1000;
  return {
    event: { v: 1, type: "work_started", device: dev, counter, time } as DeviceEvent,
    source: { kind: "badge", engineerId },
    hubTime: o.hubTime ?? time,
    clockOffsetMs: o.offset ?? 0,
    visitId: o.visitId ?? null,
    subject: engineerId,
  };
}

/** A kiosk's `completion_confirmed` at its site, about `subject` (null: about nobody). */
export function kioskEvent(
  dev: string,
  counter: number,
  siteId: string,
  subject: string | null,
  o: EventOptions = {},
): StoredEvent {
  const time = o.time ?? T0 + counter * 1000;
  return {
    event: {
      v: 1,
      type: "completion_confirmed",
      device: dev,
      counter,
      time,
      resolved: true,
      rating: 5,
    } as DeviceEvent,
    source: { kind: "kiosk", siteId },
    hubTime: o.hubTime ?? time,
    clockOffsetMs: o.offset ?? 0,
    visitId: o.visitId ?? null,
    subject,
  };
}

export function view(p: VisitPlan, patch: Partial<VisitSummary> = {}): VisitSummary {
  return { ...emptySummary({ plan: p, site: site(p.siteId), engineer: engineer(p.engineerId) }), ...patch };
}

export const presence = (id: string, patch: Partial<StoredPresence> = {}): StoredPresence => ({
  id,
  badge: "badge-1",
  gateway: "gw-1",
  siteId: "S1",
  arrivedAt: T0,
  lastHeardAt: T0 + 1000,
  departedAt: null,
  detectedAt: null,
  sightings: 3,
  rssi: [
    [T0, -60],
    [T0 + 1000, -62],
  ],
  lastFrame: "0011aabb",
  ...patch,
});

export const counters = (events: StoredEvent[]) => events.map((e) => e.event.counter);
