/**
 * The site kiosk: the customer's side of the visit (RULES.md steps 5, 10, 11). A badge tap on the
 * RFID reader asks the hub for check-in; the LCD shows who it is and the arrival result; the customer
 * confirms check-in, later confirms completion (resolved or not, a rating 1-5) and signs off the
 * clean-up checklist item by item. LEDs and buzzer give feedback. Hardware only through johnny-five.
 */
import { join } from "node:path";
import type { Readable } from "node:stream";
import five from "johnny-five";
import type { KioskProfile } from "../../hardware/profiles/kiosk.js";
import type { DeviceCommand, DeviceEvent } from "../../protocol/index.js";
import { beep, boardReady, newBoard, Timers } from "../common/board.js";
import { PersistentCounter } from "../common/persist.js";
import { KioskLink } from "./link.js";
import { Rdm6300Parser } from "./rdm6300.js";

export type KioskState =
  | "idle"
  | "waiting"
  | "confirm_checkin"
  | "working"
  | "confirm_completion"
  | "rating"
  | "cleanup"
  | "done";

export interface KioskOptions {
  /** The johnny-five IO plugin: a Firmata board, an emulated Uno, or LightIO. */
  io: object;
  profile: KioskProfile;
  deviceId: string;
  mqtt: { url: string; password: string };
  /** Bytes from the RFID reader's serial port. */
  rfid: Readable;
  stateDir: string;
  clock?: () => number;
  heartbeatMs?: number;
}

interface Screen {
  lines: [string, string];
}

export class Kiosk {
  state: KioskState = "idle";
  visit: string | undefined;
  engineer: string | undefined;
  private resolved = true;
  rating = 5;
  private item: string | undefined;
  readonly link: KioskLink;
  readonly rfid: Rdm6300Parser;
  private readonly counter: PersistentCounter;
  private readonly clock: () => number;
  clockOffsetMs = 0;
  private lcd!: five.LCD;
  private green!: five.Led;
  private red!: five.Led;
  private buzzer!: five.Pin;
  private readonly timers = new Timers();
  readonly screen: Screen = { lines: ["", ""] };
  /** Button presses seen, by button (diagnostics; the simulator waits on it). */
  readonly presses = { confirm: 0, decline: 0, next: 0 };
  readonly releases = { confirm: 0, decline: 0, next: 0 };
  /** The checklist item the kiosk is asking about. */
  get cleanupItem(): string | undefined {
    return this.state === "cleanup" ? this.item : undefined;
  }
  readonly board: five.Board;

  private constructor(private readonly opts: KioskOptions) {
    this.clock = opts.clock ?? Date.now;
    this.counter = new PersistentCounter(join(opts.stateDir, "counter.json"));
    this.link = new KioskLink({
      url: opts.mqtt.url,
      deviceId: opts.deviceId,
      password: opts.mqtt.password,
      stateDir: opts.stateDir,
    });
    this.rfid = new Rdm6300Parser(1500, this.clock);
    this.board = newBoard(opts.io);
  }

  static async start(opts: KioskOptions): Promise<Kiosk> {
    const k = new Kiosk(opts);
    await boardReady(k.board);
    k.attach();
    return k;
  }

  private attach(): void {
    const { profile } = this.opts;
    const board = this.board;
    this.lcd = new five.LCD({
      controller: profile.lcd.controller,
      address: profile.lcd.address,
      rows: profile.lcd.rows,
      cols: profile.lcd.cols,
      board,
    } as never);
    this.green = new five.Led({ pin: profile.leds.green, board });
    this.red = new five.Led({ pin: profile.leds.red, board });
    this.buzzer = new five.Pin({ pin: profile.buzzer, type: "digital", board } as never);
    const button = (name: keyof Kiosk["presses"], fn: () => void) => {
      const b = new five.Button({ pin: profile.buttons[name], isPullup: false, board, holdtime: 1000 });
      b.on("press", () => {
        this.presses[name]++;
        this.beep(40);
        fn();
      });
      b.on("release", () => {
        this.releases[name]++;
      });
    };
    button("confirm", () => this.confirm());
    button("decline", () => this.decline());
    button("next", () => this.next());
    this.opts.rfid.pipe(this.rfid);
    this.rfid.on("data", (tag: string) => this.tap(tag));
    this.link.on("command", (c) => this.command(c));
    this.link.start();
    this.timers.every(this.opts.heartbeatMs ?? 30_000, () => this.heartbeat());
    this.idle();
  }

  // ---- outputs ----

  /** What the LCD holds (as last written), to send only what changes; null: unknown, draw it all. */
  private drawn: [string, string] | null = null;

  /**
   * Shows two lines. Only the changed stretch of each line is sent: every character costs about 40
   * bytes on Firmata's 57600-baud link (two nibbles, three I2C writes each), so a whole screen takes
   * a quarter of a second and a changed word a few milliseconds; and there is no clear to flicker.
   */
  private show(l1: string, l2: string): void {
    const cols = this.opts.profile.lcd.cols;
    const pad = (s: string) => s.slice(0, cols).padEnd(cols);
    this.screen.lines = [l1, l2];
    const next: [string, string] = [pad(l1), pad(l2)];
    if (this.drawn === null) {
      this.lcd.clear().cursor(0, 0).print(next[0]).cursor(1, 0).print(next[1]);
    } else {
      for (const row of [0, 1] as const) {
        const before = this.drawn[row];
        const after = next[row];
        let from = 0;
        while (from < cols && before[from] === after[from]) from++;
        if (from === cols) continue;
        let to = cols - 1;
        while (before[to] === after[to]) to--;
        this.lcd.cursor(row, from).print(after.slice(from, to + 1));
      }
    }
    this.drawn = next;
  }

