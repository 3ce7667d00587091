/**
 * The shapes the hub's HTTP API speaks, as TypeBox schemas with their types inferred: sites,
 * engineers, visit plans, the projection of a visit (summary, timeline), presence, devices and
 * tokens as the API shows them. One definition: hub/core's types are these, the HTTP routes declare
 * them as response schemas (OpenAPI at /docs), and the web app imports the types. Browser-safe.
 */
import { type Static, type TLiteral, type TSchema, Type } from "@sinclair/typebox";
import { CleanupItemSchema, EVENT_TYPES, PpeItemSchema } from "./events.js";
import { EntityId } from "./fields.js";

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const lit = <const T extends readonly string[]>(values: T) =>
  Type.Union(values.map((v) => Type.Literal(v)) as TLiteral<T[number]>[]);
const Ms = Type.Integer({ description: "epoch ms" });

// ---- who is told what ----

/** What the hub tells people about (webhook event names; `*` subscribes to all). */
export const NOTIFY_EVENTS = [
  "sos",
  "departed_without_cleanup",
  "late_without_notice",
  "no_show",
  "at_risk",
  "unqualified_checkin",
  "device_offline",
  "alarm_acknowledged",
  "late_notice",
  "en_route",
  "evacuation",
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
export const NotifyEventSchema = lit(NOTIFY_EVENTS);
const Subscription = Type.Array(Type.Union([NotifyEventSchema, Type.Literal("*")]), {
  minItems: 1,
  uniqueItems: true,
});
const HHMM = Type.String({ pattern: "^([01]\\d|2[0-3]):[0-5]\\d$", description: "HH:MM, site time" });

/** Someone a site tells things to, in their language, through their channels. */
export const ContactSchema = Type.Object(
  {
    id: EntityId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    role: lit(["supervisor", "dispatcher", "warden", "customer"] as const),
    language: lit(["zh-CN", "en"] as const),
    email: Type.Optional(Type.String({ pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", maxLength: 254 })),
    phone: Type.Optional(Type.String({ pattern: "^\\+?[0-9][0-9 -]{4,19}$" })),
    events: Subscription,
    /** Place in the SOS escalation chain (1 is told first; the next if not acknowledged in time). */
    escalation: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    /** Nothing but SOS and evacuations reaches this contact in these hours (site time); the rest waits. */
    quietHours: Type.Optional(Type.Object({ from: HHMM, to: HHMM }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type Contact = Static<typeof ContactSchema>;

// ---- sites, engineers, plans ----

const IsoDate = Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$", description: "YYYY-MM-DD" });

export const SiteSchema = Type.Object(
  {
    id: EntityId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    /** IANA time zone, e.g. Asia/Shanghai. Windows and working days are in this zone. */
    timeZone: Type.String({ minLength: 1, maxLength: 64 }),
    requiredPpe: Type.Array(PpeItemSchema, { uniqueItems: true }),
    /** What the customer signs off before the visit can complete. */
    cleanupChecklist: Type.Array(CleanupItemSchema, { uniqueItems: true, minItems: 1 }),
    /** Certificate kinds every engineer on this site must hold, valid on the day. */
    requiredCertificates: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { uniqueItems: true }),
    /** warn: check-in goes ahead with a violation; refuse: check-in is blocked as well. */
    certificatePolicy: Type.Union([Type.Literal("warn"), Type.Literal("refuse")]),
    /** ISO weekdays (1 = Monday) the site works. */
    workingDays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { uniqueItems: true, minItems: 1 }),
    holidays: Type.Array(IsoDate, { uniqueItems: true }),
    /** Warn supervisors when the engineer is not on site this many minutes before the window ends. */
    atRiskMinutes: Type.Integer({ minimum: 0, maximum: 24 * 60 }),
    /** Who is told what (notifications). */
    contacts: Type.Optional(Type.Array(ContactSchema, { maxItems: 50 })),
    /** An SOS not acknowledged within this many minutes goes to the next contact of the chain (default 5). */
    escalationMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 120 })),
  },
  { additionalProperties: false },
);
export type Site = Static<typeof SiteSchema>;

export const CertificateSchema = Type.Object(
  {
    kind: Type.String({ minLength: 1, maxLength: 64 }),
    number: Type.Optional(Type.String({ maxLength: 64 })),
    /** Last day (inclusive, in the site's zone) the certificate is valid. */
    validUntil: IsoDate,
  },
  { additionalProperties: false },
);
export type Certificate = Static<typeof CertificateSchema>;

export const EngineerSchema = Type.Object(
  {
    id: EntityId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    company: Type.String({ minLength: 1, maxLength: 200 }),
    certificates: Type.Array(CertificateSchema, { maxItems: 50 }),
  },
  { additionalProperties: false },
);
export type Engineer = Static<typeof EngineerSchema>;

/** A promised arrival window as instants (epoch ms), already resolved from the site's wall time. */
export const ArrivalWindowSchema = Type.Object({ from: Ms, to: Ms });
export type ArrivalWindow = Static<typeof ArrivalWindowSchema>;

export const VisitPlanSchema = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  engineerId: Type.String(),
  window: ArrivalWindowSchema,
  /** When the visit was booked (hub clock): a visit booked after an event ranks behind one that existed. */
  createdAt: Type.Optional(Ms),
  /** When it was cancelled (hub clock): from then on no event is routed to it, no deadline runs. */
  cancelledAt: Type.Optional(Ms),
  cancelReason: Type.Optional(Type.String()),
});
export type VisitPlan = Static<typeof VisitPlanSchema>;

export const VisitChangeSchema = Type.Object({
  visitId: Type.String(),
  at: Ms,
  by: Nullable(Type.String()),
  kind: lit(["created", "rescheduled", "reassigned", "cancelled", "restored"] as const),
  note: Nullable(Type.String()),
  before: Nullable(VisitPlanSchema),
  after: VisitPlanSchema,
});
export type VisitChangeRecord = Static<typeof VisitChangeSchema>;
export type VisitChangeKind = VisitChangeRecord["kind"];

// ---- the projection of a visit ----

export const EventRefSchema = Type.Object({ device: Type.String(), counter: Type.Integer() });
export type EventRef = Static<typeof EventRefSchema>;

/** Who stands behind an event: the engineer's badge, the site's kiosk (the customer), or an operator. */
export const EventSourceSchema = Type.Union([
  Type.Object({ kind: Type.Literal("badge"), engineerId: Type.String() }),
  Type.Object({ kind: Type.Literal("kiosk"), siteId: Type.String() }),
  Type.Object({ kind: Type.Literal("operator"), user: Type.String() }),
]);
export type EventSource = Static<typeof EventSourceSchema>;

export const ArrivalVerdictSchema = Type.Object({
  class: lit(["early", "on_time", "late"] as const),
  /** Whole minutes early or late, rounded up (30 s late is 1 min late); 0 when on time. */
  minutes: Type.Integer(),
});
export type ArrivalVerdict = Static<typeof ArrivalVerdictSchema>;

export const CertificateProblemSchema = Type.Union([
  Type.Object({ kind: Type.String(), problem: Type.Literal("missing") }),
  Type.Object({ kind: Type.String(), problem: Type.Literal("expired"), validUntil: Type.String() }),
]);
export type CertificateProblem = Static<typeof CertificateProblemSchema>;

export const VIOLATION_KINDS = [
  "late_arrival",
  "late_without_notice",
  "no_show",
  "unqualified_checkin",
  "work_without_gear",
  "departed_without_cleanup",
  "departed_without_completion",
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

const Evidence = Type.Array(EventRefSchema);
export const ViolationSchema = Type.Union([
  Type.Object({
    kind: Type.Literal("late_arrival"),
    at: Ms,
    minutesLate: Type.Integer(),
    evidence: Evidence,
  }),
  Type.Object({
    kind: Type.Literal("late_without_notice"),
    at: Ms,
    minutesLate: Type.Integer(),
    evidence: Evidence,
  }),
  Type.Object({ kind: Type.Literal("no_show"), at: Ms, evidence: Evidence }),
  Type.Object({
    kind: Type.Literal("unqualified_checkin"),
    at: Ms,
    problems: Type.Array(CertificateProblemSchema),
    refused: Type.Boolean(),
    evidence: Evidence,
  }),
  Type.Object({
    kind: Type.Literal("work_without_gear"),
    at: Ms,
    missing: Type.Array(PpeItemSchema),
    evidence: Evidence,
  }),
  Type.Object({
    kind: Type.Literal("departed_without_cleanup"),
    at: Ms,
    missing: Type.Array(CleanupItemSchema),
    evidence: Evidence,
  }),
  Type.Object({ kind: Type.Literal("departed_without_completion"), at: Ms, evidence: Evidence }),
]);
export type Violation = Static<typeof ViolationSchema>;

export const SosAlarmSchema = Type.Object({
  kind: Type.Literal("sos"),
  at: Ms,
  sosKind: lit(["injury", "hazard", "other"] as const),
  evidence: Evidence,
});
export type SosAlarm = Static<typeof SosAlarmSchema>;

export const WarningSchema = Type.Object({ kind: Type.Literal("not_on_site"), at: Ms, windowEndsAt: Ms });
export type Warning = Static<typeof WarningSchema>;

export const EntryStatusSchema = lit(["applied", "redundant", "rejected", "ignored"] as const);
export type EntryStatus = Static<typeof EntryStatusSchema>;

export const TimelineEntrySchema = Type.Object({
  ref: EventRefSchema,
  type: lit(EVENT_TYPES),
  source: EventSourceSchema,
  deviceTime: Ms,
  hubTime: Ms,
  /** Device time corrected by the device's clock offset: the time the rules use. */
  effectiveTime: Ms,
  status: EntryStatusSchema,
  reason: Type.Optional(Type.String()),
  /** Received after newer events of this visit, or long after it happened (a backlog). */
  lateData: Type.Boolean(),
});
export type TimelineEntry = Static<typeof TimelineEntrySchema>;

export const VISIT_STATES = [
  "cancelled",
  "scheduled",
  "no_show",
  "arrived",
  "refused",
  "checked_in",
  "working",
  "completed",
  "departed",
] as const;
export const VisitStateSchema = lit(VISIT_STATES);
export type VisitState = Static<typeof VisitStateSchema>;

export const ServiceReportSchema = Type.Object({
  cause: Type.String(),
  parts: Type.Array(
    Type.Object({ name: Type.String(), partNo: Type.Optional(Type.String()), quantity: Type.Integer() }),
  ),
  workDone: Type.String(),
  advice: Type.String(),
  at: Ms,
});
export type ServiceReport = Static<typeof ServiceReportSchema>;

/** A visit's projection without its timeline: what lists, status and the store keep. */
export const VisitSummarySchema = Type.Object({
  visitId: Type.String(),
  siteId: Type.String(),
  engineerId: Type.String(),
  window: ArrivalWindowSchema,
  state: VisitStateSchema,
  arrival: Nullable(
    Type.Object({ at: Ms, source: Type.String(), verdict: ArrivalVerdictSchema, evidence: EventRefSchema }),
  ),
  /** The first late notice that reached the hub before the window closed. */
  advanceNotice: Nullable(
    Type.Object({ receivedAt: Ms, eta: Ms, reason: Type.String(), evidence: EventRefSchema }),
  ),
  kitChecked: Nullable(Type.Object({ at: Ms, complete: Type.Boolean(), missing: Type.Array(Type.String()) })),
  /** The engineer said he is on his way (and when he expects to arrive). */
  enRoute: Nullable(Type.Object({ at: Ms, eta: Nullable(Ms) })),
  /** When the engineer last tapped the badge at the kiosk (the kiosk then asks the customer). */
  checkinRequestedAt: Nullable(Ms),
  checkin: Nullable(
    Type.Object({
      at: Ms,
      consent: Type.Boolean(),
      refusedReason: Type.Optional(lit(["customer", "unqualified"] as const)),
    }),
  ),
  gear: Type.Object({
    required: Type.Array(PpeItemSchema),
    confirmed: Type.Array(PpeItemSchema),
    missing: Type.Array(PpeItemSchema),
    completeAt: Nullable(Ms),
  }),
  workStartedAt: Nullable(Ms),
  report: Nullable(ServiceReportSchema),
  completion: Nullable(
    Type.Object({
      at: Ms,
      resolved: Type.Boolean(),
      rating: Type.Integer(),
      comment: Type.Optional(Type.String()),
    }),
  ),
  cleanup: Type.Object({
    required: Type.Array(CleanupItemSchema),
    signed: Type.Array(CleanupItemSchema),
    missing: Type.Array(CleanupItemSchema),
    completeAt: Nullable(Ms),
  }),
  departure: Nullable(Type.Object({ at: Ms, source: Type.String() })),
  /** Completion confirmed by the customer and clean-up signed off (the clean-up gate). */
  complete: Type.Boolean(),
  violations: Type.Array(ViolationSchema),
  alarms: Type.Array(SosAlarmSchema),
  warnings: Type.Array(WarningSchema),
  followUp: Nullable(Type.Object({ dueDate: Type.String(), reason: Type.Literal("unresolved") })),
  /** Cancelled by the dispatcher (no deadline runs; state `cancelled` unless the engineer had arrived). */
  cancelled: Nullable(Type.Object({ at: Ms, reason: Nullable(Type.String()) })),
});
export type VisitSummary = Static<typeof VisitSummarySchema>;

/** The whole projection of a visit: the summary and every event with the rules' verdict on it. */
export const VisitViewSchema = Type.Composite([
  VisitSummarySchema,
  Type.Object({ timeline: Type.Array(TimelineEntrySchema) }),
]);
export type VisitView = Static<typeof VisitViewSchema>;

// ---- what the API answers ----

/** A row of the visit board (`GET /api/v1/visits`). */
export const VisitRowSchema = Type.Composite([
  VisitSummarySchema,
  Type.Object({ alarmAcks: Type.Array(Ms) }),
]);
export type VisitRow = Static<typeof VisitRowSchema>;

export const AlarmAckSchema = Type.Object({
  visitId: Type.String(),
  alarmAt: Ms,
  by: Type.String(),
  at: Ms,
  note: Type.Optional(Type.String()),
});
export type AlarmAckRecord = Static<typeof AlarmAckSchema>;

/** One visit (`GET /api/v1/visits/:id`). */
export const VisitDetailSchema = Type.Composite([
  VisitViewSchema,
  Type.Object({
    timeZone: Type.String(),
    windowLocal: Type.Object({ from: Type.String(), to: Type.String() }),
    engineer: Nullable(Type.Object({ id: Type.String(), name: Type.String(), company: Type.String() })),
    site: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
    alarmAcks: Type.Array(AlarmAckSchema),
    history: Type.Array(VisitChangeSchema),
  }),
]);
export type VisitDetail = Static<typeof VisitDetailSchema>;

/** A presence session as the API shows it: a badge heard at a gateway. */
export const PresenceSchema = Type.Object({
  id: Type.String(),
  badge: Type.String(),
  gateway: Type.String(),
  siteId: Nullable(Type.String()),
  arrivedAt: Ms,
  lastHeardAt: Ms,
  departedAt: Nullable(Ms),
  detectedAt: Nullable(Ms),
  sightings: Type.Integer(),
  /** [time, dBm] pairs. */
  rssi: Type.Array(Type.Tuple([Type.Number(), Type.Number()])),
  lastFrame: Type.Optional(Type.String()),
});
export type Presence = Static<typeof PresenceSchema>;

export const PublicDeviceSchema = Type.Object({
  id: Type.String(),
  kind: lit(["badge", "kiosk", "gateway", "operator"] as const),
  engineerId: Nullable(Type.String()),
  siteId: Nullable(Type.String()),
  /** 8 hex digits. */
  badgeNo: Nullable(Type.String()),
  rfidTag: Nullable(Type.String()),
  createdAt: Ms,
  revokedAt: Nullable(Ms),
  clockOffsetMs: Type.Number(),
  lastSeenAt: Nullable(Ms),
});
export type PublicDevice = Static<typeof PublicDeviceSchema>;

export const RoleSchema = lit(["admin", "dispatcher", "supervisor", "kiosk"] as const);
export type Role = Static<typeof RoleSchema>;

export const PublicTokenSchema = Type.Object({
  /** The first 16 hex digits of the token's digest. */
  id: Type.String(),
  role: RoleSchema,
  name: Type.String(),
  siteId: Nullable(Type.String()),
  createdAt: Ms,
  revokedAt: Nullable(Ms),
});
export type PublicToken = Static<typeof PublicTokenSchema>;

/** A new API token (`POST /api/v1/tokens`): the only time its secret is shown. */
export const CreatedTokenSchema = Type.Composite([PublicTokenSchema, Type.Object({ token: Type.String() })]);
export type CreatedToken = Static<typeof CreatedTokenSchema>;

/**
 * A provisioned device (`POST /api/v1/devices`): what its set-up needs to connect, shown once —
 * the MQTT password, and a badge's frame key.
 */
export const ProvisionedDeviceSchema = Type.Object({
  device: PublicDeviceSchema,
  mqtt: Type.Object({
    host: Type.String(),
    port: Type.Integer(),
    username: Type.String(),
    clientId: Type.String(),
  }),
  password: Type.String(),
  key: Type.Optional(Type.String()),
});
export type ProvisionedDevice = Static<typeof ProvisionedDeviceSchema>;

export const HealthSchema = Type.Object({
  status: lit(["ok", "degraded"] as const),
  uptimeS: Type.Integer(),
  mqtt: Type.Object({ clients: Type.Integer() }),
  events: Type.Integer(),
  parts: Type.Record(
    Type.String(),
    Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) }),
  ),
});
export type Health = Static<typeof HealthSchema>;

