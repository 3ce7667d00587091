/**
 * How errors cross a GATT link in BlueZ: the server's application answers with a D-Bus error, the
 * server's bluetoothd turns it into an ATT error code on the air (src/gatt-database.c,
 * dbus_error_to_att_ecode), and the client's bluetoothd turns that code into the D-Bus error its
 * application sees (src/gatt-client.c, create_gatt_dbus_error, BlueZ 5.5x and later).
 */
import { bluezError } from "../../../firmware/badge/bluez/dbus.js";

export const ATT = {
  READ_NOT_PERMITTED: 0x02,
  WRITE_NOT_PERMITTED: 0x03,
  REQUEST_NOT_SUPPORTED: 0x06,
  INVALID_OFFSET: 0x07,
  AUTHORIZATION: 0x08,
  INVALID_ATTRIBUTE_VALUE_LEN: 0x0d,
  UNLIKELY: 0x0e,
  /** "Application error": what BlueZ sends for an application's org.bluez.Error.Failed. */
  APPLICATION: 0x80,
  CCC_IMPROPERLY_CONFIGURED: 0xfd,
  ALREADY_IN_PROGRESS: 0xfe,
} as const;

/** An ATT error response on the air. */
export class AttError extends Error {
  constructor(readonly code: number) {
    super(`ATT error 0x${code.toString(16).padStart(2, "0")}`);
  }
}

/** Server side: the application's D-Bus error name → the ATT error code sent to the client. */
export function attCodeOf(dbusErrorName: string, permissionError: number): number {
  switch (dbusErrorName) {
    case "org.bluez.Error.Failed":
      return ATT.APPLICATION;
    case "org.bluez.Error.NotSupported":
      return ATT.REQUEST_NOT_SUPPORTED;
    case "org.bluez.Error.NotAuthorized":
      return ATT.AUTHORIZATION;
    case "org.bluez.Error.InvalidValueLength":
      return ATT.INVALID_ATTRIBUTE_VALUE_LEN;
    case "org.bluez.Error.InvalidOffset":
      return ATT.INVALID_OFFSET;
    case "org.bluez.Error.InProgress":
      return ATT.ALREADY_IN_PROGRESS;
    case "org.bluez.Error.NotPermitted":
      return permissionError;
    default:
      return ATT.UNLIKELY;
  }
}

/** Client side: an ATT error code → the D-Bus error the central's application gets. */
export function clientError(code: number): Error {
  switch (code) {
    case ATT.READ_NOT_PERMITTED:
      return bluezError("NotPermitted", "Read not permitted");
    case ATT.WRITE_NOT_PERMITTED:
      return bluezError("NotPermitted", "Write not permitted");
    case ATT.INVALID_OFFSET:
      return bluezError("InvalidArguments", "Invalid offset");
    case ATT.INVALID_ATTRIBUTE_VALUE_LEN:
      return bluezError("InvalidArguments", "Invalid Length");
    case ATT.AUTHORIZATION:
      return bluezError("NotAuthorized", "Operation Not Authorized");
    case ATT.REQUEST_NOT_SUPPORTED:
      return bluezError("NotSupported", "Operation is not supported");
    default:
      return bluezError("Failed", `Operation failed with ATT error: 0x${code.toString(16).padStart(2, "0")}`);
  }
}
