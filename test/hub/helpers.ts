/** Builds a real hub for a test: aedes on port 0, HTTP on port 0, a SQLite file in a temp dir. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { createHub, type Hub, type HubParts } from "../../hub/app.js";
import { DEFAULT_CONFIG, type HubConfig } from "../../hub/config/config.js";
import { defaultSite, type Engineer, type Site } from "../../hub/core/model.js";
import { silentLogger } from "../../hub/log.js";
import type { DeviceEvent } from "../../protocol/index.js";

export function tempDir(prefix = "onsite-test-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function testConfig(dataDir: string, patch: Partial<HubConfig> = {}): HubConfig {
  return {
    ...DEFAULT_CONFIG,
    dataDir,
    mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0 },
    http: { ...DEFAULT_CONFIG.http, port: 0 },
    demo: { ...DEFAULT_CONFIG.demo, enabled: false },
    ble: { ...DEFAULT_CONFIG.ble, mode: "off" },
    log: { level: "silent" },
    ...patch,
  };
}

export async function startHub(
  dataDir: string,
  parts: HubParts = {},
  patch: Partial<HubConfig> = {},
): Promise<Hub> {
  return createHub(testConfig(dataDir, patch), { log: silentLogger(), ...parts });
}

export const SITE: Site = defaultSite({ id: "S1", name: "Shenyang plant", timeZone: "Asia/Shanghai" });
export const ENGINEER: Engineer = {
  id: "E1",
  name: "Zhang Wei",
  company: "Shengda",
  certificates: [{ kind: "safety_training", validUntil: "2099-12-31" }],
};

export interface SeededDevices {
  badge: { id: string; password: string; key: string; badgeNo: number };
  kiosk: { id: string; password: string };
}

/** One site, one engineer with a badge (RFID tag 0A1B2C3D4E) and a kiosk at the site. */
export async function seed(hub: Hub): Promise<SeededDevices> {
  await hub.ctx.store.putSite(SITE);
  await hub.ctx.store.putEngineer(ENGINEER);
  const b = await hub.ctx.provisioning.provision({
    id: "badge-1",
    kind: "badge",
    engineerId: "E1",
    rfidTag: "0A1B2C3D4E",
    badgeNo: 0x1234,
  });
  const k = await hub.ctx.provisioning.provision({ id: "kiosk-1", kind: "kiosk", siteId: "S1" });
  return {
    badge: { id: "badge-1", password: b.password, key: b.key ?? "", badgeNo: 0x1234 },
    kiosk: { id: "kiosk-1", password: k.password },
  };
}

export async function connect(
  hub: Hub,
  username: string,
  password: string,
  clientId = username,
): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
    clientId,
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clean: true,
  });
}

/** Publishes one event at QoS 1; resolves on PUBACK. */
export async function send(client: MqttClient, event: DeviceEvent): Promise<void> {
  await client.publishAsync(`onsite/v1/dev/${event.device}/events`, JSON.stringify(event), { qos: 1 });
}

export function counterFor(): (device: string) => number {
  const c = new Map<string, number>();
  return (device) => {
    const n = (c.get(device) ?? 0) + 1;
    c.set(device, n);
    return n;
  };
}

/** Waits until `fn` returns a truthy value, polling; fails after `ms`. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 5000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${ms} ms${last ? `: ${String(last)}` : ""}`);
}

export async function api(
  hub: Hub,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  type = "application/json",
) {
  const res = await fetch(`http://127.0.0.1:${hub.httpPort}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": type } : {}),
    },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return {
    status: res.status,
    body: json as Record<string, unknown> & unknown[],
    text,
    headers: res.headers,
  };
}

/** A new API token of `role`, made with the hub's first admin token. */
export async function newToken(hub: Hub, role: string, name: string, siteId?: string): Promise<string> {
  const r = await api(hub, "POST", "/api/v1/tokens", hub.adminToken, {
    role,
    name,
    ...(siteId ? { siteId } : {}),
  });
  return String(r.body.token);
}
