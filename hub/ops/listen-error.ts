/**
 * A listener the hub could not open (port in use, no permission, address not on this machine),
 * as one line that names the port, who holds it when that can be told, and the setting to change.
 */
import { portOwner } from "./port-owner.js";

export type Listener = "mqtt" | "mqtts" | "http";

/** What each listener is called, and the flag, config key and environment variable that move it. */
export const LISTENERS: Record<
  Listener,
  { name: string; portFlag: string; portKey: string; portEnv?: string; hostFlag?: string; hostKey: string }
> = {
  mqtt: {
    name: "MQTT",
    portFlag: "--mqtt-port",
    portKey: "mqtt.port",
    portEnv: "ONSITE_MQTT_PORT",
    hostFlag: "--mqtt-host",
    hostKey: "mqtt.host",
  },
  mqtts: {
    name: "MQTT over TLS",
    portFlag: "--mqtts-port",
    portKey: "mqtt.tlsPort",
    portEnv: "ONSITE_MQTTS_PORT",
    hostFlag: "--mqtt-host",
    hostKey: "mqtt.host",
  },
  http: {
    name: "HTTP",
    portFlag: "--http-port",
    portKey: "http.port",
    portEnv: "ONSITE_HTTP_PORT",
    hostFlag: "--http-host",
    hostKey: "http.host",
  },
};

export type ListenErrorCode = "port_in_use" | "no_permission" | "no_address" | "listen_failed";

export class ListenError extends Error {
  override readonly name = "ListenError";
  constructor(
    readonly code: ListenErrorCode,
    readonly listener: Listener,
    readonly host: string,
    readonly port: number,
    message: string,
  ) {
    super(message);
  }
}

/** Turns the error of `server.listen()` into a ListenError with a message for a person. */
export function listenError(err: unknown, listener: Listener, host: string, port: number): ListenError {
  const l = LISTENERS[listener];
  const sysCode = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host}:${port}`;
  const portSetting = `${l.portFlag} <port> (config ${l.portKey}${l.portEnv ? `, env ${l.portEnv}` : ""})`;
  const hostSetting = `${l.hostFlag ? `${l.hostFlag} <address> ` : ""}(config ${l.hostKey})`;
  switch (sysCode) {
    case "EADDRINUSE": {
      const owner = portOwner(port);
      return new ListenError(
        "port_in_use",
        listener,
        host,
        port,
        `cannot listen for ${l.name} on ${where}: the port is in use${owner ? ` by ${owner}` : ""}; ` +
          `stop that or choose another port with ${portSetting}`,
      );
    }
    case "EACCES":
      return new ListenError(
        "no_permission",
        listener,
        host,
        port,
        `cannot listen for ${l.name} on ${where}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); ` +
          `choose a port of 1024 or above with ${portSetting}`,
      );
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ListenError(
        "no_address",
        listener,
        host,
        port,
        `cannot listen for ${l.name} on ${where}: ${host} is not an address of this machine; ` +
          `choose another with ${hostSetting}`,
      );
    default:
      return new ListenError(
        "listen_failed",
        listener,
        host,
        port,
        `cannot listen for ${l.name} on ${where}: ${(err as Error | undefined)?.message ?? String(err)}`,
      );
  }
}
