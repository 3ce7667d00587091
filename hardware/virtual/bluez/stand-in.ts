/**
 * A BlueZ stand-in: the parts of `org.bluez` the hub uses, served with dbus-next on a real D-Bus.
 * The hub talks to it only through node-ble and D-Bus, exactly as to BlueZ on a Raspberry Pi.
 *
 * Served: AgentManager1 at /org/bluez; Adapter1 at /org/bluez/hciN (Powered, Discovering,
 * SetDiscoveryFilter, Start/StopDiscovery, RemoveDevice); Device1 per peripheral heard while
 * discovering (Address, AddressType, Name, RSSI, ManufacturerData a{qv}, Connected,
 * ServicesResolved; Connect/Disconnect flip Connected and ServicesResolved and signal it);
 * GattService1 and GattCharacteristic1 below a connected device (ReadValue, WriteValue,
 * StartNotify/StopNotify; a notification is a PropertiesChanged of Value).
 *
 * Where BlueZ behaves in a way the hub depends on, this does too: every advert heard while
 * discovering is a PropertiesChanged of ManufacturerData and RSSI on the device object; a device
 * not heard for `deviceTtlMs` and not connected is removed; Connect to a device out of range fails
 * after a while; a connected device that leaves range drops after the supervision timeout;
 * powering the adapter off stops discovery and drops every link.
 *
 * Peripherals (the virtual badges' radios) are driven from the same process through
 * `VirtualPeripheral`.
 */
import { createRequire } from "node:module";
import dbus from "dbus-next";
import {
  ACK_CHAR_UUID,
  BADGE_SERVICE_UUID,
  EVENT_CHAR_UUID,
  SIGNAL_CHAR_UUID,
  TIME_CHAR_UUID,
} from "../../../protocol/index.js";

const { Interface } = dbus.interface;
type MessageBus = ReturnType<typeof dbus.sessionBus>;

// dbus-next marshals the keys of an `a{qv}` dict from a JS object, whose keys are strings, and its
// uint16 marshaller refuses strings (dbusjs/node-dbus-next#79). Numeric-string keys become numbers.
const marshallers = createRequire(import.meta.url)("dbus-next/lib/marshallers.js") as {
  MakeSimpleMarshaller: (t: string) => { marshall: (ps: unknown, data: unknown) => unknown };
  __onsitePatched?: boolean;
};
if (!marshallers.__onsitePatched) {
  marshallers.__onsitePatched = true;
  const make = marshallers.MakeSimpleMarshaller;
  marshallers.MakeSimpleMarshaller = (t: string) => {
    const m = make(t);
    if ("ynqiuxt".includes(t)) {
      const marshall = m.marshall;
      m.marshall = function (this: unknown, ps: unknown, data: unknown) {
        return marshall.call(this, ps, typeof data === "string" && /^\d+$/.test(data) ? Number(data) : data);
      };
    }
    return m;
  };
}

const err = (name: string, text: string) => new dbus.DBusError(`org.bluez.Error.${name}`, text);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StandInOptions {
  adapters?: string[];
  /** A device not heard this long (and not connected) is removed, as BlueZ does. */
  deviceTtlMs?: number;
  /** How long Connect to a peripheral out of range takes to fail. */
  connectFailMs?: number;
  /** How long a link survives after its peripheral left range (supervision timeout). */
  supervisionMs?: number;
}

class AgentManager extends Interface {
  RegisterAgent(_path: string, _cap: string): void {}
  UnregisterAgent(_path: string): void {}
  RequestDefaultAgent(_path: string): void {}
}
AgentManager.configureMembers({
  methods: {
    RegisterAgent: { inSignature: "os" },
    UnregisterAgent: { inSignature: "o" },
    RequestDefaultAgent: { inSignature: "o" },
  },
});

