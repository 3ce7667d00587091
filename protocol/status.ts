/** Retained status the hub publishes for observers: one per site, one per visit. */
import { type Static, Type } from "@sinclair/typebox";
import { EntityId, EpochMs } from "./fields.js";
import { PROTOCOL_VERSION } from "./version.js";

export const VisitStatusSchema = Type.Object({
  v: Type.Literal(PROTOCOL_VERSION),
  visit: EntityId,
  site: EntityId,
  engineer: EntityId,
  state: Type.String(),
  window: Type.Object({ from: EpochMs, to: EpochMs }),
  arrival: Type.Union([
    Type.Null(),
    Type.Object({ at: EpochMs, class: Type.String(), minutes: Type.Integer() }),
  ]),
  gearMissing: Type.Array(Type.String()),
  cleanupMissing: Type.Array(Type.String()),
  complete: Type.Boolean(),
  violations: Type.Array(Type.String()),
  /** The visit's alarms (`alarmsOf` in `api.ts`: each SOS, a departure without clean-up sign-off). */
  alarms: Type.Integer({ minimum: 0 }),
  updatedAt: EpochMs,
});
export type VisitStatus = Static<typeof VisitStatusSchema>;

export const SiteStatusSchema = Type.Object({
  v: Type.Literal(PROTOCOL_VERSION),
  site: EntityId,
  /** `incident` while any alarm of the site's visits (`alarmsOf`) is not acknowledged. */
  condition: Type.Union([Type.Literal("normal"), Type.Literal("incident")]),
  visits: Type.Integer({ minimum: 0 }),
  byState: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  violations: Type.Integer({ minimum: 0 }),
  /** The alarms not yet acknowledged, by visit and the time the alarm went off. */
  activeAlarms: Type.Array(Type.Object({ visit: EntityId, at: EpochMs })),
  updatedAt: EpochMs,
});
export type SiteStatus = Static<typeof SiteStatusSchema>;
