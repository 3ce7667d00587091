/**
 * An Arduino Uno (ATmega328P at 16 MHz) emulated with avr8js, running a real firmware image
 * (StandardFirmata). Host serial bytes go to USART0; the MCU's bytes come back as a serial stream.
 * Button inputs are pin levels; LED and buzzer outputs are readable; a PCF8574 LCD backpack sits
 * on the I2C bus at 0x27. Emulated time follows wall time in slices so the host's timers run too.
 */
import { readFileSync } from "node:fs";
import {
  AVRIOPort,
  AVRTimer,
  AVRTWI,
  AVRUSART,
  avrInstruction,
  CPU,
  portBConfig,
  portCConfig,
  portDConfig,
  type TWIEventHandler,
  timer0Config,
  timer1Config,
  timer2Config,
  twiConfig,
  usart0Config,
} from "avr8js";
import { Pcf8574Lcd } from "./hd44780.js";
import { parseIntelHex } from "./intel-hex.js";

const FREQ = 16_000_000;
const UCSRA_RXC = 0x80;
const UCSRB_RXCIE = 0x80;
/** Most emulated time one slice may run before yielding to the host event loop. */
const MAX_SLICE_CYCLES = FREQ / 100;

class I2cBus implements TWIEventHandler {
  private target: number | null = null;
  constructor(
    private readonly twi: AVRTWI,
    private readonly devices: Map<number, { write(b: number): void; read?(): number }>,
  ) {}
  start(): void {
    this.twi.completeStart();
  }
  stop(): void {
    this.target = null;
    this.twi.completeStop();
  }
  connectToSlave(addr: number): void {
    const ok = this.devices.has(addr);
    this.target = ok ? addr : null;
    this.twi.completeConnect(ok);
  }
  writeByte(value: number): void {
    const d = this.target === null ? undefined : this.devices.get(this.target);
    d?.write(value);
    this.twi.completeWrite(d !== undefined);
  }
  readByte(): void {
    const d = this.target === null ? undefined : this.devices.get(this.target);
    this.twi.completeRead(d?.read?.() ?? 0xff);
  }
}

export class EmulatedUno {
  readonly cpu: CPU;
  readonly portB: AVRIOPort;
  readonly portC: AVRIOPort;
  readonly portD: AVRIOPort;
  readonly usart: AVRUSART;
  readonly lcd = new Pcf8574Lcd(16, 2);
  private readonly rx: number[] = [];
  private readonly txListeners = new Set<(b: Uint8Array) => void>();
  private txPending: number[] = [];
  private running = false;
  private startedAt = 0;
  private cyclesAtStart = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(hexPath: string) {
    const flash = parseIntelHex(readFileSync(hexPath, "utf8"));
    this.cpu = new CPU(new Uint16Array(flash.buffer));
    new AVRTimer(this.cpu, timer0Config);
    new AVRTimer(this.cpu, timer1Config);
    new AVRTimer(this.cpu, timer2Config);
    this.portB = new AVRIOPort(this.cpu, portBConfig);
    this.portC = new AVRIOPort(this.cpu, portCConfig);
    this.portD = new AVRIOPort(this.cpu, portDConfig);
    this.usart = new AVRUSART(this.cpu, usart0Config, FREQ);
    const twi = new AVRTWI(this.cpu, twiConfig, FREQ);
    twi.eventHandler = new I2cBus(twi, new Map([[0x27, { write: (b: number) => this.lcd.write(b) }]]));
    this.usart.onByteTransmit = (b) => this.txPending.push(b);
    // Host bytes are paced by the firmware reading UDR (like hardware flow control): a byte is
    // never overwritten before the RX interrupt has taken the previous one.
    const readUdr = this.cpu.readHooks[usart0Config.UDR];
    this.cpu.readHooks[usart0Config.UDR] = (addr) => {
      const v = readUdr?.(addr) ?? 0;
      this.rxPending = false;
      this.feed();
      return v;
    };
    // avr8js 0.21 clears RXC, and its pending interrupt, on every UCSR0B write while the receiver
    // stays enabled, and the RXC bit on every UCSR0A write. On the ATmega328P RXC is read-only:
    // only reading UDR0 (or disabling the receiver) clears it. Arduino's HardwareSerial writes both
    // registers around every transmission (UDRIE0 on and off, TXC0), so a byte that completed just
    // then lost its interrupt, was never read, and the host-to-board direction stopped for good:
    // the "stall" of the emulated kiosk suite when the board reported a button while LCD writes
    // streamed in. A byte delivered and not yet read keeps its flag and its interrupt here.
    const rxc: Parameters<CPU["setInterruptFlag"]>[0] = {
      address: usart0Config.rxCompleteInterrupt,
      flagRegister: usart0Config.UCSRA,
      flagMask: UCSRA_RXC,
      enableRegister: usart0Config.UCSRB,
      enableMask: UCSRB_RXCIE,
      constant: true,
    };
    const unread = () => this.rxPending && !this.usart.rxBusy;
    for (const register of [usart0Config.UCSRA, usart0Config.UCSRB]) {
      const write = this.cpu.writeHooks[register];
      this.cpu.writeHooks[register] = (value, oldValue, addr, mask) => {
        const waiting = unread();
        const handled = write?.(value, oldValue, addr, mask);
        if (waiting && this.usart.rxEnable) this.cpu.setInterruptFlag(rxc);
        return handled;
      };
    }
  }