/** Every refusal: a code, the field that was wrong, what to do. */
export const ApiErrorSchema = Type.Object({
  error: Type.String(),
  field: Type.Optional(Type.String()),
  message: Type.String(),
});
export type ApiErrorBody = Static<typeof ApiErrorSchema>;

// ---- notifications, device health, roll-call ----

export const WebhookCreateSchema = Type.Object(
  {
    url: Type.String({ pattern: "^https?://", maxLength: 2000 }),
    events: Subscription,
    /** Signs each delivery: `x-onsite-signature: sha256=<hex HMAC-SHA256 of the body>`. */
    secret: Type.String({ minLength: 16, maxLength: 200 }),
    /** Only this site's notifications (default: every site's). */
    siteId: Type.Optional(EntityId),
  },
  { additionalProperties: false },
);
export type WebhookCreate = Static<typeof WebhookCreateSchema>;

export const WebhookSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  siteId: Nullable(Type.String()),
  createdAt: Ms,
});
export type Webhook = Static<typeof WebhookSchema>;

export const NOTIFY_CHANNELS = ["webhook", "email", "sms"] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/** One delivery of one notification, as the outbox holds it. */
export const NotificationSchema = Type.Object({
  id: Type.String(),
  type: NotifyEventSchema,
  at: Ms,
  siteId: Nullable(Type.String()),
  visitId: Nullable(Type.String()),
  channel: lit(NOTIFY_CHANNELS),
  /** The webhook id, the e-mail address or the phone number. */
  target: Type.String(),
  recipient: Nullable(Type.String()),
  status: lit(["pending", "delivered", "failed"] as const),
  attempts: Type.Integer(),
  nextAt: Nullable(Ms),
  lastError: Nullable(Type.String()),
  createdAt: Ms,
  deliveredAt: Nullable(Ms),
});
export type Notification = Static<typeof NotificationSchema>;

