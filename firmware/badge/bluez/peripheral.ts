/**
 * The badge's radio on BlueZ's peripheral API over D-Bus: the same code on the badge's board (the
 * system bus, a real bluetoothd) and in the simulator (a private bus, the BlueZ stand-in).
 *
 * It exports an advertisement (objects.ts) and the badge GATT application, registers them with
 * org.bluez.LEAdvertisingManager1.RegisterAdvertisement and org.bluez.GattManager1.RegisterApplication
 * on its adapter, and keeps them registered: bluetoothd restarting (the owner of org.bluez
 * changes), an advertisement Released, the adapter powered back on, or the bus itself going away
 * each lead to registering again, with backoff while it is refused. New frames go on the air as a
 * PropertiesChanged of ManufacturerData; the controller repeats them at the advertising interval.
 */
import {
  ACK_CHAR_UUID,
  BADGE_LOCAL_NAME,
  BADGE_SERVICE_UUID,
  COMPANY_ID,
  EVENT_CHAR_UUID,
  SIGNAL_CHAR_UUID,
  TIME_CHAR_UUID,
} from "../../../protocol/index.js";
import type { BlePeripheral, WriteOutcome } from "../ble-radio.js";
import {
  addMatch,
  allowNumericDictKeys,
  callMethod,
  connectBus,
  errorName,
  type MessageBus,
  type Variant,
} from "./dbus.js";
import { Advertisement, GattCharacteristic, GattService, ObjectManager } from "./objects.js";

export interface BluezPeripheralOptions {
  /** A private bus (the stand-in's); default: the system bus. */
  busAddress?: string;
  adapter?: string;
  advertIntervalMs: number;
  companyId?: number;
  localName?: string;
  /** Where the badge's objects live on its own connection. */
  root?: string;
  log?: (msg: string) => void;
}

export class BluezPeripheral implements BlePeripheral {
  private bus: MessageBus | undefined;
  private readonly root: string;
  private readonly adapterPath: string;
  private readonly advert: Advertisement;
  private readonly service: GattService;
  private readonly chrcs = new Map<string, GattCharacteristic>();
  private readonly objects: ReadonlyArray<readonly [string, GattService | GattCharacteristic]>;
  private readonly writes = new Map<string, (v: Uint8Array) => WriteOutcome>();
  private readonly changeListeners = new Set<() => void>();
  private reported = { onAir: false, linked: false };
  private advertRegistered = false;
  private appRegistered = false;
  private powered = false;
  private bluezOwner = "";
  private running = false;
  private work: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | undefined;
  private backoffMs = 500;
  /** What happened, for health and tests. */
  readonly stats = { registrations: 0, refusals: 0, releases: 0, restarts: 0, lastError: "" };

  constructor(private readonly opts: BluezPeripheralOptions) {
    allowNumericDictKeys();
    this.root = opts.root ?? "/org/onsite/badge";
    this.adapterPath = `/org/bluez/${opts.adapter ?? "hci0"}`;
    this.advert = new Advertisement(
      opts.companyId ?? COMPANY_ID,
      opts.localName ?? BADGE_LOCAL_NAME,
      opts.advertIntervalMs,
      () => {
        // bluetoothd removed it (adapter gone, bluetoothd stopping): register again.
        this.stats.releases++;
        this.advertRegistered = false;
        this.changed();
        this.schedule(200);
      },
    );
    this.service = new GattService(BADGE_SERVICE_UUID);
    const svc = `${this.root}/service0`;
    const chrc = (i: number, uuid: string, flags: string[]) => {
      const c = new GattCharacteristic(uuid, svc, flags, {
        write: (v) => this.writes.get(uuid)?.(v) ?? "ok",
        subscribed: () => this.changed(),
      });
      this.chrcs.set(uuid, c);
      return [`${svc}/char${i}`, c] as const;
    };
    this.objects = [
      [svc, this.service],
      chrc(0, EVENT_CHAR_UUID, ["read", "notify"]),
      chrc(1, ACK_CHAR_UUID, ["write"]),
      chrc(2, TIME_CHAR_UUID, ["write"]),
      chrc(3, SIGNAL_CHAR_UUID, ["write"]),
    ];
  }

  // ---- BlePeripheral ----

  get onAir(): boolean {
    return this.advertRegistered && this.powered;
  }

  get linked(): boolean {
    return this.chrcs.get(EVENT_CHAR_UUID)?.notifying === true;
  }

  setAdvert(data: Uint8Array): void {
    this.advert.setData(data);
  }

  notify(value: Uint8Array): boolean {
    return this.chrcs.get(EVENT_CHAR_UUID)?.notify(value) ?? false;
  }

  onWrite(uuid: string, fn: (v: Uint8Array) => WriteOutcome): void {
    this.writes.set(uuid, fn);
  }

