export { BADGE_PROFILE, type BadgeProfile } from "./profiles/badge.js";
export { KIOSK_PROFILE, type KioskProfile } from "./profiles/kiosk.js";
export { type BoardKind, createVirtualBoard, type VirtualBoard } from "./virtual/boards.js";
export { EmulatedUno } from "./virtual/emulated-uno.js";
export { ensureStandardFirmata } from "./virtual/firmata-hex.js";
export { Pcf8574Lcd } from "./virtual/hd44780.js";
export { LightIO } from "./virtual/light-io.js";
export { UnoBinding } from "./virtual/uno-binding.js";
