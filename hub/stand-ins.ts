/**
 * The one door from the production path to the demo and the test stand-ins (the BlueZ stand-in on a
 * private D-Bus, virtual boards, the site simulator). Each is loaded with `await import()` only when
 * the configuration asks for it, so a real install (`--no-demo`, a BlueZ adapter or no radio) never
 * loads them, nor their dependencies (avr8js, johnny-five, firmata-io, the dbus-next marshaller
 * adjustment). Biome's `noRestrictedImports` (biome.json) keeps every other hub module from naming
 * them; test/hub/production-modules.test.ts checks what a `--no-demo` hub really loads.
 */
import type { VirtualBluez } from "../hardware/virtual/bluez/index.js";
import type { startDemo } from "./demo/demo.js";

export type { VirtualBluez };

/** The demo of `npm start` (the site simulator in rounds against this hub). */
export async function loadDemo(): Promise<typeof startDemo> {
  return (await import("./demo/demo.js")).startDemo;
}

/** The BlueZ stand-in on a private D-Bus (BLE mode `virtual`). */
export async function startVirtualBluez(): Promise<VirtualBluez> {
  return (await import("../hardware/virtual/bluez/index.js")).startVirtualBluez();
}

/** Whether `dbus-daemon` is installed (what the stand-in's private bus needs). */
export async function dbusDaemonAvailable(): Promise<boolean> {
  return (await import("../hardware/virtual/bluez/private-bus.js")).dbusDaemonAvailable();
}
