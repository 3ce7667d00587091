/**
 * The engineer's badge. One button: a short press confirms the next step of the visit (arrival,
 * safety gear, work started, departure), a double press sends a late notice, a long press raises
 * SOS. Every press becomes a signed frame (protocol/frames); the counter survives reboot. While out
 * of range frames wait in a bounded queue (oldest dropped when full, and the drop is reported) and
 * drain in order on return. Hardware only through johnny-five; the radio is an interface.
 */
import { join } from "node:path";
import five from "johnny-five";
import type { BadgeProfile } from "../../hardware/profiles/badge.js";
import { type BadgeFrame, type DeviceCommand, encodeFrame, type PpeItem } from "../../protocol/index.js";
import { beep, boardReady, newBoard, Timers } from "../common/board.js";
import { PersistentCounter, readJson, writeAtomic } from "../common/persist.js";
import type { BadgeRadio, FrameKind } from "./radio.js";

export const BADGE_STEPS = ["arrival", "gear_confirmed", "work_started", "departure"] as const;
export type BadgeStep = (typeof BADGE_STEPS)[number];

export interface BadgeOptions {
  io: object;
  profile: BadgeProfile;
  deviceId: string;
  badgeNo: number;
  key: Uint8Array;
  radio: BadgeRadio;
  stateDir: string;
  /** The PPE items the engineer confirms with the gear step. */
  ppe: PpeItem[];
  lateEtaMinutes?: number;
  clock?: () => number;
  /** Battery level in percent (null: unknown), as the badge's fuel gauge reports it. */
  battery?: () => number | null;
}

type Queued = { frame: Uint8Array; kind: FrameKind; type: BadgeFrame["type"] };

export class Badge {
  readonly queue: Queued[] = [];
  dropped = 0;
  private reportedDropped = 0;
  private step: number;
  private readonly counter: PersistentCounter;
  private readonly clock: () => number;
  private readonly timers = new Timers();
  private led!: five.Led;
  private buzzer!: five.Pin;
  private pendingPress: NodeJS.Timeout | undefined;
  private held = false;
  private draining = false;
  /** A BLE badge has put a presence frame on the air since it booted. */
  private announced = false;
  private offs: Array<() => void> = [];
  readonly board: five.Board;
  /** Last feedback pattern played (for display and tests). */
  lastSignal: string | undefined;
  sent = 0;
  /** Hub time minus the badge's own clock, from the last time sync (0 until one arrives). */
  clockOffsetMs = 0;

  private constructor(private readonly opts: BadgeOptions) {
    this.clock = opts.clock ?? Date.now;
    this.counter = new PersistentCounter(join(opts.stateDir, "counter.json"));
    this.step = readJson<{ step?: number }>(join(opts.stateDir, "step.json"), {}).step ?? 0;
    this.board = newBoard(opts.io);
  }

  static async start(opts: BadgeOptions): Promise<Badge> {
    const b = new Badge(opts);
    await boardReady(b.board);
    b.attach();
    return b;
  }

  private battery(): number | null {
    return this.opts.battery ? this.opts.battery() : null;
  }

  get nextStep(): BadgeStep {
    return BADGE_STEPS[this.step] ?? "arrival";
  }

  private attach(): void {
    const { profile, radio, deviceId } = this.opts;
    const board = this.board;
    this.led = new five.Led({ pin: profile.led, board });
    this.buzzer = new five.Pin({ pin: profile.buzzer, type: "digital", board } as never);
    const button = new five.Button({
      pin: profile.button,
      isPullup: false,
      board,
      holdtime: profile.longPressMs,
    });
    button.on("hold", () => {
      if (this.held) return;
      this.held = true;
      this.sos();
    });
    button.on("release", () => {
      if (this.held) {
        this.held = false;
        return;
      }
      if (this.pendingPress) {
        clearTimeout(this.pendingPress);
        this.pendingPress = undefined;
        this.lateNotice();
        return;
      }
      this.pendingPress = setTimeout(() => {
        this.pendingPress = undefined;
        this.press();
      }, profile.doublePressMs);
    });
    this.offs.push(radio.onCommand(deviceId, (c) => this.command(c)));
    this.announce();
    this.offs.push(
      radio.onStateChange?.(() => {
        this.announce();
        void this.drain();
      }) ?? (() => {}),
    );
    this.timers.every(profile.presenceIntervalS * 1000, () => this.presence());
    this.timers.every(1000, () => this.drain());
  }

  /** Badge time: its own clock, corrected by the hub's last signed time sync. */
  now(): number {
    return this.clock() + this.clockOffsetMs;
  }

