/**
 * The GATT side of a badge link over node-ble: opening the link (connect, resolve the badge
 * service, subscribe to its events), signed writes, and letting go of node-ble's objects. No
 * policy: the central decides when, this does it.
 */
import {
  ACK_CHAR_UUID,
  BADGE_SERVICE_UUID,
  EVENT_CHAR_UUID,
  encodeDownlink,
  SIGNAL_CHAR_UUID,
  TIME_CHAR_UUID,
} from "../../../protocol/index.js";
import type { Adapter, Device, GattCharacteristic } from "./node-ble.js";

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

export const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Lets go of node-ble objects. Each one that has been used subscribes to its D-Bus object's
 * PropertiesChanged (node-ble's `usePropsEvents`: the device and every characteristic), and that
 * subscription is a listener on the bus connection, which outlives the object: without this, every
 * link left its device, characteristics and their introspection data on the connection for good.
 */
export function release(objects: readonly object[]): void {
  for (const o of objects) (o as { helper?: { removeListeners?(): void } }).helper?.removeListeners?.();
}

/** Disconnects a device (best effort), then releases it: Disconnect itself subscribes again. */
export function disconnect(device: Device | undefined, ms?: number): Promise<void> {
  if (!device) return Promise.resolve();
  const call = ms === undefined ? device.disconnect() : withTimeout(device.disconnect(), ms, "disconnect");
  return call.catch(() => {}).finally(() => release([device]));
}

export interface GattTimeouts {
  /** The connect itself. */
  timeoutMs: number;
  /** Each GATT read or write. */
  opTimeoutMs: number;
}

/** A badge's open link: the device and the characteristics the hub uses. */
export interface GattLink {
  device: Device;
  /** Every node-ble object of the link (GATT server, services, characteristics), to release. */
  held: object[];
  ack: GattCharacteristic;
  signal: GattCharacteristic;
  time: GattCharacteristic;
}

/**
 * Connects to a badge, resolves its service and subscribes to its events (each notification's
 * bytes to `onEvent`). On failure what was made is let go of, and the error is thrown.
 */
export async function openGatt(
  adapter: Adapter,
  address: string,
  t: GattTimeouts,
  onEvent: (bytes: Uint8Array) => void,
): Promise<GattLink> {
  let device: Device | undefined;
  const held: object[] = [];
  try {
    device = await withTimeout(adapter.getDevice(address), t.opTimeoutMs, "find device");
    const d = device;
    await withTimeout(d.connect(), t.timeoutMs, "connect");
    const gatt = await withTimeout(d.gatt(), t.opTimeoutMs, "resolve services");
    // node-ble has made (and subscribed) every service and characteristic the device has.
    held.push(gatt);
    for (const uuid of await gatt.services()) {
      const s = await gatt.getPrimaryService(uuid);
      held.push(s);
      for (const cu of await s.characteristics()) held.push(await s.getCharacteristic(cu));
    }
    const svc = await gatt.getPrimaryService(BADGE_SERVICE_UUID);
    const events = await svc.getCharacteristic(EVENT_CHAR_UUID);
    const ack = await svc.getCharacteristic(ACK_CHAR_UUID);
    const signal = await svc.getCharacteristic(SIGNAL_CHAR_UUID);
    const time = await svc.getCharacteristic(TIME_CHAR_UUID);
    events.on("valuechanged", (value: Buffer) => onEvent(Uint8Array.from(value)));
    await withTimeout(events.startNotifications(), t.opTimeoutMs, "subscribe");
    return { device: d, held, ack, signal, time };
  } catch (e) {
    release(held);
    void disconnect(device);
    throw e;
  }
}

/** Writes a signed downlink (ack, time, signal) with the badge's key. */
export async function writeSigned(
  ch: GattCharacteristic,
  msg: Parameters<typeof encodeDownlink>[0],
  key: Uint8Array,
  timeoutMs: number,
): Promise<void> {
  await withTimeout(
    ch.writeValue(Buffer.from(encodeDownlink(msg, key)), { type: "request" }),
    timeoutMs,
    `write ${msg.type}`,
  );
}