  private rxPending = false;

  private feed(): void {
    const next = this.rx[0];
    if (next === undefined || this.rxPending || this.usart.rxBusy) return;
    if (this.usart.writeByte(next)) {
      this.rx.shift();
      this.rxPending = true;
    }
  }

  /** Host bytes not yet taken by the MCU: an LCD redraw queues about 40 a character. */
  get backlog(): number {
    return this.rx.length;
  }

  /** Emulated clock cycles so far. */
  get cycles(): number {
    return this.cpu.cycles;
  }

  /** Bytes from the host to the MCU's RX pin, delivered at the UART's pace. */
  serialWrite(bytes: Uint8Array): void {
    for (const b of bytes) this.rx.push(b);
    this.feed();
  }

  onSerialData(fn: (b: Uint8Array) => void): () => void {
    this.txListeners.add(fn);
    return () => this.txListeners.delete(fn);
  }

  /** Uno digital pin number → port and bit. */
  private pin(n: number): [AVRIOPort, number] {
    if (n >= 0 && n <= 7) return [this.portD, n];
    if (n >= 8 && n <= 13) return [this.portB, n - 8];
    if (n >= 14 && n <= 19) return [this.portC, n - 14];
    throw new RangeError(`no Uno pin ${n}`);
  }

  /** Drive an input pin (a button wired with a pull-down: pressed = high). */
  setInput(pin: number, high: boolean): void {
    const [port, bit] = this.pin(pin);
    port.setPin(bit, high);
  }

  /** Level of an output pin (LED, buzzer). */
  output(pin: number): boolean {
    const [port, bit] = this.pin(pin);
    return port.pinState(bit) === 1; // PinState.High
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = performance.now();
    this.cyclesAtStart = this.cpu.cycles;
    this.loop();
  }

  private loop = (): void => {
    if (!this.running) return;
    const due = this.cyclesAtStart + ((performance.now() - this.startedAt) * FREQ) / 1000;
    const until = Math.min(due, this.cpu.cycles + MAX_SLICE_CYCLES);
    const cpu = this.cpu;
    while (cpu.cycles < until) {
      avrInstruction(cpu);
      cpu.tick();
    }
    // RX not yet enabled by the firmware when the host first wrote: try again.
    if (!this.rxPending && this.rx.length > 0) this.feed();
    if (this.txPending.length > 0) {
      const chunk = Uint8Array.from(this.txPending);
      this.txPending = [];
      for (const fn of this.txListeners) fn(chunk);
    }
    // Behind wall time: continue at once (yielding for I/O); caught up: wait a millisecond.
    this.timer = cpu.cycles < due - FREQ / 1000 ? setImmediate(this.loop) : setTimeout(this.loop, 1);
  };

  stop(): void {
    this.running = false;
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
  }
}
