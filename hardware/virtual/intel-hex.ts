/** Intel HEX (as avr-gcc / Arduino emit it) into a flash image. Checksums are verified. */
export function parseIntelHex(text: string, flashBytes = 32 * 1024): Uint8Array {
  const flash = new Uint8Array(flashBytes).fill(0xff);
  let base = 0;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "") continue;
    if (!line.startsWith(":") || !/^:[0-9A-Fa-f]+$/.test(line))
      throw new Error(`hex line ${i + 1}: not a record`);
    const bytes = Uint8Array.from(line.slice(1).match(/../g) ?? [], (h) => Number.parseInt(h, 16));
    const count = bytes[0] ?? 0;
    if (bytes.length !== count + 5) throw new Error(`hex line ${i + 1}: length mismatch`);
    if (bytes.reduce((s, b) => (s + b) & 0xff, 0) !== 0) throw new Error(`hex line ${i + 1}: bad checksum`);
    const addr = ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0);
    const type = bytes[3];
    if (type === 0x00) {
      const at = base + addr;
      if (at + count > flash.length) throw new Error(`hex line ${i + 1}: beyond flash`);
      flash.set(bytes.subarray(4, 4 + count), at);
    } else if (type === 0x01) {
      break;
    } else if (type === 0x02) {
      base = (((bytes[4] ?? 0) << 8) | (bytes[5] ?? 0)) << 4;
    } else if (type === 0x04) {
      base = (((bytes[4] ?? 0) << 8) | (bytes[5] ?? 0)) << 16;
    }
  }
  return flash;
}
