/**
 * Which radio the hub uses (config `ble.mode`), and starting it: the node-ble central on BlueZ,
 * or on the BlueZ stand-in (a private D-Bus) when there is no radio and the demo wants one; plus
 * the forwarder of gateway mode.
 */
import { readdirSync } from "node:fs";
import type { HubConfig } from "../../config/config.js";
// The stand-in is loaded only in virtual mode, through hub/stand-ins.ts: it adjusts dbus-next's marshaller.
import { dbusDaemonAvailable, startVirtualBluez, type VirtualBluez } from "../../stand-ins.js";
import { BleCentral, type BleCentralDeps, DEFAULT_CENTRAL } from "./central.js";
import { Forwarder } from "./forward.js";

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
  forwarder?: Forwarder;
  stop(): Promise<void>;
}

/** What the radio needs: the central's ports (frames go to `sink`), and the configuration. */
export interface RadioDeps extends Omit<BleCentralDeps, "onVerified"> {
  config: HubConfig;
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
  let forwarder: Forwarder | undefined;
  if (config.ble.forward) {
    forwarder = new Forwarder(config.ble.forward, {
      log: log.child({ ns: "forward" }),
      metrics: ctx.metrics,
    });
    forwarder.start();
  }
  const central = new BleCentral(
    {
      sink: ctx.sink,
      bus: ctx.bus,
      clock: ctx.clock,
      log: log.child({ ns: "ble" }),
      metrics: ctx.metrics,
      health: ctx.health,
      ...(forwarder
        ? {
            onVerified: (bytes, rx, outcome) => {
              if (outcome.status === "accepted") forwarder.push(bytes, rx);
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
    ...(forwarder ? { forwarder } : {}),
    async stop() {
      await central.stop();
      await forwarder?.stop();
      await virtual?.stop();
    },
  };
}
