/** A firmware test rig: a real hub, a kiosk program on a virtual board, an RFID reader on a mock serial port. */
import { join } from "node:path";
import { SerialPortMock } from "serialport";
import { Kiosk } from "../../firmware/kiosk/kiosk.js";
import { rdm6300Frame } from "../../firmware/kiosk/rdm6300.js";
import { KIOSK_PROFILE } from "../../hardware/profiles/kiosk.js";
import { type BoardKind, createVirtualBoard, type VirtualBoard } from "../../hardware/virtual/boards.js";
import type { Hub } from "../../hub/app.js";
import { resolveWindow } from "../../hub/core/time.js";
import { eventually } from "../hub/helpers.js";

let ports = 0;

export interface KioskRig {
  board: VirtualBoard;
  kiosk: Kiosk;
  rfid: SerialPortMock;
  press(button: "confirm" | "decline" | "next"): Promise<void>;
  tap(tag: string, split?: boolean): void;
  lcd(): string;
  waitLcd(re: RegExp, ms?: number): Promise<string>;
  /** Until the display shows exactly what the program last printed. */
  waitSettled(ms?: number): Promise<void>;
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
      board.input(pins[button], true);
      await eventually(() => kiosk.presses[button] > pressed, 5000);
      board.input(pins[button], false);
      await eventually(() => kiosk.releases[button] > released, 5000);
    },
    tap(tag, split = false) {
      const frame = rdm6300Frame(tag);
      const port = rfid.port as unknown as { emitData(d: Buffer): void };
      if (!split) return port.emitData(frame);
      port.emitData(Buffer.concat([Buffer.from("noise"), frame.subarray(0, 5)]));
      setTimeout(() => port.emitData(frame.subarray(5)), 30);
    },
    waitSettled: async (ms = 20_000) => {
      await eventually(
        () => lcd() === kiosk.screen.lines.map((l) => l.slice(0, 16).trimEnd()).join("\n"),
        ms,
      );
    },
    waitLcd: (re, ms = 20_000) =>
      eventually(() => (re.test(lcd()) ? lcd() : undefined), ms).catch((e: Error) => {
        throw new Error(
          `${e.message}: LCD ${JSON.stringify(lcd())}, kiosk ${kiosk.state} showing ${JSON.stringify(kiosk.screen.lines)}`,
        );
      }),
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
