/**
 * The hub's certificate and key (config `tls`), read once at start and checked to belong
 * together, for mqtts and HTTPS (wss). A file that cannot be used is a ConfigError naming the key.
 */
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { ConfigError, type HubConfig } from "../config/config.js";

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

function read(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(key, `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

export function loadTls(config: HubConfig): TlsFiles | undefined {
  if (!config.tls) {
    if (config.mqtt.plain === false)
      throw new ConfigError("mqtt.plain", "false needs a certificate (tls.cert, tls.key): MQTT would be off");
    return undefined;
  }
  // The demo's simulator speaks plain HTTP to the hub (firmware/sim): a certificate is for a real install.
  if (config.demo.enabled)
    throw new ConfigError(
      "tls",
      "the demo speaks plain HTTP to the hub: run a hub with a certificate with --no-demo",
    );
  const files = { cert: read("tls.cert", config.tls.cert), key: read("tls.key", config.tls.key) };
  try {
    createSecureContext(files);
  } catch (e) {
    const message = (e as Error).message;
    const key = /key/i.test(message) && !/certificate/i.test(message) ? "tls.key" : "tls.cert";
    throw new ConfigError(
      key,
      `${config.tls.cert} and ${config.tls.key} are not a usable PEM certificate and its private key (${message})`,
    );
  }
  return files;
}
