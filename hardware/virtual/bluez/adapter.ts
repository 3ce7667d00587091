/**
 * One org.bluez.Adapter1 (hciN) and the controller behind it, in both LE roles: as a central it
 * discovers (Device1 per radio heard, device.ts); as a peripheral it advertises
 * (LEAdvertisingManager1, advertising.ts) and serves its GATT database (GattManager1,
 * gatt-server.ts). A central linked to it appears on this host as a Device1 too, as BlueZ shows a
 * connected remote central.
 */
import { bluezError, emitChanged, Interface } from "../../../firmware/badge/bluez/dbus.js";
import { AdvertisingManager } from "./advertising.js";
import type { Advert, Air, AirRadio, Link } from "./air.js";
import { DeviceObject, type RemoteGatt } from "./device.js";
import { GattDatabase } from "./gatt-server.js";
import type { Host, RadioState, ResolvedHostOptions } from "./host.js";

class AdapterIface extends Interface {
  constructor(private readonly a: VirtualAdapter) {
    super("org.bluez.Adapter1");
  }
  get Address(): string {
    return this.a.address;
  }
  get AddressType(): string {
    return this.a.addressType;
  }
  get Name(): string {
    return `onsite-${this.a.name}`;
  }
  get Alias(): string {
    return this.Name;
  }
  get Powered(): boolean {
    return this.a.powered;
  }
  set Powered(v: boolean) {
    this.a.setPowered(v);
  }
  get Discovering(): boolean {
    return this.a.discovering;
  }
  get UUIDs(): string[] {
    return [];
  }
  SetDiscoveryFilter(filter: Record<string, { value: unknown }>): void {
    this.a.filter = Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, v.value]));
  }
  StartDiscovery(): void {
    if (!this.a.powered) throw bluezError("NotReady", "Resource Not Ready");
    if (this.a.discovering) throw bluezError("InProgress", "Operation already in progress");
    this.a.setDiscovering(true);
  }
  StopDiscovery(): void {
    if (!this.a.discovering) throw bluezError("Failed", "No discovery started");
    this.a.setDiscovering(false);
  }
  RemoveDevice(path: string): void {
    this.a.removeDevice(path);
  }
  GetDiscoveryFilters(): string[] {
    return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData"];
  }
}
AdapterIface.configureMembers({
  properties: {
    Address: { signature: "s", access: "read" },
    AddressType: { signature: "s", access: "read" },
    Name: { signature: "s", access: "read" },
    Alias: { signature: "s", access: "read" },
    Powered: { signature: "b", access: "readwrite" },
    Discovering: { signature: "b", access: "read" },
    UUIDs: { signature: "as", access: "read" },
  },
  methods: {
    SetDiscoveryFilter: { inSignature: "a{sv}" },
    StartDiscovery: {},
    StopDiscovery: {},
    RemoveDevice: { inSignature: "o" },
    GetDiscoveryFilters: { outSignature: "as" },
  },
});

/** A connected central, as the peripheral's host shows it. */
class PeerIface extends Interface {
  constructor(
    private readonly address: string,
    private readonly adapter: string,
  ) {
    super("org.bluez.Device1");
  }
  get Address(): string {
    return this.address;
  }
  get AddressType(): string {
    return "public";
  }
  get Adapter(): string {
    return this.adapter;
  }
  get Connected(): boolean {
    return true;
  }
}
PeerIface.configureMembers({
  properties: {
    Address: { signature: "s", access: "read" },
    AddressType: { signature: "s", access: "read" },
    Adapter: { signature: "o", access: "read" },
    Connected: { signature: "b", access: "read" },
  },
});

export class VirtualAdapter implements AirRadio {
  readonly path: string;
  readonly iface: AdapterIface;
  readonly advertising: AdvertisingManager;
  readonly database: GattDatabase;
  readonly gatt: RemoteGatt;
  powered = true;
  discovering = false;
  filter: Record<string, unknown> = {};
  readonly devices = new Map<string, DeviceObject>();
  private readonly peers = new Map<Link, PeerIface>();