export const DEVICE_HEALTH = ["online", "stale", "offline", "never"] as const;
export const DeviceHealthSchema = Type.Object({
  id: Type.String(),
  kind: lit(["badge", "kiosk", "gateway"] as const),
  siteId: Nullable(Type.String()),
  engineerId: Nullable(Type.String()),
  health: lit(DEVICE_HEALTH),
  lastSeenAt: Nullable(Ms),
  /** Badges: the battery level last reported, %. */
  battery: Nullable(Type.Integer()),
});
export type DeviceHealth = Static<typeof DeviceHealthSchema>;

export const RollCallPersonSchema = Type.Object({
  engineerId: Type.String(),
  name: Type.String(),
  company: Type.String(),
  /** How the hub knows the person is there: checked in on a visit, a badge heard at the site. */
  evidence: Type.Array(lit(["checked_in", "badge_heard"] as const)),
  visitId: Nullable(Type.String()),
  status: lit(["unknown", "safe", "missing"] as const),
  markedBy: Nullable(Type.String()),
  markedAt: Nullable(Ms),
});
export type RollCallPerson = Static<typeof RollCallPersonSchema>;

export const RollCallSchema = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  kind: lit(["drill", "evacuation"] as const),
  startedAt: Ms,
  startedBy: Type.String(),
  endedAt: Nullable(Ms),
  people: Type.Array(RollCallPersonSchema),
});
export type RollCall = Static<typeof RollCallSchema>;
// ---- the dashboard: who is signed in, alarms, reports, the live stream ----

