/**
 * The central's side: one org.bluez.Device1 per remote radio an adapter heard while discovering,
 * and, while connected, the remote's GATT database as GattService1/GattCharacteristic1 objects
 * below it (paths serviceXXXX/charYYYY by handle, as BlueZ names them). Their ReadValue,
 * WriteValue and StartNotify/StopNotify go over the link to the remote's bluetoothd, which calls
 * the remote application; a notification from it is a PropertiesChanged of Value here.
 */
import type { Variant as VariantT } from "dbus-next";
import { bluezError, emitChanged, Interface, Variant } from "../../../firmware/badge/bluez/dbus.js";
import type { VirtualAdapter } from "./adapter.js";
import type { Advert, AirRadio, Link } from "./air.js";
import { AttError, clientError } from "./att.js";
import type { LocalChrc, LocalService } from "./gatt-server.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex4 = (n: number) => n.toString(16).padStart(4, "0");

/** What the peripheral adapter offers a link: its GATT database and the server operations. */
export interface RemoteGatt {
  services(): LocalService[];
  read(link: Link, c: LocalChrc, offset: number): Promise<Uint8Array>;
  write(link: Link, c: LocalChrc, value: Uint8Array, offset: number): Promise<void>;
  subscribe(link: Link, c: LocalChrc): void;
  unsubscribe(link: Link, c: LocalChrc): void;
}

class DeviceIface extends Interface {
  constructor(private readonly d: DeviceObject) {
    super("org.bluez.Device1");
  }
  get Address(): string {
    return this.d.remote.address;
  }
  get AddressType(): string {
    return "random";
  }
  get Name(): string {
    return this.d.name ?? this.d.remote.address;
  }
  get Alias(): string {
    return this.Name;
  }
  get Adapter(): string {
    return this.d.adapter.path;
  }
  get RSSI(): number {
    return this.d.rssi;
  }
  get ManufacturerData(): Record<number, VariantT> {
    return this.d.manufacturerData();
  }
  get Connected(): boolean {
    return this.d.link !== undefined;
  }
  get ServicesResolved(): boolean {
    return this.d.servicesResolved;
  }
  get Paired(): boolean {
    return false;
  }
  get Trusted(): boolean {
    return false;
  }
  get Blocked(): boolean {
    return false;
  }
  get UUIDs(): string[] {
    return this.d.link ? this.d.gatt.map((g) => g.service.uuid) : [];
  }
  async Connect(): Promise<void> {
    await this.d.connect();
  }
  Disconnect(): void {
    this.d.disconnect();
  }
  Pair(): void {
    throw bluezError("NotSupported", "Operation is not supported");
  }
  CancelPair(): void {}
}
DeviceIface.configureMembers({
  properties: {
    Address: { signature: "s", access: "read" },
    AddressType: { signature: "s", access: "read" },
    Name: { signature: "s", access: "read" },
    Alias: { signature: "s", access: "read" },
    Adapter: { signature: "o", access: "read" },
    RSSI: { signature: "n", access: "read" },
    ManufacturerData: { signature: "a{qv}", access: "read" },
    Connected: { signature: "b", access: "read" },
    ServicesResolved: { signature: "b", access: "read" },
    Paired: { signature: "b", access: "read" },
    Trusted: { signature: "b", access: "read" },
    Blocked: { signature: "b", access: "read" },
    UUIDs: { signature: "as", access: "read" },
  },
  methods: { Connect: {}, Disconnect: {}, Pair: {}, CancelPair: {} },
});

class ServiceIface extends Interface {
  constructor(
    readonly service: LocalService,
    private readonly device: string,
  ) {
    super("org.bluez.GattService1");
  }
  get UUID(): string {
    return this.service.uuid;
  }
  get Primary(): boolean {
    return this.service.primary;
  }
  get Device(): string {
    return this.device;
  }
  get Handle(): number {
    return this.service.handle;
  }
}
ServiceIface.configureMembers({
  properties: {
    UUID: { signature: "s", access: "read" },
    Primary: { signature: "b", access: "read" },
    Device: { signature: "o", access: "read" },
    Handle: { signature: "q", access: "read" },
  },
});