class AdapterIface extends Interface {
  constructor(private readonly a: VirtualAdapter) {
    super("org.bluez.Adapter1");
  }
  get Address(): string {
    return this.a.address;
  }
  get AddressType(): string {
    return "public";
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
    if (!this.a.powered) throw err("NotReady", "Resource Not Ready");
    if (this.a.discovering) throw err("InProgress", "Operation already in progress");
    this.a.setDiscovering(true);
  }
  StopDiscovery(): void {
    if (!this.a.discovering) throw err("Failed", "No discovery started");
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

class DeviceIface extends Interface {
  constructor(private readonly d: DeviceObject) {
    super("org.bluez.Device1");
  }
  get Address(): string {
    return this.d.p.address;
  }
  get AddressType(): string {
    return "random";
  }
  get Name(): string {
    return this.d.p.name;
  }
  get Alias(): string {
    return this.d.p.name;
  }
  get Adapter(): string {
    return this.d.adapter.path;
  }
  get RSSI(): number {
    return this.d.rssi;
  }
  get ManufacturerData(): Record<number, InstanceType<typeof dbus.Variant>> {
    return this.d.manufacturerData();
  }
  get Connected(): boolean {
    return this.d.connected;
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
    return [BADGE_SERVICE_UUID];
  }
  async Connect(): Promise<void> {
    await this.d.connect();
  }
  async Disconnect(): Promise<void> {
    await this.d.disconnect();
  }
  Pair(): void {
    throw err("NotSupported", "Operation is not supported");
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
    private readonly uuid: string,
    private readonly device: string,
  ) {
    super("org.bluez.GattService1");
  }
  get UUID(): string {
    return this.uuid;
  }
  get Primary(): boolean {
    return true;
  }
  get Device(): string {
    return this.device;
  }
}
ServiceIface.configureMembers({
  properties: {
    UUID: { signature: "s", access: "read" },
    Primary: { signature: "b", access: "read" },
    Device: { signature: "o", access: "read" },
  },
});

class CharIface extends Interface {
  value: Buffer = Buffer.alloc(0);
  notifying = false;
  constructor(
    private readonly uuid: string,
    private readonly service: string,
    private readonly flags: string[],
    private readonly d: DeviceObject,
  ) {
    super("org.bluez.GattCharacteristic1");
  }
  get UUID(): string {
    return this.uuid;
  }
  get Service(): string {
    return this.service;
  }
  get Flags(): string[] {
    return this.flags;
  }
  get Notifying(): boolean {
    return this.notifying;
  }
  get Value(): Buffer {
    return this.value;
  }
  ReadValue(_opts: unknown): Buffer {
    this.d.requireLink();
    return this.value;
  }
  async WriteValue(value: Buffer | number[], _opts: unknown): Promise<void> {
    this.d.requireLink();
    if (!this.flags.some((f) => f.startsWith("write"))) throw err("NotPermitted", "Write not permitted");
    const bytes = Uint8Array.from(value);
    await this.d.p.written(this.uuid, bytes);
  }
  StartNotify(): void {
    this.d.requireLink();
    if (!this.flags.includes("notify")) throw err("NotSupported", "Operation is not supported");
    if (this.notifying) return;
    this.notifying = true;
    Interface.emitPropertiesChanged(this, { Notifying: true }, []);
    this.d.p.linkChanged();
  }
  StopNotify(): void {
    if (!this.notifying) return;
    this.notifying = false;
    Interface.emitPropertiesChanged(this, { Notifying: false }, []);
    this.d.p.linkChanged();
  }
  notify(value: Uint8Array): void {
    this.value = Buffer.from(value);
    Interface.emitPropertiesChanged(this, { Value: this.value }, []);
  }
}
CharIface.configureMembers({
  properties: {
    UUID: { signature: "s", access: "read" },
    Service: { signature: "o", access: "read" },
    Flags: { signature: "as", access: "read" },
    Notifying: { signature: "b", access: "read" },
    Value: { signature: "ay", access: "read" },
  },
  methods: {
    ReadValue: { inSignature: "a{sv}", outSignature: "ay" },
    WriteValue: { inSignature: "aya{sv}" },
    StartNotify: {},
    StopNotify: {},
  },
});

const CHARACTERISTICS: Array<{ uuid: string; flags: string[] }> = [
  { uuid: EVENT_CHAR_UUID, flags: ["read", "notify"] },
  { uuid: ACK_CHAR_UUID, flags: ["write"] },
  { uuid: TIME_CHAR_UUID, flags: ["write"] },
  { uuid: SIGNAL_CHAR_UUID, flags: ["write"] },
];

/** One Device1 object: a peripheral as one adapter knows it. */
class DeviceObject {
  readonly path: string;
  readonly iface: DeviceIface;
  rssi = -127;
  data: Uint8Array | null = null;
  connected = false;
  servicesResolved = false;
  lastHeard = 0;
  private gatt: Array<{ path: string; iface: InstanceType<typeof Interface> }> = [];
  private eventChar: CharIface | undefined;
  private supervision: NodeJS.Timeout | undefined;

  constructor(
    readonly adapter: VirtualAdapter,
    readonly p: VirtualPeripheral,
  ) {
    this.path = `${adapter.path}/dev_${p.address.replaceAll(":", "_")}`;
    this.iface = new DeviceIface(this);
  }

  manufacturerData(): Record<number, InstanceType<typeof dbus.Variant>> {
    const out: Record<number, InstanceType<typeof dbus.Variant>> = {};
    if (this.data) out[this.p.companyId] = new dbus.Variant("ay", Buffer.from(this.data));
    return out;
  }

  heard(data: Uint8Array, rssi: number): void {
    this.lastHeard = Date.now();
    this.data = data;
    this.rssi = rssi;
    Interface.emitPropertiesChanged(
      this.iface,
      { ManufacturerData: this.manufacturerData(), RSSI: rssi },
      [],
    );
  }

  requireLink(): void {
    if (!this.connected) throw err("NotConnected", "Not Connected");
  }

  async connect(): Promise<void> {
    if (!this.adapter.powered) throw err("NotReady", "Resource Not Ready");
    if (this.connected) return;
    if (!this.p.inRange || !this.p.connectable) {
      await sleep(this.adapter.standIn.opts.connectFailMs);
      throw err("Failed", "le-connection-abort-by-local");
    }
    this.connected = true;
    Interface.emitPropertiesChanged(this.iface, { Connected: true }, []);
    await sleep(20);
    this.exportGatt();
    this.servicesResolved = true;
    Interface.emitPropertiesChanged(this.iface, { ServicesResolved: true }, []);
    this.p.linkChanged();
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    clearTimeout(this.supervision);
    this.servicesResolved = false;
    Interface.emitPropertiesChanged(this.iface, { ServicesResolved: false }, []);
    this.unexportGatt();
    this.connected = false;
    Interface.emitPropertiesChanged(this.iface, { Connected: false }, []);
    this.p.linkChanged();
  }

  /** The peripheral left range: the link drops after the supervision timeout. */
  outOfRange(): void {
    if (!this.connected || this.supervision) return;
    this.supervision = setTimeout(() => {
      this.supervision = undefined;
      if (!this.p.inRange) void this.disconnect();
    }, this.adapter.standIn.opts.supervisionMs);
  }

  private exportGatt(): void {
    const bus = this.adapter.standIn.bus;
    const svcPath = `${this.path}/service0010`;
    const svc = new ServiceIface(BADGE_SERVICE_UUID, this.path);
    bus.export(svcPath, svc);
    this.gatt.push({ path: svcPath, iface: svc });
    CHARACTERISTICS.forEach((c, i) => {
      const path = `${svcPath}/char${(0x11 + i * 2).toString(16).padStart(4, "0")}`;
      const ch = new CharIface(c.uuid, svcPath, c.flags, this);
      if (c.uuid === EVENT_CHAR_UUID) this.eventChar = ch;
      bus.export(path, ch);
      this.gatt.push({ path, iface: ch });
    });
  }

  private unexportGatt(): void {
    for (const g of this.gatt.reverse()) this.adapter.standIn.bus.unexport(g.path, g.iface);
    this.gatt = [];
    this.eventChar = undefined;
  }

  get notifying(): boolean {
    return this.connected && this.eventChar?.notifying === true;
  }

  notify(value: Uint8Array): boolean {
    if (!this.notifying || !this.eventChar) return false;
    this.eventChar.notify(value);
    return true;
  }

  remove(): void {
    clearTimeout(this.supervision);
    if (this.connected) {
      this.unexportGatt();
      this.connected = false;
      this.servicesResolved = false;
    }
    this.adapter.standIn.bus.unexport(this.path, this.iface);
    this.p.linkChanged();
  }
}

class VirtualAdapter {
  readonly path: string;
  readonly iface: AdapterIface;
  powered = true;
  discovering = false;
  filter: Record<string, unknown> = {};
  readonly devices = new Map<string, DeviceObject>();

  constructor(
    readonly standIn: BluezStandIn,
    readonly name: string,
    readonly address: string,
  ) {
    this.path = `/org/bluez/${name}`;
    this.iface = new AdapterIface(this);
  }

  setPowered(on: boolean): void {
    if (this.powered === on) return;
    this.powered = on;
    const changed: Record<string, unknown> = { Powered: on };
    if (!on) {
      for (const d of this.devices.values()) void d.disconnect();
      if (this.discovering) {
        this.discovering = false;
        changed.Discovering = false;
      }
    }
    Interface.emitPropertiesChanged(this.iface, changed, []);
  }

  setDiscovering(on: boolean): void {
    this.discovering = on;
    Interface.emitPropertiesChanged(this.iface, { Discovering: on }, []);
  }

  /** An advert on the air: heard if powered, discovering and the filter lets it through. */
  hear(p: VirtualPeripheral, data: Uint8Array, rssi: number): boolean {
    if (!this.powered || !this.discovering) return false;
    const floor = typeof this.filter.RSSI === "number" ? this.filter.RSSI : -127;
    if (rssi < floor) return false;
    let d = this.devices.get(p.address);
    if (!d) {
      d = new DeviceObject(this, p);
      d.data = data;
      d.rssi = rssi;
      d.lastHeard = Date.now();
      this.devices.set(p.address, d);
      this.standIn.bus.export(d.path, d.iface);
      return true;
    }
    d.heard(data, rssi);
    return true;
  }

  removeDevice(path: string): void {
    for (const [addr, d] of this.devices) {
      if (d.path !== path) continue;
      d.remove();
      this.devices.delete(addr);
      return;
    }
    throw err("DoesNotExist", "Does Not Exist");
  }

  expire(now: number): void {
    for (const [addr, d] of this.devices) {
      if (d.connected || now - d.lastHeard < this.standIn.opts.deviceTtlMs) continue;
      d.remove();
      this.devices.delete(addr);
    }
  }
}

/** The radio of one virtual badge, as the stand-in sees it. */
export class VirtualPeripheral {
  inRange = true;
  /** False: the badge answers no connection (hung firmware, or a radio that only advertises). */
  connectable = true;
  rssi = -60;
  private readonly writeHandlers = new Map<string, (v: Uint8Array) => void | Promise<void>>();
  private readonly linkListeners = new Set<(linked: boolean) => void>();

  constructor(
    private readonly standIn: BluezStandIn,
    readonly address: string,
    readonly name: string,
    readonly companyId: number,
  ) {}

  /** Sends one advert with this manufacturer data at the current RSSI; true if an adapter heard it. */
  advertise(data: Uint8Array, rssi = this.rssi): boolean {
    if (!this.inRange) return false;
    let heard = false;
    for (const a of this.standIn.adapters()) heard = a.hear(this, data, rssi) || heard;
    return heard;
  }

  setInRange(inRange: boolean): void {
    this.inRange = inRange;
    if (!inRange) for (const d of this.objects()) d.outOfRange();
  }

  private objects(): DeviceObject[] {
    return this.standIn.adapters().flatMap((a) => {
      const d = a.devices.get(this.address);
      return d ? [d] : [];
    });
  }

  /** A central is connected and subscribed to the event characteristic. */
  get linked(): boolean {
    return this.objects().some((d) => d.notifying);
  }

  /** Notifies the event characteristic on every subscribed link; false if none. */
  notify(value: Uint8Array): boolean {
    let sent = false;
    for (const d of this.objects()) sent = d.notify(value) || sent;
    return sent;
  }

  onWrite(uuid: string, fn: (v: Uint8Array) => void | Promise<void>): void {
    this.writeHandlers.set(uuid, fn);
  }

  async written(uuid: string, value: Uint8Array): Promise<void> {
    await this.writeHandlers.get(uuid)?.(value);
  }

  onLink(fn: (linked: boolean) => void): () => void {
    this.linkListeners.add(fn);
    return () => this.linkListeners.delete(fn);
  }

  linkChanged(): void {
    const linked = this.linked;
    for (const fn of this.linkListeners) fn(linked);
  }
}

export class BluezStandIn {
  readonly opts: Required<StandInOptions>;
  private readonly adapterMap = new Map<string, VirtualAdapter>();
  private readonly peripherals = new Map<string, VirtualPeripheral>();
  private readonly agent = new AgentManager("org.bluez.AgentManager1");
  private expiry: NodeJS.Timeout | undefined;
  private serving = false;
  bus!: MessageBus;

  private constructor(
    private readonly busAddress: string,
    opts: StandInOptions,
  ) {
    this.opts = {
      adapters: opts.adapters ?? ["hci0"],
      deviceTtlMs: opts.deviceTtlMs ?? 30_000,
      connectFailMs: opts.connectFailMs ?? 2_000,
      supervisionMs: opts.supervisionMs ?? 1_000,
    };
  }

  /** Connects to the bus at `busAddress`, takes the name org.bluez and serves the adapters. */
  static async start(busAddress: string, opts: StandInOptions = {}): Promise<BluezStandIn> {
    const s = new BluezStandIn(busAddress, opts);
    await s.serve();
    return s;
  }

  private async serve(): Promise<void> {
    this.bus = dbus.sessionBus({ busAddress: this.busAddress });
    this.bus.on("error", () => {});
    const reply = await this.bus.requestName("org.bluez", 0);
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER) throw new Error("org.bluez is taken on this bus");
    this.bus.export("/org/bluez", this.agent);
    this.adapterMap.clear();
    this.opts.adapters.forEach((name, i) => {
      const a = new VirtualAdapter(this, name, `00:1A:7D:DA:71:${(0x10 + i).toString(16).toUpperCase()}`);
      this.adapterMap.set(name, a);
      this.bus.export(a.path, a.iface);
    });
    this.expiry = setInterval(() => {
      const now = Date.now();
      for (const a of this.adapterMap.values()) a.expire(now);
    }, 500);
    this.expiry.unref();
    this.serving = true;
  }

  adapters(): VirtualAdapter[] {
    return this.serving ? [...this.adapterMap.values()] : [];
  }

  adapter(name = "hci0"): VirtualAdapter {
    const a = this.adapterMap.get(name);
    if (!a) throw new Error(`no adapter ${name}`);
    return a;
  }

  /** The radio of a virtual badge (random static address, as badges use). */
  peripheral(address: string, name = "onsite-badge", companyId = 0xffff): VirtualPeripheral {
    let p = this.peripherals.get(address);
    if (!p) {
      p = new VirtualPeripheral(this, address, name, companyId);
      this.peripherals.set(address, p);
    }
    return p;
  }

  /** Powers an adapter off or on, as `bluetoothctl power off` would. */
  setPowered(on: boolean, name = "hci0"): void {
    this.adapter(name).setPowered(on);
  }

  /** BlueZ stops (crash or `systemctl stop bluetooth`): the name and every object vanish. */
  async stop(): Promise<void> {
    if (!this.serving) return;
    this.serving = false;
    clearInterval(this.expiry);
    for (const a of this.adapterMap.values()) for (const d of a.devices.values()) d.remove();
    // On a bus that is already gone the call would never be answered.
    await Promise.race([this.bus.releaseName("org.bluez").catch(() => {}), sleep(500)]);
    this.bus.disconnect();
    for (const p of this.peripherals.values()) p.linkChanged();
  }

  /** BlueZ starts again: a fresh adapter, no devices until they are heard again. */
  async restart(): Promise<void> {
    await this.stop();
    await this.serve();
  }
}
