/**
 * node-ble on a bus connection we own: node-ble's `createBluetooth()` always opens the system bus,
 * while a hub may be pointed at another (the stand-in's private bus, or a container's). Its
 * `Bluetooth` class takes any dbus-next connection.
 */
import { createRequire } from "node:module";
import dbus from "dbus-next";
import type NodeBle from "node-ble";

export type MessageBus = ReturnType<typeof dbus.systemBus>;
export type Bluetooth = NodeBle.Bluetooth;
export type Adapter = NodeBle.Adapter;
export type Device = NodeBle.Device;
export type GattCharacteristic = NodeBle.GattCharacteristic;

const BluetoothClass = createRequire(import.meta.url)("node-ble/src/Bluetooth.js") as new (
  bus: MessageBus,
) => Bluetooth;

export function openBus(address: string | undefined): MessageBus {
  return address ? dbus.sessionBus({ busAddress: address }) : dbus.systemBus();
}

export function bluetoothOn(bus: MessageBus): Bluetooth {
  return new BluetoothClass(bus);
}

export const Variant = dbus.Variant;
