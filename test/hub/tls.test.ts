/**
 * TLS from configured certificate files: mqtts (mqtt.js and Debian's mosquitto_pub --cafile),
 * HTTPS, and MQTT over WebSocket over TLS (wss at /mqtt). The certificates are made at test time
 * with Debian's openssl: a test CA and a hub certificate for localhost and 127.0.0.1.
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { promisify } from "node:util";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { ConfigError, DEFAULT_CONFIG } from "../../hub/config/config.js";
import { loadTls } from "../../hub/ops/tls.js";
import { onsite } from "../bin/cli-run.js";
import { spawnHub } from "./child-hub.js";
import { eventually, type SeededDevices, seed, startHub, tempDir, testConfig } from "./helpers.js";

const run = promisify(execFile);
const openssl = (dir: string, ...args: string[]) =>
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });

/** A CA, and a certificate for localhost/127.0.0.1 signed by it; and a second, unrelated CA. */
function makeCertificates(dir: string) {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=onsite test CA",
  );
  openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "other-ca.key",
    "-out",
    "other-ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=another CA",
  );
  openssl(dir, "req", ...ec, "-keyout", "hub.key", "-out", "hub.csr", "-subj", "/CN=localhost");
  execFileSync("sh", ["-c", 'printf "subjectAltName=DNS:localhost,IP:127.0.0.1\\n" > san.ext'], { cwd: dir });
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "hub.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "hub.crt",
    "-days",
    "2",
    "-extfile",
    "san.ext",
  );
  return {
    cert: join(dir, "hub.crt"),
    key: join(dir, "hub.key"),
    ca: join(dir, "ca.crt"),
    otherCa: join(dir, "other-ca.crt"),
    otherKey: join(dir, "other-ca.key"),
  };
}

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const heartbeat = (device: string, counter: number) =>
  JSON.stringify({ v: 1, type: "heartbeat", device, counter, time: Date.now(), queued: 0 });

