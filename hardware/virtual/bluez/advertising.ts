/**
 * org.bluez.LEAdvertisingManager1 on one adapter, as bluetoothd's src/advertising.c serves it: an
 * application registers an object implementing org.bluez.LEAdvertisement1; bluetoothd reads its
 * properties (GetAll), refuses what does not parse or does not fit a legacy advertising packet
 * (org.bluez.Error.Failed "Failed to parse advertisement."), keys the registration by the caller's
 * unique name and path (AlreadyExists, DoesNotExist), allows SupportedInstances of them
 * (NotPermitted "Maximum advertisements reached"), follows later PropertiesChanged of the object,
 * drops it silently when the caller leaves the bus, and calls its Release only when bluetoothd
 * itself removes it (the adapter goes away, bluetoothd stops, the Timeout property runs out).
 * Powering the adapter off stops the advertising on the air but keeps the registration.
 */
import type { Variant as VariantT } from "dbus-next";
import {
  bluezError,
  callMethod,
  emitChanged,
  Interface,
  Message,
  Variant,
} from "../../../firmware/badge/bluez/dbus.js";
import type { Advert } from "./air.js";
import type { Host } from "./host.js";

const IFACE = "org.bluez.LEAdvertisement1";
/** Legacy advertising data and scan response: 31 bytes each. */
const MAX_ADV_LEN = 31;

type Props = Record<string, VariantT>;

/** What an advertisement object's properties say, once parsed. */
interface AdData {
  type: "broadcast" | "peripheral";
  manufacturerData: Map<number, Uint8Array>;
  serviceUuids: string[];
  localName: string | undefined;
  discoverable: boolean | undefined;
  minIntervalMs: number | undefined;
  maxIntervalMs: number | undefined;
  timeoutS: number;
}

interface Registration {
  owner: string;
  path: string;
  ad: AdData;
  timer: NodeJS.Timeout | undefined;
  expiry: NodeJS.Timeout | undefined;
  offs: Array<() => void>;
}

/** Applies one property to a registration, as src/advertising.c's parsers do; false: it does not parse. */
function parse(r: AdData, name: string, v: VariantT): boolean {
  const s = v.signature;
  switch (name) {
    case "Type":
      if (s !== "s" || (v.value !== "broadcast" && v.value !== "peripheral")) return false;
      r.type = v.value;
      return true;
    case "ManufacturerData": {
      if (s !== "a{qv}") return false;
      const out = new Map<number, Uint8Array>();
      for (const [k, inner] of Object.entries(v.value as Record<string, VariantT>)) {
        if (inner.signature !== "ay") return false;
        out.set(Number(k), Uint8Array.from(inner.value as Buffer));
      }
      r.manufacturerData = out;
      return true;
    }
    case "ServiceUUIDs":
      if (s !== "as") return false;
      r.serviceUuids = v.value as string[];
      return true;
    case "LocalName":
      if (s !== "s") return false;
      r.localName = (v.value as string) || undefined;
      return true;
    case "Discoverable":
      if (s !== "b") return false;
      r.discoverable = v.value as boolean;
      return true;
    case "MinInterval":
    case "MaxInterval": {
      if (s !== "u") return false;
      const ms = v.value as number;
      const slots = ms / 0.625;
      if (slots < 0x20 || slots > 0xffffff) return false;
      if (name === "MinInterval") r.minIntervalMs = ms;
      else r.maxIntervalMs = ms;
      return true;
    }
    case "Timeout":
    case "Duration":
    case "Appearance":
    case "DiscoverableTimeout":
      if (s !== "q") return false;
      if (name === "Timeout") r.timeoutS = v.value as number;
      return true;
    case "TxPower":
      return s === "n" && (v.value as number) >= -127 && (v.value as number) <= 20;
    default:
      return true;
  }
}

/** Bytes the advertising data takes: Flags (peripheral), manufacturer data, 128-bit service UUIDs. */
function advLength(r: AdData): number {
  let n = r.type === "peripheral" || r.discoverable ? 3 : 0;
  for (const d of r.manufacturerData.values()) n += 4 + d.length;
  if (r.serviceUuids.length > 0) n += 2 + 16 * r.serviceUuids.length;
  return n;
}

function valid(r: AdData): boolean {
  if (r.type === "broadcast" && r.discoverable) return false;
  if (r.minIntervalMs !== undefined && r.maxIntervalMs !== undefined && r.minIntervalMs > r.maxIntervalMs)
    return false;
  return advLength(r) <= MAX_ADV_LEN;
}

class ManagerIface extends Interface {
  constructor(private readonly m: AdvertisingManager) {
    super("org.bluez.LEAdvertisingManager1");
  }
  get ActiveInstances(): number {
    return this.m.active.length;
  }
  get SupportedInstances(): number {
    return this.m.maxInstances - this.m.active.length;
  }
  get SupportedIncludes(): string[] {
    return ["tx-power", "appearance", "local-name"];
  }
  get SupportedFeatures(): string[] {
    return [];
  }
  get SupportedCapabilities(): Record<string, VariantT> {
    return { MaxAdvLen: new Variant("y", MAX_ADV_LEN), MaxScnRspLen: new Variant("y", MAX_ADV_LEN) };
  }
  async RegisterAdvertisement(path: string, options: unknown): Promise<void> {
    await this.m.register(this.m.host.caller(), path, options);
  }
  UnregisterAdvertisement(path: string): void {
    this.m.unregister(this.m.host.caller(), path);
  }
}
ManagerIface.configureMembers({
  properties: {
    ActiveInstances: { signature: "y", access: "read" },
    SupportedInstances: { signature: "y", access: "read" },
    SupportedIncludes: { signature: "as", access: "read" },
    SupportedFeatures: { signature: "as", access: "read" },
    SupportedCapabilities: { signature: "a{sv}", access: "read" },
  },
  methods: {
    RegisterAdvertisement: { inSignature: "oa{sv}" },
    UnregisterAdvertisement: { inSignature: "o" },
  },
});

