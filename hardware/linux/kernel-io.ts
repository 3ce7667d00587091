/**
 * A johnny-five IO plugin for a small Linux board (the badge's Raspberry Pi Zero 2 W) on the
 * kernel's own GPIO drivers, configured by device tree:
 *
 * - an input pin is a `gpio-keys` key: its presses arrive as input events on /dev/input/eventN,
 *   interrupt-driven and debounced in the kernel (`dtoverlay=gpio-key,...`);
 * - an output pin is a `leds-gpio` LED: /sys/class/leds/<label>/brightness takes 0 or 1
 *   (`dtoverlay=gpio-led,...`); the buzzer is one too.
 *
 * Neither needs a native addon, root, or the deprecated GPIO sysfs interface (/sys/class/gpio),
 * whose numbering moved in Raspberry Pi OS kernel 6.6 and which newer kernels drop. Pins are named
 * by their GPIO line (BCM number), as the board profile does. docs/hardware.md has the wiring, the
 * overlays and why this and not linux-io, pi-io or raspi-io.
 */
import { EventEmitter } from "node:events";
import {
  closeSync,
  createReadStream,
  openSync,
  type ReadStream,
  readdirSync,
  readFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

export type KernelPin =
  /** A gpio-keys key: the event device and the key code the overlay gave it. */
  | { gpio: number; kind: "key"; device: string; code: number }
  /** A leds-gpio output: the LED's label under the LED class. */
  | { gpio: number; kind: "led"; label: string };

export interface KernelIOOptions {
  pins: KernelPin[];
  /** Where the LED class lives (tests point it at a folder of their own). */
  ledsRoot?: string;
  /** Bytes of one `struct input_event`: 24 with a 64-bit userspace, 16 with a 32-bit one. */
  eventSize?: number;
}

/**
 * The event device of the input device called `name` (a gpio-keys node is called after its
 * device-tree node, `button@11` for GPIO 17): /dev/input/eventN, found through /sys/class/input.
 */
export function findInputDevice(name: string, sysRoot = "/sys/class/input", devRoot = "/dev/input"): string {
  for (const entry of readdirSync(sysRoot)) {
    if (!/^event\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join(sysRoot, entry, "device", "name"), "utf8").trim() === name)
        return join(devRoot, entry);
    } catch {
      // an entry without a name
    }
  }
  throw new Error(
    `no input device called ${JSON.stringify(name)} under ${sysRoot} (is the gpio-key overlay loaded?)`,
  );
}

const MODES = { INPUT: 0x00, OUTPUT: 0x01, ANALOG: 0x02, PWM: 0x03, SERVO: 0x04 } as const;
const EV_KEY = 1;

interface PinInfo {
  supportedModes: number[];
  mode: number | null;
  value: number;
  report: number;
  analogChannel: number;
}

export class KernelIO extends EventEmitter {
  readonly name = "onsite KernelIO (gpio-keys, leds-gpio)";
  readonly MODES = MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  readonly RESOLUTION = { ADC: 1023, DAC: null, PWM: 1 };
  readonly analogPins: number[] = [];
  readonly defaultLed: number;
  readonly pins: PinInfo[];
  isReady = false;
  private readonly readers = new Map<number, Array<(v: number) => void>>();
  private readonly leds = new Map<number, number>();
  private readonly streams: ReadStream[] = [];
  private readonly eventSize: number;

  constructor(opts: KernelIOOptions) {
    super();
    this.eventSize = opts.eventSize ?? (process.arch === "arm64" || process.arch === "x64" ? 24 : 16);
    const top = Math.max(0, ...opts.pins.map((p) => p.gpio));
    this.pins = Array.from({ length: top + 1 }, () => ({
      supportedModes: [],
      mode: null,
      value: 0,
      report: 0,
      analogChannel: 127,
    }));
    const root = opts.ledsRoot ?? "/sys/class/leds";
    for (const p of opts.pins) {
      const info = this.pins[p.gpio] as PinInfo;
      if (p.kind === "led") {
        info.supportedModes = [MODES.OUTPUT];
        this.leds.set(p.gpio, openSync(join(root, p.label, "brightness"), "w"));
      } else {
        info.supportedModes = [MODES.INPUT];
        this.listen(p);
      }
    }
    this.defaultLed = opts.pins.find((p) => p.kind === "led")?.gpio ?? 0;
    setImmediate(() => {
      this.isReady = true;
      this.emit("connect");
      this.emit("ready");
    });
  }

  /** Reads the key's input events; a press is 1, a release 0 (autorepeat is ignored). */
  private listen(p: Extract<KernelPin, { kind: "key" }>): void {
    const stream = createReadStream(p.device, { highWaterMark: this.eventSize * 16 });
    this.streams.push(stream);
    let pending = Buffer.alloc(0);
    // struct input_event: a timeval (16 or 8 bytes), then type u16, code u16, value s32.
    const at = this.eventSize - 8;
    stream.on("data", (chunk: Buffer | string) => {
      pending = Buffer.concat([pending, Buffer.from(chunk)]);
      while (pending.length >= this.eventSize) {
        const type = pending.readUInt16LE(at);
        const code = pending.readUInt16LE(at + 2);
        const value = pending.readInt32LE(at + 4);
        pending = pending.subarray(this.eventSize);
        if (type === EV_KEY && code === p.code && value !== 2) this.input(p.gpio, value ? 1 : 0);
      }
    });
    stream.on("error", (e) => this.emit("error", e));
  }

  private input(gpio: number, v: number): void {
    const info = this.pin(gpio);
    if (info.value === v) return;
    info.value = v;
    for (const fn of this.readers.get(gpio) ?? []) fn(v);
  }

  private pin(n: number | string): PinInfo {
    const p = this.pins[Number(n)];
    if (!p || p.supportedModes.length === 0) throw new RangeError(`KernelIO has no pin ${String(n)}`);
    return p;
  }

  normalize(pin: number | string): number {
    this.pin(pin);
    return Number(pin);
  }

  pinMode(pin: number, mode: number): this {
    const p = this.pin(pin);
    if (!p.supportedModes.includes(mode))
      throw new RangeError(
        `pin ${pin} is ${p.supportedModes.includes(MODES.INPUT) ? "an input" : "an output"}`,
      );
    p.mode = mode;
    return this;
  }

  digitalWrite(pin: number, value: number): this {
    const fd = this.leds.get(pin);
    if (fd === undefined) throw new RangeError(`pin ${pin} is not an output`);
    const v = value ? 1 : 0;
    this.pin(pin).value = v;
    writeSync(fd, v ? "1" : "0", 0);
    return this;
  }

  digitalRead(pin: number, callback: (value: number) => void): this {
    const list = this.readers.get(pin) ?? [];
    list.push(callback);
    this.readers.set(pin, list);
    this.pin(pin).report = 1;
    setImmediate(() => callback(this.pin(pin).value));
    return this;
  }

  reportDigitalPin(pin: number, value: number): this {
    this.pin(pin).report = value;
    return this;
  }

  setSamplingInterval(): this {
    return this;
  }

  queryPinState(_pin: number, callback?: () => void): this {
    if (callback) setImmediate(callback);
    return this;
  }

  /** Lets go of the event devices and LED files; outputs are left low. */
  close(): void {
    for (const s of this.streams) s.destroy();
    for (const [pin, fd] of this.leds) {
      this.digitalWrite(pin, 0);
      closeSync(fd);
    }
    this.leds.clear();
  }
}
