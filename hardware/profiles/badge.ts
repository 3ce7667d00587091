/** The engineer's badge: one button, an LED and a buzzer; a BLE radio (see firmware/badge/radio.ts). */
export interface BadgeProfile {
  board: string;
  /** Pressed reads HIGH (pull-down). Short press: next step; double press: late notice; long press: SOS. */
  button: number;
  led: number;
  buzzer: number;
  longPressMs: number;
  doublePressMs: number;
  /**
   * Seconds between newly signed presence frames while in range (each is advertised until the
   * next; the hub's presence tracking counts rotations by the frame counter).
   */
  presenceIntervalS: number;
  /** Frames kept while out of range; the oldest is dropped (and counted) beyond this. */
  queueLimit: number;
}

export const BADGE_PROFILE: BadgeProfile = {
  board: "Arduino-compatible BLE board (nRF52840), StandardFirmata",
  button: 2,
  led: 13,
  buzzer: 8,
  longPressMs: 2000,
  doublePressMs: 500,
  presenceIntervalS: 2,
  queueLimit: 256,
};
