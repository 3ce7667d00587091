/**
 * The D-Bus objects the badge exports to its bluetoothd: an org.bluez.LEAdvertisement1 carrying
 * the current short frame as ManufacturerData, and a GATT application (an ObjectManager root with
 * one GattService1 and its GattCharacteristic1 objects), as doc/org.bluez.GattManager.rst
 * describes. Values are Buffers; errors are BlueZ's (org.bluez.Error.*).
 */
import type { Variant as VariantT } from "dbus-next";
import type { WriteOutcome } from "../ble-radio.js";
import { bluezError, emitChanged, Interface, Variant } from "./dbus.js";

export class Advertisement extends Interface {
  private data: Uint8Array | undefined;

  constructor(
    private readonly companyId: number,
    private readonly localName: string,
    private readonly intervalMs: number,
    private readonly onRelease: () => void,
  ) {
    super("org.bluez.LEAdvertisement1");
  }
  get Type(): string {
    return "peripheral";
  }
  get ManufacturerData(): Record<number, VariantT> {
    return this.data ? { [this.companyId]: new Variant("ay", Buffer.from(this.data)) } : {};
  }
  get LocalName(): string {
    return this.localName;
  }
  get MinInterval(): number {
    return this.intervalMs;
  }
  get MaxInterval(): number {
    return this.intervalMs;
  }
  Release(): void {
    this.onRelease();
  }
  /** New manufacturer data: bluetoothd re-reads it from this PropertiesChanged. */
  setData(data: Uint8Array): void {
    this.data = data;
    emitChanged(this, { ManufacturerData: this.ManufacturerData }, []);
  }
}
Advertisement.configureMembers({
  properties: {
    Type: { signature: "s", access: "read" },
    ManufacturerData: { signature: "a{qv}", access: "read" },
    LocalName: { signature: "s", access: "read" },
    MinInterval: { signature: "u", access: "read" },
    MaxInterval: { signature: "u", access: "read" },
  },
  methods: { Release: { noReply: true } },
});

export class GattService extends Interface {
  constructor(private readonly uuid: string) {
    super("org.bluez.GattService1");
  }
  get UUID(): string {
    return this.uuid;
  }
  get Primary(): boolean {
    return true;
  }
  properties(): Record<string, VariantT> {
    return { UUID: new Variant("s", this.uuid), Primary: new Variant("b", true) };
  }
}
GattService.configureMembers({
  properties: { UUID: { signature: "s", access: "read" }, Primary: { signature: "b", access: "read" } },
});

export interface CharacteristicHandlers {
  write?: (value: Uint8Array) => WriteOutcome;
  subscribed?: (on: boolean) => void;
}

export class GattCharacteristic extends Interface {
  private value: Buffer = Buffer.alloc(0);
  notifying = false;

  constructor(
    private readonly uuid: string,
    private readonly service: string,
    private readonly flags: string[],
    private readonly handlers: CharacteristicHandlers,
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
  get Value(): Buffer {
    return this.value;
  }
  get Notifying(): boolean {
    return this.notifying;
  }
  properties(): Record<string, VariantT> {
    return {
      UUID: new Variant("s", this.uuid),
      Service: new Variant("o", this.service),
      Flags: new Variant("as", this.flags),
      ...(this.flags.includes("notify") ? { Notifying: new Variant("b", this.notifying) } : {}),
    };
  }
  ReadValue(options: Record<string, VariantT>): Buffer {
    if (!this.flags.includes("read")) throw bluezError("NotPermitted", "Read not permitted");
    const offset = Number(options.offset?.value ?? 0);
    if (offset > this.value.length) throw bluezError("InvalidOffset", "Invalid offset");
    return this.value.subarray(offset);
  }
  WriteValue(value: Buffer, options: Record<string, VariantT>): void {
    const write = this.handlers.write;
    if (!write) throw bluezError("NotPermitted", "Write not permitted");
    // Downlink messages are written whole; a long (offset) write is not one of ours.
    if (Number(options.offset?.value ?? 0) !== 0) throw bluezError("InvalidOffset", "Invalid offset");
    if (write(Uint8Array.from(value)) === "invalid_length")
      throw bluezError("InvalidValueLength", "Invalid value length");
  }
  StartNotify(): void {
    if (!this.flags.includes("notify")) throw bluezError("NotSupported", "Operation is not supported");
    if (this.notifying) return;
    this.notifying = true;
    emitChanged(this, { Notifying: true }, []);
    this.handlers.subscribed?.(true);
  }
  StopNotify(): void {
    if (!this.notifying) return;
    this.notifying = false;
    emitChanged(this, { Notifying: false }, []);
    this.handlers.subscribed?.(false);
  }
  /** bluetoothd went away: nobody is subscribed any more (it cannot call StopNotify). */
  reset(): void {
    if (this.notifying) this.StopNotify();
  }
  /** A notification to every subscribed central: a PropertiesChanged of Value. */
  notify(value: Uint8Array): boolean {
    if (!this.notifying) return false;
    this.value = Buffer.from(value);
    emitChanged(this, { Value: this.value }, []);
    return true;
  }
}
GattCharacteristic.configureMembers({
  properties: {
    UUID: { signature: "s", access: "read" },
    Service: { signature: "o", access: "read" },
    Flags: { signature: "as", access: "read" },
    Value: { signature: "ay", access: "read" },
    Notifying: { signature: "b", access: "read" },
  },
  methods: {
    ReadValue: { inSignature: "a{sv}", outSignature: "ay" },
    WriteValue: { inSignature: "aya{sv}" },
    StartNotify: {},
    StopNotify: {},
  },
});

type Managed = Record<string, Record<string, Record<string, VariantT>>>;

/** The application root: bluetoothd reads every service object through it. */
export class ObjectManager extends Interface {
  constructor(private readonly objects: () => Managed) {
    super("org.freedesktop.DBus.ObjectManager");
  }
  GetManagedObjects(): Managed {
    return this.objects();
  }
}
ObjectManager.configureMembers({
  methods: { GetManagedObjects: { outSignature: "a{oa{sa{sv}}}" } },
  signals: {
    InterfacesAdded: { signature: "oa{sa{sv}}" },
    InterfacesRemoved: { signature: "oas" },
  },
});
