/**
 * Which radio the hub uses (config `ble.mode`), and starting it: the node-ble central on BlueZ,
 * or on the BlueZ stand-in (a private D-Bus) when there is no radio and the demo wants one; plus
 * the uplink of gateway mode (presence adverts).
 */

import { readdirSync } from "node:fs";
import type { HubConfig } from "../../config/config.js";
import type { Reception } from "../../core/intake.js";
// The stand-in is loaded only in virtual mode, through hub/stand-ins.ts: it adjusts dbus-next's marshaller.
import { dbusDaemonAvailable, startVirtualBluez, type VirtualBluez } from "../../stand-ins.js";
import { BleCentral, type BleCentralDeps, DEFAULT_CENTRAL } from "./central.js";

export type BleMode = "off" | "bluez" | "virtual";

/** Whether the kernel knows a Bluetooth controller (hci0, …). */
export function hasRealAdapter(): boolean {
  try {
    return readdirSync("/sys/class/bluetooth").some((n) => /^hci\d+$/.test(n));
  } catch {
    return false;
  }
}

export async function resolveBleMode(config: HubConfig): Promise<{ mode: BleMode; why: string }> {
  const m = config.ble.mode;
  if (m !== "auto") return { mode: m, why: "configured" };
  if (hasRealAdapter()) return { mode: "bluez", why: "a Bluetooth adapter is present" };
  if (config.demo.enabled && (await dbusDaemonAvailable()))
    return { mode: "virtual", why: "no Bluetooth adapter; the demo's badges use the BlueZ stand-in" };
  return {
    mode: "off",
    why: config.demo.enabled ? "no Bluetooth adapter and no dbus-daemon" : "no Bluetooth adapter",
  };
}

export interface Radio {
  mode: BleMode;
  central?: BleCentral;
  /** The stand-in, in virtual mode (the demo's badges advertise through it). */
  virtual?: VirtualBluez;
  stop(): Promise<void>;
}

/** What the radio needs: the central's ports (frames go to `sink`), and the configuration. */
export interface RadioDeps extends Omit<BleCentralDeps, "onVerified"> {
  config: HubConfig;
  /** Gateway mode: where presence adverts go live to the central hub (stored frames go by the log). */
  uplink?: { live(bytes: Uint8Array, rx: Reception): void };
}

export async function startRadio(ctx: RadioDeps): Promise<Radio> {
  const { config, log } = ctx;
  const { mode, why } = await resolveBleMode(config);
  log.info({ mode, why }, `BLE: ${mode}`);
  if (mode === "off") return { mode, stop: async () => {} };
  let virtual: VirtualBluez | undefined;
  let busAddress = config.ble.busAddress;
  if (mode === "virtual") {
    virtual = await startVirtualBluez();
    busAddress = virtual.bus.address;
  }
  const { uplink } = ctx;
  const central = new BleCentral(
    {
      sink: ctx.sink,
      bus: ctx.bus,
      clock: ctx.clock,
      log: log.child({ ns: "ble" }),
      metrics: ctx.metrics,
      health: ctx.health,
      ...(uplink
        ? {
            onVerified: (bytes, rx, outcome) => {
              // Presence adverts go live (they are not in the log); every stored frame goes through
              // the durable uplink's log (hub/adapters/mqtt/uplink.ts).
              if (outcome.status === "accepted" && outcome.presence) uplink.live(bytes, rx);
            },
          }
        : {}),
    },
    {
      ...DEFAULT_CENTRAL,
      ...(busAddress ? { busAddress } : {}),
      adapters: config.ble.adapters,
      gatewayId: config.ble.gatewayId,
      connect: {
        ...DEFAULT_CENTRAL.connect,
        enabled: config.ble.maxLinks > 0,
        // The stand-in has no controller limit; the demo's ten badges each get a link.
        maxLinks:
          mode === "virtual" && config.ble.maxLinks > 0
            ? Math.max(config.ble.maxLinks, 16)
            : config.ble.maxLinks,
        timeoutMs: config.ble.connectTimeoutMs,
        dropAfterMs: config.ble.dropAfterMs,
      },
    },
  );
  await central.start();
  return {
    mode,
    central,
    ...(virtual ? { virtual } : {}),
    async stop() {
      await central.stop();
      await virtual?.stop();
    },
  };
}
