/**
 * The badge program on the badge: `node dist/firmware/badge/main.js /etc/onsite/badge.json`.
 *
 * The same Badge as in the simulator, on the board's real IO (KernelIO: gpio-keys and leds-gpio)
 * and the real radio (BlueZ's peripheral API on the system bus). It loads nothing of the
 * simulator or the BlueZ stand-in. systemd runs it (firmware/badge/install/).
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { findInputDevice, KernelIO } from "../../hardware/linux/kernel-io.js";
import { BADGE_KERNEL, BADGE_PROFILE } from "../../hardware/profiles/badge.js";
import { fromHex, PPE_ITEMS } from "../../protocol/index.js";
import { Badge } from "./badge.js";
import { ADVERT_INTERVAL_MS, BleRadio } from "./ble-radio.js";
import { BluezPeripheral } from "./bluez/peripheral.js";

export const BadgeConfig = Type.Object(
  {
    deviceId: Type.String({ minLength: 1 }),
    badgeNo: Type.Integer({ minimum: 0, maximum: 0xffff_ffff }),
    /** The badge's 128-bit key, as `onsite provision badge` printed it. */
    key: Type.String({ pattern: "^[0-9a-fA-F]{32}$" }),
    stateDir: Type.String({ minLength: 1 }),
    ppe: Type.Array(Type.Union(PPE_ITEMS.map((p) => Type.Literal(p)))),
    adapter: Type.Optional(Type.String()),
    /** Event device of the button (default: found by its input name). */
    buttonDevice: Type.Optional(Type.String()),
    /** Where the LED class lives (default /sys/class/leds). */
    ledsRoot: Type.Optional(Type.String()),
    /** A D-Bus other than the system bus (a bench run against the stand-in). */
    busAddress: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type BadgeConfig = Static<typeof BadgeConfig>;

export function readConfig(path: string): BadgeConfig {
  const raw: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (!Value.Check(BadgeConfig, raw)) {
    const first = [...Value.Errors(BadgeConfig, raw)][0];
    throw new Error(`${path}: ${first ? `${first.path || "/"} ${first.message}` : "invalid"}`);
  }
  return raw;
}

export interface RunningBadge {
  badge: Badge;
  radio: BleRadio;
  peripheral: BluezPeripheral;
  io: KernelIO;
  stop(): Promise<void>;
}

export async function runBadge(
  c: BadgeConfig,
  log: (line: string) => void = console.log,
): Promise<RunningBadge> {
  const io = new KernelIO({
    pins: [
      {
        gpio: BADGE_KERNEL.button.gpio,
        kind: "key",
        device: c.buttonDevice ?? findInputDevice(BADGE_KERNEL.button.inputName),
        code: BADGE_KERNEL.button.code,
      },
      { gpio: BADGE_KERNEL.led.gpio, kind: "led", label: BADGE_KERNEL.led.label },
      { gpio: BADGE_KERNEL.buzzer.gpio, kind: "led", label: BADGE_KERNEL.buzzer.label },
    ],
    ...(c.ledsRoot ? { ledsRoot: c.ledsRoot } : {}),
  });
  const peripheral = new BluezPeripheral({
    advertIntervalMs: ADVERT_INTERVAL_MS,
    ...(c.adapter ? { adapter: c.adapter } : {}),
    ...(c.busAddress ? { busAddress: c.busAddress } : {}),
    log,
  });
  const key = fromHex(c.key);
  const radio = new BleRadio(peripheral, { badgeNo: c.badgeNo, key, advertIntervalMs: ADVERT_INTERVAL_MS });
  peripheral.start();
  const badge = await Badge.start({
    io,
    profile: BADGE_PROFILE,
    deviceId: c.deviceId,
    badgeNo: c.badgeNo,
    key,
    radio,
    stateDir: c.stateDir,
    ppe: c.ppe,
  });
  log(`badge ${c.deviceId} (no. ${c.badgeNo}) running`);
  return {
    badge,
    radio,
    peripheral,
    io,
    async stop() {
      await badge.stop();
      radio.stop();
      await peripheral.stop();
      io.close();
    },
  };
}

async function main(argv: string[]): Promise<void> {
  const path = argv[2] ?? process.env.ONSITE_BADGE_CONFIG ?? "/etc/onsite/badge.json";
  const running = await runBadge(readConfig(path));
  const stop = () => {
    void running.stop().finally(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
