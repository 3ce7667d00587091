/**
 * Turns what happens into notifications: the visit changes the rules report (SOS, departure without
 * clean-up, late without notice, no-show, not on site yet, unqualified check-in, the engineer's late
 * notice and his being on the way, for the customer), SOS reminders that escalate along the site's
 * chain until acknowledged, devices going offline, acknowledgements and evacuations. It plans the
 * deliveries (hub/core/notify/plan.ts); the caller stores them in the same transaction as the change.
 */
import { randomUUID } from "node:crypto";
import {
  ALARM_KINDS,
  type AlarmKind,
  alarmsOf,
  isAlarmViolation,
  type NotifyEvent,
  type Site,
} from "../../protocol/api.js";
import type { NoticeDetails } from "../core/notify/messages.js";
import {
  escalationChain,
  type Notice,
  type OutboxItem,
  planNotifications,
  type WebhookTarget,
} from "../core/notify/plan.js";
import type { Clock, DeviceRecord, Store } from "../core/ports.js";
import type { VisitUpdate } from "../core/service/visits.js";
import type { Logger } from "../log.js";

export interface NotifierOptions {
  channels: { email: boolean; sms: boolean };
  /** Minutes an SOS waits for an acknowledgement before the next contact is told (a site may set its own). */
  escalationMinutes: number;
}

/** How often `tick` looks for devices gone offline (each kind's timeout is minutes). */
const OFFLINE_CHECK_MS = 15_000;

/** How long each kind of device may stay silent before it is stale, then offline. */
export const HEALTH_TIMEOUTS: Record<"badge" | "kiosk" | "gateway", { staleMs: number; offlineMs: number }> =
  {
    badge: { staleMs: 60_000, offlineMs: 5 * 60_000 },
    kiosk: { staleMs: 2 * 60_000, offlineMs: 5 * 60_000 },
    gateway: { staleMs: 60_000, offlineMs: 3 * 60_000 },
  };

export type Health = "online" | "stale" | "offline" | "never";

export function healthOf(
  d: Pick<DeviceRecord, "kind" | "lastSeenAt">,
  connected: boolean,
  now: number,
): Health {
  if (d.kind === "operator") return "never";
  if (connected) return "online";
  if (d.lastSeenAt === null) return "never";
  const t = HEALTH_TIMEOUTS[d.kind];
  const quiet = now - d.lastSeenAt;
  return quiet < t.staleMs ? "online" : quiet < t.offlineMs ? "stale" : "offline";
}

interface OpenAlarm {
  visitId: string;
  siteId: string;
  at: number;
  details: NoticeDetails;
  /** Reminders already planned. */
  step: number;
}

/** An alarm not yet acknowledged (the open-alarms gauge). */
interface Unacknowledged {
  visitId: string;
  at: number;
  kind: AlarmKind;
}

