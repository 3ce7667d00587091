import { describe, expect, it } from "vitest";
import { Rdm6300Parser, rdm6300Frame } from "../../firmware/kiosk/rdm6300.js";

function feed(chunks: Buffer[], now = () => 0): { tags: string[]; parser: Rdm6300Parser } {
  const parser = new Rdm6300Parser(1500, now);
  const tags: string[] = [];
  parser.on("data", (t: string) => tags.push(t));
  for (const c of chunks) parser.write(c);
  return { tags, parser };
}

describe("RDM6300 frames", () => {
  const frame = rdm6300Frame("0A1B2C3D4E");

  it("encodes STX, 10 hex digits, XOR checksum, ETX", () => {
    expect(frame.length).toBe(14);
    expect(frame[0]).toBe(0x02);
    expect(frame[13]).toBe(0x03);
    expect(frame.subarray(1, 13).toString("ascii")).toBe(
      `0A1B2C3D4E${(0x0a ^ 0x1b ^ 0x2c ^ 0x3d ^ 0x4e).toString(16).toUpperCase().padStart(2, "0")}`,
    );
  });

  it("reassembles a frame split across reads, byte by byte", () => {
    expect(feed([...frame].map((b) => Buffer.from([b]))).tags).toEqual(["0A1B2C3D4E"]);
  });

  it("skips noise between frames and a frame cut short", () => {
    const noise = Buffer.from([0xff, 0x41, 0x03, 0x00]);
    const cut = frame.subarray(0, 7);
    const other = rdm6300Frame("00FFEE1122");
    expect(feed([noise, cut, frame, noise, other]).tags).toEqual(["0A1B2C3D4E", "00FFEE1122"]);
  });

  it("ignores and counts a bad checksum", () => {
    const bad = Buffer.from(frame);
    bad[11] = bad[11] === 0x30 ? 0x31 : 0x30;
    const { tags, parser } = feed([bad, frame]);
    expect(tags).toEqual(["0A1B2C3D4E"]);
    expect(parser.badChecksums).toBe(1);
  });

  it("a card held on the reader is one tap; lifted and tapped again is two", () => {
    let t = 0;
    const parser = new Rdm6300Parser(1500, () => t);
    const tags: string[] = [];
    parser.on("data", (x: string) => tags.push(x));
    for (let i = 0; i < 5; i++) {
      parser.write(frame);
      t += 200;
    }
    t += 2000;
    parser.write(frame);
    expect(tags).toEqual(["0A1B2C3D4E", "0A1B2C3D4E"]);
  });
});
