import { describe, expect, it } from "vitest";
import { BusSupervision, healthNote, healthyDetail, STARTING } from "../../hub/adapters/ble/supervision.js";
import { ManualClock } from "../../hub/core/ports.js";

describe("BLE supervision (pure, injected clock)", () => {
  it("backs off opening the bus 1 s, 2 s, 4 s … up to 30 s, and starts again after it worked", () => {
    const clock = new ManualClock(1_000_000);
    const s = new BusSupervision(clock);
    expect(s.mayConnect()).toBe(true);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      s.failed();
      const from = clock.now();
      let waited = 0;
      while (!s.mayConnect()) {
        clock.advance(100);
        waited += 100;
      }
      expect(clock.now() - from).toBe(waited);
      waits.push(waited);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    s.connected();
    s.failed();
    clock.advance(999);
    expect(s.mayConnect()).toBe(false);
    clock.advance(1);
    expect(s.mayConnect()).toBe(true);
  });

  it("keeps what the health entry said while a retry waits", () => {
    const s = new BusSupervision(new ManualClock(0));
    expect(s.waiting(undefined)).toBe("D-Bus unavailable");
    expect(s.waiting({ ok: false, detail: "D-Bus unavailable: ENOENT" })).toBe("D-Bus unavailable: ENOENT");
  });

  it("logs coming up, recovering, and turning bad or a new reason while bad; nothing else", () => {
    const starting = { ok: false, detail: STARTING };
    expect(healthNote(undefined, false, STARTING)).toBeUndefined();
    expect(healthNote(starting, true, "1 adapter scanning, 0 linked")).toBe("up");
    expect(healthNote(starting, false, "adapter hci0 missing")).toBe("degraded");
    const bad = { ok: false, detail: "adapter hci0 missing" };
    expect(healthNote(bad, false, "adapter hci0 missing")).toBeUndefined();
    expect(healthNote(bad, false, "BlueZ not running")).toBe("degraded");
    expect(healthNote(bad, true, "1 adapter scanning, 0 linked")).toBe("recovered");
    const good = { ok: true, detail: "1 adapter scanning, 0 linked" };
    expect(healthNote(good, true, "1 adapter scanning, 1 linked")).toBeUndefined();
    expect(healthNote(good, false, "adapter hci0 powered off")).toBe("degraded");
  });

  it("names the scanning adapters and the links when healthy", () => {
    expect(healthyDetail(1, 0)).toBe("1 adapter scanning, 0 linked");
    expect(healthyDetail(2, 3)).toBe("2 adapters scanning, 3 linked");
  });
});