/** The step of the visit the customer at the kiosk is asked for (the hub's `kioskStep`). */
export const KIOSK_STEPS = [
  "welcome",
  "checkin",
  "waiting",
  "completion",
  "cleanup",
  "thanks",
  "goodbye",
] as const;
export type KioskStep = (typeof KIOSK_STEPS)[number];

/** What the customer's kiosk screen shows (`GET /api/v1/kiosk/<site>/state`): `welcome` has only the site. */
export const KioskStateSchema = Type.Object({
  site: Type.Object({ id: Type.String(), name: Type.String() }),
  step: lit(KIOSK_STEPS),
  visit: Type.Optional(Type.String()),
  engineer: Type.Optional(
    Type.Object({ id: Type.String(), name: Type.String(), company: Type.String(), initials: Type.String() }),
  ),
  arrival: Type.Optional(Nullable(ArrivalVerdictSchema)),
  cleanup: Type.Optional(
    Type.Object({ required: Type.Array(CleanupItemSchema), signed: Type.Array(CleanupItemSchema) }),
  ),
  report: Type.Optional(Nullable(Type.Pick(ServiceReportSchema, ["cause", "workDone", "advice", "parts"]))),
});
export type KioskState = Static<typeof KioskStateSchema>;

/** Who the bearer of a token is (`GET /api/v1/me`): what the dashboard shows and offers. */
export const WhoAmISchema = Type.Object({
  role: RoleSchema,
  name: Type.String(),
  siteId: Nullable(Type.String()),
});
export type WhoAmI = Static<typeof WhoAmISchema>;

