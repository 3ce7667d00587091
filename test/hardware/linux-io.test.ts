/**
 * The badge on its board: the KernelIO plugin on a gpio-keys event device (a FIFO carrying real
 * `struct input_event` records) and leds-gpio brightness files (a folder shaped like
 * /sys/class/leds), and the badge's real entry point (firmware/badge/main.ts) on it, with its radio
 * on BlueZ's peripheral API against the stand-in and the hub's node-ble central.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBadge, runBadge } from "../../firmware/badge/main.js";
import { findInputDevice, KernelIO } from "../../hardware/linux/kernel-io.js";
import { BADGE_KERNEL } from "../../hardware/profiles/badge.js";
import { openVisit } from "../firmware/rig.js";
import { type BleRig, startBleRig } from "../hub/ble-rig.js";
import { eventually, tempDir } from "../hub/helpers.js";

const EV_KEY = 1;
const EV_SYN = 0;

/** One `struct input_event` as a 64-bit kernel writes it: timeval (16), type, code, value. */
function inputEvent(type: number, code: number, value: number): Buffer {
  const b = Buffer.alloc(24);
  b.writeBigInt64LE(BigInt(Math.floor(Date.now() / 1000)), 0);
  b.writeUInt16LE(type, 16);
  b.writeUInt16LE(code, 18);
  b.writeInt32LE(value, 20);
  return b;
}

function board(dir: string): { events: string; leds: string } {
  const events = join(dir, "event0");
  execFileSync("mkfifo", [events]);
  const leds = join(dir, "leds");
  for (const label of [BADGE_KERNEL.led.label, BADGE_KERNEL.buzzer.label]) {
    mkdirSync(join(leds, label), { recursive: true });
    writeFileSync(join(leds, label, "brightness"), "0");
  }
  return { events, leds };
}

/** Every source file `entry` loads, following its relative imports. */
function importGraph(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gms)) {
      const target = resolve(dirname(file), (m[1] as string).replace(/\.js$/, ".ts"));
      if (existsSync(target)) visit(target);
    }
  };
  visit(resolve(entry));
  return [...seen].map((f) => relative(process.cwd(), f));
}

const level = (leds: string, label: string) => readFileSync(join(leds, label, "brightness"), "utf8");

