/**
 * How the simulator's badges reach the hub: through a gateway over MQTT (GatewayRadio), or over
 * BLE: each badge's radio is BlueZ's peripheral API on a bluetoothd of its own (a BlueZ stand-in
 * host on a private bus, on the same air as the hub's adapters), exactly as on a badge's board.
 */
import { fromHex } from "../../protocol/index.js";
import { ADVERT_INTERVAL_MS, BleRadio } from "../badge/ble-radio.js";
import { BluezPeripheral } from "../badge/bluez/peripheral.js";
import type { BadgeRadio, GatewayRadio } from "../badge/radio.js";

export interface SimBadge {
  badgeNo: number;
  key: string;
}

export interface SimRadio {
  /** The radio one badge uses. */
  radioFor(badge: SimBadge): BadgeRadio;
  setInRange(badgeNo: number, inRange: boolean): void;
  stop(): Promise<void>;
}

export function gatewaySimRadio(gateway: GatewayRadio): SimRadio {
  return {
    radioFor: () => gateway,
    setInRange: (no, inRange) => gateway.setInRange(no, inRange),
    stop: () => gateway.stop(),
  };
}

/** A badge's board as the simulator moves it: its own D-Bus with a bluetoothd on it. */
export interface BadgeHost {
  readonly busAddress: string;
  /** Resolves once the board's D-Bus and bluetoothd run. */
  readonly ready: Promise<unknown>;
  setInRange(inRange: boolean): void;
  stop(): Promise<void>;
}

/** What the simulator needs of the BlueZ stand-in: a bluetoothd for each badge, on the hub's air. */
export interface PeripheralSource {
  host(address: string): BadgeHost;
}

/** A random static address (the two top bits of the first octet set) derived from the badge number. */
export function badgeAddress(badgeNo: number): string {
  const octets = [
    0xc0 | ((badgeNo >>> 24) & 0x3f),
    (badgeNo >>> 16) & 0xff,
    (badgeNo >>> 8) & 0xff,
    badgeNo & 0xff,
    0x5b,
    0x0e,
  ];
  return octets.map((x) => x.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

export function bleSimRadio(bluez: PeripheralSource, advertIntervalMs = ADVERT_INTERVAL_MS): SimRadio {
  const radios = new Map<number, { radio: BleRadio; peripheral: BluezPeripheral; host: BadgeHost }>();
  return {
    radioFor(badge) {
      let r = radios.get(badge.badgeNo);
      if (!r) {
        const host = bluez.host(badgeAddress(badge.badgeNo));
        // The badge program's radio, as on its board; it registers once its bluetoothd is up.
        const peripheral = new BluezPeripheral({ busAddress: host.busAddress, advertIntervalMs });
        // As on a board, where the badge's service starts after bluetooth.service.
        void host.ready.then(() => peripheral.start());
        const radio = new BleRadio(peripheral, {
          badgeNo: badge.badgeNo,
          key: fromHex(badge.key),
          advertIntervalMs,
        });
        r = { radio, peripheral, host };
        radios.set(badge.badgeNo, r);
      }
      return r.radio;
    },
    setInRange(no, inRange) {
      radios.get(no)?.host.setInRange(inRange);
    },
    async stop() {
      await Promise.all(
        [...radios.values()].map(async ({ radio, peripheral, host }) => {
          radio.stop();
          await peripheral.stop();
          await host.stop();
        }),
      );
    },
  };
}
