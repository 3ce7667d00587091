/**
 * Opening the hub's listeners: MQTT (TCP), mqtts, and HTTP or HTTPS (with MQTT over WebSocket at
 * /mqtt, ws or wss). A
 * listener that cannot open fails as a ListenError naming the port and the setting to change.
 */
import type { HttpServer } from "../adapters/http/server.js";
import type { MqttBroker } from "../adapters/mqtt/broker.js";
import { type HubConfig, MQTTS_PORT } from "../config/config.js";
import { listenError } from "./listen-error.js";
import type { TlsFiles } from "./tls.js";

export interface Listening {
  /** 0 when plain MQTT is off (`mqtt.plain` false, with a certificate). */
  mqttPort: number;
  mqttsPort?: number;
  httpPort: number;
}

export async function listenAll(
  config: HubConfig,
  broker: MqttBroker,
  http: HttpServer,
  tls?: TlsFiles,
): Promise<Listening> {
  const { mqtt, http: web } = config;
  const tlsPort = mqtt.tlsPort ?? MQTTS_PORT;
  const mqttPort =
    mqtt.plain !== false
      ? (
          await broker.listen(mqtt.host, mqtt.port).catch((e: unknown) => {
            throw listenError(e, "mqtt", mqtt.host, mqtt.port);
          })
        ).port
      : 0;
  const mqttsPort = tls
    ? (
        await broker.listen(mqtt.host, tlsPort, tls).catch((e: unknown) => {
          throw listenError(e, "mqtts", mqtt.host, tlsPort);
        })
      ).port
    : undefined;
  await http.app.listen({ host: web.host, port: web.port }).catch((e: unknown) => {
    throw listenError(e, "http", web.host, web.port);
  });
  const httpAddr = http.app.server.address();
  return {
    mqttPort,
    ...(mqttsPort === undefined ? {} : { mqttsPort }),
    httpPort: typeof httpAddr === "object" && httpAddr ? httpAddr.port : web.port,
  };
}
