/**
 * The emulated Uno's serial link under two-way traffic: the real StandardFirmata keeps taking the
 * host's bytes (LCD writes over I2C) while it transmits (a button toggling as fast as it samples).
 * Before the UCSR0A/B fix in hardware/virtual/emulated-uno.ts, avr8js dropped a received byte's
 * interrupt when HardwareSerial touched those registers for a transmission, and the host-to-board
 * direction stopped for good within about 3 s of this load (every run of five, tried here).
 */
import five from "johnny-five";
import { afterAll, describe, expect, it } from "vitest";
import { boardReady, newBoard } from "../../firmware/common/board.js";
import { KIOSK_PROFILE } from "../../hardware/profiles/kiosk.js";
import { createVirtualBoard } from "../../hardware/virtual/boards.js";

describe("emulated Uno serial link", { timeout: 60_000 }, () => {
  const vb = createVirtualBoard("emulated");
  let board: five.Board | undefined;
  afterAll(async () => {
    await vb.close();
  });

  it("keeps taking host bytes while the board transmits, and the LCD ends on the last text", async () => {
    board = newBoard(vb.io);
    await boardReady(board);
    const lcd = new five.LCD({ controller: "PCF8574", address: 0x27, rows: 2, cols: 16, board } as never);
    const pin = KIOSK_PROFILE.buttons.confirm;
    new five.Button({ pin, isPullup: false, board });
    let level = false;
    const toggle = setInterval(() => {
      level = !level;
      vb.input(pin, level);
    }, 3);
    // Keep a few kilobytes of LCD writes queued for 10 s while the pin toggles.
    let last = "";
    let stalledFor = 0;
    let backlog = -1;
    const end = Date.now() + 10_000;
    try {
      while (Date.now() < end) {
        const now = vb.progress().backlog;
        if (now < 3000) {
          last = `t ${Date.now() % 100_000}`.padEnd(16);
          lcd.cursor(0, 0).print(last);
        }
        stalledFor = now > 0 && now === backlog ? stalledFor + 20 : 0;
        backlog = now;
        // A board that takes no byte for 2 s is stuck, not slow (it takes ~6 a millisecond).
        expect(stalledFor).toBeLessThan(2000);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      clearInterval(toggle);
    }
    // It drains what is left, and the display shows the last text sent.
    for (let i = 0; i < 1000 && vb.progress().backlog > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(vb.progress().backlog).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(vb.lcd.lines()[0]).toBe(last);
  });
});
