/**
 * A serialport-13 binding whose ports are emulated Unos: the real SerialPortStream and firmata-io
 * run on top of it unchanged. Register a board under a path, then open that path.
 */
import type { EmulatedUno } from "./emulated-uno.js";

// The shapes of @serialport/bindings-interface 1.x (its types do not resolve under NodeNext).
interface OpenOptions {
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  lock?: boolean;
  stopBits?: 1 | 1.5 | 2;
  parity?: string;
  rtscts?: boolean;
  xon?: boolean;
  xoff?: boolean;
  xany?: boolean;
  hupcl?: boolean;
}
interface PortStatus {
  cts: boolean;
  dsr: boolean;
  dcd: boolean;
}
interface PortInfo {
  path: string;
  manufacturer: string | undefined;
  serialNumber: string | undefined;
  pnpId: string | undefined;
  locationId: string | undefined;
  productId: string | undefined;
  vendorId: string | undefined;
}

class CanceledError extends Error {
  readonly canceled = true;
}

class UnoPort {
  isOpen = true;
  readonly openOptions: Required<OpenOptions>;
  private readonly queue: number[] = [];
  private waiting: (() => void) | null = null;
  private readonly off: () => void;

  constructor(
    private readonly uno: EmulatedUno,
    options: OpenOptions,
  ) {
    this.openOptions = {
      dataBits: 8,
      lock: true,
      stopBits: 1,
      parity: "none",
      rtscts: false,
      xon: false,
      xoff: false,
      xany: false,
      hupcl: true,
      ...options,
    } as Required<OpenOptions>;
    this.off = uno.onSerialData((bytes) => {
      for (const b of bytes) this.queue.push(b);
      this.waiting?.();
    });
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    while (this.queue.length === 0) {
      if (!this.isOpen) throw new CanceledError("port closed");
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
      this.waiting = null;
    }
    if (!this.isOpen) throw new CanceledError("port closed");
    const n = Math.min(length, this.queue.length);
    for (let i = 0; i < n; i++) buffer[offset + i] = this.queue.shift() as number;
    return { buffer, bytesRead: n };
  }

  async write(buffer: Buffer): Promise<void> {
    if (!this.isOpen) throw new CanceledError("port closed");
    this.uno.serialWrite(new Uint8Array(buffer));
  }

  async close(): Promise<void> {
    this.isOpen = false;
    this.off();
    this.waiting?.();
  }
  async update(): Promise<void> {}
  async set(): Promise<void> {}
  async get(): Promise<PortStatus> {
    return { cts: true, dsr: true, dcd: true };
  }
  async getBaudRate(): Promise<{ baudRate: number }> {
    return { baudRate: this.openOptions.baudRate };
  }
  async flush(): Promise<void> {
    this.queue.length = 0;
  }
  async drain(): Promise<void> {}
}

export class UnoBinding {
  private readonly boards = new Map<string, EmulatedUno>();

  register(path: string, uno: EmulatedUno): void {
    this.boards.set(path, uno);
  }

  unregister(path: string): void {
    this.boards.delete(path);
  }

  async list(): Promise<PortInfo[]> {
    return [...this.boards.keys()].map((path) => ({
      path,
      manufacturer: "onsite (emulated)",
      serialNumber: undefined,
      pnpId: undefined,
      locationId: undefined,
      productId: "0043",
      vendorId: "2341",
    }));
  }

  async open(options: OpenOptions): Promise<UnoPort> {
    const uno = this.boards.get(options.path);
    if (!uno) throw new Error(`no emulated board at ${options.path}`);
    uno.start();
    return new UnoPort(uno, options);
  }
}
