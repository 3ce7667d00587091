/**
 * A light johnny-five IO plugin for simulations with many devices: an Uno-shaped board with no
 * emulated CPU. Input pins are set from outside (`setInput`), output pins read back (`output`), and
 * I2C writes go to attached devices (the PCF8574 LCD). The same firmware programs run on it as on
 * the emulated Uno and on real boards.
 */
import { EventEmitter } from "node:events";
import { Pcf8574Lcd } from "./hd44780.js";

const MODES = {
  INPUT: 0x00,
  OUTPUT: 0x01,
  ANALOG: 0x02,
  PWM: 0x03,
  SERVO: 0x04,
  I2C: 0x06,
  PULLUP: 0x0b,
} as const;

interface PinInfo {
  supportedModes: number[];
  mode: number | null;
  value: number;
  report: number;
  analogChannel: number;
}

export class LightIO extends EventEmitter {
  readonly name = "onsite LightIO";
  readonly MODES = MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  readonly RESOLUTION = { ADC: 1023, DAC: null, PWM: 255 };
  readonly defaultLed = 13;
  readonly analogPins = [14, 15, 16, 17, 18, 19];
  readonly pins: PinInfo[];
  isReady = false;
  readonly lcd = new Pcf8574Lcd(16, 2);
  private readonly readers = new Map<number, Array<(v: number) => void>>();
  private readonly i2c = new Map<number, (b: number) => void>([[0x27, (b) => this.lcd.write(b)]]);
  private readonly outputListeners = new Set<(pin: number, value: number) => void>();

  constructor() {
    super();
    // Pins 0–19 are an Uno's; 20–27 are digital only, so a badge wired by GPIO number (a Raspberry
    // Pi's lines go to 27) runs here too.
    this.pins = Array.from({ length: 28 }, (_, i) => ({
      supportedModes:
        i >= 20
          ? [MODES.INPUT, MODES.OUTPUT]
          : i >= 14
            ? [MODES.INPUT, MODES.OUTPUT, MODES.ANALOG, MODES.I2C]
            : [MODES.INPUT, MODES.OUTPUT, MODES.PWM, MODES.SERVO],
      mode: null,
      value: 0,
      report: 0,
      analogChannel: i >= 14 && i < 20 ? i - 14 : 127,
    }));
    // Like a board that has just answered its handshake.
    setImmediate(() => {
      this.isReady = true;
      this.emit("connect");
      this.emit("ready");
    });
  }

  private pin(n: number | string): PinInfo {
    const i = typeof n === "string" ? (n.startsWith("A") ? 14 + Number(n.slice(1)) : Number(n)) : n;
    const p = this.pins[i];
    if (!p) throw new RangeError(`LightIO has no pin ${String(n)}`);
    return p;
  }

  normalize(pin: number | string): number {
    return this.pins.indexOf(this.pin(pin));
  }

  pinMode(pin: number, mode: number): this {
    this.pin(pin).mode = mode;
    return this;
  }

  digitalWrite(pin: number, value: number): this {
    const p = this.pin(pin);
    p.value = value ? 1 : 0;
    for (const fn of this.outputListeners) fn(pin, p.value);
    return this;
  }

  analogWrite(pin: number, value: number): this {
    this.pin(pin).value = value;
    for (const fn of this.outputListeners) fn(pin, value);
    return this;
  }

  pwmWrite(pin: number, value: number): this {
    return this.analogWrite(pin, value);
  }

  servoWrite(pin: number, value: number): this {
    return this.analogWrite(pin, value);
  }

  digitalRead(pin: number, callback: (value: number) => void): this {
    const list = this.readers.get(pin) ?? [];
    list.push(callback);
    this.readers.set(pin, list);
    this.pin(pin).report = 1;
    setImmediate(() => callback(this.pin(pin).value));
    return this;
  }

  analogRead(pin: number, callback: (value: number) => void): this {
    const p = this.analogPins[pin] ?? pin;
    return this.digitalRead(p, callback);
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

  i2cConfig(): this {
    return this;
  }

  i2cWrite(address: number, registerOrData: number | number[], data?: number | number[]): this {
    const device = this.i2c.get(address);
    if (!device) return this;
    const bytes = [
      ...(Array.isArray(registerOrData) ? registerOrData : [registerOrData]),
      ...(data === undefined ? [] : Array.isArray(data) ? data : [data]),
    ];
    for (const b of bytes) device(b);
    return this;
  }

  i2cWriteReg(address: number, register: number, value: number): this {
    return this.i2cWrite(address, register, value);
  }

  i2cRead(): this {
    return this;
  }

  i2cReadOnce(): this {
    return this;
  }

  // ---- the outside world ----

  /** Drive an input pin (a button wired with a pull-down: pressed = high). */
  setInput(pin: number, high: boolean): void {
    const p = this.pin(pin);
    const v = high ? 1 : 0;
    if (p.value === v) return;
    p.value = v;
    for (const fn of this.readers.get(pin) ?? []) fn(v);
  }

  /** Level of an output pin. */
  output(pin: number): boolean {
    return this.pin(pin).value !== 0;
  }

  onOutput(fn: (pin: number, value: number) => void): () => void {
    this.outputListeners.add(fn);
    return () => this.outputListeners.delete(fn);
  }
}
