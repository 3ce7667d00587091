/**
 * Sites, engineers and planned visits: the data the visit rules judge against. TypeBox schemas,
 * so HTTP, CSV import and config share one definition with core.
 */

import type { Site } from "../../protocol/api.js";
import { CLEANUP_ITEMS } from "../../protocol/index.js";

export {
  type ArrivalWindow,
  type Certificate,
  CertificateSchema,
  type Engineer,
  EngineerSchema,
  type Site,
  SiteSchema,
  type VisitPlan,
} from "../../protocol/api.js";

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