export class AdvertisingManager {
  readonly iface: InstanceType<typeof Interface>;
  readonly active: Registration[] = [];

  constructor(
    readonly host: Host,
    private readonly transmit: (a: Advert) => void,
    private readonly powered: () => boolean,
    readonly maxInstances: number,
    private readonly defaultIntervalMs: number,
  ) {
    this.iface = new ManagerIface(this);
  }

  private find(owner: string, path: string): Registration | undefined {
    return this.active.find((r) => r.owner === owner && r.path === path);
  }

  /** Whether a connectable (peripheral) advertisement is on the air now. */
  connectable(): boolean {
    return this.powered() && this.active.some((r) => r.ad.type === "peripheral");
  }

  async register(owner: string, path: string, options: unknown): Promise<void> {
    if (typeof options !== "object" || options === null)
      throw bluezError("InvalidArguments", "Invalid arguments in method call");
    if (this.find(owner, path)) throw bluezError("AlreadyExists", "Already Exists");
    if (this.active.length >= this.maxInstances)
      throw bluezError("NotPermitted", "Maximum advertisements reached");
    const r: Registration = {
      owner,
      path,
      ad: {
        type: "broadcast",
        manufacturerData: new Map(),
        serviceUuids: [],
        localName: undefined,
        discoverable: undefined,
        minIntervalMs: undefined,
        maxIntervalMs: undefined,
        timeoutS: 0,
      },
      timer: undefined,
      expiry: undefined,
      offs: [],
    };
    this.active.push(r);
    let props: Props;
    try {
      const [all] = await callMethod(this.host.bus, {
        destination: owner,
        path,
        iface: "org.freedesktop.DBus.Properties",
        member: "GetAll",
        signature: "s",
        body: [IFACE],
      });
      props = all as Props;
    } catch {
      this.forget(r);
      throw bluezError("Failed", "Failed to parse advertisement.");
    }
    if (!Object.entries(props).every(([k, v]) => parse(r.ad, k, v)) || !valid(r.ad)) {
      this.forget(r);
      throw bluezError("Failed", "Failed to parse advertisement.");
    }
    const off = this.host.watchClient(owner, r.path, (iface, changed) => {
      if (iface !== IFACE || !this.active.includes(r)) return;
      // A change that does not parse is dropped; what is on the air stays.
      const next: AdData = { ...r.ad, manufacturerData: new Map(r.ad.manufacturerData) };
      if (Object.entries(changed).every(([k, v]) => parse(next, k, v)) && valid(next)) r.ad = next;
    });
    r.offs.push(
      off,
      this.host.onClientGone(owner, () => this.forget(r)),
    );
    this.start(r);
    this.instancesChanged();
  }

  private start(r: Registration): void {
    const every = r.ad.minIntervalMs ?? this.defaultIntervalMs;
    const send = () => {
      if (this.powered()) this.transmit(this.advertOf(r));
    };
    // The controller starts advertising as soon as the instance is added.
    setImmediate(send);
    r.timer = setInterval(send, every);
    r.timer.unref();
    if (r.ad.timeoutS > 0) r.expiry = setTimeout(() => this.release(r), r.ad.timeoutS * 1000);
  }

  advertOf(r: Registration): Advert {
    const { manufacturerData, localName, type } = r.ad;
    return { manufacturerData, localName, connectable: type === "peripheral" };
  }

  unregister(owner: string, path: string): void {
    const r = this.find(owner, path);
    if (!r) throw bluezError("DoesNotExist", "Does Not Exist");
    this.forget(r);
  }

  private forget(r: Registration): void {
    const i = this.active.indexOf(r);
    if (i < 0) return;
    this.active.splice(i, 1);
    clearInterval(r.timer);
    clearTimeout(r.expiry);
    for (const off of r.offs) off();
    this.instancesChanged();
  }

  /** bluetoothd removes the advertisement itself: the application hears Release. */
  private release(r: Registration): void {
    this.forget(r);
    this.host.bus.send(
      new Message({
        destination: r.owner,
        path: r.path,
        interface: IFACE,
        member: "Release",
        flags: 1, // NO_REPLY_EXPECTED: Release is [noreply]
      }),
    );
  }

  /** The adapter goes away (bluetoothd stopping): every advertisement is released. */
  releaseAll(): void {
    for (const r of [...this.active]) this.release(r);
  }

  private instancesChanged(): void {
    emitChanged(
      this.iface,
      { ActiveInstances: this.active.length, SupportedInstances: this.maxInstances - this.active.length },
      [],
    );
  }
}
