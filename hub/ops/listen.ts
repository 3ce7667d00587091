/**
 * Opening the hub's listeners: MQTT (TCP) and HTTP (with MQTT over WebSocket at /mqtt). A
 * listener that cannot open fails as a ListenError naming the port and the setting to change.
 */
import type { HttpServer } from "../adapters/http/server.js";
import type { MqttBroker } from "../adapters/mqtt/broker.js";
import type { HubConfig } from "../config/config.js";
import { listenError } from "./listen-error.js";

export interface Listening {
  mqttPort: number;
  httpPort: number;
}

export async function listenAll(config: HubConfig, broker: MqttBroker, http: HttpServer): Promise<Listening> {
  const { mqtt, http: web } = config;
  const mqttAddr = await broker.listen(mqtt.host, mqtt.port).catch((e: unknown) => {
    throw listenError(e, "mqtt", mqtt.host, mqtt.port);
  });
  await http.app.listen({ host: web.host, port: web.port }).catch((e: unknown) => {
    throw listenError(e, "http", web.host, web.port);
  });
  const httpAddr = http.app.server.address();
  return {
    mqttPort: mqttAddr.port,
    httpPort: typeof httpAddr === "object" && httpAddr ? httpAddr.port : web.port,
  };
}
