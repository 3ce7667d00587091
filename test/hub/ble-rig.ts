/**
 * A BLE test rig: a private dbus-daemon, the BlueZ stand-in on it, a hub whose node-ble central
 * talks to it over that real bus, and badge firmware on light virtual boards whose radio is BlueZ's
 * peripheral API on a bluetoothd of its own (a stand-in host on the badge's own private bus, on the
 * same air as the hub's adapters).
 */
import { join } from "node:path";
import { Badge } from "../../firmware/badge/badge.js";
import { BleRadio } from "../../firmware/badge/ble-radio.js";
import { callMethod, connectBus, type MessageBus } from "../../firmware/badge/bluez/dbus.js";
import { Advertisement } from "../../firmware/badge/bluez/objects.js";
import { BluezPeripheral } from "../../firmware/badge/bluez/peripheral.js";
import { BADGE_PROFILE } from "../../hardware/profiles/badge.js";
import type { HostOptions } from "../../hardware/virtual/bluez/host.js";
import { PrivateBus } from "../../hardware/virtual/bluez/private-bus.js";
import { BluezStandIn, type VirtualHost } from "../../hardware/virtual/bluez/stand-in.js";
import { LightIO } from "../../hardware/virtual/light-io.js";
import type { Hub } from "../../hub/app.js";
import { DEFAULT_CONFIG, type HubConfig } from "../../hub/config/config.js";
import { COMPANY_ID, fromHex } from "../../protocol/index.js";
import { type SeededDevices, seed, startHub, tempDir } from "./helpers.js";

export interface RigBadge {
  badge: Badge;
  radio: BleRadio;
  /** The badge's radio: BlueZ's peripheral API on its own bluetoothd. */
  peripheral: BluezPeripheral;
  /** The badge's board as the air sees it: range, RSSI, whether it answers connections. */
  host: VirtualHost;
  io: LightIO;
  press(ms?: number): Promise<void>;
}

export interface BleRig {
  bus: PrivateBus;
  bluez: BluezStandIn;
  hub: Hub;
  seeded: SeededDevices;
  dir: string;
  /** A radio in range that advertises whatever manufacturer data it is given (through BlueZ). */
  rogue(address: string): Promise<Rogue>;
  /** Provisions another badge for engineer E1 (its key, for `addBadge({ device })`). */
  provisionBadge(id: string, badgeNo: number): Promise<{ id: string; badgeNo: number; key: string }>;
  addBadge(opts?: {
    address?: string;
    clock?: () => number;
    stateDir?: string;
    /** Another provisioned badge than the seeded one. */
    device?: { id: string; badgeNo: number; key: string };
    /** The badge's board, if the test made it already (its address wins). */
    host?: VirtualHost;
  }): Promise<RigBadge>;
  stop(): Promise<void>;
}

/** Fast presence for tests: rotations every 0.5 s, departure after at most 3 s of silence. */
export const FAST_BLE: HubConfig["ble"] = {
  ...DEFAULT_CONFIG.ble,
  mode: "bluez",
  siteId: "S1",
  connectTimeoutMs: 3000,
  dropAfterMs: 4000,
  presence: {
    silenceS: 3,
    minSilenceS: 1,
    minDwellS: 0,
    enterRssi: -85,
    exitRssi: -92,
    weakHoldS: 2,
    rotationS: 0.5,
  },
};

/** Someone's BLE board advertising frames of its choosing, through its own bluetoothd. */
export interface Rogue {
  host: VirtualHost;
  advertise(frame: Uint8Array): void;
  stop(): Promise<void>;
}

async function startRogue(host: VirtualHost): Promise<Rogue> {
  await host.ready;
  const bus: MessageBus = await connectBus(host.busAddress);
  const advert = new Advertisement(COMPANY_ID, "rogue", 100, () => {});
  bus.export("/rogue/advertisement0", advert);
  await callMethod(bus, {
    destination: "org.bluez",
    path: "/org/bluez/hci0",
    iface: "org.bluez.LEAdvertisingManager1",
    member: "RegisterAdvertisement",
    signature: "oa{sv}",
    body: ["/rogue/advertisement0", {}],
  });
  return {
    host,
    advertise: (frame) => advert.setData(frame),
    async stop() {
      bus.disconnect();
      await host.stop();
    },
  };
}

export async function startBleRig(
  opts: { ble?: Partial<HubConfig["ble"]>; standIn?: HostOptions } = {},
): Promise<BleRig> {
  const tmp = tempDir("onsite-ble-");
  const bus = await PrivateBus.start();
  const bluez = await BluezStandIn.start(bus.address, { connectFailMs: 500, ...opts.standIn });
  const hub = await startHub(tmp.path, {}, { ble: { ...FAST_BLE, busAddress: bus.address, ...opts.ble } });
  const seeded = await seed(hub);
  const badges: RigBadge[] = [];
  const rogues: Rogue[] = [];
  return {
    bus,
    bluez,
    hub,
    seeded,
    dir: tmp.path,
    async rogue(address) {
      const r = await startRogue(bluez.host(address));
      rogues.push(r);
      return r;
    },
    async provisionBadge(id, badgeNo) {
      const p = await hub.ctx.provisioning.provision({ id, kind: "badge", engineerId: "E1", badgeNo });
      return { id, badgeNo, key: p.key ?? "" };
    },
    async addBadge(o = {}) {
      const host = o.host ?? bluez.host(o.address ?? "C4:11:22:33:44:01");
      const who = o.device ?? seeded.badge;
      const key = fromHex(who.key);
      const peripheral = new BluezPeripheral({ busAddress: host.busAddress, advertIntervalMs: 200 });
      await host.ready;
      peripheral.start();
      const radio = new BleRadio(peripheral, { badgeNo: who.badgeNo, key, advertIntervalMs: 200 });
      const io = new LightIO();
      const badge = await Badge.start({
        io,
        profile: { ...BADGE_PROFILE, presenceIntervalS: 0.5 },
        deviceId: who.id,
        badgeNo: who.badgeNo,
        key,
        radio,
        stateDir: o.stateDir ?? join(tmp.path, `badge-${host.address.replaceAll(":", "")}`),
        ppe: ["helmet", "safety_shoes"],
        battery: () => 80,
        ...(o.clock ? { clock: o.clock } : {}),
      });
      const b: RigBadge = {
        badge,
        radio,
        peripheral,
        host,
        io,
        async press(ms = 40) {
          io.setInput(BADGE_PROFILE.button, true);
          await new Promise((r) => setTimeout(r, ms));
          io.setInput(BADGE_PROFILE.button, false);
          // A single press is known only once the double-press window has passed.
          await new Promise((r) => setTimeout(r, BADGE_PROFILE.doublePressMs + 50));
        },
      };
      badges.push(b);
      return b;
    },
    async stop() {
      for (const b of badges) {
        b.radio.stop();
        await b.badge.stop();
        await b.peripheral.stop();
      }
      for (const r of rogues) await r.stop();
      await hub.stop();
      await bluez.stopAll();
      await bus.stop();
      tmp.cleanup();
    },
  };
}

/** Provisions the rig's seeded badge, with the same number and key, on another hub (gateway mode). */
export async function provisionSameBadge(other: Hub, rig: BleRig): Promise<void> {
  await other.ctx.provisioning.provision({
    id: rig.seeded.badge.id,
    kind: "badge",
    engineerId: "E1",
    badgeNo: rig.seeded.badge.badgeNo,
    key: rig.seeded.badge.key,
  });
}