export class Notifier {
  private webhooks: WebhookTarget[] | undefined;
  private readonly sites = new Map<string, Site | undefined>();
  private readonly alarms = new Map<string, OpenAlarm>();
  /** Every unacknowledged alarm (`alarmsOf`) by `visit@time` (the open-alarms gauge). */
  private readonly open = new Map<string, Unacknowledged>();
  private readonly lastHealth = new Map<string, Health>();
  private offlineCheckedAt = Number.NEGATIVE_INFINITY;
  private deviceCounts = new Map<string, number>();

  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      log: Logger;
      /** Whether a device has a live connection now (MQTT). */
      connected: (deviceId: string) => boolean;
    },
    private readonly opts: NotifierOptions,
  ) {}

  /** Unacknowledged alarms by kind (for the `onsite_open_alarms` gauge). */
  openAlarms(): Record<AlarmKind, number> {
    const out = Object.fromEntries(ALARM_KINDS.map((k) => [k, 0])) as Record<AlarmKind, number>;
    for (const a of this.open.values()) out[a.kind]++;
    return out;
  }

  /** Devices by `kind/health` as of the last tick (the `onsite_devices` gauge). */
  devices(): ReadonlyMap<string, number> {
    return this.deviceCounts;
  }

  /** Webhooks or sites changed: read them again. */
  forget(): void {
    this.webhooks = undefined;
    this.sites.clear();
  }

  private async site(id: string | null): Promise<Site | undefined> {
    if (id === null) return undefined;
    if (!this.sites.has(id)) this.sites.set(id, await this.deps.store.getSite(id));
    return this.sites.get(id);
  }

  private async hooks(): Promise<WebhookTarget[]> {
    this.webhooks ??= (await this.deps.store.listWebhooks()).map((w) => ({
      id: w.id,
      events: w.events,
      siteId: w.siteId,
    }));
    return this.webhooks;
  }

  /** The deliveries of one notice. */
  async plan(notice: Notice): Promise<OutboxItem[]> {
    return planNotifications(notice, {
      site: await this.site(notice.siteId),
      webhooks: await this.hooks(),
      channels: this.opts.channels,
      now: this.deps.clock.now(),
      newId: randomUUID,
    });
  }

  private async planAll(notices: Notice[]): Promise<OutboxItem[]> {
    const out: OutboxItem[] = [];
    for (const n of notices) out.push(...(await this.plan(n)));
    return out;
  }

  /** What a batch of visit updates calls for (the visit service stores it with the views). */
  async forUpdates(updates: VisitUpdate[]): Promise<OutboxItem[]> {
    const notices: Notice[] = [];
    for (const u of updates) {
      const base = {
        siteId: u.plan.siteId,
        visitId: u.plan.id,
        details: {
          siteName: u.site.name,
          zone: u.site.timeZone,
          engineerName: u.engineer.name,
          windowFrom: u.plan.window.from,
          windowTo: u.plan.window.to,
        },
      };
      const add = (type: NotifyEvent, at: number, key: string, more: NoticeDetails = {}) =>
        notices.push({
          ...base,
          type,
          at,
          key: `${type}:${u.plan.id}:${key}`,
          details: { ...base.details, ...more },
        });
      for (const c of u.changes) {
        switch (c.kind) {
          case "alarm":
            add("sos", c.alarm.at, String(c.alarm.at), { sosKind: c.alarm.sosKind });
            this.open.set(`${u.plan.id}@${c.alarm.at}`, { visitId: u.plan.id, at: c.alarm.at, kind: "sos" });
            this.alarms.set(`${u.plan.id}@${c.alarm.at}`, {
              visitId: u.plan.id,
              siteId: u.plan.siteId,
              at: c.alarm.at,
              details: { ...base.details, sosKind: c.alarm.sosKind },
              step: 0,
            });
            break;
          case "violation": {
            const v = c.violation;
            if (isAlarmViolation(v)) {
              add(v.kind, v.at, String(v.at), { missing: v.missing });
              this.open.set(`${u.plan.id}@${v.at}`, { visitId: u.plan.id, at: v.at, kind: v.kind });
            } else if (v.kind === "late_without_notice")
              add(v.kind, v.at, String(v.at), { minutesLate: v.minutesLate });
            else if (v.kind === "no_show") add(v.kind, v.at, String(v.at));
            else if (v.kind === "unqualified_checkin")
              add(v.kind, v.at, String(v.at), { problems: v.problems.map((p) => `${p.kind} ${p.problem}`) });
            break;
          }
          case "warning":
            add("at_risk", c.warning.at, String(c.warning.at));
            break;
          case "late_notice":
            add("late_notice", u.view.advanceNotice?.receivedAt ?? this.deps.clock.now(), String(c.eta), {
              eta: c.eta,
            });
            break;
          case "en_route":
            add("en_route", c.at, `${c.at}:${c.eta ?? ""}`, { eta: c.eta });
            break;
          default:
            break;
        }
      }
      // An alarm that is gone after a re-attribution no longer counts as open, nor escalates.
      const raised = new Set(alarmsOf(u.view).map((a) => `${a.kind}@${a.at}`));
      for (const [k, a] of this.open)
        if (a.visitId === u.plan.id && !raised.has(`${a.kind}@${a.at}`)) this.open.delete(k);
      for (const [k, a] of this.alarms)
        if (a.visitId === u.plan.id && !raised.has(`sos@${a.at}`)) this.alarms.delete(k);
    }
    return this.planAll(notices);
  }

  /** An alarm acknowledged: it stops escalating, and those who want to know are told. */
  async acknowledged(
    ack: {
      visitId: string;
      alarmAt: number;
      by: string;
      note?: string;
    },
    /** false: only plan what to tell; the caller calls `dismiss` once the acknowledgement is stored. */
    stop = true,
  ): Promise<OutboxItem[]> {
    const key = `${ack.visitId}@${ack.alarmAt}`;
    const open = this.alarms.get(key);
    if (stop) this.dismiss(ack.visitId, ack.alarmAt);
    const plan = await this.deps.store.getVisit(ack.visitId);
    if (!plan) return [];
    const [site, engineer] = [
      await this.site(plan.siteId),
      await this.deps.store.getEngineer(plan.engineerId),
    ];
    return this.plan({
      key: `alarm_acknowledged:${ack.visitId}:${ack.alarmAt}`,
      type: "alarm_acknowledged",
      at: this.deps.clock.now(),
      siteId: plan.siteId,
      visitId: plan.id,
      details: {
        ...(open?.details ?? {}),
        ...(site ? { siteName: site.name, zone: site.timeZone } : {}),
        ...(engineer ? { engineerName: engineer.name } : {}),
        acknowledgedBy: ack.by,
        ...(ack.note ? { note: ack.note } : {}),
      },
    });
  }

  /** An alarm acknowledged elsewhere (another node of the cluster): it stops escalating. */
  dismiss(visitId: string, alarmAt: number): void {
    this.alarms.delete(`${visitId}@${alarmAt}`);
    this.open.delete(`${visitId}@${alarmAt}`);
  }

  /** Everyone on the site's list is told, whatever the hour. */
  async evacuation(siteId: string, rollCallId: string, at: number): Promise<OutboxItem[]> {
    const site = await this.site(siteId);
    return this.plan({
      key: `evacuation:${siteId}:${rollCallId}`,
      type: "evacuation",
      at,
      siteId,
      visitId: null,
      details: site ? { siteName: site.name, zone: site.timeZone } : {},
    });
  }

  /**
   * Open alarms at start: the unacknowledged alarms of recent visits; an SOS escalates, with the
   * reminders already due counted as sent.
   */
  async start(): Promise<void> {
    const { store, clock } = this.deps;
    const now = clock.now();
    for (const plan of await store.listVisits({ from: now - 2 * 86_400_000, to: now + 86_400_000 })) {
      const view = await store.getView(plan.id);
      if (!view) continue;
      const acked = new Set((await store.alarmAcks(plan.id)).map((a) => a.alarmAt));
      const open = alarmsOf(view).filter((a) => !acked.has(a.at));
      for (const a of open) this.open.set(`${plan.id}@${a.at}`, { visitId: plan.id, at: a.at, kind: a.kind });
      if (!open.some((a) => a.kind === "sos")) continue;
      const site = await this.site(plan.siteId);
      const engineer = await store.getEngineer(plan.engineerId);
      const every = (site?.escalationMinutes ?? this.opts.escalationMinutes) * 60_000;
      for (const a of open) {
        if (a.kind !== "sos") continue;
        this.alarms.set(`${plan.id}@${a.at}`, {
          visitId: plan.id,
          siteId: plan.siteId,
          at: a.at,
          details: {
            ...(site ? { siteName: site.name, zone: site.timeZone } : {}),
            ...(engineer ? { engineerName: engineer.name } : {}),
            ...(a.sosKind === null ? {} : { sosKind: a.sosKind }),
          },
          // Reminders missed while the hub was down are not all sent now: only the latest one is.
          step: Math.max(0, Math.floor((now - a.at) / every) - 1),
        });
      }
    }
  }

  /**
   * Time-driven notifications, written in their own transaction: SOS reminders that have come due
   * (each once: its key is unique), and devices that went offline.
   */
  async tick(): Promise<number> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const items: OutboxItem[] = [];
    for (const a of this.alarms.values()) {
      const site = await this.site(a.siteId);
      if (escalationChain(site).length === 0) continue;
      const every = (site?.escalationMinutes ?? this.opts.escalationMinutes) * 60_000;
      const due = Math.floor((now - a.at) / every);
      for (let step = a.step + 1; step <= due; step++) {
        items.push(
          ...(await this.plan({
            key: `sos:${a.visitId}:${a.at}`,
            type: "sos",
            at: a.at,
            siteId: a.siteId,
            visitId: a.visitId,
            details: { ...a.details, reminder: step },
            step,
          })),
        );
      }
      a.step = Math.max(a.step, due);
    }
    // Devices go offline after minutes: reading every device on every tick would be wasted work.
    if (now - this.offlineCheckedAt >= OFFLINE_CHECK_MS) {
      this.offlineCheckedAt = now;
      items.push(...(await this.offline(now)));
    }
    return items.length > 0 ? store.enqueueOutbox(items) : 0;
  }

  /** Kiosks and gateways that went offline, and badges of engineers on site (a badge off duty is not news). */
  private async offline(now: number): Promise<OutboxItem[]> {
    const { store } = this.deps;
    const notices: Notice[] = [];
    const counts = new Map<string, number>();
    for (const d of await store.listDevices()) {
      if (d.revokedAt !== null || d.kind === "operator") continue;
      const h = healthOf(d, this.deps.connected(d.id), now);
      counts.set(`${d.kind}/${h}`, (counts.get(`${d.kind}/${h}`) ?? 0) + 1);
      const before = this.lastHealth.get(d.id);
      this.lastHealth.set(d.id, h);
      if (h !== "offline" || before === undefined || before === "offline") continue;
      const siteId = d.siteId ?? (await this.siteOnDuty(d, now));
      if (d.kind === "badge" && siteId === null) continue;
      const site = await this.site(siteId);
      notices.push({
        key: `device_offline:${d.id}:${d.lastSeenAt ?? 0}`,
        type: "device_offline",
        at: now,
        siteId,
        visitId: null,
        details: {
          deviceId: d.id,
          deviceKind: d.kind,
          lastSeenAt: d.lastSeenAt,
          ...(site ? { siteName: site.name, zone: site.timeZone } : {}),
        },
      });
    }
    this.deviceCounts = counts;
    return this.planAll(notices);
  }

  /** The site where a badge's engineer is checked in now, if any. */
  private async siteOnDuty(d: DeviceRecord, now: number): Promise<string | null> {
    if (d.engineerId === null) return null;
    for (const p of await this.deps.store.listVisits({
      engineerId: d.engineerId,
      from: now - 86_400_000,
      to: now + 1,
    })) {
      const v = await this.deps.store.getView(p.id);
      if (v?.checkin?.consent && v.departure === null) return p.siteId;
    }
    return null;
  }
}
