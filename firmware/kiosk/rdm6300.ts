/**
 * RDM6300 125 kHz reader frames: STX (0x02), 10 ASCII hex digits (version + 32-bit tag), 2 ASCII hex
 * digits of checksum (XOR of the five data bytes), ETX (0x03). Bytes in, tags out: frames split
 * across reads are reassembled, noise between frames is skipped, a bad checksum is dropped and
 * counted. The reader repeats a frame while the card is held: the same tag within `repeatMs` is one tap.
 */
import { Transform, type TransformCallback } from "node:stream";

const STX = 0x02;
const ETX = 0x03;
const BODY = 12;

export class Rdm6300Parser extends Transform {
  private frame: number[] | null = null;
  badChecksums = 0;
  private last: { tag: string; at: number } | null = null;

  constructor(
    private readonly repeatMs = 1500,
    private readonly now: () => number = Date.now,
  ) {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    for (const b of chunk) this.byte(b);
    done();
  }

  private byte(b: number): void {
    if (b === STX) {
      this.frame = [];
      return;
    }
    if (this.frame === null) return; // noise between frames
    if (b === ETX) {
      if (this.frame.length === BODY) this.finish(this.frame);
      this.frame = null;
      return;
    }
    const isHex = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
    if (!isHex || this.frame.length >= BODY) {
      this.frame = null;
      return;
    }
    this.frame.push(b);
  }

  private finish(frame: number[]): void {
    const text = String.fromCharCode(...frame).toUpperCase();
    const bytes = text.match(/../g)?.map((h) => Number.parseInt(h, 16)) ?? [];
    const sum = bytes.slice(0, 5).reduce((x, y) => x ^ y, 0);
    if (sum !== bytes[5]) {
      this.badChecksums++;
      this.emit("bad-checksum", text);
      return;
    }
    const tag = text.slice(0, 10);
    const t = this.now();
    if (this.last && this.last.tag === tag && t - this.last.at < this.repeatMs) {
      this.last.at = t;
      return;
    }
    this.last = { tag, at: t };
    this.push(tag);
  }
}

/** The bytes an RDM6300 sends for `tag` (10 hex digits): for simulators and tests. */
export function rdm6300Frame(tag: string): Buffer {
  const bytes = tag.match(/../g)?.map((h) => Number.parseInt(h, 16)) ?? [];
  const sum = bytes.reduce((x, y) => x ^ y, 0);
  return Buffer.concat([
    Buffer.from([STX]),
    Buffer.from(`${tag.toUpperCase()}${sum.toString(16).toUpperCase().padStart(2, "0")}`, "ascii"),
    Buffer.from([ETX]),
  ]);
}
