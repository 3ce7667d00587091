import { describe, expect, it } from "vitest";
import { type BlePeripheral, BleRadio } from "../../firmware/badge/ble-radio.js";
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
  inRange = true;
  linked = false;
  readonly adverts: Uint8Array[] = [];
  readonly notified: Uint8Array[] = [];
  readonly writes = new Map<string, (v: Uint8Array) => void | Promise<void>>();
  advertise(d: Uint8Array) {
    this.adverts.push(d);
    return true;
  }
  notify(v: Uint8Array) {
    if (!this.linked) return false;
    this.notified.push(v);
    return true;
  }
  onWrite(uuid: string, fn: (v: Uint8Array) => void | Promise<void>) {
    this.writes.set(uuid, fn);
  }
  onLink() {
    return () => {};
  }
  /** The radio's write handlers are synchronous: a GATT write is handled before it returns. */
  write(uuid: string, v: Uint8Array): void {
    void this.writes.get(uuid)?.(v);
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

  it("without a link: a long frame waits; a short one is advertised and counts after enough adverts", async () => {
    const p = new FakePeripheral();
    const radio = new BleRadio(p, { badgeNo: BADGE, key, advertIntervalMs: 5, advertOnlyRepeats: 4 });
    expect(await radio.send(BADGE, gear(1), "gatt")).toBe(false);
    expect(await radio.send(BADGE, frame(2), "advert")).toBe(false);
    radio.start();
    await new Promise((r) => setTimeout(r, 60));
    radio.stop();
    expect(p.adverts.length).toBeGreaterThanOrEqual(4);
    expect(await radio.send(BADGE, frame(2), "advert")).toBe(true);
  });

  it("takes a time sync only when it echoes one of its recent counters; signals only when newer", async () => {
    const p = new FakePeripheral();
    const radio = new BleRadio(p, { badgeNo: BADGE, key });
    const got: DeviceCommand[] = [];
    radio.onCommand("b", (c) => got.push(c));
    for (let c = 1; c <= TIME_ECHO_WINDOW + 10; c++) await radio.send(BADGE, frame(c, "presence"), "advert");
    const time = (hubTime: number, counter: number): void =>
      p.write(TIME_CHAR_UUID, encodeDownlink({ type: "time", badge: BADGE, hubTime, counter }, key));
    time(2_000_000_000_000, 5); // too old an echo: a replay
    time(2_000_000_000_000, TIME_ECHO_WINDOW + 11); // a counter the badge never used
    expect(got).toEqual([]);
    expect(radio.refused).toBe(2);
    time(2_000_000_000_000, TIME_ECHO_WINDOW + 9);
    expect(got).toMatchObject([{ type: "time_sync", hubTime: 2_000_000_000_000 }]);
    const signal = (seq: number): void =>
      p.write(
        SIGNAL_CHAR_UUID,
        encodeDownlink({ type: "signal", badge: BADGE, seq, pattern: "confirm", repeat: 1 }, key),
      );
    signal(100);
    signal(100);
    signal(99);
    signal(101);
    expect(got.filter((c) => c.type === "signal")).toHaveLength(2);
  });
});
