/**
 * The open-alarms gauge counts the alarm set (`alarmsOf`): what a visit's view no longer raises
 * after a re-attribution leaves the gauge, a departure without clean-up as well as an SOS.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../../hub/adapters/store/sqlite/sqlite-store.js";
import { ManualClock } from "../../../hub/core/ports.js";
import type { VisitUpdate } from "../../../hub/core/service/visits.js";
import { emptySummary } from "../../../hub/core/visit/project.js";
import type { Violation } from "../../../hub/core/visit/types.js";
import { silentLogger } from "../../../hub/log.js";
import { Notifier } from "../../../hub/notify/notifier.js";
import { ctx } from "../core/fixtures.js";

const T = ctx.plan.window.from;
const left: Violation = { kind: "departed_without_cleanup", at: T + 60_000, missing: [], evidence: [] };
const sos = { kind: "sos" as const, at: T + 30_000, sosKind: "injury" as const, evidence: [] };

describe("the open-alarms gauge", () => {
  let store: SqliteStore;
  afterEach(async () => store.close());

  it("drops an alarm the visit no longer raises, whatever its kind", async () => {
    store = new SqliteStore({ path: ":memory:" });
    const notifier = new Notifier(
      { store, clock: new ManualClock(T), log: silentLogger(), connected: () => false },
      { channels: { email: false, sms: false }, escalationMinutes: 5 },
    );
    const base = emptySummary(ctx);
    const update = (view: typeof base, changes: VisitUpdate["changes"]): VisitUpdate => ({
      plan: ctx.plan,
      site: ctx.site,
      engineer: ctx.engineer,
      view,
      changes,
      kioskActions: 0,
    });
    const raised = { ...base, alarms: [sos], violations: [left] };
    await notifier.forUpdates([
      update(raised, [
        { kind: "alarm", alarm: sos },
        { kind: "violation", violation: left },
      ]),
    ]);
    expect(notifier.openAlarms()).toEqual({ sos: 1, departed_without_cleanup: 1 });
    // Re-attributed: the events belong to another visit now.
    await notifier.forUpdates([update(base, [])]);
    expect(notifier.openAlarms()).toEqual({ sos: 0, departed_without_cleanup: 0 });
  });
});
