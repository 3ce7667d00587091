/**
 * The engineer's badge: a Raspberry Pi Zero 2 W with one button, an LED and a buzzer on GPIO, and
 * its BLE radio through BlueZ (docs/hardware.md). Pins are GPIO lines (BCM numbers), which is how
 * the badge's IO plugin (hardware/linux/kernel-io.ts) and the virtual boards name them.
 */
export interface BadgeProfile {
  board: string;
  /** Pressed reads HIGH. Short press: next step; double press: late notice; long press: SOS. */
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
  board: "Raspberry Pi Zero 2 W (GPIO by BCM number)",
  button: 17,
  led: 27,
  buzzer: 22,
  longPressMs: 2000,
  doublePressMs: 500,
  presenceIntervalS: 2,
  queueLimit: 256,
};

/**
 * How the kernel exposes those pins on the badge (the device-tree overlays in docs/hardware.md):
 * the button is a gpio-keys key reporting BTN_0 (a button code, so no console takes it for typing),
 * the LED and the buzzer are leds-gpio LEDs.
 */
export const BADGE_KERNEL = {
  button: { gpio: BADGE_PROFILE.button, code: 0x100, inputName: "button@11" },
  led: { gpio: BADGE_PROFILE.led, label: "badge-led" },
  buzzer: { gpio: BADGE_PROFILE.buzzer, label: "badge-buzzer" },
} as const;