  private frame(build: (h: { badge: number; counter: number; time: number }) => BadgeFrame): Uint8Array {
    return encodeFrame(
      build({
        badge: this.opts.badgeNo,
        counter: this.counter.take(),
        time: Math.floor(this.now() / 1000),
      }),
      this.opts.key,
    );
  }

  private enqueue(type: BadgeFrame["type"], frame: Uint8Array, kind: FrameKind): void {
    if (this.queue.length >= this.opts.profile.queueLimit) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push({ frame, kind, type });
    void this.drain();
  }

  /** Sends queued frames in order while in range; stops at the first that does not go through. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 && this.opts.radio.inRange(this.opts.badgeNo)) {
        const head = this.queue[0] as Queued;
        if (!(await this.opts.radio.send(this.opts.badgeNo, head.frame, head.kind))) break;
        this.queue.shift();
        this.sent++;
      }
      if (
        this.queue.length === 0 &&
        this.dropped > this.reportedDropped &&
        this.opts.radio.inRange(this.opts.badgeNo)
      ) {
        const dropped = this.dropped;
        const status = this.frame((h) => ({ type: "badge_status", ...h, queued: 0, dropped }));
        if (await this.opts.radio.send(this.opts.badgeNo, status, "gatt")) this.reportedDropped = dropped;
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * A BLE central finds the badge only by a signed advert, and keeps hearing that frame (stale, but
   * still verifiable) while a backlog holds newer presence back. So a BLE badge puts one presence
   * frame on the air as soon as its radio is up, even when its first press (a long frame, which is
   * never advertised) already waits: otherwise the hub would never find it.
   */
  private announce(): void {
    if (this.announced || !this.opts.radio.advertises || !this.opts.radio.inRange(this.opts.badgeNo)) return;
    this.announced = true;
    const f = this.frame((h) => ({ type: "presence", ...h, battery: this.battery() }));
    void this.opts.radio.send(this.opts.badgeNo, f, "advert");
  }

  /** A signed presence advert, only live and only with nothing older waiting. */
  private presence(): void {
    if (this.queue.length > 0 || !this.opts.radio.inRange(this.opts.badgeNo)) return;
    const f = this.frame((h) => ({ type: "presence", ...h, battery: this.battery() }));
    void this.opts.radio.send(this.opts.badgeNo, f, "advert");
  }

  // ---- the button ----

  press(): void {
    const step = this.nextStep;
    this.beep(60);
    if (step === "gear_confirmed") {
      this.enqueue(
        step,
        this.frame((h) => ({ type: "gear_confirmed", ...h, items: this.opts.ppe })),
        "gatt",
      );
    } else {
      this.enqueue(
        step,
        this.frame((h) => ({ type: step, ...h, battery: this.battery() })),
        "advert",
      );
    }
    // After the departure the next press starts the next visit.
    this.step = (this.step + 1) % BADGE_STEPS.length;
    writeAtomic(join(this.opts.stateDir, "step.json"), JSON.stringify({ step: this.step }));
  }

  /**
   * The next visit begins: the step sequence starts again at arrival. The hub assigns visits to the
   * badge (over GATT with the BLE backend); the simulator calls this at the start of a scenario.
   */
  startVisit(): void {
    this.step = 0;
    writeAtomic(join(this.opts.stateDir, "step.json"), JSON.stringify({ step: 0 }));
  }

  lateNotice(): void {
    this.beep(60, 2);
    const eta = Math.floor(this.now() / 1000) + (this.opts.lateEtaMinutes ?? 30) * 60;
    this.enqueue(
      "late_notice",
      this.frame((h) => ({ type: "late_notice", ...h, eta, reason: "traffic" })),
      "gatt",
    );
  }

  sos(): void {
    this.beep(500);
    this.enqueue(
      "sos",
      this.frame((h) => ({ type: "sos", ...h, battery: this.battery() })),
      "advert",
    );
  }

  // ---- feedback ----

  private beep(ms: number, times = 1): void {
    beep(this.timers, this.buzzer, ms, times);
  }

  private command(c: DeviceCommand): void {
    if (c.type === "time_sync") {
      this.clockOffsetMs = c.hubTime - this.clock();
      return;
    }
    if (c.type !== "signal") return;
    this.lastSignal = c.pattern;
    const long = c.pattern === "cleanup_missing" || c.pattern === "alarm";
    this.beep(long ? 400 : 100, Math.min(c.repeat, 5));
    this.led.blink(long ? 150 : 300);
    this.timers.later(3000, () => this.led.stop().off());
  }

  async stop(): Promise<void> {
    this.timers.clear();
    if (this.pendingPress) clearTimeout(this.pendingPress);
    for (const off of this.offs) off();
  }
}
