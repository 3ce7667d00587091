/**
 * An HD44780 character LCD behind a PCF8574 I2C backpack (the common 0x27 module), decoded from the
 * bytes written to the expander: P0 = RS, P1 = RW, P2 = EN, P3 = backlight, P4..P7 = D4..D7. A nibble
 * is latched on the falling edge of EN; the controller starts in 8-bit mode until told 4-bit.
 */
export class Pcf8574Lcd {
  private readonly ddram = new Uint8Array(128).fill(0x20);
  private address = 0;
  private cgram = false;
  private fourBit = false;
  private high: number | null = null;
  private last = 0;
  backlight = false;
  /** Called after every character or command that changes the visible text. */
  onChange: (() => void) | null = null;

  constructor(
    readonly cols = 16,
    readonly rows = 2,
  ) {}

  /** One byte written to the PCF8574's port. */
  write(value: number): void {
    const fallingEnable = (this.last & 0x04) !== 0 && (value & 0x04) === 0;
    this.backlight = (value & 0x08) !== 0;
    if (fallingEnable) this.nibble((this.last & 0x01) === 1, this.last >> 4);
    this.last = value;
  }

  private nibble(rs: boolean, n: number): void {
    if (!this.fourBit) {
      // 8-bit mode: each nibble is DB7..DB4 of a whole instruction; only "function set" matters.
      if (!rs && (n & 0xe) === 0x2) this.fourBit = (n & 0x1) === 0;
      return;
    }
    if (this.high === null) {
      this.high = n;
      return;
    }
    const byte = (this.high << 4) | n;
    this.high = null;
    if (rs) this.data(byte);
    else this.command(byte);
  }

  private command(c: number): void {
    if (c === 0x01) {
      this.ddram.fill(0x20);
      this.address = 0;
      this.cgram = false;
    } else if ((c & 0xfe) === 0x02) {
      this.address = 0;
      this.cgram = false;
    } else if (c & 0x80) {
      this.address = c & 0x7f;
      this.cgram = false;
    } else if (c & 0x40) {
      this.cgram = true;
    } else if ((c & 0xe0) === 0x20) {
      // Function set: DL=1 returns to 8-bit mode (the re-sync sequence 0x3, 0x3, 0x3, 0x2 relies on it).
      this.fourBit = (c & 0x10) === 0;
      this.high = null;
    } else return;
    this.onChange?.();
  }

  private data(b: number): void {
    if (this.cgram) return;
    this.ddram[this.address] = b;
    this.address = (this.address + 1) & 0x7f;
    this.onChange?.();
  }

  /** The visible text, one string per row (trailing spaces kept). */
  lines(): string[] {
    const offsets = [0x00, 0x40, 0x14, 0x54];
    return Array.from({ length: this.rows }, (_, r) =>
      String.fromCharCode(...this.ddram.subarray(offsets[r] ?? 0, (offsets[r] ?? 0) + this.cols)),
    );
  }

  text(): string {
    return this.lines()
      .map((l) => l.trimEnd())
      .join("\n");
  }
}