describe("the badge's board IO on the kernel's gpio-keys and leds-gpio drivers", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("a key's input events become digital reads; a digital write sets the LED's brightness", async () => {
    const dir = tempDir("onsite-kio-");
    cleanups.push(() => dir.cleanup());
    const { events, leds } = board(dir.path);
    const io = new KernelIO({
      pins: [
        { gpio: 17, kind: "key", device: events, code: 0x100 },
        { gpio: 27, kind: "led", label: BADGE_KERNEL.led.label },
      ],
      ledsRoot: leds,
      eventSize: 24,
    });
    cleanups.push(() => io.close());
    await new Promise((r) => io.once("ready", r));
    const seen: number[] = [];
    io.digitalRead(17, (v) => seen.push(v));
    const fifo = await open(events, "w");
    cleanups.push(() => fifo.close());
    // Press, autorepeat (ignored), another key (ignored), release; each with its SYN_REPORT.
    await fifo.write(
      Buffer.concat([
        inputEvent(EV_KEY, 0x100, 1),
        inputEvent(EV_SYN, 0, 0),
        inputEvent(EV_KEY, 0x100, 2),
        inputEvent(EV_KEY, 0x101, 1),
        inputEvent(EV_KEY, 0x100, 0),
        inputEvent(EV_SYN, 0, 0),
      ]),
    );
    await eventually(() => seen.join(",") === "0,1,0", 3000);
    io.pinMode(27, io.MODES.OUTPUT).digitalWrite(27, 1);
    expect(level(leds, BADGE_KERNEL.led.label)).toBe("1");
    io.digitalWrite(27, 0);
    expect(level(leds, BADGE_KERNEL.led.label)).toBe("0");
    expect(() => io.pinMode(27, io.MODES.INPUT)).toThrow(/output/);
    expect(() => io.digitalWrite(17, 1)).toThrow(/not an output/);
    expect(() => io.pinMode(5, io.MODES.OUTPUT)).toThrow(/no pin 5/);
  });

  it("finds the button's event device by its input name, as /sys/class/input lists it", () => {
    const dir = tempDir("onsite-sysinput-");
    cleanups.push(() => dir.cleanup());
    for (const [n, name] of [
      ["event0", "vc4-hdmi"],
      ["event3", "button@11"],
    ] as const) {
      mkdirSync(join(dir.path, n, "device"), { recursive: true });
      writeFileSync(join(dir.path, n, "device", "name"), `${name}\n`);
    }
    expect(findInputDevice("button@11", dir.path, "/dev/input")).toBe("/dev/input/event3");
    expect(() => findInputDevice("button@16", dir.path)).toThrow(/gpio-key overlay/);
  });

  it("a real install loads neither the stand-ins nor the simulator nor the hub", () => {
    const files = importGraph("firmware/badge/main.ts");
    expect(files).toContain("firmware/badge/bluez/peripheral.ts");
    expect(files).toContain("hardware/linux/kernel-io.ts");
    expect(files.filter((f) => /^(hardware\/virtual|firmware\/sim|hub|test)\//.test(f))).toEqual([]);
  });

  describe("the badge program (main.ts) on that board, over BlueZ's peripheral API", () => {
    let rig: BleRig | undefined;
    let running: RunningBadge | undefined;
    afterEach(async () => {
      await running?.stop();
      running = undefined;
      await rig?.stop();
      rig = undefined;
    });

    it("a press on the button reaches the hub; a signal from the hub buzzes and lights the badge", async () => {
      rig = await startBleRig();
      const r = rig;
      await openVisit(r.hub);
      const dir = tempDir("onsite-badge-board-");
      cleanups.push(() => dir.cleanup());
      const { events, leds } = board(dir.path);
      const host = r.bluez.host("C4:11:22:33:44:0A");
      await host.ready;
      running = await runBadge(
        {
          deviceId: r.seeded.badge.id,
          badgeNo: r.seeded.badge.badgeNo,
          key: r.seeded.badge.key,
          stateDir: join(dir.path, "state"),
          ppe: ["helmet", "safety_shoes"],
          buttonDevice: events,
          ledsRoot: leds,
          busAddress: host.busAddress,
        },
        () => {},
      );
      const b = running;
      await eventually(() => r.hub.radio.central?.linkedBadges().includes("badge-1") === true, 10_000);
      const fifo = await open(events, "w");
      cleanups.push(() => fifo.close());
      await fifo.write(Buffer.concat([inputEvent(EV_KEY, 0x100, 1), inputEvent(EV_SYN, 0, 0)]));
      await new Promise((res) => setTimeout(res, 80));
      await fifo.write(Buffer.concat([inputEvent(EV_KEY, 0x100, 0), inputEvent(EV_SYN, 0, 0)]));
      const arrival = await eventually(
        async () => (await r.hub.ctx.store.eventsOfVisit("V1")).find((e) => e.event.type === "arrival"),
        10_000,
      );
      expect(arrival.event.device).toBe("badge-1");
      await eventually(() => b.badge.queue.length === 0, 5000);
      const buzzes: string[] = [];
      const watch = setInterval(() => buzzes.push(level(leds, BADGE_KERNEL.buzzer.label)), 20);
      cleanups.push(() => clearInterval(watch));
      r.hub.ctx.bus.emit("device.command", {
        device: "badge-1",
        command: { v: 1, type: "signal", time: Date.now(), pattern: "cleanup_missing", repeat: 2 },
      });
      await eventually(() => b.badge.lastSignal === "cleanup_missing", 5000);
      await eventually(() => buzzes.includes("1") && level(leds, BADGE_KERNEL.led.label) === "1", 3000);
    }, 40_000);
  });
});
