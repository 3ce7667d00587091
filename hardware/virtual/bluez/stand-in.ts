/**
 * A BlueZ stand-in: one bluetoothd's D-Bus API, served with dbus-next on a real D-Bus, for both LE
 * roles. The hub talks to its host through node-ble exactly as to BlueZ on a Raspberry Pi; a badge
 * program talks to its own host (`BluezStandIn.host`, a second bluetoothd on the badge's own private
 * bus) through the peripheral API, exactly as on the badge's board. The hosts share one air
 * (air.ts): adverts registered on a badge's host are heard by the hub's adapters; a connection from
 * the hub reaches the badge's GATT application over D-Bus.
 *
 * Served: AgentManager1 at /org/bluez; per adapter /org/bluez/hciN: Adapter1 (adapter.ts),
 * LEAdvertisingManager1 (advertising.ts) and GattManager1 (gatt-server.ts); Device1 per radio heard
 * and, while connected, its GATT objects (device.ts).
 */
import type { Variant } from "dbus-next";
import {
  addMatch,
  allowNumericDictKeys,
  connectBus,
  Interface,
  type MessageBus,
} from "../../../firmware/badge/bluez/dbus.js";
import { VirtualAdapter } from "./adapter.js";
import { Air } from "./air.js";
import type { Host, HostOptions, PropertiesChanged, RadioState, ResolvedHostOptions } from "./host.js";
import { PrivateBus } from "./private-bus.js";

// Device1.ManufacturerData is a{qv}: dbus-next needs the numeric-key fix to send it.
allowNumericDictKeys();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

const SIGNAL_RULES = [
  "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'",
  "type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesRemoved'",
  "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'",
];

export class BluezStandIn implements Host {
  readonly opts: ResolvedHostOptions;
  readonly air: Air;
  private readonly first: { address: string | undefined; radio: RadioState };
  private readonly adapterMap = new Map<string, VirtualAdapter>();
  private readonly agent = new AgentManager("org.bluez.AgentManager1");
  private readonly propWatchers = new Map<string, Set<PropertiesChanged>>();
  private readonly goneWatchers = new Map<string, Set<() => void>>();
  private readonly removedWatchers = new Map<string, Set<() => void>>();
  private readonly hosts = new Set<VirtualHost>();
  private current = "";
  private expiry: NodeJS.Timeout | undefined;
  private serving = false;
  bus!: MessageBus;

  private constructor(
    private readonly busAddress: string,
    opts: HostOptions,
  ) {
    this.air = opts.air ?? new Air();
    this.first = {
      address: opts.address,
      radio: opts.radio ?? { inRange: true, rssi: -60, connectable: true },
    };
    this.opts = {
      adapters: opts.adapters ?? ["hci0"],
      deviceTtlMs: opts.deviceTtlMs ?? 30_000,
      connectFailMs: opts.connectFailMs ?? 2_000,
      supervisionMs: opts.supervisionMs ?? 1_000,
      maxAdvertisements: opts.maxAdvertisements ?? 5,
      advertIntervalMs: opts.advertIntervalMs ?? 1280,
    };
  }

  /** Connects to the bus at `busAddress`, takes the name org.bluez and serves the adapters. */
  static async start(busAddress: string, opts: HostOptions = {}): Promise<BluezStandIn> {
    const s = new BluezStandIn(busAddress, opts);
    await s.serve();
    return s;
  }

  private async serve(): Promise<void> {
    this.bus = await connectBus(this.busAddress);
    this.bus.on("error", () => {});
    this.bus.addMethodHandler((msg: { sender: string }) => {
      this.current = msg.sender;
      return false;
    });
    this.bus.on("message", (msg) => this.dispatch(msg));
    await Promise.all(SIGNAL_RULES.map((rule) => addMatch(this.bus, rule)));
    const reply = await this.bus.requestName("org.bluez", 0);
    if (reply !== 1) throw new Error("org.bluez is taken on this bus");
    this.bus.export("/org/bluez", this.agent);
    this.adapterMap.clear();
    this.opts.adapters.forEach((name, i) => {
      const own = i === 0 && this.first.address !== undefined;
      const address = own
        ? (this.first.address as string)
        : `00:1A:7D:DA:71:${(0x10 + i).toString(16).toUpperCase()}`;
      const radio = i === 0 ? this.first.radio : { inRange: true, rssi: -60, connectable: true };
      const a = new VirtualAdapter(this, name, address, own ? "random" : "public", radio);
      this.adapterMap.set(name, a);
      a.export();
    });
    this.expiry = setInterval(() => {
      const now = Date.now();
      for (const a of this.adapterMap.values()) a.expire(now);
    }, 500);
    this.expiry.unref();
    this.serving = true;
  }

  // ---- Host ----

  caller(): string {
    return this.current;
  }

