/**
 * A virtual board for a firmware program: `light` (LightIO, many per process) or `emulated` (the
 * real StandardFirmata on an emulated Uno, through serialport and firmata-io; about one core each).
 * The program gets `io` and never knows which it is.
 */
import { SerialPortStream } from "@serialport/stream";
import firmataIo from "firmata-io";
import { EmulatedUno } from "./emulated-uno.js";
import { ensureStandardFirmata } from "./firmata-hex.js";
import type { Pcf8574Lcd } from "./hd44780.js";
import { LightIO } from "./light-io.js";
import { UnoBinding } from "./uno-binding.js";

export type BoardKind = "light" | "emulated";

export interface VirtualBoard {
  kind: BoardKind;
  /** The johnny-five IO plugin to hand to `new Board({ io })`. */
  io: object;
  /** Drive an input pin (button pressed = high). */
  input(pin: number, high: boolean): void;
  output(pin: number): boolean;
  lcd: Pcf8574Lcd;
  /**
   * How far the board is with what it was sent: host bytes still queued and, emulated, the clock
   * cycles run. A wait can tell a slow board (this moves) from a stuck one (it does not).
   */
  progress(): { backlog: number; cycles: number };
  close(): Promise<void>;
}

const binding = new UnoBinding();
let boards = 0;

export function createVirtualBoard(kind: BoardKind): VirtualBoard {
  if (kind === "light") {
    const io = new LightIO();
    return {
      kind,
      io,
      input: (p, h) => io.setInput(p, h),
      output: (p) => io.output(p),
      lcd: io.lcd,
      progress: () => ({ backlog: 0, cycles: 0 }),
      close: async () => {},
    };
  }
  const uno = new EmulatedUno(ensureStandardFirmata());
  const path = `/dev/onsite-emulated-uno-${boards++}`;
  binding.register(path, uno);
  // The options type of SerialPortStream comes from @serialport/bindings-interface, unresolvable under NodeNext.
  const port = new SerialPortStream({ binding, path, baudRate: 57600 } as never);
  const io = new firmataIo.Firmata(port, { reportVersionTimeout: 10_000 });
  // johnny-five waits for "connect" before "ready"; a Board attached after the port opened would wait
  // forever. Replay "connect" to late listeners.
  let connected = false;
  io.once("connect", () => {
    connected = true;
  });
  io.on("newListener", (name: string) => {
    if (name === "connect" && connected) process.nextTick(() => io.emit("connect"));
  });
  return {
    kind,
    io,
    input: (p, h) => uno.setInput(p, h),
    output: (p) => uno.output(p),
    lcd: uno.lcd,
    progress: () => ({ backlog: uno.backlog, cycles: uno.cycles }),
    close: async () => {
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
      uno.stop();
      binding.unregister(path);
    },
  };
}
