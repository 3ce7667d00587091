/**
 * The hub's BLE central: node-ble over BlueZ (D-Bus).
 *
 * - Discovery on the configured adapters (LE, duplicates reported). A device is a badge when its
 *   manufacturer data under COMPANY_ID holds a frame that verifies; addresses mean nothing (badges
 *   use random ones).
 * - Adverts: node-ble has no event for them, so each device object's PropertiesChanged is watched
 *   on D-Bus; every new ManufacturerData is a frame for ingest (verify, dedupe, store, presence).
 * - GATT: a badge heard recently gets a link (up to `maxLinks`): notifications of the event
 *   characteristic go to ingest, each answered with a signed ack once stored (or found a
 *   duplicate, or refused); a signed time sync on every link; the hub's signals for the badge are
 *   written to it. Connects run side by side, each with its own timeout; a badge that fails keeps
 *   backing off, and one that has not answered for `dropAfterMs` is dropped until it has been out
 *   of earshot and returns.
 * - Faults: D-Bus gone, BlueZ restarted, adapter powered off. Each is logged once, shown in
 *   `/healthz` (key "ble") and retried; nothing here touches MQTT, which keeps running.
 *
 * Which badge gets a link when (slots, rotation, backoff, dropping and forgiving, held signals,
 * time-sync cadence) is decided by the pure LinkPolicy (link-policy.ts), the bus' back-off and
 * what the health entry says and logs by supervision.ts (pure too); the GATT operations are in
 * gatt.ts. This class does the D-Bus I/O and ties them together.
 */
import {
  type AckStatus,
  COMPANY_ID,
  type DeviceCommand,
  type encodeDownlink,
  HEADER_LENGTH,
  peekFrame,
} from "../../../protocol/index.js";
import type { Bus } from "../../bus.js";
import type { FrameOutcome, FrameSink, Reception } from "../../core/intake.js";
import { type Clock, systemClock } from "../../core/ports.js";
import type { Logger } from "../../log.js";
import type { Metrics } from "../../metrics.js";
import { disconnect, errText, type GattLink, openGatt, release, withTimeout, writeSigned } from "./gatt.js";
import { type Heard, LINK_TIMING, LinkPolicy, type LinkState, type Signal } from "./link-policy.js";
import {
  type Adapter,
  type Bluetooth,
  bluetoothOn,
  type Device,
  type GattCharacteristic,
  type MessageBus,
  openBus,
  Variant,
} from "./node-ble.js";
import { BusSupervision, healthNote, healthyDetail, STARTING } from "./supervision.js";

export type { FrameSink };

export interface BleCentralOptions {
  /** D-Bus address of the bus BlueZ is on; undefined: the system bus. */
  busAddress?: string;
  /** Adapters to use (e.g. ["hci0"]); empty: every adapter BlueZ has. */
  adapters: string[];
  /** Presence and frames are recorded as heard by this gateway id. */
  gatewayId: string;
  /** How often the central checks the bus, BlueZ, adapters and devices. */
  pollMs: number;
  connect: {
    enabled: boolean;
    maxLinks: number;
    timeoutMs: number;
    /** A badge that has not answered for this long is dropped (until it leaves and returns). */
    dropAfterMs: number;
    /** Only badges heard within this long get a link; a dropped badge silent this long is forgiven. */
    heardWithinMs: number;
    /** Each GATT read or write. */
    opTimeoutMs: number;
  };
}

export const DEFAULT_CENTRAL: Omit<BleCentralOptions, "gatewayId"> = {
  adapters: [],
  pollMs: 1000,
  connect: {
    enabled: true,
    maxLinks: 5,
    timeoutMs: 10_000,
    dropAfterMs: 60_000,
    heardWithinMs: 6_000,
    opTimeoutMs: 5_000,
  },
};

export interface BleCentralDeps {
  sink: FrameSink;
  bus: Bus;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  health: Map<string, { ok: boolean; detail?: string }>;
  /** Every frame that verified (for gateway mode's forwarding). */
  onVerified?: (bytes: Uint8Array, rx: Reception, outcome: FrameOutcome) => void;
}

