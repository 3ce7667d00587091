import { describe, expect, it } from "vitest";
import { Pcf8574Lcd } from "../../hardware/virtual/hd44780.js";
import { parseIntelHex } from "../../hardware/virtual/intel-hex.js";

/** What johnny-five's PCF8574 controller writes: nibble + RS, pulsed on EN (bit 2), backlight bit 3. */
function writer(lcd: Pcf8574Lcd) {
  const pulse = (v: number) => {
    lcd.write(v | 0x04 | 0x08);
    lcd.write((v & ~0x04) | 0x08);
  };
  const send = (rs: number, b: number) => {
    pulse((b & 0xf0) | rs);
    pulse(((b << 4) & 0xf0) | rs);
  };
  return {
    init() {
      for (const n of [0x3, 0x3, 0x3, 0x2]) pulse(n << 4);
      send(0, 0x28);
      send(0, 0x0c);
      send(0, 0x01);
    },
    text(row: number, s: string) {
      send(0, 0x80 | (row === 0 ? 0 : 0x40));
      for (const c of s) send(1, c.charCodeAt(0));
    },
    pulse,
  };
}

describe("PCF8574 + HD44780 model", () => {
  it("decodes johnny-five's 4-bit writes into two lines", () => {
    const lcd = new Pcf8574Lcd();
    const w = writer(lcd);
    w.init();
    w.text(0, "Zhang Wei");
    w.text(1, "On time OK?");
    expect(lcd.lines()).toEqual(["Zhang Wei       ", "On time OK?     "]);
    expect(lcd.backlight).toBe(true);
  });

  it("re-synchronises after a lost nibble when the init sequence is sent again", () => {
    const lcd = new Pcf8574Lcd();
    const w = writer(lcd);
    w.init();
    w.pulse(0x40); // one stray nibble: the 4-bit pairing is now off by one
    w.text(0, "garbled");
    w.init();
    w.text(0, "Hello");
    expect(lcd.lines()[0]).toBe("Hello           ");
  });
});

describe("Intel HEX", () => {
  it("loads data records and refuses a bad checksum", () => {
    const flash = parseIntelHex(":0400000001020304F2\n:00000001FF\n", 16);
    expect([...flash.subarray(0, 5)]).toEqual([1, 2, 3, 4, 0xff]);
    expect(() => parseIntelHex(":0400000001020304F3\n", 16)).toThrow(/checksum/);
    expect(() => parseIntelHex("hello", 16)).toThrow(/not a record/);
  });
});
