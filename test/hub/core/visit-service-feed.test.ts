/**
 * The visit service's two feeds on a real SQLite store (in memory): one hub's (`committed()`), and
 * a cluster node's (`feed: "log"`: every node's commits read from the store's log), where only the
 * writer (`lead(true)`) stores views and notifications.
 */
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../../hub/adapters/store/sqlite/sqlite-store.js";
import {
  defaultSite,
  ManualClock,
  type StoredEvent,
  type VisitPlan,
  VisitService,
  type VisitUpdate,
} from "../../../hub/core/index.js";
import type { OutboxItem } from "../../../hub/core/notify/plan.js";

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 25, 2, 0);
const PLAN: VisitPlan = { id: "V1", siteId: "S1", engineerId: "E1", window: { from: T0, to: T0 + 60 * MIN } };

async function world() {
  const store = new SqliteStore({ path: ":memory:" });
  await store.putSite(defaultSite({ id: "S1", name: "Plant", timeZone: "Asia/Shanghai", requiredPpe: [] }));
  await store.putEngineer({ id: "E1", name: "E1", company: "Shengda", certificates: [] });
  await store.insertVisits([PLAN]);
  const clock = new ManualClock(T0 + 10 * MIN);
  let counter = 1;
  /** Commits an SOS from the site's kiosk naming V1, as ingest does (subject and visit noted). */
  const sos = async (): Promise<StoredEvent[]> => {
    const row: StoredEvent = {
      event: {
        v: 1,
        device: "kiosk-1",
        counter,
        time: T0 + counter * MIN,
        type: "sos",
        kind: "injury",
        visit: "V1",
      },
      source: { kind: "kiosk", siteId: "S1" },
      hubTime: T0 + counter * MIN,
      clockOffsetMs: 0,
      subject: "E1",
      visitId: "V1",
    } as StoredEvent;
    counter++;
    const [seq] = await store.commitEvents([row], []);
    return [{ ...row, seq: seq as number }];
  };
  return { store, clock, sos };
}

/** A service that records its updates and the notifications it was asked for. */
function service(deps: Omit<ConstructorParameters<typeof VisitService>[0], "notify" | "onUpdates">): {
  visits: VisitService;
  updates: VisitUpdate[];
  notified: VisitUpdate[];
} {
  const updates: VisitUpdate[] = [];
  const notified: VisitUpdate[] = [];
  const visits = new VisitService({
    ...deps,
    onUpdates: (u) => updates.push(...u),
    notify: async (u): Promise<OutboxItem[]> => {
      notified.push(...u);
      return [];
    },
  });
  return { visits, updates, notified };
}

const alarmChanges = (us: VisitUpdate[]) => us.flatMap((u) => u.changes.filter((c) => c.kind === "alarm"));

describe("one hub", () => {
  it("after a restart, an event naming a visit not in memory is stored, announced and notified", async () => {
    const { store, clock, sos } = await world();
    const first = service({ store, clock });
    await first.visits.start();
    first.visits.committed(await sos());
    await first.visits.idle();
    expect((await store.getView("V1"))?.alarms).toHaveLength(1);
    await first.visits.stop();

    const second = service({ store, clock });
    await second.visits.start();
    second.visits.committed(await sos());
    await second.visits.idle();
    // The visit was loaded from the store for this step: it must not already hold the new event.
    expect((await store.getView("V1"))?.alarms).toHaveLength(2);
    expect(alarmChanges(second.updates)).toHaveLength(1);
    expect(alarmChanges(second.notified)).toHaveLength(1);
  });
});

describe("a cluster's feed: the shared event log", () => {
  it("a follower projects what another node committed and stores nothing; the writer stores and notifies once", async () => {
    const { store, clock, sos } = await world();
    const leader = service({ store, clock, feed: "log" });
    const follower = service({ store, clock, feed: "log", writer: false });
    await leader.visits.start();
    await follower.visits.start();
    await sos(); // committed by a third node: neither service was handed it
    leader.visits.follow();
    follower.visits.follow();
    await leader.visits.idle();
    await follower.visits.idle();
    expect((await follower.visits.summary("V1"))?.alarms).toHaveLength(1);
    expect(alarmChanges(follower.updates)).toHaveLength(1); // its live stream has it
    expect(follower.notified).toHaveLength(0);
    expect(alarmChanges(leader.notified)).toHaveLength(1);
    expect((await store.getView("V1"))?.alarms).toHaveLength(1);
    expect(await store.projectionWatermark()).toBe(1);
    expect(follower.visits.writing).toBe(false);

    // The leader goes; the follower takes over from the stored watermark: nothing notified twice.
    await leader.visits.stop();
    await follower.visits.lead(true);
    expect(follower.visits.writing).toBe(true);
    expect(follower.notified).toHaveLength(0);
    follower.visits.committed(await sos()); // its own commit: it reads the log for it
    await follower.visits.idle();
    expect(alarmChanges(follower.notified)).toHaveLength(1);
    expect((await store.getView("V1"))?.alarms).toHaveLength(2);
    expect(await store.projectionWatermark()).toBe(2);
  });

  it("a new writer stores what the last one committed but had not projected, once", async () => {
    const { store, clock, sos } = await world();
    const follower = service({ store, clock, feed: "log", writer: false });
    await follower.visits.start();
    await sos(); // the old leader committed it and died before projecting it
    follower.visits.follow();
    await follower.visits.idle();
    expect(follower.notified).toHaveLength(0);
    expect(await store.getView("V1")).toBeUndefined();
    await follower.visits.lead(true);
    expect(alarmChanges(follower.notified)).toHaveLength(1);
    expect((await store.getView("V1"))?.alarms).toHaveLength(1);
    await follower.visits.lead(false);
    await sos();
    follower.visits.follow();
    await follower.visits.idle();
    expect(alarmChanges(follower.notified)).toHaveLength(1); // not the writer any more
    expect((await store.getView("V1"))?.alarms).toHaveLength(1);
    expect((await follower.visits.summary("V1"))?.alarms).toHaveLength(2);
  });
});