/** What a supervisor acknowledges: an SOS, and a departure without the customer's clean-up sign-off. */
export const ALARM_KINDS = ["sos", "departed_without_cleanup"] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export const AlarmAckNoteSchema = Type.Object({
  visitId: Type.String(),
  alarmAt: Ms,
  by: Type.String(),
  at: Ms,
  /** What the supervisor did about it (null: acknowledged without a note). */
  note: Nullable(Type.String()),
});
export type AlarmAckNote = Static<typeof AlarmAckNoteSchema>;

/** One alarm of one visit (`GET /api/v1/alarms`), open ones first, then the most severe, then the newest. */
export const AlarmSchema = Type.Object({
  visitId: Type.String(),
  siteId: Type.String(),
  engineerId: Type.String(),
  kind: lit(ALARM_KINDS),
  at: Ms,
  /** 2: SOS (above everything), 1: departure without clean-up sign-off. */
  severity: Type.Integer({ minimum: 1, maximum: 2 }),
  sosKind: Nullable(lit(["injury", "hazard", "other"] as const)),
  /** Departure without clean-up: the items the customer had not signed off. */
  missing: Type.Array(CleanupItemSchema),
  ack: Nullable(Type.Object({ by: Type.String(), at: Ms, note: Nullable(Type.String()) })),
});
export type Alarm = Static<typeof AlarmSchema>;

