/** The packet guard in front of the MQTT parser: bytes in, a verdict or the same bytes out. */
import { Duplex, PassThrough } from "node:stream";
import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { GuardedConnection, type GuardViolation, guardLimits } from "../../hub/adapters/mqtt/guard.js";
import { claimHeader } from "./raw-mqtt.js";

const connect = mqttPacket.generate({
  cmd: "connect",
  protocolId: "MQTT",
  protocolVersion: 4,
  clean: true,
  keepalive: 30,
  clientId: "kiosk-1",
  username: "kiosk-1",
  password: Buffer.from("secret"),
});
const publish = (bytes: number) =>
  mqttPacket.generate({
    cmd: "publish",
    topic: "t",
    payload: Buffer.alloc(bytes),
    qos: 1,
    messageId: 1,
    retain: false,
    dup: false,
  });

function rig(authenticated = false) {
  const inner = new PassThrough() as PassThrough & { setNoDelay?: (v?: boolean) => void; noDelay?: boolean };
  inner.setNoDelay = (v) => {
    inner.noDelay = v === true;
  };
  const violations: Array<{ v: GuardViolation; claimed?: number }> = [];
  const guard = new GuardedConnection(inner, guardLimits(4096), (v, d) => violations.push({ v, ...d }));
  guard.authenticated = authenticated;
  const passed: Buffer[] = [];
  guard.on("data", (b: Buffer) => passed.push(b));
  const feed = async (...chunks: Buffer[]) => {
    for (const c of chunks) inner.write(c);
    await new Promise((r) => setImmediate(r));
  };
  return { inner, guard, violations, passed, feed };
}

describe("the MQTT packet guard", () => {
  it("turns Nagle off on a socket", () => {
    expect(rig().inner.noDelay).toBe(true);
  });

  it("passes a CONNECT and a publish through unchanged, whatever the chunking", async () => {
    const r = rig();
    const bytes = Buffer.concat([connect, publish(100)]);
    await r.feed(...Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)));
    expect(Buffer.concat(r.passed)).toEqual(bytes);
    expect(r.violations).toEqual([]);
  });

  it.each([
    ["a PUBLISH before any CONNECT", claimHeader(3, 10), "connect_first"],
    ["a CONNECT claiming 128 MiB", claimHeader(1, 128 * 1024 * 1024), "packet_too_large"],
    [
      "a remaining length of five bytes",
      Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]),
      "malformed_length",
    ],
  ] as const)("cuts off %s before reading its body", async (_name, header, violation) => {
    const r = rig();
    await r.feed(header);
    expect(r.violations.map((x) => x.v)).toEqual([violation]);
    expect(r.inner.destroyed).toBe(true);
    expect(r.passed).toEqual([]);
  });

  it("after login, a publish claiming more than the payload cap is cut off at its header", async () => {
    const r = rig(true);
    await r.feed(connect, claimHeader(3, 32 * 1024 * 1024));
    expect(r.violations).toEqual([{ v: "packet_too_large", claimed: 32 * 1024 * 1024 }]);
  });

  it("before login, a connection may not send more than a bounded number of bytes in all", async () => {
    const r = rig();
    await r.feed(connect, publish(4000), publish(4000), publish(4000));
    expect(r.violations.map((x) => x.v)).toEqual(["preauth_bytes"]);
  });
});

/** A socket stand-in that records what is written to it; `hold` keeps its write callbacks (a full send buffer). */
class RecordingSocket extends Duplex {
  writes: Buffer[] = [];
  held: Array<() => void> = [];
  constructor(private readonly hold = false) {
    super({ writableHighWaterMark: 4 });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.writes.push(chunk);
    if (this.hold) this.held.push(cb);
    else cb();
  }
}

describe("the packet guard's writes", () => {
  it("what is written while corked (a group commit's PUBACKs) reaches the socket as one write", async () => {
    const socket = new RecordingSocket();
    const guard = new GuardedConnection(socket, guardLimits(4096), () => undefined);
    guard.cork();
    for (let id = 1; id <= 3; id++) mqttPacket.writeToStream({ cmd: "puback", messageId: id }, guard);
    process.nextTick(() => guard.uncork());
    await new Promise((r) => setImmediate(r));
    expect(socket.writes).toHaveLength(1);
    expect(socket.writes[0]).toEqual(
      Buffer.concat([1, 2, 3].map((id) => mqttPacket.generate({ cmd: "puback", messageId: id }))),
    );
  });

  it("keeps the socket's back-pressure: nothing more is handed over until it drains", async () => {
    const socket = new RecordingSocket(true);
    const guard = new GuardedConnection(socket, guardLimits(4096), () => undefined);
    guard.write(Buffer.alloc(8, 1));
    guard.write(Buffer.alloc(8, 2));
    await new Promise((r) => setImmediate(r));
    expect(socket.writes).toHaveLength(1); // the socket is full: the second waits in the guard
    for (const release of socket.held.splice(0)) release();
    await new Promise((r) => setImmediate(r));
    expect(socket.writes).toHaveLength(2);
    expect(socket.writes[1]?.[0]).toBe(2);
  });
});
