/**
 * Sites, engineers and planned visits: the data the visit rules judge against. TypeBox schemas,
 * so HTTP, CSV import and config share one definition with core.
 */
import { type Static, Type } from "@sinclair/typebox";
import { CLEANUP_ITEMS, EntityId, PPE_ITEMS } from "../../protocol/index.js";

const IsoDate = Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$", description: "YYYY-MM-DD" });
const PpeItem = Type.Union(PPE_ITEMS.map((p) => Type.Literal(p)));
const CleanupItem = Type.Union(CLEANUP_ITEMS.map((p) => Type.Literal(p)));

export const SiteSchema = Type.Object(
  {
    id: EntityId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    /** IANA time zone, e.g. Asia/Shanghai. Windows and working days are in this zone. */
    timeZone: Type.String({ minLength: 1, maxLength: 64 }),
    requiredPpe: Type.Array(PpeItem, { uniqueItems: true }),
    /** What the customer signs off before the visit can complete. */
    cleanupChecklist: Type.Array(CleanupItem, { uniqueItems: true, minItems: 1 }),
    /** Certificate kinds every engineer on this site must hold, valid on the day. */
    requiredCertificates: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { uniqueItems: true }),
    /** warn: check-in goes ahead with a violation; refuse: check-in is blocked as well. */
    certificatePolicy: Type.Union([Type.Literal("warn"), Type.Literal("refuse")]),
    /** ISO weekdays (1 = Monday) the site works. */
    workingDays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { uniqueItems: true, minItems: 1 }),
    holidays: Type.Array(IsoDate, { uniqueItems: true }),
    /** Warn supervisors when the engineer is not on site this many minutes before the window ends. */
    atRiskMinutes: Type.Integer({ minimum: 0, maximum: 24 * 60 }),
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
export interface ArrivalWindow {
  from: number;
  to: number;
}

export interface VisitPlan {
  id: string;
  siteId: string;
  engineerId: string;
  window: ArrivalWindow;
  /** When the visit was booked (hub clock): a visit booked after an event ranks behind one that existed. */
  createdAt?: number;
  /** When it was cancelled (hub clock): from then on no event is routed to it, no deadline runs. */
  cancelledAt?: number;
  cancelReason?: string;
}

export function defaultSite(partial: Pick<Site, "id" | "name" | "timeZone"> & Partial<Site>): Site {
  return {
    requiredPpe: ["helmet", "safety_shoes"],
    cleanupChecklist: [...CLEANUP_ITEMS],
    requiredCertificates: ["safety_training"],
    certificatePolicy: "warn",
    workingDays: [1, 2, 3, 4, 5],
    holidays: [],
    atRiskMinutes: 15,
    ...partial,
  };
}
