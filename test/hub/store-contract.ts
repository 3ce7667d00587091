/**
 * The store contract: what every `Store` must do, including the guarantees the hub leans on
 * (one transaction per commit, dedupe by what is stored, seqs in commit order, the projection
 * written atomically, versions in effect at a time, window semantics). Each store's test file runs
 * `defineStoreContract` with a factory of empty stores of its kind.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeviceStateUpdate, Store, StoredEvent } from "../../hub/core/ports.js";
import {
  badgeEvent,
  counters,
  device,
  engineer,
  kioskEvent,
  MIN,
  outboxItem,
  plan,
  presence,
  site,
  T0,
  view,
} from "./store-contract-fixtures.js";

export interface StoreUnderTest {
  /** A store on a new, empty database. */
  store: Store;
  /** Another store on the same database, as a second process would open it (migrating first). */
  open(): Promise<Store>;
  /** Marks the database as migrated by a newer hub: schema version 99. */
  markNewerSchema(): Promise<void>;
  /** Closes every store opened here and deletes the database. */
  dispose(): Promise<void>;
}

export interface StoreFactory {
  name: string;
  fresh(): Promise<StoreUnderTest>;
}

const state = (
  id: string,
  highest: number,
  at: number,
  offset = 0,
  battery: number | null = null,
): DeviceStateUpdate => ({
  id,
  replay: { highest, seen: 1n },
  lastSeenAt: at,
  clockOffsetMs: offset,
  battery,
});

