/**
 * How the simulator's badges reach the hub: through a gateway over MQTT (GatewayRadio), or over
 * BLE through the BlueZ stand-in (each badge a peripheral the hub's node-ble central discovers).
 */
import { fromHex } from "../../protocol/index.js";
import { ADVERT_INTERVAL_MS, type BlePeripheral, BleRadio } from "../badge/ble-radio.js";
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

/** What the simulator needs of the BlueZ stand-in: a peripheral per badge. */
export interface PeripheralSource {
  peripheral(address: string): BlePeripheral & { setInRange(inRange: boolean): void };
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
  const radios = new Map<number, { radio: BleRadio; p: ReturnType<PeripheralSource["peripheral"]> }>();
  return {
    radioFor(badge) {
      let r = radios.get(badge.badgeNo);
      if (!r) {
        const p = bluez.peripheral(badgeAddress(badge.badgeNo));
        p.setInRange(true);
        const radio = new BleRadio(p, { badgeNo: badge.badgeNo, key: fromHex(badge.key), advertIntervalMs });
        radio.start();
        r = { radio, p };
        radios.set(badge.badgeNo, r);
      }
      return r.radio;
    },
    setInRange(no, inRange) {
      radios.get(no)?.p.setInRange(inRange);
    },
    async stop() {
      for (const { radio, p } of radios.values()) {
        radio.stop();
        p.setInRange(false);
      }
    },
  };
}
