/**
 * org.bluez.GattManager1 on one adapter and the local GATT database behind it, as bluetoothd's
 * src/gatt-database.c does it: RegisterApplication reads the application's objects through its
 * ObjectManager (GetManagedObjects), keeps the GattService1/GattCharacteristic1 objects that parse
 * (org.bluez.Error.Failed "No object received" / "No valid service object found" otherwise), and
 * from then on serves connected centrals by calling the application over D-Bus: ReadValue and
 * WriteValue with the options BlueZ passes (device, link, mtu, offset), StartNotify for each
 * subscription and StopNotify when the last subscriber leaves or disconnects; a PropertiesChanged
 * of a characteristic's Value is sent as a notification to every subscribed central. The
 * application's D-Bus errors go on the air as ATT error codes (att.ts). An application that
 * leaves the bus, or whose ObjectManager signals InterfacesRemoved, is unregistered.
 */
import type { Variant as VariantT } from "dbus-next";
import { bluezError, callMethod, errorName, Interface, Variant } from "../../../firmware/badge/bluez/dbus.js";
import type { Link } from "./air.js";
import { ATT, AttError, attCodeOf } from "./att.js";
import type { Host } from "./host.js";

const SERVICE = "org.bluez.GattService1";
const CHRC = "org.bluez.GattCharacteristic1";
const KNOWN_FLAGS = new Set([
  "broadcast",
  "read",
  "write-without-response",
  "write",
  "notify",
  "indicate",
  "authenticated-signed-writes",
  "extended-properties",
  "reliable-write",
  "writable-auxiliaries",
  "encrypt-read",
  "encrypt-write",
  "encrypt-authenticated-read",
  "encrypt-authenticated-write",
  "secure-read",
  "secure-write",
  "authorize",
]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** GAP and GATT are bluetoothd's own. */
const RESERVED = ["00001800-0000-1000-8000-00805f9b34fb", "00001801-0000-1000-8000-00805f9b34fb"];

export interface LocalChrc {
  uuid: string;
  path: string;
  flags: string[];
  /** Declaration handle (the value is at handle + 1). */
  handle: number;
  app: App;
  /** Subscriptions from connected centrals (a CCC write each). */
  subscribers: Set<Link>;
}

export interface LocalService {
  uuid: string;
  path: string;
  primary: boolean;
  handle: number;
  chrcs: LocalChrc[];
}

interface App {
  owner: string;
  path: string;
  services: LocalService[];
  offs: Array<() => void>;
}

type Objects = Record<string, Record<string, Record<string, VariantT>>>;

const str = (v: VariantT | undefined, sig: string): string | undefined =>
  v?.signature === sig && typeof v.value === "string" ? v.value : undefined;

class ManagerIface extends Interface {
  constructor(private readonly db: GattDatabase) {
    super("org.bluez.GattManager1");
  }
  async RegisterApplication(path: string, options: unknown): Promise<void> {
    await this.db.register(this.db.host.caller(), path, options);
  }
  UnregisterApplication(path: string): void {
    this.db.unregister(this.db.host.caller(), path);
  }
}
ManagerIface.configureMembers({
  methods: {
    RegisterApplication: { inSignature: "oa{sv}" },
    UnregisterApplication: { inSignature: "o" },
  },
});

export class GattDatabase {
  readonly iface: InstanceType<typeof Interface>;
  private readonly apps: App[] = [];
  private nextHandle = 0x0010;

  constructor(
    readonly host: Host,
    readonly adapterPath: string,
    /** An application's services went away: links that used them are dropped. */
    private readonly servicesGone: () => void,
  ) {
    this.iface = new ManagerIface(this);
  }

  services(): LocalService[] {
    return this.apps.flatMap((a) => a.services);
  }

  async register(owner: string, path: string, options: unknown): Promise<void> {
    if (typeof options !== "object" || options === null)
      throw bluezError("InvalidArguments", "Invalid arguments in method call");
    if (this.apps.some((a) => a.owner === owner && a.path === path))
      throw bluezError("AlreadyExists", "Already Exists");
    const app: App = { owner, path, services: [], offs: [] };
    this.apps.push(app);
    let objects: Objects;
    try {
      const [managed] = await callMethod(this.host.bus, {
        destination: owner,
        path,
        iface: "org.freedesktop.DBus.ObjectManager",
        member: "GetManagedObjects",
      });
      objects = (managed ?? {}) as Objects;
    } catch {
      objects = {};
    }
    const mine = Object.entries(objects).filter(([p]) => p === path || p.startsWith(`${path}/`));
    if (mine.length === 0) return this.fail(app, "No object received");
    const services = this.parse(app, mine);
    if (!services) return this.fail(app, "No valid service object found");
    app.services = services;
    for (const s of services) {
      for (const c of s.chrcs) {
        app.offs.push(
          this.host.watchClient(owner, c.path, (iface, changed) => {
            const v = changed.Value;
            if (iface === CHRC && v?.signature === "ay") this.notify(c, Uint8Array.from(v.value as Buffer));
          }),
        );
      }
    }
    app.offs.push(
      this.host.onClientGone(owner, () => this.remove(app)),
      this.host.onInterfacesRemoved(owner, path, () => this.remove(app)),
    );
  }

  private fail(app: App, why: string): never {
    this.apps.splice(this.apps.indexOf(app), 1);
    throw bluezError("Failed", why);
  }

  /** The application's objects as services and characteristics; undefined if any does not parse. */
  private parse(
    app: App,
    objects: Array<[string, Record<string, Record<string, VariantT>>]>,
  ): LocalService[] | undefined {
    const services: LocalService[] = [];
    for (const [path, ifaces] of objects) {
      const s = ifaces[SERVICE];
      if (!s) continue;
      const uuid = str(s.UUID, "s");
      if (!uuid || !UUID.test(uuid) || RESERVED.includes(uuid.toLowerCase())) return undefined;
      if (s.Primary?.signature !== "b") return undefined;
      services.push({ uuid, path, primary: s.Primary.value === true, handle: 0, chrcs: [] });
    }
    for (const [path, ifaces] of objects) {
      const c = ifaces[CHRC];
      if (!c) continue;
      const uuid = str(c.UUID, "s");
      const service = services.find((x) => x.path === str(c.Service, "o"));
      const flags = c.Flags?.signature === "as" ? (c.Flags.value as string[]) : undefined;
      if (!uuid || !UUID.test(uuid) || !service || !flags?.every((f) => KNOWN_FLAGS.has(f))) return undefined;
      service.chrcs.push({ uuid, path, flags, handle: 0, app, subscribers: new Set() });
    }
    if (services.length === 0) return undefined;
    for (const s of services) {
      s.handle = this.nextHandle++;
      for (const c of s.chrcs) {
        c.handle = this.nextHandle;
        // declaration, value, and a CCC descriptor for notify/indicate
        this.nextHandle += c.flags.includes("notify") || c.flags.includes("indicate") ? 3 : 2;
      }
    }
    return services;
  }

  unregister(owner: string, path: string): void {
    const app = this.apps.find((a) => a.owner === owner && a.path === path);
    if (!app) throw bluezError("DoesNotExist", "Does Not Exist");
    this.remove(app);
  }

  private remove(app: App): void {
    const i = this.apps.indexOf(app);
    if (i < 0) return;
    this.apps.splice(i, 1);
    for (const off of app.offs) off();
    if (app.services.length > 0) this.servicesGone();
  }

  removeAll(): void {
    for (const a of [...this.apps]) this.remove(a);
  }

  // ---- serving a connected central ----

  private options(link: Link, offset: number): Record<string, VariantT> {
    return {
      device: new Variant("o", link.peerPath),
      ...(offset ? { offset: new Variant("q", offset) } : {}),
      link: new Variant("s", "LE"),
      mtu: new Variant("q", link.mtu),
    };
  }

  private async callApp(
    c: LocalChrc,
    member: string,
    signature: string,
    body: unknown[],
    permission: number,
  ): Promise<unknown[]> {
    try {
      return await callMethod(this.host.bus, {
        destination: c.app.owner,
        path: c.path,
        iface: CHRC,
        member,
        signature,
        body,
      });
    } catch (e) {
      throw new AttError(attCodeOf(errorName(e), permission));
    }
  }

  async read(link: Link, c: LocalChrc, offset: number): Promise<Uint8Array> {
    if (!c.flags.some((f) => f.endsWith("read"))) throw new AttError(ATT.READ_NOT_PERMITTED);
    const [value] = await this.callApp(
      c,
      "ReadValue",
      "a{sv}",
      [this.options(link, offset)],
      ATT.READ_NOT_PERMITTED,
    );
    if (!(value instanceof Uint8Array)) throw new AttError(ATT.REQUEST_NOT_SUPPORTED);
    return Uint8Array.from(value).subarray(0, 512);
  }

  async write(link: Link, c: LocalChrc, value: Uint8Array, offset: number): Promise<void> {
    if (!c.flags.some((f) => f.startsWith("write") || f.endsWith("-write") || f === "reliable-write"))
      throw new AttError(ATT.WRITE_NOT_PERMITTED);
    const body = [Buffer.from(value), this.options(link, offset)];
    // A characteristic that allows write-without-response is written without waiting for the app.
    if (c.flags.includes("write-without-response")) {
      void this.callApp(c, "WriteValue", "aya{sv}", body, ATT.WRITE_NOT_PERMITTED).catch(() => {});
      return;
    }
    await this.callApp(c, "WriteValue", "aya{sv}", body, ATT.WRITE_NOT_PERMITTED);
  }

  /** A central wrote the CCC: StartNotify on every enable (bluetoothd counts, the app need not). */
  subscribe(link: Link, c: LocalChrc): void {
    if (!c.flags.includes("notify") && !c.flags.includes("indicate"))
      throw new AttError(ATT.CCC_IMPROPERLY_CONFIGURED);
    if (c.subscribers.has(link)) return;
    c.subscribers.add(link);
    void this.callApp(c, "StartNotify", "", [], ATT.UNLIKELY).catch(() => {});
  }

  unsubscribe(link: Link, c: LocalChrc): void {
    if (!c.subscribers.delete(link) || c.subscribers.size > 0) return;
    void this.callApp(c, "StopNotify", "", [], ATT.UNLIKELY).catch(() => {});
  }

  /** The central disconnected: its subscriptions end (StopNotify when it was the last). */
  disconnected(link: Link): void {
    for (const s of this.services()) for (const c of s.chrcs) this.unsubscribe(link, c);
  }

  private notify(c: LocalChrc, value: Uint8Array): void {
    for (const link of c.subscribers) link.central.notified(c.handle, value.subarray(0, link.mtu - 3));
  }
}