describe("TLS", { timeout: 60_000 }, () => {
  const dir = tempDir();
  let certs: ReturnType<typeof makeCertificates>;
  let ca: Buffer;
  let hub: Hub;
  let devices: SeededDevices;

  beforeAll(async () => {
    certs = makeCertificates(dir.path);
    ca = readFileSync(certs.ca);
    hub = await startHub(
      join(dir.path, "data"),
      {},
      {
        tls: { cert: certs.cert, key: certs.key },
        mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0, tlsPort: 0 },
      },
    );
    devices = await seed(hub);
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  const stored = async (device: string, counter: number) =>
    eventually(async () => (await hub.ctx.store.maxCounter(device)) >= counter);

  it("mqtts: mqtt.js with the CA connects, publishes at QoS 1 and the event is stored", async () => {
    expect(hub.mqttsPort).toBeGreaterThan(0);
    const c = await mqtt.connectAsync(`mqtts://localhost:${hub.mqttsPort}`, {
      ca,
      clientId: devices.kiosk.id,
      username: devices.kiosk.id,
      password: devices.kiosk.password,
      reconnectPeriod: 0,
    });
    await c.publishAsync(`onsite/v1/dev/${devices.kiosk.id}/events`, heartbeat(devices.kiosk.id, 1), {
      qos: 1,
    });
    await c.endAsync();
    await stored(devices.kiosk.id, 1);
  });

  it("mqtts: a client that does not trust the hub's CA is refused the handshake", async () => {
    await expect(
      mqtt.connectAsync(`mqtts://localhost:${hub.mqttsPort}`, {
        ca: readFileSync(certs.otherCa),
        clientId: devices.kiosk.id,
        username: devices.kiosk.id,
        password: devices.kiosk.password,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      }),
    ).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it("mqtts: Debian's mosquitto_pub --cafile publishes an event the hub stores", async () => {
    const pub = (cafile: string, counter: number) =>
      run(
        "mosquitto_pub",
        ["-h", "localhost", "-p", String(hub.mqttsPort), "--cafile", cafile, "-q", "1", "-V", "mqttv311"]
          .concat(["-i", devices.kiosk.id, "-u", devices.kiosk.id, "-P", devices.kiosk.password])
          .concat([
            "-t",
            `onsite/v1/dev/${devices.kiosk.id}/events`,
            "-m",
            heartbeat(devices.kiosk.id, counter),
          ]),
        { encoding: "utf8", timeout: 15_000 },
      ).then(
        (r) => ({ status: 0, stderr: r.stderr }),
        (e: { code?: number; stderr?: string }) => ({ status: e.code ?? -1, stderr: e.stderr ?? "" }),
      );
    const ok = await pub(certs.ca, 2);
    expect([ok.status, ok.stderr]).toEqual([0, ""]);
    await stored(devices.kiosk.id, 2);
    const refused = await pub(certs.otherCa, 3);
    expect(refused.status).not.toBe(0);
    expect(await hub.ctx.store.maxCounter(devices.kiosk.id)).toBe(2);
  });

  it("HTTPS: the API answers over TLS with the CA, and plain HTTP on that port gets no answer", async () => {
    const health = await httpsGet(`https://localhost:${hub.httpPort}/healthz`, ca);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: "ok" });
    await expect(fetch(`http://127.0.0.1:${hub.httpPort}/healthz`)).rejects.toThrow();
  });

  it("wss: MQTT over WebSocket over TLS at /mqtt", async () => {
    const c = await mqtt.connectAsync(`wss://localhost:${hub.httpPort}/mqtt`, {
      ca,
      clientId: devices.kiosk.id,
      username: devices.kiosk.id,
      password: devices.kiosk.password,
      reconnectPeriod: 0,
    });
    await c.publishAsync(`onsite/v1/dev/${devices.kiosk.id}/events`, heartbeat(devices.kiosk.id, 4), {
      qos: 1,
    });
    await c.endAsync();
    await stored(devices.kiosk.id, 4);
  });

  it("the CLI talks to an https:// hub with --cafile, and says what is wrong without it", async () => {
    const env = { ONSITE_URL: `https://localhost:${hub.httpPort}`, ONSITE_TOKEN: hub.adminToken ?? "" };
    const ok = await onsite(["site", "list", "--cafile", certs.ca], env);
    expect([ok.code, ok.stderr]).toEqual([0, ""]);
    expect(ok.stdout).toMatch(/S1\s+Shenyang plant/);
    const untrusted = await onsite(["site", "list"], env);
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toMatch(/cannot reach the hub at https:\/\/localhost:\d+ \(.*--cafile\)/);
    const plain = await onsite(["site", "list"], { ...env, ONSITE_URL: `http://127.0.0.1:${hub.httpPort}` });
    expect(plain.code).toBe(3);
    expect(plain.stderr).toContain("an https:// hub asked over http://?");
  });

  it("refuses certificate files it cannot use, naming the key", () => {
    const errorOf = (patch: Parameters<typeof testConfig>[1]) => {
      try {
        loadTls(testConfig(dir.path, patch));
      } catch (e) {
        if (e instanceof ConfigError) return [e.key, e.message];
      }
      return undefined;
    };
    expect(errorOf({ tls: { cert: join(dir.path, "nope.crt"), key: certs.key } })).toEqual([
      "tls.cert",
      expect.stringMatching(/cannot read .*nope\.crt \(ENOENT\)/),
    ]);
    // A key that is not the certificate's.
    expect(errorOf({ tls: { cert: certs.cert, key: certs.otherKey } })?.[1]).toMatch(
      /not a usable PEM certificate and its private key/,
    );
    expect(errorOf({ tls: { cert: certs.ca, key: certs.ca } })?.[0]).toMatch(/^tls\./);
    expect(errorOf({ mqtt: { ...DEFAULT_CONFIG.mqtt, plain: false } })).toEqual([
      "mqtt.plain",
      expect.stringMatching(/needs a certificate/),
    ]);
    expect(
      errorOf({
        tls: { cert: certs.cert, key: certs.key },
        demo: { ...DEFAULT_CONFIG.demo, enabled: true },
      })?.[0],
    ).toBe("tls");
  });

  it("`onsite hub --tls-cert --tls-key --mqtts-port --no-mqtt-plain`: only mqtts and HTTPS listen", async () => {
    const child = await spawnHub([
      "--no-demo",
      "--ble",
      "off",
      "--data-dir",
      join(dir.path, "child"),
      "--tls-cert",
      certs.cert,
      "--tls-key",
      certs.key,
      "--mqtts-port",
      "0",
      "--no-mqtt-plain",
      "--http-port",
      "0",
    ]);
    try {
      expect(child.mqttPort).toBe(0);
      expect(child.mqttsPort).toBeGreaterThan(0);
      expect(child.output()).toContain("Dashboard: https://127.0.0.1:");
      const sites = await new Promise<number>((resolve, reject) => {
        const req = request(
          `https://localhost:${child.httpPort}/api/v1/sites`,
          { ca, headers: { authorization: `Bearer ${child.adminToken}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(sites).toBe(200);
    } finally {
      child.proc.kill("SIGTERM");
      expect(await child.exited).toBe(0);
    }
  });
});