/** A violation that is also an alarm: a departure without the customer's clean-up sign-off. */
export const isAlarmViolation = (
  x: Violation,
): x is Extract<Violation, { kind: Exclude<AlarmKind, "sos"> }> => x.kind === "departed_without_cleanup";

/**
 * The alarms a visit raises: each SOS (severity 2), a departure without clean-up sign-off (1).
 * The one definition: the alarm list, the site's `incident` condition, the retained statuses, the
 * open-alarms gauge and the dashboard all use it.
 */
export function alarmsOf(v: VisitSummary): Array<Omit<Alarm, "ack">> {
  const base = { visitId: v.visitId, siteId: v.siteId, engineerId: v.engineerId };
  const out: Array<Omit<Alarm, "ack">> = v.alarms.map((a) => ({
    ...base,
    kind: "sos",
    at: a.at,
    severity: 2,
    sosKind: a.sosKind,
    missing: [],
  }));
  for (const x of v.violations)
    if (isAlarmViolation(x))
      out.push({ ...base, kind: x.kind, at: x.at, severity: 1, sosKind: null, missing: x.missing });
  return out;
}

/** The alarm list's order: open before acknowledged, then the most severe, then the newest. */
export const alarmOrder = (a: Alarm, b: Alarm): number =>
  Number(a.ack !== null) - Number(b.ack !== null) || b.severity - a.severity || b.at - a.at;

/** Acknowledge several alarms at once, with one note (`POST /api/v1/alarms/ack`). */
export const AlarmAckRequestSchema = Type.Object(
  {
    alarms: Type.Array(
      Type.Object(
        { visitId: EntityId, alarmAt: Type.Integer({ minimum: 0 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 200 },
    ),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type AlarmAckRequest = Static<typeof AlarmAckRequestSchema>;
export const AlarmAckResultSchema = Type.Object({ acknowledged: Type.Array(AlarmAckNoteSchema) });
export type AlarmAckResult = Static<typeof AlarmAckResultSchema>;

/** The `visit` message of the live stream: the visit's board row as it is now (the board patches it). */
export const StreamVisitSchema = Type.Object({
  row: VisitRowSchema,
  /** What changed in this projection: `state`, `violation`, `alarm`, `follow_up`, `warning`. */
  changes: Type.Array(Type.Object({ kind: Type.String() })),
});
export type StreamVisit = Static<typeof StreamVisitSchema>;

/** The `alarm_ack` message of the live stream. */
export const StreamAlarmAckSchema = Type.Object({ visitId: Type.String(), alarmAt: Ms, by: Type.String() });
export type StreamAlarmAck = Static<typeof StreamAlarmAckSchema>;