interface Watch {
  path: string;
  adapter: string;
  address: string;
  rssi: number | null;
  off: () => void;
  badge?: { device: string; no: number };
  lastHeard: number;
  /** The newest counter verified from this device (echoed in time syncs). */
  counter: number;
}

/** The I/O side of one badge's link: node-ble's objects and the queue of its GATT operations. */
interface Conn {
  ble: Device | undefined;
  /** Every node-ble object of the link (device, GATT server, services, characteristics), to release. */
  held: object[];
  ack: GattCharacteristic | undefined;
  signal: GattCharacteristic | undefined;
  time: GattCharacteristic | undefined;
  watch: Watch | undefined;
  queue: Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PropsProxy {
  on(ev: "PropertiesChanged", fn: (iface: string, changed: Record<string, { value: unknown }>) => void): void;
  removeAllListeners(ev: string): void;
  GetAll(iface: string): Promise<Record<string, { value: unknown }>>;
}

export class BleCentral {
  private dbus: MessageBus | undefined;
  private bt: Bluetooth | undefined;
  private bluezOwner: string | undefined;
  private readonly adapters = new Map<string, { adapter: Adapter; discovering: boolean }>();
  private readonly watches = new Map<string, Watch>();
  private readonly policy: LinkPolicy;
  private readonly conns = new Map<string, Conn>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  /** The bus' back-off runs on real time, whatever clock the hub's rules see. */
  private readonly supervision = new BusSupervision(systemClock);
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly deps: BleCentralDeps,
    private readonly opts: BleCentralOptions,
  ) {
    const c = opts.connect;
    this.policy = new LinkPolicy(
      {
        enabled: c.enabled,
        maxLinks: c.maxLinks,
        dropAfterMs: c.dropAfterMs,
        heardWithinMs: c.heardWithinMs,
        ...LINK_TIMING,
      },
      deps.clock,
    );
  }

  private conn(device: string): Conn {
    let c = this.conns.get(device);
    if (!c) {
      c = {
        ble: undefined,
        held: [],
        ack: undefined,
        signal: undefined,
        time: undefined,
        watch: undefined,
        queue: Promise.resolve(),
      };
      this.conns.set(device, c);
    }
    return c;
  }

  async start(): Promise<void> {
    this.offs.push(
      this.deps.bus.on("device.command", ({ device, command }) => this.command(device, command)),
    );
    this.deps.metrics.onCollect(() => {
      this.deps.metrics.set("onsite_ble_links", "GATT links up", this.policy.linked().length);
      this.deps.metrics.set("onsite_ble_devices", "BLE devices watched", this.watches.size);
    });
    this.health(false, STARTING);
    await this.supervise();
    this.timer = setInterval(() => void this.supervise(), this.opts.pollMs);
    this.timer.unref();
  }

  private healthy(): void {
    this.health(true, healthyDetail(this.adapters.size, this.linkedBadges().length));
  }

  /** Sets the "ble" health entry; logs when it turns bad, changes while bad, or recovers. */
  private health(ok: boolean, detail: string): void {
    const note = healthNote(this.deps.health.get("ble"), ok, detail);
    this.deps.health.set("ble", { ok, detail });
    if (note === "up") this.deps.log.info({ detail }, "BLE up");
    else if (note === "recovered") this.deps.log.info({ detail }, "BLE recovered");
    else if (note === "degraded") this.deps.log.warn({ detail }, "BLE degraded");
  }

  /** Links currently up, by badge device id (for status and tests). */
  linkedBadges(): string[] {
    return this.policy.linked();
  }

  // ---- supervision: bus, BlueZ, adapters, devices, links ----

