/** A firmware test rig: a real hub, a kiosk program on a virtual board, an RFID reader on a mock serial port. */
import { join } from "node:path";
import { SerialPortMock } from "serialport";
import { Kiosk } from "../../firmware/kiosk/kiosk.js";
import { rdm6300Frame } from "../../firmware/kiosk/rdm6300.js";
import { KIOSK_PROFILE } from "../../hardware/profiles/kiosk.js";
import { type BoardKind, createVirtualBoard, type VirtualBoard } from "../../hardware/virtual/boards.js";
import type { Hub } from "../../hub/app.js";
import { resolveWindow } from "../../hub/core/time.js";

let ports = 0;

/**
 * Waits for `done` as long as the board makes progress. An emulated Uno is only as fast as the CPU
 * it gets: on a busy machine its 57600-baud link takes seconds to carry a redraw, so a fixed
 * deadline fails a board that is merely slow. This fails when nothing moved for `quietMs` (no
 * queued byte taken, no LCD change: a stall), or after `capMs` in all.
 */
async function whileProgressing<T>(
  board: VirtualBoard,
  done: () => T | undefined | false,
  describe: () => string,
  quietMs = 10_000,
  capMs = 120_000,
): Promise<T> {
  const start = Date.now();
  // Progress: the board took host bytes, or the LCD changed (emulated time alone is not: a stuck
  // firmware keeps its clock running).
  const mark = () => `${board.progress().backlog}|${board.lcd.text()}`;
  let seen = mark();
  let movedAt = start;
  for (;;) {
    const v = done();
    if (v) return v;
    const now = Date.now();
    const m = mark();
    if (m !== seen) {
      seen = m;
      movedAt = now;
    }
    if (now - movedAt > quietMs || now - start > capMs)
      throw new Error(
        `${now - movedAt > quietMs ? `no progress for ${quietMs} ms` : `not done in ${capMs} ms`}: ${describe()}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface KioskRig {
  board: VirtualBoard;
  kiosk: Kiosk;
  rfid: SerialPortMock;
  press(button: "confirm" | "decline" | "next"): Promise<void>;
  tap(tag: string, split?: boolean): void;
  lcd(): string;
  /** Until the LCD matches; fails when the board made no progress for `quietMs`. */
  waitLcd(re: RegExp, quietMs?: number): Promise<string>;
  /** Until the display shows exactly what the program last printed (same failure rule). */
  waitSettled(quietMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startKioskRig(
  hub: Hub,
  kind: BoardKind,
  password: string,
  stateDir: string,
  deviceId = "kiosk-1",
): Promise<KioskRig> {
  const board = createVirtualBoard(kind);

  const path = `/dev/rfid-mock-${ports++}`;
  SerialPortMock.binding.createPort(path, { record: false });
  const rfid = new SerialPortMock({ path, baudRate: KIOSK_PROFILE.rfid.baudRate });
  if (!rfid.isOpen) await new Promise<void>((r) => rfid.on("open", () => r()));
  const kiosk = await Kiosk.start({
    io: board.io,
    profile: KIOSK_PROFILE,
    deviceId,
    mqtt: { url: `mqtt://127.0.0.1:${hub.mqttPort}`, password },
    rfid,
    stateDir: join(stateDir, deviceId),
  });
  const pins = KIOSK_PROFILE.buttons;
  const lcd = () => board.lcd.text();
  const describe = () =>
    `LCD ${JSON.stringify(lcd())}, kiosk ${kiosk.state} showing ${JSON.stringify(kiosk.screen.lines)}, board ${JSON.stringify(board.progress())}`;
  return {
    board,
    kiosk,
    rfid,
    lcd,
    async press(button) {
      // Hold until the program has seen the press: an emulated board may lag wall time, and
      // johnny-five debounces edges that arrive together.
      const pressed = kiosk.presses[button];
      const released = kiosk.releases[button];
      const what = (edge: string) => () =>
        `${button} ${edge} not seen; board ${JSON.stringify(board.progress())}, LCD ${JSON.stringify(lcd())}`;
      board.input(pins[button], true);
      await whileProgressing(board, () => kiosk.presses[button] > pressed, what("press"));
      board.input(pins[button], false);
      await whileProgressing(board, () => kiosk.releases[button] > released, what("release"));
    },
    tap(tag, split = false) {
      const frame = rdm6300Frame(tag);
      const port = rfid.port as unknown as { emitData(d: Buffer): void };
      if (!split) return port.emitData(frame);
      port.emitData(Buffer.concat([Buffer.from("noise"), frame.subarray(0, 5)]));
      setTimeout(() => port.emitData(frame.subarray(5)), 30);
    },
    waitSettled: async (quietMs = 10_000) => {
      await whileProgressing(
        board,
        () => lcd() === kiosk.screen.lines.map((l) => l.slice(0, 16).trimEnd()).join("\n"),
        describe,
        quietMs,
      );
    },
    waitLcd: (re, quietMs = 10_000) =>
      whileProgressing(board, () => (re.test(lcd()) ? lcd() : undefined), describe, quietMs),
    async stop() {
      await kiosk.stop();
      rfid.close();
      await board.close();
    },
  };
}

/** A visit for E1 at S1 whose window is open now (Shanghai time). */
export async function openVisit(hub: Hub, id = "V1", engineerId = "E1"): Promise<void> {
  const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);
  const window = resolveWindow(
    local(Date.now() - 30 * 60_000),
    local(Date.now() + 90 * 60_000),
    "Asia/Shanghai",
  );
  await hub.ctx.store.insertVisits([{ id, siteId: "S1", engineerId, window }]);
}
