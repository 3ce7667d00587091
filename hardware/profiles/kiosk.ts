/** The site kiosk: an Arduino Uno over USB serial, with a separate USB-UART for the RFID reader. */
export interface KioskProfile {
  board: "Arduino Uno R3";
  /** Buttons wired to 5 V through the switch, 10 kΩ pull-down to GND: pressed reads HIGH. */
  buttons: { confirm: number; decline: number; next: number };
  leds: { green: number; red: number };
  /** Active piezo buzzer module (on/off), driven by a digital pin. */
  buzzer: number;
  lcd: { controller: "PCF8574"; address: number; cols: number; rows: number };
  rfid: { reader: "RDM6300"; baudRate: number };
  /** Firmata link to the Uno. */
  serialBaudRate: number;
}

export const KIOSK_PROFILE: KioskProfile = {
  board: "Arduino Uno R3",
  buttons: { confirm: 2, decline: 3, next: 4 },
  leds: { green: 5, red: 6 },
  buzzer: 8,
  lcd: { controller: "PCF8574", address: 0x27, cols: 16, rows: 2 },
  rfid: { reader: "RDM6300", baudRate: 9600 },
  serialBaudRate: 57600,
};