/** Server-only flags a client never sees. */
const CLIENT_FLAGS = new Set([
  "broadcast",
  "read",
  "write-without-response",
  "write",
  "notify",
  "indicate",
  "reliable-write",
]);

class ChrcIface extends Interface {
  value: Buffer = Buffer.alloc(0);
  notifying = false;
  constructor(
    readonly chrc: LocalChrc,
    private readonly service: string,
    private readonly d: DeviceObject,
  ) {
    super("org.bluez.GattCharacteristic1");
  }
  get UUID(): string {
    return this.chrc.uuid;
  }
  get Service(): string {
    return this.service;
  }
  get Flags(): string[] {
    return this.chrc.flags.filter((f) => CLIENT_FLAGS.has(f));
  }
  get Notifying(): boolean {
    return this.notifying;
  }
  get Value(): Buffer {
    return this.value;
  }
  get Handle(): number {
    return this.chrc.handle;
  }
  get MTU(): number {
    return this.d.link?.mtu ?? 23;
  }
  async ReadValue(options: Record<string, VariantT>): Promise<Buffer> {
    const link = this.d.requireLink();
    const value = await this.d.att(() =>
      link.remoteGatt.read(link, this.chrc, Number(options.offset?.value ?? 0)),
    );
    this.value = Buffer.from(value);
    return this.value;
  }
  async WriteValue(value: Buffer, options: Record<string, VariantT>): Promise<void> {
    const link = this.d.requireLink();
    const type = options.type?.value;
    const flags = this.Flags;
    const command =
      type === "command" || (!flags.includes("write") && flags.includes("write-without-response"));
    if (
      command
        ? !flags.includes("write-without-response")
        : !flags.includes("write") && !flags.includes("reliable-write")
    )
      throw bluezError("NotSupported", "Operation is not supported");
    const done = this.d.att(() =>
      link.remoteGatt.write(link, this.chrc, Uint8Array.from(value), Number(options.offset?.value ?? 0)),
    );
    if (command) void done.catch(() => {});
    else await done;
  }
  StartNotify(): void {
    const link = this.d.requireLink();
    if (!this.chrc.flags.includes("notify") && !this.chrc.flags.includes("indicate"))
      throw bluezError("NotSupported", "Operation is not supported");
    if (this.notifying) return;
    link.remoteGatt.subscribe(link, this.chrc);
    this.notifying = true;
    emitChanged(this, { Notifying: true }, []);
  }
  StopNotify(): void {
    if (!this.notifying) throw bluezError("Failed", "No notify session started");
    const link = this.d.link;
    if (link) link.remoteGatt.unsubscribe(link, this.chrc);
    this.notifying = false;
    emitChanged(this, { Notifying: false }, []);
  }
  notified(value: Uint8Array): void {
    if (!this.notifying) return;
    this.value = Buffer.from(value);
    emitChanged(this, { Value: this.value }, []);
  }
}
ChrcIface.configureMembers({
  properties: {
    UUID: { signature: "s", access: "read" },
    Service: { signature: "o", access: "read" },
    Flags: { signature: "as", access: "read" },
    Notifying: { signature: "b", access: "read" },
    Value: { signature: "ay", access: "read" },
    Handle: { signature: "q", access: "read" },
    MTU: { signature: "q", access: "read" },
  },
  methods: {
    ReadValue: { inSignature: "a{sv}", outSignature: "ay" },
    WriteValue: { inSignature: "aya{sv}" },
    StartNotify: {},
    StopNotify: {},
  },
});

interface Exported {
  service: LocalService;
  path: string;
  iface: ServiceIface;
  chrcs: Array<{ path: string; iface: ChrcIface }>;
}

/** One Device1: a remote radio as one adapter knows it. */
export class DeviceObject {
  readonly path: string;
  readonly iface: DeviceIface;
  rssi = -127;
  data = new Map<number, Uint8Array>();
  name: string | undefined;
  lastHeard = 0;
  link: Link | undefined;
  servicesResolved = false;
  gatt: Exported[] = [];

