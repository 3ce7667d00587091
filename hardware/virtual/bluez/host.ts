/** What the stand-in's adapters and managers need of the bluetoothd they belong to. */
import type { Variant } from "dbus-next";
import type { MessageBus } from "../../../firmware/badge/bluez/dbus.js";
import type { Air } from "./air.js";

/** Where one radio is, for the others on the air; kept across bluetoothd restarts on its host. */
export interface RadioState {
  inRange: boolean;
  rssi: number;
  /** False: the radio answers no connection (hung firmware). */
  connectable: boolean;
}

export interface HostOptions {
  adapters?: string[];
  /** Controller address of the first adapter (a badge's host: its random static address). */
  address?: string;
  /** The air this host's adapters are on (default: a new one). */
  air?: Air;
  radio?: RadioState;
  /** A device not heard this long (and not connected) is removed, as BlueZ does. */
  deviceTtlMs?: number;
  /** How long Connect to a radio out of range, or not answering, takes to fail. */
  connectFailMs?: number;
  /** How long a link survives after one end left range (supervision timeout). */
  supervisionMs?: number;
  /** Advertising instances the controller holds; more are refused with NotPermitted. */
  maxAdvertisements?: number;
  /** Advertising interval when an advertisement names none (the kernel's default is 1.28 s). */
  advertIntervalMs?: number;
}

export type ResolvedHostOptions = Required<Omit<HostOptions, "air" | "address" | "radio">>;

export type PropertiesChanged = (iface: string, changed: Record<string, Variant>) => void;

export interface Host {
  readonly bus: MessageBus;
  readonly air: Air;
  readonly opts: ResolvedHostOptions;
  /** The unique bus name of the method call being handled now (BlueZ keys registrations by it). */
  caller(): string;
  /** PropertiesChanged signals of one client object. */
  watchClient(owner: string, path: string, fn: PropertiesChanged): () => void;
  /** The client left the bus. */
  onClientGone(owner: string, fn: () => void): () => void;
  /** The client's ObjectManager at `root` signalled InterfacesRemoved. */
  onInterfacesRemoved(owner: string, root: string, fn: () => void): () => void;
}
