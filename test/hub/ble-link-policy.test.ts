import { describe, expect, it } from "vitest";
import {
  type Heard,
  LINK_TIMING,
  LinkPolicy,
  type LinkPolicyOptions,
} from "../../hub/adapters/ble/link-policy.js";

const OPTS: LinkPolicyOptions = {
  enabled: true,
  maxLinks: 2,
  dropAfterMs: 10_000,
  heardWithinMs: 6_000,
  ...LINK_TIMING,
};

function setup(opts: Partial<LinkPolicyOptions> = {}) {
  let now = 1_000_000;
  const policy = new LinkPolicy({ ...OPTS, ...opts }, { now: () => now });
  return {
    policy,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

const heard = (device: string, lastHeard: number, extra: Partial<Heard> = {}): Heard => ({
  key: `/org/bluez/hci0/dev_${device}`,
  device,
  badgeNo: device.length,
  address: `C4:00:00:00:00:${device.slice(-2)}`,
  adapter: "hci0",
  lastHeard,
  scanning: true,
  ...extra,
});

describe("BLE link policy (pure, injected clock)", () => {
  it("links badges heard recently on a scanning adapter, newest first, up to maxLinks", () => {
    const { policy, now } = setup();
    const t = now();
    const plan = policy.plan([
      heard("b-01", t - 3000),
      heard("b-02", t - 100),
      heard("b-03", t - 7000), // not heard within 6 s
      heard("b-04", t - 50, { scanning: false }), // its adapter is off
      heard("b-05", t - 1000),
    ]);
    expect(plan.map((s) => s.connect.device)).toEqual(["b-02", "b-05"]);
    expect(plan.every((s) => s.connect.state === "connecting" && s.release === undefined)).toBe(true);
    // Slots taken by connects in flight: nobody else now.
    expect(policy.plan([heard("b-01", t)])).toEqual([]);
  });

  it("with every slot up and a badge waiting, releases the link idle longest (5 s or more) for it", () => {
    const { policy, now, advance } = setup({ maxLinks: 1 });
    const [first] = policy.plan([heard("b-01", now())]);
    if (!first) throw new Error("no plan");
    policy.up(first.connect);
    advance(1000);
    // Busy within the last 5 s: the waiting badge waits.
    expect(policy.plan([heard("b-01", now()), heard("b-02", now())])).toEqual([]);
    advance(LINK_TIMING.idleMs);
    const plan = policy.plan([heard("b-01", now() - 10), heard("b-02", now())]);
    expect(plan.map((s) => [s.connect.device, s.release?.device])).toEqual([["b-02", "b-01"]]);
    const released = policy.get("b-01");
    expect(released?.state).toBe("idle");
    // Its own next turn waits an idle period.
    expect(released?.nextAttemptAt).toBe(now() + LINK_TIMING.idleMs);
    expect(policy.linked()).toEqual([]);
  });

  it("backs off failed connects (1, 2, 4 … 30 s) and drops a badge that keeps refusing while heard", () => {
    const { policy, now, advance } = setup({ maxLinks: 5, dropAfterMs: 10_000 });
    const waits: number[] = [];
    let dropped = false;
    for (let i = 0; i < 8 && !dropped; i++) {
      const [s] = policy.plan([heard("b-01", now())]);
      if (!s) throw new Error(`no attempt ${i}`);
      const started = now();
      advance(500);
      dropped = policy.failed(s.connect, started, true);
      const link = policy.get("b-01");
      waits.push((link?.nextAttemptAt ?? 0) - now());
      advance((link?.nextAttemptAt ?? 0) - now());
    }
    // The fifth failure, 17.5 s after the first attempt, is past dropAfterMs (10 s).
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(dropped).toBe(true);
    // Dropped: not tried again while it is still heard.
    advance(60_000);
    expect(policy.plan([heard("b-01", now())])).toEqual([]);
    // Out of earshot for a while, then back: another chance.
    expect(policy.plan([heard("b-01", now() - 7000)])).toEqual([]);
    expect(policy.plan([heard("b-01", now())]).map((s) => s.connect.device)).toEqual(["b-01"]);
    expect(policy.get("b-01")?.attempts).toBe(0);
  });

  it("a badge that failed because it left range is not counted towards dropping it", () => {
    const { policy, now, advance } = setup({ dropAfterMs: 1000 });
    for (let i = 0; i < 5; i++) {
      const [s] = policy.plan([heard("b-01", now())]);
      if (!s) throw new Error("no attempt");
      const started = now();
      advance(2000);
      expect(policy.failed(s.connect, started, false)).toBe(false);
      expect(policy.get("b-01")?.failingSince).toBeNull();
      advance(30_000);
    }
  });

  it("holds the newest signal for a badge not linked, for 60 s; signal seqs are hub time and strictly increase", () => {
    const { policy, now, advance } = setup();
    const signal = (pattern: "confirm" | "alarm") => ({
      v: 1 as const,
      type: "signal" as const,
      time: now(),
      pattern,
      repeat: 1,
    });
    policy.hold("b-01", signal("confirm"));
    policy.hold("b-01", signal("alarm"));
    expect(policy.takeHeld("b-01")?.pattern).toBe("alarm");
    expect(policy.takeHeld("b-01")).toBeUndefined();
    policy.hold("b-02", signal("confirm"));
    advance(LINK_TIMING.signalTtlMs + 1);
    expect(policy.takeHeld("b-02")).toBeUndefined();
    const [s] = policy.plan([heard("b-03", now())]);
    if (!s) throw new Error("no plan");
    const a = policy.nextSignalSeq(s.connect);
    const b = policy.nextSignalSeq(s.connect);
    expect(a).toBe(now());
    expect(b).toBe(now() + 1);
  });

  it("links up are due a time sync every hour; an adapter going down takes its links down", () => {
    const { policy, now, advance } = setup({ maxLinks: 3 });
    const plan = policy.plan([heard("b-01", now()), heard("b-02", now(), { adapter: "hci1" })]);
    for (const s of plan) {
      policy.up(s.connect);
      policy.timeSynced(s.connect);
    }
    expect(policy.timeSyncsDue()).toEqual([]);
    advance(LINK_TIMING.timeSyncMs);
    expect(policy.timeSyncsDue().map((l) => l.device)).toEqual(["b-01", "b-02"]);
    expect(policy.adapterDown("hci1").map((l) => l.device)).toEqual(["b-02"]);
    expect(policy.linked()).toEqual(["b-01"]);
    const b1 = policy.get("b-01");
    if (!b1) throw new Error("no link");
    expect(policy.down(b1)).toBe(true);
    expect(policy.down(b1)).toBe(false);
    expect(b1.nextAttemptAt).toBe(now() + 1000);
  });

  it("links nothing when links are disabled (a hub that only listens)", () => {
    const { policy, now } = setup({ enabled: false });
    expect(policy.plan([heard("b-01", now())])).toEqual([]);
  });
});