  constructor(
    readonly adapter: VirtualAdapter,
    public remote: AirRadio,
  ) {
    this.path = `${adapter.path}/dev_${remote.address.replaceAll(":", "_")}`;
    this.iface = new DeviceIface(this);
  }

  manufacturerData(): Record<number, VariantT> {
    const out: Record<number, VariantT> = {};
    for (const [id, d] of this.data) out[id] = new Variant("ay", Buffer.from(d));
    return out;
  }

  /** An advert heard: a PropertiesChanged of ManufacturerData and RSSI, as with DuplicateData. */
  heard(advert: Advert, rssi: number): void {
    this.lastHeard = Date.now();
    this.data = new Map(advert.manufacturerData);
    this.rssi = rssi;
    const changed: Record<string, unknown> = { ManufacturerData: this.manufacturerData(), RSSI: rssi };
    if (advert.localName && advert.localName !== this.name) {
      this.name = advert.localName;
      changed.Name = this.name;
      changed.Alias = this.name;
    }
    emitChanged(this.iface, changed, []);
  }

  requireLink(): Link {
    if (!this.link) throw bluezError("Failed", "Not connected");
    return this.link;
  }

  /** Runs a GATT operation; an ATT error becomes the D-Bus error a BlueZ client returns. */
  async att<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw e instanceof AttError ? clientError(e.code) : e;
    }
  }

  async connect(): Promise<void> {
    if (!this.adapter.powered) throw bluezError("NotReady", "Resource Not Ready");
    if (this.link) return;
    const air = this.adapter.air;
    if (!air.reachable(this.adapter, this.remote)) {
      await sleep(this.adapter.opts.connectFailMs);
      throw bluezError("Failed", "le-connection-abort-by-local");
    }
    this.link = air.connect(this, this.remote);
    emitChanged(this.iface, { Connected: true }, []);
    await sleep(20);
    if (!this.link) throw bluezError("Failed", "le-connection-abort-by-local");
    this.exportGatt(this.link);
    this.servicesResolved = true;
    emitChanged(this.iface, { ServicesResolved: true, UUIDs: this.iface.UUIDs }, []);
  }

  disconnect(): void {
    this.link?.close();
  }

  /** The link is gone (either end): services vanish, Connected goes false. */
  linkLost(): void {
    if (!this.link) return;
    this.link = undefined;
    if (this.servicesResolved) {
      this.servicesResolved = false;
      emitChanged(this.iface, { ServicesResolved: false }, []);
    }
    this.unexportGatt();
    emitChanged(this.iface, { Connected: false }, []);
  }

  /** A notification from the remote for the characteristic declared at `handle`. */
  notified(handle: number, value: Uint8Array): void {
    for (const g of this.gatt)
      for (const c of g.chrcs) if (c.iface.chrc.handle === handle) c.iface.notified(value);
  }

  private exportGatt(link: Link): void {
    const bus = this.adapter.host.bus;
    for (const service of link.remoteGatt.services()) {
      const path = `${this.path}/service${hex4(service.handle)}`;
      const iface = new ServiceIface(service, this.path);
      bus.export(path, iface);
      const chrcs = service.chrcs.map((c) => {
        const cp = `${path}/char${hex4(c.handle)}`;
        const ci = new ChrcIface(c, path, this);
        bus.export(cp, ci);
        return { path: cp, iface: ci };
      });
      this.gatt.push({ service, path, iface, chrcs });
    }
  }

  private unexportGatt(): void {
    const bus = this.adapter.host.bus;
    for (const g of this.gatt) {
      for (const c of g.chrcs) bus.unexport(c.path, c.iface);
      bus.unexport(g.path, g.iface);
    }
    this.gatt = [];
  }

  remove(): void {
    this.link?.close();
    this.adapter.host.bus.unexport(this.path, this.iface);
  }
}