  onChange(fn: () => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  /** Tells the listeners when onAir or linked flipped since they last heard. */
  private changed(): void {
    const now = { onAir: this.onAir, linked: this.linked };
    if (now.onAir === this.reported.onAir && now.linked === this.reported.linked) return;
    this.reported = now;
    for (const fn of [...this.changeListeners]) fn();
  }

  // ---- lifecycle ----

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.retry);
    await this.work;
    const bus = this.bus;
    if (!bus) return;
    if (this.bluezOwner) {
      await Promise.allSettled([
        this.callBluez("org.bluez.LEAdvertisingManager1", "UnregisterAdvertisement", "o", [this.advertPath]),
        this.callBluez("org.bluez.GattManager1", "UnregisterApplication", "o", [this.root]),
      ]);
    }
    this.drop();
  }

  private get advertPath(): string {
    return `${this.root}/advertisement0`;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.work = this.work.then(() => this.ensure()).catch((e: unknown) => this.failed(e));
    }, ms);
  }

  private failed(e: unknown): void {
    this.stats.lastError = errorName(e) || (e instanceof Error ? e.message : String(e));
    this.opts.log?.(`BLE peripheral: ${this.stats.lastError}; retrying in ${this.backoffMs} ms`);
    this.schedule(this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
  }

  /** Brings the bus, the exported objects and both registrations up, as far as they go. */
  private async ensure(): Promise<void> {
    if (!this.running) return;
    const bus = this.bus ?? (await this.connect());
    if (!this.bluezOwner) {
      this.bluezOwner = await this.nameOwner(bus);
      if (!this.bluezOwner) throw new Error("BlueZ not running");
    }
    const [powered] = await this.callBluez("org.freedesktop.DBus.Properties", "Get", "ss", [
      "org.bluez.Adapter1",
      "Powered",
    ]);
    this.powered = (powered as InstanceType<typeof Variant> | undefined)?.value === true;
    if (!this.appRegistered) {
      await this.register("org.bluez.GattManager1", "RegisterApplication", this.root);
      this.appRegistered = true;
    }
    if (!this.advertRegistered) {
      await this.register("org.bluez.LEAdvertisingManager1", "RegisterAdvertisement", this.advertPath);
      this.advertRegistered = true;
    }
    this.backoffMs = 500;
    this.changed();
  }

  private async register(iface: string, member: string, path: string): Promise<void> {
    try {
      await this.callBluez(iface, member, "oa{sv}", [path, {}]);
      this.stats.registrations++;
    } catch (e) {
      // Ours from before (a reconnect that raced bluetoothd): it is registered.
      if (errorName(e) === "org.bluez.Error.AlreadyExists") return;
      this.stats.refusals++;
      throw e;
    }
  }

  private callBluez(iface: string, member: string, signature: string, body: unknown[]): Promise<unknown[]> {
    const bus = this.bus;
    if (!bus) return Promise.reject(new Error("no bus"));
    return callMethod(bus, {
      destination: "org.bluez",
      path: this.adapterPath,
      iface,
      member,
      signature,
      body,
    });
  }

  private async nameOwner(bus: MessageBus): Promise<string> {
    try {
      const [owner] = await callMethod(bus, {
        destination: "org.freedesktop.DBus",
        path: "/org/freedesktop/DBus",
        iface: "org.freedesktop.DBus",
        member: "GetNameOwner",
        signature: "s",
        body: ["org.bluez"],
      });
      return String(owner ?? "");
    } catch {
      return "";
    }
  }

  private async connect(): Promise<MessageBus> {
    const bus = await connectBus(this.opts.busAddress);
    this.bus = bus;
    const lost = () => {
      if (this.bus !== bus) return;
      this.opts.log?.("BLE peripheral: D-Bus connection lost");
      this.drop();
      this.schedule(this.backoffMs);
    };
    bus.on("error", lost);
    (bus as unknown as { _connection?: NodeJS.EventEmitter })._connection?.on("end", lost);
    bus.on("message", (msg) => this.signal(msg));
    bus.export(this.root, new ObjectManager(() => this.managedObjects()));
    for (const [path, iface] of this.objects) bus.export(path, iface);
    bus.export(this.advertPath, this.advert);
    await addMatch(
      bus,
      "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.bluez'",
    );
    await addMatch(
      bus,
      `type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',path='${this.adapterPath}'`,
    );
    return bus;
  }

  private managedObjects(): Record<string, Record<string, Record<string, InstanceType<typeof Variant>>>> {
    return Object.fromEntries(
      this.objects.map(([path, iface]) => [
        path,
        {
          [iface instanceof GattService ? "org.bluez.GattService1" : "org.bluez.GattCharacteristic1"]:
            iface.properties(),
        },
      ]),
    );
  }

  private signal(msg: { type: number; path: string; member: string; body: unknown[]; sender: string }): void {
    if (msg.type !== 4) return;
    if (msg.member === "NameOwnerChanged") {
      const [name, , owner] = msg.body as [string, string, string];
      if (name !== "org.bluez") return;
      this.bluezGone();
      if (owner) {
        this.stats.restarts++;
        this.schedule(0);
      }
      return;
    }
    if (msg.member === "PropertiesChanged" && msg.path === this.adapterPath) {
      const [iface, changed] = msg.body as [string, Record<string, InstanceType<typeof Variant>>];
      const p = changed.Powered;
      if (iface !== "org.bluez.Adapter1" || !p) return;
      this.powered = p.value === true;
      this.changed();
      if (this.powered) void this.refreshAdvert();
    }
  }

  /** Powered back on: register the advertisement afresh (a controller may not resume it by itself). */
  private async refreshAdvert(): Promise<void> {
    if (!this.advertRegistered) return this.schedule(0);
    await this.callBluez("org.bluez.LEAdvertisingManager1", "UnregisterAdvertisement", "o", [
      this.advertPath,
    ]).catch(() => {});
    this.advertRegistered = false;
    this.schedule(0);
  }

  private bluezGone(): void {
    this.bluezOwner = "";
    this.advertRegistered = false;
    this.appRegistered = false;
    this.powered = false;
    for (const c of this.chrcs.values()) c.reset();
    this.changed();
  }

  private drop(): void {
    const bus = this.bus;
    this.bus = undefined;
    this.bluezGone();
    if (!bus) return;
    bus.on("error", () => {});
    try {
      bus.disconnect();
    } catch {
      // already gone
    }
  }
}