  constructor(
    readonly host: Host,
    readonly name: string,
    readonly address: string,
    readonly addressType: "public" | "random",
    readonly radio: RadioState,
  ) {
    this.path = `/org/bluez/${name}`;
    this.iface = new AdapterIface(this);
    this.advertising = new AdvertisingManager(
      host,
      (advert) => this.air.transmit(this, advert),
      () => this.powered,
      this.opts.maxAdvertisements,
      this.opts.advertIntervalMs,
    );
    this.database = new GattDatabase(host, this.path, () => {
      for (const link of [...this.peers.keys()]) link.close();
    });
    this.gatt = this.database;
  }

  get air(): Air {
    return this.host.air;
  }

  get opts(): ResolvedHostOptions {
    return this.host.opts;
  }

  get inRange(): boolean {
    return this.radio.inRange;
  }

  get rssi(): number {
    return this.radio.rssi;
  }

  get connectable(): boolean {
    return this.radio.connectable;
  }

  /** Exports the adapter and its two manager interfaces on the host's bus. */
  export(): void {
    const bus = this.host.bus;
    bus.export(this.path, this.iface);
    bus.export(this.path, this.advertising.iface);
    bus.export(this.path, this.database.iface);
    this.air.join(this);
  }

  /** bluetoothd stops: advertisements are released, applications and links dropped. */
  shutdown(): void {
    this.advertising.releaseAll();
    this.database.removeAll();
    this.air.leave(this);
    for (const d of this.devices.values()) d.remove();
    this.devices.clear();
  }

  setPowered(on: boolean): void {
    if (this.powered === on) return;
    this.powered = on;
    const changed: Record<string, unknown> = { Powered: on };
    if (!on) {
      for (const l of [...this.air.links]) if (l.peripheral === this || l.central.adapter === this) l.close();
      if (this.discovering) {
        this.discovering = false;
        changed.Discovering = false;
      }
    }
    emitChanged(this.iface, changed, []);
  }

  setDiscovering(on: boolean): void {
    this.discovering = on;
    emitChanged(this.iface, { Discovering: on }, []);
  }

  setInRange(inRange: boolean): void {
    this.radio.inRange = inRange;
    if (!inRange) this.air.rangeChanged(this, this.opts.supervisionMs);
  }

  connectableAdvert(): boolean {
    return this.advertising.connectable();
  }

  /** An advert from `from` on the air: a new Device1, or a PropertiesChanged on the known one. */
  hear(from: AirRadio, advert: Advert): void {
    const floor = typeof this.filter.RSSI === "number" ? this.filter.RSSI : -127;
    if (from.rssi < floor) return;
    let d = this.devices.get(from.address);
    if (!d) {
      d = new DeviceObject(this, from);
      d.data = new Map(advert.manufacturerData);
      d.name = advert.localName;
      d.rssi = from.rssi;
      d.lastHeard = Date.now();
      this.devices.set(from.address, d);
      this.host.bus.export(d.path, d.iface);
      return;
    }
    // The same address from a new controller object (its bluetoothd restarted): the same device.
    d.remote = from;
    d.heard(advert, from.rssi);
  }

  linkUp(link: Link): void {
    const central = link.central.adapter;
    link.peerPath = `${this.path}/dev_${central.address.replaceAll(":", "_")}`;
    const peer = new PeerIface(central.address, this.path);
    this.peers.set(link, peer);
    this.host.bus.export(link.peerPath, peer);
  }

  linkDown(link: Link): void {
    this.database.disconnected(link);
    const peer = this.peers.get(link);
    if (!peer) return;
    this.peers.delete(link);
    if (![...this.peers.keys()].some((l) => l.peerPath === link.peerPath))
      this.host.bus.unexport(link.peerPath, peer);
  }

  removeDevice(path: string): void {
    for (const [addr, d] of this.devices) {
      if (d.path !== path) continue;
      d.remove();
      this.devices.delete(addr);
      return;
    }
    throw bluezError("DoesNotExist", "Does Not Exist");
  }

  /** Devices not heard for the TTL and not connected are removed, as BlueZ does. */
  expire(now: number): void {
    for (const [addr, d] of this.devices) {
      if (d.link || now - d.lastHeard < this.opts.deviceTtlMs) continue;
      d.remove();
      this.devices.delete(addr);
    }
  }
}