  private beep(ms: number, times = 1): void {
    beep(this.timers, this.buzzer, ms, times);
  }

  private leds(green: boolean, red: boolean): void {
    if (green) this.green.on();
    else this.green.off();
    if (red) this.red.on();
    else this.red.off();
  }

  // ---- events to the hub ----

  private emitEvent(body: Record<string, unknown>): void {
    const event = {
      v: 1,
      device: this.opts.deviceId,
      counter: this.counter.take(),
      time: this.clock(),
      ...(this.visit ? { visit: this.visit } : {}),
      ...body,
    } as DeviceEvent;
    this.link.send(event);
  }

  private heartbeat(): void {
    // Only live, and only when nothing older waits: a newer counter must not overtake the queue.
    if (!this.link.connected || this.link.queue.length > 0) return;
    this.link.sendLive({
      v: 1,
      type: "heartbeat",
      device: this.opts.deviceId,
      counter: this.counter.take(),
      time: this.clock(),
      queued: 0,
    });
  }

  // ---- customer steps ----

  private idle(): void {
    this.state = "idle";
    this.visit = undefined;
    this.engineer = undefined;
    this.leds(false, false);
    this.show("Welcome!", "Tap badge here");
  }

  private tap(tag: string): void {
    this.visit = undefined;
    this.emitEvent({ type: "checkin_request", tag });
    this.state = "waiting";
    this.show("Please wait...", "");
  }

  private confirm(): void {
    switch (this.state) {
      case "confirm_checkin":
        this.emitEvent({ type: "checkin_confirmed", engineer: this.engineer ?? "", consent: true });
        this.state = "working";
        this.show("Thank you!", "Please wait...");
        this.leds(false, false);
        return;
      case "confirm_completion":
        this.resolved = true;
        this.askRating();
        return;
      case "rating":
        this.emitEvent({ type: "completion_confirmed", resolved: this.resolved, rating: this.rating });
        this.state = "working";
        this.show("Thank you!", "Please wait...");
        return;
      case "cleanup":
        if (this.item) this.emitEvent({ type: "cleanup_signed_off", items: [this.item] });
        this.item = undefined;
        this.state = "working";
        this.show("Thank you!", "Please wait...");
        return;
      default:
        return;
    }
  }

  private decline(): void {
    switch (this.state) {
      case "confirm_checkin":
        this.emitEvent({ type: "checkin_confirmed", engineer: this.engineer ?? "", consent: false });
        this.state = "done";
        this.leds(false, true);
        this.show("Entry declined", "Thank you");
        this.timers.later(5000, () => this.idle());
        return;
      case "confirm_completion":
        this.resolved = false;
        this.askRating();
        return;
      case "rating":
        this.state = "confirm_completion";
        this.show("Job done?", "OK=yes  X=no");
        return;
      default:
        return;
    }
  }

  private next(): void {
    if (this.state !== "rating") return;
    this.rating = (this.rating % 5) + 1;
    this.show(`Rating: ${this.rating}/5`, "Next +  OK send");
  }

  private askRating(): void {
    this.state = "rating";
    this.show(`Rating: ${this.rating}/5`, "Next +  OK send");
  }

  // ---- what the hub says ----

  private command(c: DeviceCommand): void {
    if (c.type === "time_sync") {
      this.clockOffsetMs = c.hubTime - c.deviceTime;
      return;
    }
    if (c.type === "signal") {
      const red = c.pattern === "error" || c.pattern === "alarm" || c.pattern === "cleanup_missing";
      this.leds(!red && c.pattern !== "off", red);
      this.beep(red ? 300 : 80, Math.min(c.repeat, 5));
      return;
    }
    if (c.type === "ack") {
      if (c.status === "rejected") {
        this.leds(false, true);
        this.beep(300, 2);
        this.show("Sorry, not", "accepted");
      }
      return;
    }
    if (c.visit) this.visit = c.visit;
    if (c.engineer) this.engineer = c.engineer;
    const [l1 = "", l2 = ""] = c.lines;
    switch (c.prompt) {
      case "checkin_confirm":
        this.state = "confirm_checkin";
        this.leds(true, false);
        break;
      case "completion_confirm":
        this.state = "confirm_completion";
        this.leds(true, false);
        this.show("Job done?", "OK=yes  X=no");
        return;
      case "cleanup_signoff":
        this.state = "cleanup";
        this.item = c.item;
        this.leds(true, false);
        break;
      case "thanks":
      case "goodbye":
      case "checkin_refused":
      case "checkin_declined":
        this.state = "done";
        this.leds(c.prompt !== "checkin_refused", c.prompt === "checkin_refused");
        this.show(l1, l2);
        this.timers.later(5000, () => {
          if (this.state === "done") this.idle();
        });
        return;
      default:
        this.state = "working";
        this.leds(false, false);
    }
    this.show(l1, l2);
  }

  async stop(): Promise<void> {
    this.timers.clear();
    this.opts.rfid.unpipe(this.rfid);
    await this.link.close();
  }
}
