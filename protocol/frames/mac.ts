import { createHmac, timingSafeEqual } from "node:crypto";

/** Domain separation: a MAC made for a badge frame is valid for nothing else. */
const DOMAIN = new TextEncoder().encode("onsite-ble-frame-v1");

/** HMAC-SHA256 over the domain tag and the frame bytes before the MAC, truncated to `length`. */
export function frameMac(key: Uint8Array, signed: Uint8Array, length: number): Uint8Array {
  const full = createHmac("sha256", key).update(DOMAIN).update(signed).digest();
  return new Uint8Array(full.buffer, full.byteOffset, length);
}

export function macMatches(key: Uint8Array, signed: Uint8Array, mac: Uint8Array): boolean {
  const expected = frameMac(key, signed, mac.length);
  return timingSafeEqual(expected, mac);
}
