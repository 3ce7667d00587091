import { describe, expect, it } from "vitest";
import { type BlePeripheral, BleRadio, type WriteOutcome } from "../../firmware/badge/ble-radio.js";
import {
  ACK_CHAR_UUID,
  type DeviceCommand,
  encodeDownlink,
  encodeFrame,
  SIGNAL_CHAR_UUID,
  TIME_CHAR_UUID,
  TIME_ECHO_WINDOW,
} from "../../protocol/index.js";

const key = new Uint8Array(16).fill(3);
const BADGE = 0x42;

class FakePeripheral implements BlePeripheral {
  onAir = true;
  linked = false;
  readonly adverts: Uint8Array[] = [];
  readonly notified: Uint8Array[] = [];
  readonly writes = new Map<string, (v: Uint8Array) => WriteOutcome>();
  setAdvert(d: Uint8Array) {
    this.adverts.push(d);
  }
  notify(v: Uint8Array) {
    if (!this.linked) return false;
    this.notified.push(v);
    return true;
  }
  onWrite(uuid: string, fn: (v: Uint8Array) => WriteOutcome) {
    this.writes.set(uuid, fn);
  }
  onChange() {
    return () => {};
  }
  /** The radio's write handlers are synchronous: a GATT write is handled before it returns. */
  write(uuid: string, v: Uint8Array): WriteOutcome | undefined {
    return this.writes.get(uuid)?.(v);
  }
}

const frame = (counter: number, type: "presence" | "arrival" = "arrival") =>
  encodeFrame({ type, badge: BADGE, counter, time: 1_764_072_000, battery: 50 }, key);
const gear = (counter: number) =>
  encodeFrame({ type: "gear_confirmed", badge: BADGE, counter, time: 1_764_072_000, items: ["helmet"] }, key);

describe("badge BLE radio", () => {
  it("a linked frame counts as sent only once a signed ack for its counter arrives; a forged ack is ignored", async () => {
    const p = new FakePeripheral();
    p.linked = true;
    const radio = new BleRadio(p, { badgeNo: BADGE, key, ackTimeoutMs: 2000 });
    const sent = radio.send(BADGE, gear(7), "gatt");
    expect(p.notified).toHaveLength(1);
    p.write(
      ACK_CHAR_UUID,
      encodeDownlink({ type: "ack", badge: BADGE, counter: 7, status: "accepted" }, new Uint8Array(16)),
    );
    p.write(
      ACK_CHAR_UUID,
      encodeDownlink({ type: "ack", badge: BADGE, counter: 8, status: "accepted" }, key),
    );
    expect(radio.refused).toBe(1);
    p.write(
      ACK_CHAR_UUID,
      encodeDownlink({ type: "ack", badge: BADGE, counter: 7, status: "duplicate" }, key),
    );
    await expect(sent).resolves.toBe(true);
  });

  it("without a link a frame waits for its ack; a short one is handed to the controller once and repeated", async () => {
    let now = 1_000_000;
    const p = new FakePeripheral();
    const radio = new BleRadio(p, { badgeNo: BADGE, key, advertIntervalMs: 250, clock: () => now });
    expect(await radio.send(BADGE, gear(1), "gatt")).toBe(false);
    expect(await radio.send(BADGE, frame(2), "advert")).toBe(false);
    now += 60_000;
    // Still waiting: a badge cannot tell a hub out of range from one that only listens.
    expect(await radio.send(BADGE, frame(2), "advert")).toBe(false);
    expect(p.adverts).toEqual([frame(2)]);
  });

  it("for a hub that never links, a short frame may leave after enough adverts (advertOnlyRepeats)", async () => {
    let now = 1_000_000;
    const p = new FakePeripheral();
    const radio = new BleRadio(p, {
      badgeNo: BADGE,
      key,
      advertIntervalMs: 250,
      advertOnlyRepeats: 4,
      clock: () => now,
    });
    expect(await radio.send(BADGE, frame(2), "advert")).toBe(false);
    now += 3 * 250;
    expect(await radio.send(BADGE, frame(2), "advert")).toBe(false);
    now += 250;
    expect(await radio.send(BADGE, frame(2), "advert")).toBe(true);
    // A long frame never leaves without a link.
    expect(await radio.send(BADGE, gear(3), "gatt")).toBe(false);
  });

  it("refuses a write of the wrong length, and a genuine message on another message's characteristic", () => {
    const p = new FakePeripheral();
    const radio = new BleRadio(p, { badgeNo: BADGE, key });
    const ack = encodeDownlink({ type: "ack", badge: BADGE, counter: 1, status: "accepted" }, key);
    expect(p.write(ACK_CHAR_UUID, ack.subarray(0, ack.length - 1))).toBe("invalid_length");
    expect(p.write(ACK_CHAR_UUID, new Uint8Array([...ack, 0]))).toBe("invalid_length");
    expect(p.write(TIME_CHAR_UUID, new Uint8Array(0))).toBe("invalid_length");
    // Right length for the time characteristic, but garbage: taken, counted, ignored.
    expect(p.write(TIME_CHAR_UUID, new Uint8Array(26).fill(0xaa))).toBe("ok");
    const signal = encodeDownlink(
      { type: "signal", badge: BADGE, seq: 5, pattern: "confirm", repeat: 1 },
      key,
    );
    // A signed signal written to the ack characteristic is the wrong length there as well.
    expect(p.write(ACK_CHAR_UUID, signal)).toBe("invalid_length");
    expect(radio.refused).toBe(5);
  });

  it("takes a time sync only when it echoes one of its recent counters; signals only when newer", async () => {
    const p = new FakePeripheral();
    const radio = new BleRadio(p, { badgeNo: BADGE, key });
    const got: DeviceCommand[] = [];
    radio.onCommand("b", (c) => got.push(c));
    for (let c = 1; c <= TIME_ECHO_WINDOW + 10; c++) await radio.send(BADGE, frame(c, "presence"), "advert");
    const time = (hubTime: number, counter: number): void => {
      p.write(TIME_CHAR_UUID, encodeDownlink({ type: "time", badge: BADGE, hubTime, counter }, key));
    };
    time(2_000_000_000_000, 5); // too old an echo: a replay
    time(2_000_000_000_000, TIME_ECHO_WINDOW + 11); // a counter the badge never used
    expect(got).toEqual([]);
    expect(radio.refused).toBe(2);
    time(2_000_000_000_000, TIME_ECHO_WINDOW + 9);
    expect(got).toMatchObject([{ type: "time_sync", hubTime: 2_000_000_000_000 }]);
    const signal = (seq: number): void => {
      p.write(
        SIGNAL_CHAR_UUID,
        encodeDownlink({ type: "signal", badge: BADGE, seq, pattern: "confirm", repeat: 1 }, key),
      );
    };
    signal(100);
    signal(100);
    signal(99);
    signal(101);
    expect(got.filter((c) => c.type === "signal")).toHaveLength(2);
  });
});