  private async supervise(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const problem = await this.check();
      if (problem) this.health(false, problem);
      else this.healthy();
    } catch (e) {
      this.health(false, errText(e));
    } finally {
      this.running = false;
    }
  }

  private async check(): Promise<string | undefined> {
    const now = this.deps.clock.now();
    if (!this.dbus) {
      if (!this.supervision.mayConnect()) return this.supervision.waiting(this.deps.health.get("ble"));
      try {
        await this.connectBus();
        this.supervision.connected();
      } catch (e) {
        this.supervision.failed();
        this.teardown();
        return `D-Bus unavailable: ${errText(e)}`;
      }
    }
    const bt = this.bt as Bluetooth;
    let owner: string;
    try {
      owner = await withTimeout(this.nameOwner(), 3000, "GetNameOwner");
    } catch (e) {
      if ((e as { type?: string }).type === undefined) {
        // No D-Bus reply at all: the bus itself is gone.
        this.teardown();
        return `D-Bus unavailable: ${errText(e)}`;
      }
      this.forgetBluez();
      return `BlueZ not running (${errText(e)})`;
    }
    if (owner !== this.bluezOwner) {
      if (this.bluezOwner !== undefined)
        this.deps.log.warn("BlueZ restarted: rebuilding discovery and links");
      this.forgetBluez();
      this.bluezOwner = owner;
    }
    const names = await withTimeout(bt.adapters(), 3000, "list adapters");
    const wanted = this.opts.adapters.length > 0 ? this.opts.adapters : names;
    const problems: string[] = [];
    for (const name of wanted) {
      if (!names.includes(name)) {
        problems.push(`adapter ${name} missing`);
        this.dropAdapter(name);
        continue;
      }
      let entry = this.adapters.get(name);
      if (!entry) {
        entry = { adapter: await bt.getAdapter(name), discovering: false };
        this.adapters.set(name, entry);
      }
      if (!(await withTimeout(entry.adapter.isPowered(), 3000, "adapter state"))) {
        problems.push(`adapter ${name} powered off`);
        if (entry.discovering) this.deps.log.warn({ adapter: name }, "adapter powered off");
        entry.discovering = false;
        this.dropLinks(name);
        continue;
      }
      if (!entry.discovering || !(await entry.adapter.isDiscovering())) {
        await this.startDiscovery(name);
        entry.discovering = true;
      }
      await this.syncDevices(name, entry.adapter, now);
    }
    this.connectSome();
    for (const link of this.policy.timeSyncsDue()) {
      const c = this.conn(link.device);
      c.queue = c.queue.then(() => this.syncTime(link));
    }
    return problems.length > 0 ? problems.join("; ") : undefined;
  }

  private async connectBus(): Promise<void> {
    const bus = openBus(this.opts.busAddress);
    // dbus-next connects lazily and reports a refused socket as an "error" event.
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          bus.once("error", reject);
          bus.once("connect", () => resolve());
        }),
        3000,
        "D-Bus connect",
      );
    } catch (e) {
      bus.on("error", () => {});
      try {
        bus.disconnect();
      } catch {
        // never connected
      }
      throw e;
    }
    const lost = (e: unknown) => {
      if (this.dbus !== bus) return;
      this.deps.log.warn({ err: errText(e) }, "D-Bus connection lost");
      this.teardown();
    };
    bus.on("error", lost);
    (bus as unknown as { _connection?: NodeJS.EventEmitter })._connection?.on("end", () =>
      lost(new Error("bus closed")),
    );
    this.dbus = bus;
    this.bt = bluetoothOn(bus);
  }

  private daemon: { bus: MessageBus; iface: { GetNameOwner(n: string): Promise<string> } } | undefined;

  private async nameOwner(): Promise<string> {
    const dbus = this.dbus as MessageBus;
    if (this.daemon?.bus !== dbus) {
      const obj = await dbus.getProxyObject("org.freedesktop.DBus", "/org/freedesktop/DBus");
      this.daemon = {
        bus: dbus,
        iface: obj.getInterface("org.freedesktop.DBus") as unknown as {
          GetNameOwner(n: string): Promise<string>;
        },
      };
    }
    return this.daemon.iface.GetNameOwner("org.bluez");
  }

  private async startDiscovery(name: string): Promise<void> {
    const obj = await (this.dbus as MessageBus).getProxyObject("org.bluez", `/org/bluez/${name}`);
    const a = obj.getInterface("org.bluez.Adapter1") as unknown as {
      SetDiscoveryFilter(f: Record<string, unknown>): Promise<void>;
      StartDiscovery(): Promise<void>;
    };
    // DuplicateData: report every advert, not only the first from each address.
    await a.SetDiscoveryFilter({ Transport: new Variant("s", "le"), DuplicateData: new Variant("b", true) });
    try {
      await a.StartDiscovery();
    } catch (e) {
      if (!/InProgress/.test(`${(e as { type?: string }).type ?? ""} ${errText(e)}`)) throw e;
    }
    this.deps.log.info({ adapter: name }, "BLE discovery started");
  }

  private async syncDevices(adapterName: string, adapter: Adapter, now: number): Promise<void> {
    const addresses = await withTimeout(adapter.devices(), 3000, "list devices");
    const paths = new Set(addresses.map((a) => `/org/bluez/${adapterName}/dev_${a.replaceAll(":", "_")}`));
    for (const [path, w] of this.watches) {
      if (w.adapter === adapterName && !paths.has(path)) this.unwatch(path);
    }
    addresses.forEach((address) => {
      const path = `/org/bluez/${adapterName}/dev_${address.replaceAll(":", "_")}`;
      if (!this.watches.has(path)) void this.watch(path, adapterName, address, now);
    });
  }

  private async watch(path: string, adapter: string, address: string, now: number): Promise<void> {
    const w: Watch = { path, adapter, address, rssi: null, off: () => {}, lastHeard: now, counter: -1 };
    this.watches.set(path, w);
    try {
      const obj = await (this.dbus as MessageBus).getProxyObject("org.bluez", path);
      const props = obj.getInterface("org.freedesktop.DBus.Properties") as unknown as PropsProxy;
      props.on("PropertiesChanged", (iface, changed) => {
        if (iface === "org.bluez.Device1") this.changed(w, changed);
      });
      w.off = () => props.removeAllListeners("PropertiesChanged");
      if (this.watches.get(path) !== w) return w.off();
      this.changed(w, await props.GetAll("org.bluez.Device1"));
    } catch (e) {
      this.deps.log.debug({ path, err: errText(e) }, "device vanished while being watched");
      this.unwatch(path);
    }
  }

  private unwatch(path: string): void {
    const w = this.watches.get(path);
    if (!w) return;
    w.off();
    this.watches.delete(path);
  }

  private changed(w: Watch, changed: Record<string, { value: unknown }>): void {
    if (changed.RSSI) w.rssi = Number(changed.RSSI.value);
    if (changed.Connected && changed.Connected.value === false) {
      const link = w.badge && this.policy.get(w.badge.device);
      if (link && link.address === w.address && link.state === "up") this.linkDown(link, "disconnected");
    }
    const md = changed.ManufacturerData?.value as Record<string, { value: unknown }> | undefined;
    const ours = md?.[String(COMPANY_ID)]?.value;
    if (!(ours instanceof Uint8Array)) return;
    const bytes = Uint8Array.from(ours);
    if (bytes.length < HEADER_LENGTH) {
      this.deps.metrics.inc(
        "onsite_ble_foreign_adverts_total",
        "Adverts under our company id too short for a frame",
      );
      return;
    }
    void this.frame(bytes, w, "advert");
  }

  private async frame(bytes: Uint8Array, w: Watch, kind: "advert" | "gatt"): Promise<FrameOutcome> {
    const rx: Reception = { at: this.deps.clock.now(), gateway: this.opts.gatewayId, rssi: w.rssi };
    this.deps.metrics.inc("onsite_ble_frames_total", "Badge frames received over BLE", { kind });
    const outcome = await this.deps.sink.submitFrame(bytes, rx);
    // A refused frame (replayed, revoked) says nothing about who is here, even if it verified.
    if (outcome.badge && outcome.status !== "rejected") {
      const first = w.badge === undefined;
      w.badge = outcome.badge;
      if (outcome.counter !== undefined) w.counter = Math.max(w.counter, outcome.counter);
      w.lastHeard = rx.at;
      this.deps.onVerified?.(bytes, rx, outcome);
      // A badge just found need not wait for the next supervision tick for its link.
      if (first && this.dbus && !this.stopped) this.connectSome();
    }
    return outcome;
  }

  // ---- GATT links ----

  private connectSome(): void {
    const heard: Heard[] = [...this.watches.values()].flatMap((w) =>
      w.badge
        ? [
            {
              key: w.path,
              device: w.badge.device,
              badgeNo: w.badge.no,
              address: w.address,
              adapter: w.adapter,
              lastHeard: w.lastHeard,
              scanning: this.adapters.get(w.adapter)?.discovering === true,
            },
          ]
        : [],
    );
    for (const { connect, via, release } of this.policy.plan(heard)) {
      if (release) this.released(release);
      const w = this.watches.get(via.key);
      if (w) void this.connect(connect, w);
    }
  }

  /** The policy gave this idle link's slot to a waiting badge. */
  private released(link: LinkState): void {
    this.deps.log.debug({ badge: link.device }, "releasing an idle GATT link for a waiting badge");
    const ble = this.conn(link.device).ble;
    this.afterDown(link, "released for a waiting badge");
    void disconnect(ble);
  }

  private async connect(link: LinkState, w: Watch): Promise<void> {
    const c = this.opts.connect;
    const conn = this.conn(link.device);
    const started = this.deps.clock.now();
    let opened: GattLink | undefined;
    try {
      const entry = this.adapters.get(link.adapter);
      if (!entry) throw new Error(`adapter ${link.adapter} gone`);
      opened = await openGatt(entry.adapter, link.address, c, (bytes) => {
        conn.queue = conn.queue.then(() => this.gattFrame(link, w, bytes));
      });
      const d = opened.device;
      d.on("disconnect", () => this.linkDown(link, "disconnected"));
      conn.ack = opened.ack;
      conn.signal = opened.signal;
      conn.ble = d;
      conn.held = opened.held;
      this.policy.up(link);
      this.deps.metrics.inc("onsite_ble_links_total", "GATT links established");
      this.deps.log.info({ badge: link.device, address: link.address }, "badge linked over GATT");
      if (this.deps.health.get("ble")?.ok) this.healthy();
      conn.time = opened.time;
      conn.watch = w;
      await this.syncTime(link);
      const held = this.policy.takeHeld(link.device);
      if (held) this.sendSignal(link, held);
    } catch (e) {
      // Only a badge still heard while it refused counts towards dropping it; one that went out of
      // range is simply not there.
      const dropped = this.policy.failed(link, started, w.lastHeard >= started);
      this.deps.metrics.inc("onsite_ble_link_failures_total", "GATT link attempts that failed");
      this.deps.log.debug(
        { badge: link.device, err: errText(e), attempt: link.attempts },
        "GATT link failed",
      );
      if (dropped) {
        this.deps.metrics.inc("onsite_ble_badges_dropped_total", "Badges dropped after not answering");
        this.deps.log.warn(
          { badge: link.device, attempts: link.attempts },
          "badge does not answer GATT: dropped until it leaves and returns",
        );
      }
      // openGatt let go of what it made if it failed; a failure after it lets go of the link.
      if (opened) {
        release(opened.held);
        void disconnect(opened.device);
      }
    }
  }

  /** A signed time sync, echoing the newest counter heard from the badge. */
  private async syncTime(link: LinkState): Promise<void> {
    const conn = this.conn(link.device);
    const w = conn.watch;
    if (!conn.time || !w || w.counter < 0) return;
    this.policy.timeSynced(link);
    await this.write(link, conn.time, {
      type: "time",
      badge: link.badgeNo,
      hubTime: this.deps.clock.now(),
      counter: w.counter,
    });
  }

  private linkDown(link: LinkState, why: string): void {
    if (this.policy.down(link)) this.afterDown(link, why);
  }

  /** The link is down in the policy: let go of its node-ble objects. */
  private afterDown(link: LinkState, why: string): void {
    const conn = this.conn(link.device);
    release([...conn.held, ...(conn.ble ? [conn.ble] : [])]);
    conn.held = [];
    conn.ble = undefined;
    conn.ack = undefined;
    conn.signal = undefined;
    conn.time = undefined;
    this.deps.log.info({ badge: link.device, why }, "GATT link down");
    if (this.deps.health.get("ble")?.ok) this.healthy();
  }

  private async gattFrame(link: LinkState, w: Watch, bytes: Uint8Array): Promise<void> {
    let counter: number;
    try {
      counter = peekFrame(bytes).counter;
    } catch {
      counter = -1;
    }
    this.policy.active(link);
    const outcome = await this.frame(bytes, w, "gatt");
    const status: AckStatus = outcome.status;
    // A frame refused for a reason other than its content (unknown badge, bad MAC) is not acked:
    // without the badge's key there is nothing the badge would believe.
    const ack = this.conn(link.device).ack;
    if (counter < 0 || !ack) return;
    await this.write(link, ack, { type: "ack", badge: link.badgeNo, counter, status });
  }

  private async write(
    link: LinkState,
    ch: GattCharacteristic,
    msg: Parameters<typeof encodeDownlink>[0],
  ): Promise<boolean> {
    const key = await this.deps.sink.keyOfBadge(link.badgeNo);
    if (!key) return false;
    try {
      await writeSigned(ch, msg, key, this.opts.connect.opTimeoutMs);
      this.deps.metrics.inc("onsite_ble_writes_total", "Signed writes to badges", { type: msg.type });
      return true;
    } catch (e) {
      this.deps.log.warn({ badge: link.device, err: errText(e) }, `writing ${msg.type} failed`);
      void disconnect(this.conn(link.device).ble);
      this.linkDown(link, `write ${msg.type} failed`);
      return false;
    }
  }

  private command(device: string, command: DeviceCommand): void {
    if (command.type !== "signal") return;
    const link = this.policy.get(device);
    if (link?.state !== "up" || !this.conns.get(device)?.signal) {
      // Not linked now: the newest signal waits for the next link, while it still means something.
      this.policy.hold(device, command);
      return;
    }
    this.sendSignal(link, command);
  }

  private sendSignal(link: LinkState, command: Signal): void {
    const conn = this.conn(link.device);
    const signal = conn.signal;
    if (!signal) return;
    const seq = this.policy.nextSignalSeq(link);
    conn.queue = conn.queue.then(async () => {
      await this.write(link, signal, {
        type: "signal",
        badge: link.badgeNo,
        seq,
        pattern: command.pattern,
        repeat: Math.min(command.repeat, 255),
      });
    });
  }

  // ---- teardown ----

  private dropLinks(adapter?: string): void {
    for (const link of this.policy.adapterDown(adapter)) this.afterDown(link, "adapter down");
  }

  private dropAdapter(name: string): void {
    this.adapters.delete(name);
    this.dropLinks(name);
    for (const [path, w] of this.watches) if (w.adapter === name) this.unwatch(path);
  }

  private forgetBluez(): void {
    for (const name of [...this.adapters.keys()]) this.dropAdapter(name);
    this.bluezOwner = undefined;
  }

  private teardown(): void {
    this.forgetBluez();
    const bus = this.dbus;
    this.dbus = undefined;
    this.bt = undefined;
    if (bus) {
      bus.removeAllListeners("error");
      bus.on("error", () => {});
      try {
        bus.disconnect();
      } catch {
        // already broken
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const off of this.offs) off();
    while (this.running) await sleep(20);
    await Promise.all(
      this.policy.all().map((l) => {
        const ble = this.conns.get(l.device)?.ble;
        return l.state === "up" && ble ? disconnect(ble, 2000) : undefined;
      }),
    );
    for (const c of this.conns.values()) await c.queue.catch(() => {});
    this.teardown();
    this.deps.health.delete("ble");
  }
}