export function defineStoreContract(factory: StoreFactory): void {
  describe(`store contract: ${factory.name}`, () => {
    let t: StoreUnderTest;
    let s: Store;
    beforeEach(async () => {
      t = await factory.fresh();
      s = t.store;
    });
    afterEach(async () => {
      await t.dispose();
    });

    /** S1, S2 and E1, E2, which visits and bound devices refer to. */
    async function seed(): Promise<void> {
      await s.putSite(site("S1"));
      await s.putSite(site("S2"));
      await s.putEngineer(engineer("E1"));
      await s.putEngineer(engineer("E2"));
    }

    describe("sites and engineers", () => {
      it("stores, finds and lists sites in byte order of their ids", async () => {
        for (const id of ["a", "S2", "S10", "B"]) await s.putSite(site(id));
        expect(await s.getSite("S2")).toEqual(site("S2"));
        expect(await s.getSite("nope")).toBeUndefined();
        expect((await s.listSites()).map((x) => x.id)).toEqual(["B", "S10", "S2", "a"]);
      });

      it("keeps a version per change: getSite(id, at) is the one in effect at `at`, the earliest before all", async () => {
        const v = (n: number) => site("S1", { name: `v${n}` });
        await s.putSite(v(1), { at: 1000, by: "alice" });
        await s.putSite(v(2), { at: 2000 });
        expect((await s.getSite("S1", 10))?.name).toBe("v1"); // before every version: the earliest
        expect((await s.getSite("S1", 1000))?.name).toBe("v1"); // from `at` on, inclusive
        expect((await s.getSite("S1", 1999))?.name).toBe("v1");
        expect((await s.getSite("S1", 2000))?.name).toBe("v2");
        expect((await s.getSite("S1", 9e12))?.name).toBe("v2");
        // A back-dated change: the site now is the last one put; at a time it is the version then.
        await s.putSite(v(3), { at: 1500 });
        expect((await s.getSite("S1"))?.name).toBe("v3");
        expect((await s.getSite("S1", 1800))?.name).toBe("v3");
        expect((await s.getSite("S1", 2500))?.name).toBe("v2");
        // The same `at` again replaces that version.
        await s.putSite(v(4), { at: 2000, by: "bob" });
        expect(await s.siteVersions("S1")).toEqual([
          { validFrom: 1000, by: "alice", doc: v(1) },
          { validFrom: 1500, by: null, doc: v(3) },
          { validFrom: 2000, by: "bob", doc: v(4) },
        ]);
        expect(await s.getSite("nope", 1000)).toBeUndefined();
        expect(await s.siteVersions("nope")).toEqual([]);
      });

      it("a change without a time holds since always (version 0)", async () => {
        await s.putSite(site("S1"));
        expect(await s.siteVersions("S1")).toEqual([{ validFrom: 0, by: null, doc: site("S1") }]);
        expect(await s.getSite("S1", 0)).toEqual(site("S1"));
      });

      it("versions engineers the same way", async () => {
        const e = (n: number) => engineer("E1", { name: `v${n}` });
        await s.putEngineer(e(1));
        await s.putEngineer(e(2), { at: 5000, by: "hr" });
        await s.putEngineer(engineer("E0"));
        expect((await s.getEngineer("E1"))?.name).toBe("v2");
        expect((await s.getEngineer("E1", 4999))?.name).toBe("v1");
        expect((await s.getEngineer("E1", 5000))?.name).toBe("v2");
        expect(await s.getEngineer("nope")).toBeUndefined();
        expect(await s.getEngineer("nope", 1)).toBeUndefined();
        expect((await s.listEngineers()).map((x) => x.id)).toEqual(["E0", "E1"]);
        expect(await s.engineerVersions("E1")).toEqual([
          { validFrom: 0, by: null, doc: e(1) },
          { validFrom: 5000, by: "hr", doc: e(2) },
        ]);
      });
    });

    describe("visits", () => {
      it("inserts new visits, answers false for an id already there (the first copy in a call wins)", async () => {
        await seed();
        expect(await s.insertVisits([])).toEqual([]);
        const a = plan("V1", T0, T0 + 60 * MIN);
        const b = plan("V2", T0, T0 + 60 * MIN, { engineerId: "E2", createdAt: T0 - 5 });
        expect(await s.insertVisits([a, b, { ...a, window: { from: 1, to: 2 } }])).toEqual([
          true,
          true,
          false,
        ]);
        expect(await s.insertVisits([{ ...b, siteId: "S2" }, plan("V3", T0, T0 + 1)])).toEqual([false, true]);
        expect(await s.getVisit("V1")).toEqual(a); // no createdAt key when none was given
        expect(await s.getVisit("V2")).toEqual(b);
        expect(await s.getVisit("nope")).toBeUndefined();
      });

      it("inserts a batch all or nothing: a visit of an unknown site fails the whole call", async () => {
        await seed();
        await expect(
          s.insertVisits([plan("V1", T0, T0 + 1), plan("V2", T0, T0 + 1, { siteId: "unknown" })]),
        ).rejects.toThrow();
        expect(await s.getVisit("V1")).toBeUndefined();
      });

      it("lists windows overlapping [from, to): `to` exclusive, `from` inclusive on the window's end", async () => {
        await seed();
        await s.insertVisits([
          plan("A", 100, 200),
          plan("B", 200, 300, { engineerId: "E2" }),
          plan("C", 300, 400, { siteId: "S2" }),
          plan("A2", 100, 150, { siteId: "S2", engineerId: "E2" }),
        ]);
        const ids = async (q: Parameters<Store["listVisits"]>[0]) => (await s.listVisits(q)).map((p) => p.id);
        expect(await ids({})).toEqual(["A", "A2", "B", "C"]); // by window start, then id
        expect(await ids({ from: 200, to: 300 })).toEqual(["A", "B"]); // A ends at 200: in; C starts at 300: out
        expect(await ids({ from: 201, to: 301 })).toEqual(["B", "C"]);
        expect(await ids({ to: 150 })).toEqual(["A", "A2"]);
        expect(await ids({ from: 300 })).toEqual(["B", "C"]);
        expect(await ids({ siteId: "S2" })).toEqual(["A2", "C"]);
        expect(await ids({ engineerId: "E2", from: 160 })).toEqual(["B"]);
        expect(await ids({ siteId: "S1", engineerId: "E1" })).toEqual(["A"]);
        expect(await ids({ from: 500, to: 600 })).toEqual([]);
      });
    });

    it("compares query bounds as numbers: fractions, bounds beyond every stored value, infinities", async () => {
      await seed();
      await s.insertVisits([plan("A", 100, 200), plan("B", 200, 300)]);
      const ids = async (q: Parameters<Store["listVisits"]>[0]) => (await s.listVisits(q)).map((p) => p.id);
      expect(await ids({ to: 200.5 })).toEqual(["A", "B"]);
      expect(await ids({ to: 199.5 })).toEqual(["A"]);
      expect(await ids({ from: 200.5 })).toEqual(["B"]);
      expect(await ids({ from: -1e20, to: 1e20 })).toEqual(["A", "B"]);
      expect(await ids({ from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY })).toEqual(["A", "B"]);
      expect(await ids({ from: 1e20 })).toEqual([]);
      await s.putSite(site("S1", { name: "later" }), { at: 1000 });
      expect((await s.getSite("S1", 999.5))?.name).toBe(site("S1").name);
      expect((await s.getSite("S1", 1000.5))?.name).toBe("later");
      expect((await s.getSite("S1", Number.POSITIVE_INFINITY))?.name).toBe("later");
      const seqs = (await s.commitEvents(
        [badgeEvent("b", 1, "E1"), badgeEvent("b", 2, "E1")],
        [],
      )) as number[];
      const first = seqs[0] as number;
      expect(counters(await s.eventsAfter(first - 0.5, 10))).toEqual([1, 2]);
      expect(counters(await s.eventsAfter(first + 0.5, 10))).toEqual([2]);
      expect(counters(await s.eventsOfSubject("E1", Number.NEGATIVE_INFINITY, 1e20))).toEqual([1, 2]);
      expect(counters(await s.eventsOfSubject("E1", T0 + 1000.5, Number.POSITIVE_INFINITY))).toEqual([2]);
      expect(await s.lastTimeOfSubject("E1", first + 0.5)).toBe(T0 + 1000);
      expect(counters(await s.eventsOfVisit("none", 1e20))).toEqual([]);
      await s.putPresence([presence("p1", { departedAt: T0 + 5 }), presence("p2")]);
      expect((await s.listPresence({ from: 1e20, to: 1e20 })).map((p) => p.id)).toEqual(["p2"]);
      expect((await s.listPresence({ from: T0 + 4.5 })).map((p) => p.id).sort()).toEqual(["p1", "p2"]);
    });

    describe("devices", () => {
      it("stores a device whole, 64-bit replay window included, and updates all but its creation time", async () => {
        await seed();
        const d = device("badge-1", {
          kind: "badge",
          engineerId: "E1",
          badgeNo: 0xffff_ffff,
          rfidTag: "0A1B2C3D4E",
          sealedKey: "sealed",
          clockOffsetMs: -42_000,
          lastSeenAt: T0 + 5,
          replay: { highest: 4_000_000_000, seen: (1n << 63n) | 5n },
        });
        await s.putDevice(d);
        expect(await s.getDevice("badge-1")).toEqual(d);
        const changed = { ...d, createdAt: T0 + 99, revokedAt: T0 + 100, passwordHash: "new" };
        await s.putDevice(changed);
        expect(await s.getDevice("badge-1")).toEqual({ ...changed, createdAt: T0 });
        expect(await s.getDevice("nope")).toBeUndefined();
      });

      it("finds badges by number and tag, lists devices by id, and devicesOf skips revoked ones", async () => {
        await seed();
        await s.putDevice(device("kiosk-2", { kind: "kiosk", siteId: "S1" }));
        await s.putDevice(device("kiosk-1", { kind: "kiosk", siteId: "S1" }));
        await s.putDevice(device("kiosk-3", { kind: "kiosk", siteId: "S1", revokedAt: T0 }));
        await s.putDevice(device("kiosk-4", { kind: "kiosk", siteId: "S2" }));
        await s.putDevice(
          device("b-1", { kind: "badge", engineerId: "E1", badgeNo: 7, rfidTag: "00000000AA" }),
        );
        expect((await s.findBadge({ badgeNo: 7 }))?.id).toBe("b-1");
        expect((await s.findBadge({ rfidTag: "00000000AA" }))?.id).toBe("b-1");
        expect(await s.findBadge({ badgeNo: 8 })).toBeUndefined();
        expect(await s.findBadge({ rfidTag: "FFFFFFFFFF" })).toBeUndefined();
        expect((await s.listDevices()).map((d) => d.id)).toEqual([
          "b-1",
          "kiosk-1",
          "kiosk-2",
          "kiosk-3",
          "kiosk-4",
        ]);
        const of = async (by: Parameters<Store["devicesOf"]>[0]) =>
          (await s.devicesOf(by)).map((d) => d.id).sort();
        expect(await of({ siteId: "S1" })).toEqual(["kiosk-1", "kiosk-2"]);
        expect(await of({ engineerId: "E1" })).toEqual(["b-1"]);
        expect(await of({ engineerId: "E2" })).toEqual([]);
      });

      it("refuses a second device with the same badge number or tag", async () => {
        await seed();
        await s.putDevice(
          device("b-1", { kind: "badge", engineerId: "E1", badgeNo: 7, rfidTag: "00000000AA" }),
        );
        await expect(
          s.putDevice(device("b-2", { kind: "badge", engineerId: "E2", badgeNo: 7 })),
        ).rejects.toThrow();
        await expect(
          s.putDevice(device("b-3", { kind: "badge", engineerId: "E2", rfidTag: "00000000AA" })),
        ).rejects.toThrow();
      });
    });

    describe("commitEvents", () => {
      it("returns a seq per new event and null for a (device, counter) already stored, in the call or before", async () => {
        const e1 = badgeEvent("b", 1, "E1");
        const e2 = badgeEvent("b", 2, "E1");
        expect(await s.commitEvents([], [])).toEqual([]);
        const first = await s.commitEvents([e1, e1, e2], []);
        expect(first[1]).toBeNull();
        expect(first[0]).toEqual(expect.any(Number));
        expect(first[2]).toBeGreaterThan(first[0] ?? Number.POSITIVE_INFINITY);
        // The same counter on another device is another event; a stored one is a duplicate later too.
        const second = await s.commitEvents(
          [badgeEvent("b", 1, "E1", { time: T0 }), badgeEvent("c", 1, "E1")],
          [],
        );
        expect(second[0]).toBeNull();
        expect(second[1]).toBeGreaterThan(first[2] ?? Number.POSITIVE_INFINITY);
        expect(await s.countEvents()).toBe(3);
        // The first copy is the one kept.
        expect(
          (await s.eventsAfter(0, 10)).map((e) => [e.event.device, e.event.counter, e.event.time]),
        ).toEqual([
          ["b", 1, e1.event.time],
          ["b", 2, e2.event.time],
          ["c", 1, T0 + 1000],
        ]);
      });

      it("dedupes by what is stored, not by the device's replay window", async () => {
        await s.putDevice(device("gw"));
        await s.commitEvents([badgeEvent("gw", 100, "E1")], [state("gw", 100, T0)]);
        // Counter 5 is far below the window's highest; it was never stored, so it is new.
        const [seq] = await s.commitEvents([badgeEvent("gw", 5, "E1")], []);
        expect(seq).toEqual(expect.any(Number));
        expect(await s.maxCounter("gw")).toBe(100);
        expect(await s.maxCounter("other")).toBe(-1);
      });

      it("hands out increasing seqs in the order of the batch and of the commits", async () => {
        const all: number[] = [];
        for (let b = 0; b < 5; b++) {
          const seqs = await s.commitEvents(
            [0, 1, 2, 3].map((i) => badgeEvent(`d${i % 2}`, b * 10 + i, "E1")),
            [],
          );
          all.push(...seqs.map((x) => x ?? -1));
        }
        expect(all).toEqual([...all].sort((x, y) => x - y));
        expect(new Set(all).size).toBe(all.length);
        expect((await s.eventsAfter(0, 100)).map((e) => e.seq)).toEqual(all);
      });

      it("stores the device state with the events (the last update of a device in a call wins)", async () => {
        await s.putDevice(device("gw"));
        await s.commitEvents(
          [badgeEvent("gw", 1, "E1")],
          [
            state("gw", 1, T0),
            { ...state("gw", 3, T0 + 7, -250), replay: { highest: 3, seen: 0b111n } },
            state("ghost", 1, T0),
          ],
        );
        const d = await s.getDevice("gw");
        expect(d?.replay).toEqual({ highest: 3, seen: 0b111n });
        expect(d?.lastSeenAt).toBe(T0 + 7);
        expect(d?.clockOffsetMs).toBe(-250);
        expect(await s.getDevice("ghost")).toBeUndefined(); // an update of no stored device changes nothing
        // Device state alone (no events) is a commit too.
        expect(await s.commitEvents([], [state("gw", 9, T0 + 8)])).toEqual([]);
        expect((await s.getDevice("gw"))?.replay.highest).toBe(9);
      });

      it("keeps a badge's last battery reading: an update without one leaves it as it was", async () => {
        await s.putDevice(device("bd", { kind: "badge" }));
        expect((await s.getDevice("bd"))?.battery).toBeNull();
        await s.commitEvents([badgeEvent("bd", 1, "E1")], [state("bd", 1, T0, 0, 87)]);
        expect((await s.getDevice("bd"))?.battery).toBe(87);
        await s.commitEvents([badgeEvent("bd", 2, "E1")], [state("bd", 2, T0 + 1)]);
        expect((await s.getDevice("bd"))?.battery).toBe(87);
        await s.commitEvents([], [state("bd", 3, T0 + 2, 0, 12)]);
        expect((await s.getDevice("bd"))?.battery).toBe(12);
        const stored = await s.getDevice("bd");
        expect(stored).toBeDefined();
        if (stored) await s.putDevice({ ...stored, battery: null }); // putDevice stores what it is given
        expect((await s.getDevice("bd"))?.battery).toBeNull();
      });

      it("is one transaction: a call failing part-way stores none of its events nor its device state", async () => {
        await s.putDevice(device("gw"));
        await s.putDevice(device("gw2"));
        const events = [badgeEvent("gw", 1, "E1"), badgeEvent("gw", 2, "E1")];
        // The second device update breaks a NOT NULL column: the events before it must be undone.
        const bad = { ...state("gw2", 0, T0), replay: { highest: null as unknown as number, seen: 0n } };
        await expect(s.commitEvents(events, [state("gw", 2, T0), bad])).rejects.toThrow();
        expect(await s.countEvents()).toBe(0);
        expect(await s.maxCounter("gw")).toBe(-1);
        expect((await s.getDevice("gw"))?.replay.highest).toBe(-1);
        // The store goes on working, and the events are new then.
        const seqs = await s.commitEvents(events, [state("gw", 2, T0)]);
        expect(seqs.every((x) => typeof x === "number")).toBe(true);
      });

      it("resolves after the commit: another store on the same database sees the events at once", async () => {
        const other = await t.open();
        for (let i = 1; i <= 20; i++) {
          const [seq] = await s.commitEvents([badgeEvent("b", i, "E1")], []);
          const seen = await other.eventsAfter((seq ?? 0) - 1, 10);
          expect(seen.map((e) => e.seq)).toEqual([seq]);
        }
      });

      it("two commits racing the same (device, counter): exactly one gets a seq", async () => {
        const other = await t.open();
        for (let i = 1; i <= 30; i++) {
          const e = badgeEvent("b", i, "E1");
          const [a, b] = await Promise.all([
            s.commitEvents([e], []),
            (i % 2 ? other : s).commitEvents([badgeEvent("x", i, "E1"), e], []),
          ]);
          const winners = [a[0], b[1]].filter((x) => x !== null);
          expect(winners).toHaveLength(1);
          expect(b[0]).toEqual(expect.any(Number));
        }
        expect(await s.countEvents()).toBe(60);
      });

      it("a reader following eventsAfter never sees a seq appear behind one it has read (commit order)", async () => {
        const writers = [s, await t.open()];
        const reader = await t.open();
        const seen: number[] = [];
        let done = false;
        let behind = 0;
        const follow = (async () => {
          let w = 0;
          for (;;) {
            const finished = done;
            for (const e of await reader.eventsAfter(w, 1000)) {
              const seq = e.seq ?? 0;
              seen.push(seq);
              w = seq;
            }
            if (finished) break;
            await new Promise((r) => setTimeout(r, 1));
          }
          // Whatever was committed behind the reader's watermark is missing now.
          behind = (await reader.countEvents()) - seen.length;
        })();
        await Promise.all(
          [0, 1, 2, 3].map(async (k) => {
            for (let i = 0; i < 25; i++) {
              const writer = writers[k % 2] as Store;
              await writer.commitEvents(
                [badgeEvent(`w${k}`, 2 * i, "E1"), badgeEvent(`w${k}`, 2 * i + 1, "E1")],
                [],
              );
            }
          }),
        );
        done = true;
        await follow;
        expect(behind).toBe(0);
        expect(seen).toHaveLength(200);
        expect(seen).toEqual([...seen].sort((x, y) => x - y));
      });

      it("gives events back as written, numbers as numbers", async () => {
        const e: StoredEvent = {
          event: {
            v: 1,
            type: "completion_submitted",
            device: "kiosk-1",
            counter: 0xffff_ffff,
            time: 4_102_444_799_999,
            cause: 'seal "worn" \\ 密封件 \u0000 \ud83d\ude00 \ud800',
            parts: [{ name: "seal", quantity: 2 }],
            workDone: "replaced",
            advice: "",
          } as StoredEvent["event"],
          source: { kind: "kiosk", siteId: "S1" },
          hubTime: 4_102_444_800_000,
          clockOffsetMs: -3_600_000,
          visitId: "V1",
          subject: "E1",
        };
        const [seq] = await s.commitEvents([e], []);
        const [back] = await s.eventsOfVisit("V1");
        expect(back).toEqual({ ...e, seq });
        expect(JSON.stringify(back?.event)).toBe(JSON.stringify(e.event)); // key order kept too
        expect(typeof back?.hubTime).toBe("number");
        expect(typeof back?.seq).toBe("number");
        expect(await s.maxCounter("kiosk-1")).toBe(0xffff_ffff);
      });
    });

    describe("reading events", () => {
      /** seqs by label, for events of several kinds. */
      async function sample() {
        const list: Array<[string, StoredEvent]> = [
          ["b1", badgeEvent("b", 1, "E1", { time: T0 + 5000, visitId: "V1" })],
          ["b2", badgeEvent("b", 2, "E1", { time: T0 + 1000, offset: 3000, visitId: "V1" })], // eff T0+4000
          ["b3", badgeEvent("b", 3, "E1", { time: T0 + 9000 })],
          ["e2", badgeEvent("b2", 1, "E2", { time: T0 + 2000, visitId: "V2" })],
          ["k1", kioskEvent("k", 1, "S1", null, { time: T0 + 3000 })],
          ["k2", kioskEvent("k", 2, "S1", "E1", { time: T0 + 6000, visitId: "V1" })],
          ["k3", kioskEvent("k", 3, "S1", null, { time: T0 + 1000 })],
          ["k4", kioskEvent("k2", 1, "S2", null, { time: T0 + 3000 })],
        ];
        const seqs = await s.commitEvents(
          list.map(([, e]) => e),
          [],
        );
        const seq = new Map(list.map(([label], i) => [label, seqs[i] as number]));
        const label = (events: StoredEvent[]) =>
          events.map((e) => [...seq.entries()].find(([, v]) => v === e.seq)?.[0]);
        return { seq: (l: string) => seq.get(l) as number, label };
      }

      it("eventsOfVisit: the visit's events in commit order, up to maxSeq", async () => {
        const { seq, label } = await sample();
        expect(label(await s.eventsOfVisit("V1"))).toEqual(["b1", "b2", "k2"]);
        expect(label(await s.eventsOfVisit("V1", seq("b2")))).toEqual(["b1", "b2"]);
        expect(label(await s.eventsOfVisit("V1", seq("b1") - 1))).toEqual([]);
        expect(await s.eventsOfVisit("nope")).toEqual([]);
      });

      it("eventsOfSubject: by effective time (device time + offset) from fromTime inclusive, then seq", async () => {
        const { seq, label } = await sample();
        const max = seq("k4");
        expect(label(await s.eventsOfSubject("E1", 0, max))).toEqual(["b2", "b1", "k2", "b3"]);
        expect(label(await s.eventsOfSubject("E1", T0 + 5000, max))).toEqual(["b1", "k2", "b3"]);
        expect(label(await s.eventsOfSubject("E1", T0 + 5001, max))).toEqual(["k2", "b3"]);
        expect(label(await s.eventsOfSubject("E1", 0, seq("b3")))).toEqual(["b2", "b1", "b3"]);
        expect(label(await s.eventsOfSubject("E2", 0, max))).toEqual(["e2"]);
        const [b2] = await s.eventsOfSubject("E1", 0, max);
        expect(b2?.clockOffsetMs).toBe(3000);
      });

      it("eventsOfSite: a site's kiosk events about nobody, by effective time, up to maxSeq", async () => {
        const { seq, label } = await sample();
        const max = seq("k4");
        expect(label(await s.eventsOfSite("S1", 0, max))).toEqual(["k3", "k1"]);
        expect(label(await s.eventsOfSite("S1", T0 + 3000, max))).toEqual(["k1"]);
        expect(label(await s.eventsOfSite("S1", 0, seq("k1")))).toEqual(["k1"]);
        expect(label(await s.eventsOfSite("S2", 0, max))).toEqual(["k4"]);
        expect(await s.eventsOfSite("S3", 0, max)).toEqual([]);
      });

      it("lastTimeOfSubject: the latest effective time among seqs up to maxSeq", async () => {
        const { seq } = await sample();
        expect(await s.lastTimeOfSubject("E1", seq("k4"))).toBe(T0 + 9000);
        expect(await s.lastTimeOfSubject("E1", seq("b2"))).toBe(T0 + 5000);
        expect(await s.lastTimeOfSubject("E1", seq("b1") - 1)).toBeNull();
        expect(await s.lastTimeOfSubject("E9", seq("k4"))).toBeNull();
      });

      it("eventsAfter: seq above afterSeq, in commit order, at most limit", async () => {
        const { seq, label } = await sample();
        expect(label(await s.eventsAfter(0, 3))).toEqual(["b1", "b2", "b3"]);
        expect(label(await s.eventsAfter(seq("b3"), 2))).toEqual(["e2", "k1"]);
        expect(label(await s.eventsAfter(seq("k4"), 10))).toEqual([]);
        expect(await s.countEvents()).toBe(8);
        expect(counters(await s.eventsAfter(seq("k3"), 10))).toEqual([1]);
      });
    });

    describe("projection", () => {
      it("writes views, attribution and the watermark; a null watermark leaves it as it was", async () => {
        await seed();
        const v1 = plan("V1", T0, T0 + 60 * MIN);
        await s.insertVisits([v1]);
        const [a, b] = (await s.commitEvents(
          [badgeEvent("b", 1, "E1"), badgeEvent("b", 2, "E1")],
          [],
        )) as number[];
        expect(await s.projectionWatermark()).toBe(0);
        expect(await s.getView("V1")).toBeUndefined();
        await s.saveProjection({
          views: [{ view: view(v1, { state: "arrived" }), projectedAt: T0 }],
          attribution: [
            { device: "b", counter: 1, visitId: "V1" },
            { device: "b", counter: 2, visitId: "V1" },
          ],
          watermark: b ?? 0,
        });
        expect(await s.getView("V1")).toEqual(view(v1, { state: "arrived" }));
        expect((await s.eventsOfVisit("V1")).map((e) => e.seq)).toEqual([a, b]);
        expect(await s.projectionWatermark()).toBe(b);
        await s.saveProjection({
          views: [{ view: view(v1, { state: "checked_in" }), projectedAt: T0 + 1 }],
          attribution: [{ device: "b", counter: 2, visitId: null }],
          watermark: null,
        });
        expect((await s.getView("V1"))?.state).toBe("checked_in");
        expect((await s.eventsOfVisit("V1")).map((e) => e.seq)).toEqual([a]);
        expect((await s.eventsAfter(a ?? 0, 10))[0]?.visitId).toBeNull();
        expect(await s.projectionWatermark()).toBe(b);
        await s.saveProjection({ views: [], attribution: [], watermark: null });
        expect(await s.projectionWatermark()).toBe(b);
      });

      it("is one transaction: a view of an unknown visit undoes the attribution and the watermark", async () => {
        await seed();
        const v1 = plan("V1", T0, T0 + 60 * MIN);
        await s.insertVisits([v1]);
        await s.commitEvents([badgeEvent("b", 1, "E1")], []);
        await expect(
          s.saveProjection({
            views: [
              { view: view(v1), projectedAt: T0 },
              { view: view(plan("ghost", T0, T0 + 1)), projectedAt: T0 },
            ],
            attribution: [{ device: "b", counter: 1, visitId: "V1" }],
            watermark: 1,
          }),
        ).rejects.toThrow();
        expect(await s.eventsOfVisit("V1")).toEqual([]);
        expect(await s.getView("V1")).toBeUndefined();
        expect(await s.projectionWatermark()).toBe(0);
      });

      it("applies a write's items in order: the last attribution of an event and the last view of a visit win", async () => {
        await seed();
        const v1 = plan("V1", T0, T0 + 60 * MIN);
        const v2 = plan("V2", T0, T0 + 60 * MIN);
        await s.insertVisits([v1, v2]);
        await s.commitEvents([badgeEvent("b", 1, "E1")], []);
        await s.saveProjection({
          views: [
            { view: view(v1, { state: "arrived" }), projectedAt: T0 },
            { view: view(v1, { state: "departed" }), projectedAt: T0 + 1 },
          ],
          attribution: [
            { device: "b", counter: 1, visitId: "V1" },
            { device: "b", counter: 1, visitId: "V2" },
          ],
          watermark: 7,
        });
        expect((await s.getView("V1"))?.state).toBe("departed");
        expect(await s.eventsOfVisit("V1")).toEqual([]);
        expect(counters(await s.eventsOfVisit("V2"))).toEqual([1]);
        expect(await s.projectionWatermark()).toBe(7);
      });
    });

    describe("tokens, presence, alarm acknowledgements", () => {
      it("stores tokens, updates only their revocation, lists newest first and counts live ones", async () => {
        const tok = (digest: string, createdAt: number, role: "admin" | "kiosk" = "admin") => ({
          digest,
          role,
          name: `n-${digest}`,
          siteId: role === "kiosk" ? "S1" : null,
          createdAt,
          revokedAt: null,
        });
        await s.putToken(tok("d2", 2));
        await s.putToken(tok("d1", 2, "kiosk"));
        await s.putToken(tok("d3", 1));
        expect(await s.findToken("d1")).toEqual(tok("d1", 2, "kiosk"));
        expect(await s.findToken("nope")).toBeUndefined();
        expect((await s.listTokens()).map((x) => x.digest)).toEqual(["d1", "d2", "d3"]);
        expect(await s.countTokens()).toBe(3);
        expect(await s.countTokens("admin")).toBe(2);
        await s.putToken({ ...tok("d2", 2), name: "renamed", revokedAt: 9 });
        expect(await s.findToken("d2")).toEqual({ ...tok("d2", 2), revokedAt: 9 });
        expect(await s.countTokens("admin")).toBe(1);
        expect(await s.countTokens("supervisor")).toBe(0);
      });

      it("upserts presence sessions by id and lists them newest first, filtered", async () => {
        await s.putPresence([
          presence("p1", { arrivedAt: T0, departedAt: T0 + 10 * MIN, detectedAt: T0 + 11 * MIN }),
          presence("p2", { arrivedAt: T0 + 20 * MIN, lastHeardAt: T0 + 21 * MIN }),
          presence("p3", {
            arrivedAt: T0 + 5 * MIN,
            badge: "badge-2",
            siteId: "S2",
            departedAt: T0 + 6 * MIN,
          }),
        ]);
        const ids = async (q: Parameters<Store["listPresence"]>[0]) =>
          (await s.listPresence(q)).map((p) => p.id);
        expect(await ids({})).toEqual(["p2", "p3", "p1"]);
        expect(await ids({ siteId: "S1" })).toEqual(["p2", "p1"]);
        expect(await ids({ badge: "badge-2" })).toEqual(["p3"]);
        expect(await ids({ open: true })).toEqual(["p2"]);
        expect(await ids({ open: false })).toEqual(["p3", "p1"]);
        // Overlapping [from, to): an open session reaches to now; a session departed at `from` counts.
        expect(await ids({ from: T0 + 10 * MIN, to: T0 + 20 * MIN })).toEqual(["p1"]);
        expect(await ids({ from: T0 + 10 * MIN, to: T0 + 20 * MIN + 1 })).toEqual(["p2", "p1"]);
        expect(await ids({ limit: 1 })).toEqual(["p2"]);
        expect(await ids({ limit: 0 })).toEqual(["p2"]); // at least one
        // An update changes what was heard and when it ended, not who or where or since when.
        const later = presence("p2", {
          arrivedAt: 0,
          badge: "other",
          lastHeardAt: T0 + 30 * MIN,
          departedAt: T0 + 29 * MIN,
          detectedAt: T0 + 30 * MIN,
          sightings: 40,
          rssi: [[T0 + 29 * MIN, -80]],
          lastFrame: "ff",
        });
        await s.putPresence([later]);
        const [p2] = await s.listPresence({ open: false, siteId: "S1", from: T0 + 25 * MIN });
        expect(p2).toEqual({ ...later, arrivedAt: T0 + 20 * MIN, badge: "badge-1" });
        await s.putPresence([]);
      });

      it("keeps one acknowledgement per (visit, alarm), the latest", async () => {
        await s.putAlarmAck({ visitId: "V1", alarmAt: 20, by: "sup-a", at: 30 });
        await s.putAlarmAck({ visitId: "V1", alarmAt: 10, by: "sup-a", at: 31 });
        await s.putAlarmAck({ visitId: "V2", alarmAt: 10, by: "sup-c", at: 32 });
        await s.putAlarmAck({ visitId: "V1", alarmAt: 20, by: "sup-b", at: 40 });
        expect(await s.alarmAcks("V1")).toEqual([
          { visitId: "V1", alarmAt: 10, by: "sup-a", at: 31 },
          { visitId: "V1", alarmAt: 20, by: "sup-b", at: 40 },
        ]);
        expect(await s.alarmAcks("V3")).toEqual([]);
      });

      it("keeps an acknowledgement's note, and writes the notifications it calls for with it", async () => {
        await s.putAlarmAck({ visitId: "V1", alarmAt: 10, by: "sup", at: 20, note: "called, on his way" }, [
          outboxItem("o1"),
        ]);
        expect(await s.alarmAcks("V1")).toEqual([
          { visitId: "V1", alarmAt: 10, by: "sup", at: 20, note: "called, on his way" },
        ]);
        expect((await s.listOutbox({})).map((o) => o.id)).toEqual(["o1"]);
        // A later acknowledgement without a note clears it (the latest is the one kept).
        await s.putAlarmAck({ visitId: "V1", alarmAt: 10, by: "sup2", at: 30 });
        expect(await s.alarmAcks("V1")).toEqual([{ visitId: "V1", alarmAt: 10, by: "sup2", at: 30 }]);
      });

      it("acknowledges several alarms at once with their notifications, all or none", async () => {
        await s.putAlarmAcks(
          [
            { visitId: "V2", alarmAt: 10, by: "sup", at: 50, note: "all safe" },
            { visitId: "V1", alarmAt: 30, by: "sup", at: 50, note: "all safe" },
            { visitId: "V1", alarmAt: 20, by: "sup", at: 50, note: "all safe" },
          ],
          [outboxItem("o1"), outboxItem("o2")],
        );
        // By visit in the order asked (each once), then by alarm time.
        expect((await s.alarmAcksOf(["V1", "V3", "V2", "V1"])).map((a) => [a.visitId, a.alarmAt])).toEqual([
          ["V1", 20],
          ["V1", 30],
          ["V2", 10],
        ]);
        expect(await s.alarmAcksOf([])).toEqual([]);
        expect((await s.listOutbox({})).map((o) => o.id).sort()).toEqual(["o1", "o2"]);
        // One bad acknowledgement in a batch: none of it is kept, nor its notifications.
        await expect(
          s.putAlarmAcks(
            [
              { visitId: "V3", alarmAt: 10, by: "sup", at: 60 },
              { visitId: null as unknown as string, alarmAt: 11, by: "sup", at: 60 },
            ],
            [outboxItem("o3")],
          ),
        ).rejects.toThrow();
        expect(await s.alarmAcks("V3")).toEqual([]);
        expect((await s.listOutbox({})).map((o) => o.id).sort()).toEqual(["o1", "o2"]);
      });
    });

    describe("visit changes", () => {
      it("records a 'created' entry per inserted visit when told who and when, none for a duplicate", async () => {
        await seed();
        const a = plan("V1", T0, T0 + 60 * MIN);
        expect(await s.insertVisits([a, plan("V1", T0, T0 + MIN)], { at: T0 - MIN, by: "disp" })).toEqual([
          true,
          false,
        ]);
        expect(await s.visitChanges("V1")).toEqual([
          { visitId: "V1", at: T0 - MIN, by: "disp", kind: "created", note: null, before: null, after: a },
        ]);
        await s.insertVisits([plan("V2", T0, T0 + MIN)]); // without a change: no trail entry
        expect(await s.visitChanges("V2")).toEqual([]);
        expect(await s.visitChanges("nope")).toEqual([]);
      });

      it("updates a plan and its trail in one go: before and after, cancellation kept", async () => {
        await seed();
        const a = plan("V1", T0, T0 + 60 * MIN, { createdAt: T0 - 5 * MIN });
        await s.insertVisits([a], { at: T0 - 5 * MIN });
        const moved = { ...a, window: { from: T0 + 30 * MIN, to: T0 + 90 * MIN }, engineerId: "E2" };
        await s.updateVisit(moved, { at: T0 - 4 * MIN, by: "disp", kind: "rescheduled", note: "traffic" });
        const cancelled = { ...moved, cancelledAt: T0 - 3 * MIN, cancelReason: "customer away" };
        await s.updateVisit(cancelled, { at: T0 - 3 * MIN, by: "disp", kind: "cancelled" });
        expect(await s.getVisit("V1")).toEqual(cancelled);
        expect((await s.listVisits({ engineerId: "E2" })).map((v) => v.id)).toEqual(["V1"]);
        const trail = await s.visitChanges("V1");
        expect(trail.map((c) => [c.kind, c.by, c.note])).toEqual([
          ["created", null, null],
          ["rescheduled", "disp", "traffic"],
          ["cancelled", "disp", null],
        ]);
        expect(trail[1]?.before).toEqual(a);
        expect(trail[1]?.after).toEqual(moved);
        expect(trail[2]?.before).toEqual(moved);
        expect(trail[2]?.after).toEqual(cancelled);
        const restored = { ...moved };
        await s.updateVisit(restored, { at: T0 - 2 * MIN, kind: "restored" });
        expect(await s.getVisit("V1")).toEqual(moved); // no cancellation keys left
      });

      it("refuses to update a visit that is not there, and records nothing", async () => {
        await seed();
        await expect(
          s.updateVisit(plan("V9", T0, T0 + MIN), { at: T0, kind: "rescheduled" }),
        ).rejects.toThrow(/V9/);
        expect(await s.visitChanges("V9")).toEqual([]);
      });
    });

    describe("notifications", () => {
      it("adds one item per key: a key already there is kept as it is, and the count says how many were new", async () => {
        expect(await s.enqueueOutbox([outboxItem("o1"), outboxItem("o2")])).toBe(2);
        expect(
          await s.enqueueOutbox([outboxItem("o3", { key: "key-o1", target: "other" }), outboxItem("o4")]),
        ).toBe(1);
        expect(await s.enqueueOutbox([outboxItem("o5"), outboxItem("o6", { key: "key-o5" })])).toBe(1);
        expect(await s.enqueueOutbox([])).toBe(0);
        const all = await s.listOutbox({});
        expect(all.map((o) => o.id).sort()).toEqual(["o1", "o2", "o4", "o5"]);
        expect(all.find((o) => o.id === "o1")).toEqual(outboxItem("o1"));
      });

      it("gives due pending items soonest first, and updates delivery state", async () => {
        await s.enqueueOutbox([
          outboxItem("late", { nextAt: T0 + 10 * MIN }),
          outboxItem("now", { nextAt: T0 }),
          outboxItem("soon", { nextAt: T0 + MIN }),
          outboxItem("done", { nextAt: T0, status: "delivered", deliveredAt: T0 }),
        ]);
        expect((await s.dueOutbox(T0 + MIN, 10)).map((o) => o.id)).toEqual(["now", "soon"]);
        expect((await s.dueOutbox(T0 + 20 * MIN, 1)).map((o) => o.id)).toEqual(["now"]);
        await s.updateOutbox("now", {
          status: "pending",
          attempts: 1,
          nextAt: T0 + 5 * MIN,
          lastError: "connection refused",
          deliveredAt: null,
        });
        await s.updateOutbox("soon", {
          status: "delivered",
          attempts: 1,
          nextAt: null,
          lastError: null,
          deliveredAt: T0 + MIN,
        });
        expect((await s.dueOutbox(T0 + 20 * MIN, 10)).map((o) => o.id)).toEqual(["now", "late"]);
        const [now] = await s.listOutbox({ status: "pending", limit: 1 });
        expect(now?.id === "now" || now?.id === "late").toBe(true);
        expect((await s.listOutbox({ status: "delivered" })).map((o) => o.id).sort()).toEqual([
          "done",
          "soon",
        ]);
        const again = (await s.listOutbox({})).find((o) => o.id === "now");
        expect(again).toMatchObject({ attempts: 1, lastError: "connection refused", nextAt: T0 + 5 * MIN });
      });

      it("lists newest first, filtered by visit and site, at most `limit`", async () => {
        await s.enqueueOutbox([
          outboxItem("a", { createdAt: T0 }),
          outboxItem("b", { createdAt: T0 + 2, visitId: "V2" }),
          outboxItem("c", { createdAt: T0 + 1, siteId: "S2", visitId: null }),
        ]);
        expect((await s.listOutbox({})).map((o) => o.id)).toEqual(["b", "c", "a"]);
        expect((await s.listOutbox({ visitId: "V1" })).map((o) => o.id)).toEqual(["a"]);
        expect((await s.listOutbox({ siteId: "S2" })).map((o) => o.id)).toEqual(["c"]);
        expect((await s.listOutbox({ limit: 2 })).map((o) => o.id)).toEqual(["b", "c"]);
      });

      it("writes notifications with the projection, in its transaction", async () => {
        await seed();
        await s.insertVisits([plan("V1", T0, T0 + MIN)]);
        await s.saveProjection({ attribution: [], views: [], watermark: null, outbox: [outboxItem("p1")] });
        expect((await s.listOutbox({})).map((o) => o.id)).toEqual(["p1"]);
        // A projection that fails (a view of an unknown visit) writes none of its notifications.
        await expect(
          s.saveProjection({
            attribution: [],
            views: [{ view: view(plan("V-unknown", T0, T0 + MIN)), projectedAt: T0 }],
            watermark: 5,
            outbox: [outboxItem("p2")],
          }),
        ).rejects.toThrow();
        expect((await s.listOutbox({})).map((o) => o.id)).toEqual(["p1"]);
        expect(await s.projectionWatermark()).toBe(0);
      });

      it("stores webhooks by id (a second put replaces), lists them oldest first, deletes once", async () => {
        const hook = (id: string, createdAt: number) => ({
          id,
          url: `https://hooks.example.test/${id}`,
          events: ["sos", "at_risk"],
          sealedSecret: `sealed-${id}`,
          siteId: null,
          createdAt,
        });
        await s.putWebhook(hook("w2", 2));
        await s.putWebhook(hook("w1", 3));
        await s.putWebhook({ ...hook("w2", 2), url: "https://hooks.example.test/moved", siteId: "S1" });
        expect(await s.listWebhooks()).toEqual([
          { ...hook("w2", 2), url: "https://hooks.example.test/moved", siteId: "S1" },
          hook("w1", 3),
        ]);
        expect(await s.deleteWebhook("w2")).toBe(true);
        expect(await s.deleteWebhook("w2")).toBe(false);
        expect((await s.listWebhooks()).map((w) => w.id)).toEqual(["w1"]);
      });

      it("keeps roll-calls: updates end and people, lists a site's newest first, with their notifications", async () => {
        const person = {
          engineerId: "E1",
          name: "Engineer E1",
          company: "Shengda",
          evidence: ["checked_in" as const],
          visitId: "V1",
          status: "unknown" as const,
          markedBy: null,
          markedAt: null,
        };
        const rc = (id: string, startedAt: number, siteId = "S1") => ({
          id,
          siteId,
          kind: "drill" as const,
          startedAt,
          startedBy: "warden",
          endedAt: null,
          people: [person],
        });
        await s.putRollCall(rc("r1", T0), [outboxItem("e1", { type: "evacuation" })]);
        await s.putRollCall(rc("r2", T0 + MIN));
        await s.putRollCall(rc("r3", T0 + 2 * MIN, "S2"));
        expect(await s.getRollCall("r1")).toEqual(rc("r1", T0));
        expect(await s.getRollCall("nope")).toBeUndefined();
        const ended = {
          ...rc("r1", T0),
          kind: "evacuation" as const, // the kind, site and start are kept from the first put
          endedAt: T0 + 5 * MIN,
          people: [{ ...person, status: "safe" as const, markedBy: "warden", markedAt: T0 + MIN }],
        };
        await s.putRollCall(ended);
        expect(await s.getRollCall("r1")).toEqual({ ...ended, kind: "drill" });
        expect((await s.listRollCalls("S1", 10)).map((r) => r.id)).toEqual(["r2", "r1"]);
        expect((await s.listRollCalls("S1", 1)).map((r) => r.id)).toEqual(["r2"]);
        expect((await s.listOutbox({})).map((o) => o.id)).toEqual(["e1"]);
      });
    });

    describe("migrations", () => {
      it("a second open finds the data and migrates nothing again", async () => {
        await seed();
        await s.commitEvents([badgeEvent("b", 1, "E1")], []);
        const again = await t.open();
        expect(await again.getSite("S1")).toEqual(site("S1"));
        expect(await again.countEvents()).toBe(1);
      });

      it("refuses a database that a newer hub has migrated", async () => {
        await t.markNewerSchema();
        await expect(t.open()).rejects.toThrow(/schema version 99 is newer than this hub knows/);
      });

      it("closes once, and again without harm", async () => {
        await s.close();
        await s.close();
      });
    });
  });
}
