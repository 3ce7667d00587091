/**
 * Who is told of a notice, through which channel, in which words: one outbox item per delivery.
 * Pure: the hub writes the items in the same transaction as the change that caused them, and a
 * dispatcher delivers them (at least once; each item's id is what a receiver dedupes on).
 *
 * - Webhooks subscribed to the notice's type (or `*`), of its site or of every site.
 * - The site's contacts subscribed to it, by e-mail and SMS, in their own language. An SOS goes to
 *   every subscribed contact outside the escalation chain and to the first of the chain; each
 *   reminder (not acknowledged within the site's escalation minutes) goes to the next of the chain,
 *   round and round. An evacuation goes to everyone on the site's list.
 * - Quiet hours (site time) hold back everything but SOS and evacuations until they end.
 */
import { DateTime } from "luxon";
import type { Contact, NotifyChannel, NotifyEvent, Site } from "../../../protocol/api.js";
import { type Language, message, type NoticeDetails } from "./messages.js";

export interface Notice {
  /** One notice per occurrence: `sos:V1:<alarm time>`; deliveries add recipient and channel. */
  key: string;
  type: NotifyEvent;
  /** When it happened. */
  at: number;
  siteId: string | null;
  visitId: string | null;
  details: NoticeDetails;
  /** An SOS reminder: 0 for the alarm itself. */
  step?: number;
}

export interface WebhookTarget {
  id: string;
  events: string[];
  siteId: string | null;
}

export interface OutboxItem {
  id: string;
  key: string;
  type: NotifyEvent;
  at: number;
  siteId: string | null;
  visitId: string | null;
  channel: NotifyChannel;
  /** The webhook id, the e-mail address, the phone number. */
  target: string;
  /** The contact's id (null for a webhook). */
  recipient: string | null;
  /** What is sent: the webhook's JSON body, or an e-mail/SMS subject and text. */
  body: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  nextAt: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

export interface PlanContext {
  site: Site | undefined;
  webhooks: readonly WebhookTarget[];
  /** Channels the hub can deliver on (an e-mail without SMTP configured is not planned). */
  channels: { email: boolean; sms: boolean };
  now: number;
  newId: () => string;
}

const URGENT: ReadonlySet<NotifyEvent> = new Set(["sos", "evacuation"]);

const subscribed = (events: readonly string[], type: NotifyEvent) =>
  events.includes("*") || events.includes(type);

/** The SOS escalation chain: contacts with a place in it, in order. */
export function escalationChain(site: Site | undefined): Contact[] {
  return (site?.contacts ?? [])
    .filter((c) => c.escalation !== undefined)
    .sort((a, b) => (a.escalation ?? 0) - (b.escalation ?? 0) || a.id.localeCompare(b.id));
}

function recipients(notice: Notice, site: Site | undefined): Contact[] {
  const contacts = site?.contacts ?? [];
  if (notice.type === "evacuation") return contacts;
  if (notice.type !== "sos") return contacts.filter((c) => subscribed(c.events, notice.type));
  const chain = escalationChain(site);
  const step = notice.step ?? 0;
  if (step > 0) return chain.length > 0 ? [chain[step % chain.length] as Contact] : [];
  const first = chain[0];
  return contacts.filter((c) => (c.escalation === undefined && subscribed(c.events, "sos")) || c === first);
}

/** When a contact's quiet hours end, if `now` is inside them (site time); undefined otherwise. */
export function quietUntil(c: Contact, site: Site | undefined, now: number): number | undefined {
  if (!c.quietHours) return undefined;
  const local = DateTime.fromMillis(now, { zone: site?.timeZone ?? "UTC" });
  const at = (hhmm: string, day: DateTime) => {
    const [h, m] = hhmm.split(":").map(Number);
    return day.set({ hour: h ?? 0, minute: m ?? 0, second: 0, millisecond: 0 });
  };
  const from = at(c.quietHours.from, local);
  const to = at(c.quietHours.to, local);
  if (from <= to) return local >= from && local < to ? to.toMillis() : undefined;
  // Over midnight (22:00–07:00): quiet after `from` (until `to` tomorrow) or before `to` (until it).
  if (local >= from) return to.plus({ days: 1 }).toMillis();
  if (local < to) return to.toMillis();
  return undefined;
}

export function planNotifications(notice: Notice, ctx: PlanContext): OutboxItem[] {
  const { now } = ctx;
  const out: OutboxItem[] = [];
  const item = (
    channel: NotifyChannel,
    target: string,
    recipient: string | null,
    body: string,
    nextAt: number,
  ): OutboxItem => ({
    id: ctx.newId(),
    key: `${notice.key}:${notice.step ?? 0}:${channel}:${recipient ?? target}`,
    type: notice.type,
    at: notice.at,
    siteId: notice.siteId,
    visitId: notice.visitId,
    channel,
    target,
    recipient,
    body,
    status: "pending",
    attempts: 0,
    nextAt,
    lastError: null,
    createdAt: now,
    deliveredAt: null,
  });
  if ((notice.step ?? 0) === 0) {
    for (const w of ctx.webhooks) {
      if (!subscribed(w.events, notice.type)) continue;
      if (w.siteId !== null && w.siteId !== notice.siteId) continue;
      const i = item("webhook", w.id, null, "", now);
      i.body = JSON.stringify({
        id: i.id,
        type: notice.type,
        at: notice.at,
        siteId: notice.siteId,
        ...(notice.visitId === null ? {} : { visitId: notice.visitId }),
        details: notice.details,
      });
      out.push(i);
    }
  }
  for (const c of recipients(notice, ctx.site)) {
    const quiet = URGENT.has(notice.type) ? undefined : quietUntil(c, ctx.site, now);
    const m = message(notice.type, notice.details, notice.at, c.language as Language);
    if (c.email && ctx.channels.email)
      out.push(item("email", c.email, c.id, JSON.stringify(m), quiet ?? now));
    if (c.phone && ctx.channels.sms)
      out.push(item("sms", c.phone, c.id, JSON.stringify({ subject: "", text: m.text }), quiet ?? now));
  }
  return out;
}
