import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Badge } from "../../firmware/badge/badge.js";
import type { BadgeRadio } from "../../firmware/badge/radio.js";
import { BADGE_PROFILE } from "../../hardware/profiles/badge.js";
import { LightIO } from "../../hardware/virtual/light-io.js";
import { type DeviceCommand, decodeFrame, toHex } from "../../protocol/index.js";
import { eventually, tempDir } from "../hub/helpers.js";
import { frameVectors, testKey, testKeys } from "../protocol/vectors.js";

/** A radio test double: records what the badge sends; range is switchable. */
class RecordingRadio implements BadgeRadio {
  readonly sent: string[] = [];
  inRangeNow = true;
  private readonly listeners: Array<(c: DeviceCommand) => void> = [];
  inRange(): boolean {
    return this.inRangeNow;
  }
  async send(_no: number, frame: Uint8Array): Promise<boolean> {
    if (!this.inRangeNow) return false;
    this.sent.push(toHex(frame));
    return true;
  }
  onCommand(_id: string, fn: (c: DeviceCommand) => void): () => void {
    this.listeners.push(fn);
    return () => {};
  }
  command(c: DeviceCommand): void {
    for (const fn of this.listeners) fn(c);
  }
}

const vector = (name: string) => {
  const v = frameVectors.vectors.find((x) => x.name === name);
  if (!v) throw new Error(name);
  return v;
};

describe("badge firmware on the light virtual IO", () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  const badges: Badge[] = [];
  afterEach(async () => {
    for (const b of badges.splice(0)) await b.stop();
    for (const d of dirs.splice(0)) d.cleanup();
  });

  async function start(
    opts: {
      stateDir?: string;
      clock?: () => number;
      radio?: RecordingRadio;
      queueLimit?: number;
      ppe?: Parameters<typeof Badge.start>[0]["ppe"];
    } = {},
  ) {
    const dir = tempDir();
    dirs.push(dir);
    const io = new LightIO();
    const radio = opts.radio ?? new RecordingRadio();
    const badge = await Badge.start({
      io,
      profile: {
        ...BADGE_PROFILE,
        presenceIntervalS: 3600,
        ...(opts.queueLimit ? { queueLimit: opts.queueLimit } : {}),
      },
      deviceId: "badge-1",
      badgeNo: 0x1234,
      key: testKey,
      radio,
      stateDir: opts.stateDir ?? dir.path,
      ppe: opts.ppe ?? ["helmet", "safety_shoes"],
      battery: () => 86,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    badges.push(badge);
    const hold = async (ms: number) => {
      io.setInput(BADGE_PROFILE.button, true);
      await new Promise((r) => setTimeout(r, ms));
      io.setInput(BADGE_PROFILE.button, false);
    };
    return { badge, radio, io, hold };
  }

  it("a press signs exactly the golden vector's frame", async () => {
    const v = vector("arrival");
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(dir.path, { recursive: true });
    writeFileSync(join(dir.path, "counter.json"), JSON.stringify({ next: v.fields.counter }));
    const { radio, hold } = await start({ stateDir: dir.path, clock: () => v.fields.time * 1000 + 400 });
    await hold(30);
    await eventually(() => radio.sent.length === 1, 3000);
    expect(radio.sent[0]).toBe(v.hex);
  });

  it("the gear step carries the configured PPE, as in the vector", async () => {
    const v = vector("gear: helmet, shoes, glasses");
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir.path, "counter.json"), JSON.stringify({ next: v.fields.counter }));
    writeFileSync(join(dir.path, "step.json"), JSON.stringify({ step: 1 }));
    const { radio, badge } = await start({
      stateDir: dir.path,
      clock: () => v.fields.time * 1000,
      ppe: ["helmet", "safety_shoes", "safety_glasses"],
    });
    badge.press();
    await eventually(() => radio.sent.length === 1);
    expect(radio.sent[0]).toBe(v.hex);
  });

  it("long press is SOS, double press a late notice", async () => {
    const { radio, hold, badge } = await start();
    await hold(BADGE_PROFILE.longPressMs + 200);
    await eventually(() => radio.sent.length === 1, 4000);
    expect(decodeFrame(Buffer.from(radio.sent[0] ?? "", "hex"), testKeys).type).toBe("sos");
    await new Promise((r) => setTimeout(r, 100)); // let go, as a hand would
    await hold(20);
    await new Promise((r) => setTimeout(r, 100));
    await hold(20);
    await eventually(() => radio.sent.length === 2, 4000);
    expect(decodeFrame(Buffer.from(radio.sent[1] ?? "", "hex"), testKeys).type).toBe("late_notice");
    expect(badge.nextStep).toBe("arrival");
  });

  it("the counter and the step survive a reboot", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = await start({ stateDir: dir.path });
    first.badge.press();
    first.badge.press();
    await eventually(() => first.radio.sent.length === 2);
    await first.badge.stop();
    const second = await start({ stateDir: dir.path });
    expect(second.badge.nextStep).toBe("work_started");
    second.badge.press();
    await eventually(() => second.radio.sent.length === 1);
    const counters = [...first.radio.sent, ...second.radio.sent].map(
      (h) => decodeFrame(Buffer.from(h, "hex"), testKeys).counter,
    );
    expect(counters).toEqual([1, 2, 3]);
  });

  it("out of range, frames wait in order; when full the oldest is dropped and the drop reported", async () => {
    const radio = new RecordingRadio();
    radio.inRangeNow = false;
    const { badge } = await start({ radio, queueLimit: 3 });
    badge.press(); // arrival  (dropped)
    badge.press(); // gear     (dropped)
    badge.press(); // work
    badge.sos();
    badge.lateNotice();
    expect(badge.queue.map((q) => q.type)).toEqual(["work_started", "sos", "late_notice"]);
    expect(badge.dropped).toBe(2);
    radio.inRangeNow = true;
    await badge.drain();
    const frames = radio.sent.map((h) => decodeFrame(Buffer.from(h, "hex"), testKeys));
    expect(frames.map((f) => f.type)).toEqual(["work_started", "sos", "late_notice", "badge_status"]);
    expect(frames.map((f) => f.counter)).toEqual([3, 4, 5, 6]);
    expect(frames[3]).toMatchObject({ type: "badge_status", dropped: 2, queued: 0 });
  });

  it("plays the hub's signals on its buzzer", async () => {
    const { radio, badge, io } = await start();
    let buzzed = 0;
    io.onOutput((pin, v) => {
      if (pin === BADGE_PROFILE.buzzer && v === 1) buzzed++;
    });
    radio.command({ v: 1, type: "signal", time: Date.now(), pattern: "cleanup_missing", repeat: 3 });
    await eventually(() => buzzed >= 3, 4000);
    expect(badge.lastSignal).toBe("cleanup_missing");
  });
});
