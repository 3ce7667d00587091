/**
 * The radio between the stand-in's hosts: every adapter of every host (the hub's bluetoothd, each
 * badge's own) is on one air. An advertisement goes out at its interval and is heard by every other
 * adapter that is powered, discovering and in range; a connection is a link between a central's
 * device object and a peripheral adapter, carrying GATT both ways.
 */
import type { DeviceObject, RemoteGatt } from "./device.js";

/** What one advertising event carries (advertising data plus the scan response). */
export interface Advert {
  manufacturerData: ReadonlyMap<number, Uint8Array>;
  localName: string | undefined;
  connectable: boolean;
}

/** An adapter as the air sees it. */
export interface AirRadio {
  readonly address: string;
  readonly powered: boolean;
  readonly discovering: boolean;
  /** Whether this radio is within range of the others (a badge walking away: false). */
  readonly inRange: boolean;
  /** The level the others hear this radio at. */
  readonly rssi: number;
  /** False: the radio answers no connection (hung firmware). */
  readonly connectable: boolean;
  /** This radio's local GATT database, served to centrals linked to it. */
  readonly gatt: RemoteGatt;
  /** An advert from another radio, heard here. */
  hear(from: AirRadio, advert: Advert): void;
  /** The advertisement a central would connect to, if this radio advertises connectably. */
  connectableAdvert(): boolean;
  /** A central connected: the peripheral side of the link. */
  linkUp(link: Link): void;
  linkDown(link: Link): void;
}

/** One LE connection: the hub's device object on one end, the badge's adapter on the other. */
export class Link {
  closed = false;
  /** ATT MTU both BlueZ ends agree on (BlueZ offers 517). */
  readonly mtu = 517;
  /** The central's Device1 path on the peripheral's host (the `device` option BlueZ passes). */
  peerPath = "";
  private supervision: NodeJS.Timeout | undefined;

  constructor(
    readonly air: Air,
    readonly central: DeviceObject,
    readonly peripheral: AirRadio,
  ) {}

  get remoteGatt(): RemoteGatt {
    return this.peripheral.gatt;
  }

  /** Either end drops the link: both sides hear of it once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.supervision);
    this.air.links.delete(this);
    this.peripheral.linkDown(this);
    this.central.linkLost();
  }

  /** One end left range: the link drops after the supervision timeout unless it comes back. */
  superviseRange(timeoutMs: number): void {
    if (this.closed || this.supervision) return;
    this.supervision = setTimeout(() => {
      this.supervision = undefined;
      if (!this.air.inRangeOf(this.central.adapter, this.peripheral)) this.close();
    }, timeoutMs);
  }
}

export class Air {
  private readonly radios = new Set<AirRadio>();
  readonly links = new Set<Link>();

  join(r: AirRadio): void {
    this.radios.add(r);
  }

  leave(r: AirRadio): void {
    this.radios.delete(r);
    for (const l of [...this.links]) if (l.peripheral === r || l.central.adapter === r) l.close();
  }

  find(address: string): AirRadio | undefined {
    for (const r of this.radios) if (r.address === address) return r;
    return undefined;
  }

  inRangeOf(a: AirRadio, b: AirRadio): boolean {
    return a.inRange && b.inRange;
  }

  /** One advertising event: every other powered, scanning radio in range hears it. */
  transmit(from: AirRadio, advert: Advert): void {
    if (!from.powered) return;
    for (const to of this.radios) {
      if (to === from || !to.powered || !to.discovering || !this.inRangeOf(from, to)) continue;
      to.hear(from, advert);
    }
  }

  /** A radio's range changed: links to it start their supervision timeout. */
  rangeChanged(r: AirRadio, supervisionMs: number): void {
    for (const l of this.links) {
      if (l.peripheral !== r && l.central.adapter !== r) continue;
      if (!this.inRangeOf(l.central.adapter, l.peripheral)) l.superviseRange(supervisionMs);
    }
  }

  /** Whether a connection from `central` to `peripheral` would be established now. */
  reachable(central: AirRadio, peripheral: AirRadio): boolean {
    return (
      central.powered &&
      peripheral.powered &&
      peripheral.connectable &&
      peripheral.connectableAdvert() &&
      this.inRangeOf(central, peripheral)
    );
  }

  connect(central: DeviceObject, peripheral: AirRadio): Link {
    const link = new Link(this, central, peripheral);
    this.links.add(link);
    peripheral.linkUp(link);
    return link;
  }
}
