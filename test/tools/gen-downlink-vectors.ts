/**
 * Writes protocol/vectors/downlink.json once: the reference for hub → badge GATT writes. Tests
 * compare the codec against it both ways. Run: npx tsx test/tools/gen-downlink-vectors.ts (only
 * when the downlink layout changes).
 */
import { writeFileSync } from "node:fs";
import { type Downlink, encodeDownlink, fromHex, toHex } from "../../protocol/index.js";

const key = "000102030405060708090a0b0c0d0e0f";
const messages: Array<{ name: string; fields: Downlink }> = [
  { name: "ack accepted", fields: { type: "ack", badge: 0x1234, counter: 3, status: "accepted" } },
  {
    name: "ack duplicate",
    fields: { type: "ack", badge: 0x1234, counter: 0xffff_ffff, status: "duplicate" },
  },
  { name: "ack rejected", fields: { type: "ack", badge: 0x1234, counter: 9, status: "rejected" } },
  { name: "time", fields: { type: "time", badge: 0x1234, hubTime: 1_764_072_000_123, counter: 41 } },
  {
    name: "signal cleanup_missing x3",
    fields: { type: "signal", badge: 0x1234, seq: 1_764_072_000_500, pattern: "cleanup_missing", repeat: 3 },
  },
];
writeFileSync(
  new URL("../../protocol/vectors/downlink.json", import.meta.url),
  `${JSON.stringify(
    {
      description: "Hub → badge GATT writes (protocol/frames/downlink.ts), signed with key",
      key,
      vectors: messages.map((m) => ({ ...m, hex: toHex(encodeDownlink(m.fields, fromHex(key))) })),
    },
    null,
    2,
  )}\n`,
);