  private static add<T>(map: Map<string, Set<T>>, key: string, fn: T): () => void {
    let set = map.get(key);
    if (!set) {
      set = new Set();
      map.set(key, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) map.delete(key);
    };
  }

  watchClient(owner: string, path: string, fn: PropertiesChanged): () => void {
    return BluezStandIn.add(this.propWatchers, `${owner} ${path}`, fn);
  }

  onClientGone(owner: string, fn: () => void): () => void {
    return BluezStandIn.add(this.goneWatchers, owner, fn);
  }

  onInterfacesRemoved(owner: string, root: string, fn: () => void): () => void {
    return BluezStandIn.add(this.removedWatchers, `${owner} ${root}`, fn);
  }

  private dispatch(msg: {
    type: number;
    sender: string;
    path: string;
    interface: string;
    member: string;
    body: unknown[];
  }): void {
    if (msg.type !== 4 || msg.sender === (this.bus as unknown as { name: string }).name) return; // 4: SIGNAL
    if (msg.member === "PropertiesChanged") {
      const [iface, changed] = msg.body as [string, Record<string, Variant>];
      for (const fn of [...(this.propWatchers.get(`${msg.sender} ${msg.path}`) ?? [])]) fn(iface, changed);
    } else if (msg.member === "InterfacesRemoved") {
      for (const fn of [...(this.removedWatchers.get(`${msg.sender} ${msg.path}`) ?? [])]) fn();
    } else if (msg.member === "NameOwnerChanged") {
      const [name, , owner] = msg.body as [string, string, string];
      if (name.startsWith(":") && owner === "")
        for (const fn of [...(this.goneWatchers.get(name) ?? [])]) fn();
    }
  }

  // ---- controlling the stand-in ----

  adapters(): VirtualAdapter[] {
    return this.serving ? [...this.adapterMap.values()] : [];
  }

  adapter(name = "hci0"): VirtualAdapter {
    const a = this.adapterMap.get(name);
    if (!a) throw new Error(`no adapter ${name}`);
    return a;
  }

  /** Powers an adapter off or on, as `bluetoothctl power off` would. */
  setPowered(on: boolean, name = "hci0"): void {
    this.adapter(name).setPowered(on);
  }

  /**
   * A badge's own bluetoothd on the same air, served on a private bus of its own. Its address is
   * known at once; `ready` resolves once its bus daemon and bluetoothd run.
   */
  host(address: string, opts: Omit<HostOptions, "air" | "address" | "adapters"> = {}): VirtualHost {
    const h = new VirtualHost(this.air, address, { ...this.opts, ...opts }, () => this.hosts.delete(h));
    this.hosts.add(h);
    return h;
  }

  /** BlueZ stops (crash or `systemctl stop bluetooth`): advertisements are released, the name and every object vanish. */
  async stop(): Promise<void> {
    if (!this.serving) return;
    this.serving = false;
    clearInterval(this.expiry);
    for (const a of this.adapterMap.values()) a.shutdown();
    // On a bus that is already gone the call would never be answered.
    await Promise.race([this.bus.releaseName("org.bluez").catch(() => {}), sleep(500)]);
    this.bus.disconnect();
    this.propWatchers.clear();
    this.goneWatchers.clear();
    this.removedWatchers.clear();
  }

  /** BlueZ starts again: a fresh adapter, no devices until they are heard again, no registrations. */
  async restart(): Promise<void> {
    await this.stop();
    await this.serve();
  }

  /** Stops this host and every badge host made from it. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.hosts].map((h) => h.stop()));
    await this.stop();
  }
}

/** A badge's board as the stand-in sees it: its own D-Bus daemon and bluetoothd, on the shared air. */
export class VirtualHost {
  readonly bus: PrivateBus;
  readonly radio: RadioState = { inRange: true, rssi: -60, connectable: true };
  readonly ready: Promise<BluezStandIn>;
  private bluez: BluezStandIn | undefined;
  private stopped = false;

  constructor(
    air: Air,
    readonly address: string,
    opts: HostOptions,
    private readonly onStop: () => void,
  ) {
    const bus = PrivateBus.create();
    this.bus = bus;
    this.ready = (async () => {
      await bus.spawn();
      const b = await BluezStandIn.start(bus.address, {
        ...opts,
        air,
        address,
        radio: this.radio,
        adapters: ["hci0"],
      });
      this.bluez = b;
      return b;
    })();
    this.ready.catch(() => {});
  }

  get busAddress(): string {
    return this.bus.address;
  }

  /** The badge's bluetoothd (once ready). */
  get standIn(): BluezStandIn {
    if (!this.bluez) throw new Error(`host ${this.address} is not ready`);
    return this.bluez;
  }

  setInRange(inRange: boolean): void {
    if (this.bluez) this.bluez.adapter().setInRange(inRange);
    else this.radio.inRange = inRange;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop();
    await this.ready.then((b) => b.stop()).catch(() => {});
    await this.bus.stop();
  }
}
