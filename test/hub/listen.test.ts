/**
 * A port already in use (Mosquitto on 1883, Zigbee2MQTT on 8080): `onsite hub` stops with one line
 * that names the port, its holder and the setting to change, exit code 2, and leaves no admin token
 * behind; the next start that can listen is a first start and prints the token.
 */
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { spawnHub } from "./child-hub.js";
import { tempDir } from "./helpers.js";

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  if (typeof addr !== "object" || addr === null) throw new Error("no address");
  return { server, port: addr.port };
}

const tokensIn = (dataDir: string) => {
  const db = new Database(join(dataDir, "onsite.db"), { readonly: true });
  const n = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM tokens").get()?.n;
  db.close();
  return n;
};

describe("a port in use", { timeout: 60_000 }, () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it.each([
    ["MQTT", "--mqtt-port", "mqtt.port", "ONSITE_MQTT_PORT"],
    ["HTTP", "--http-port", "http.port", "ONSITE_HTTP_PORT"],
  ])(
    "%s: one line naming the port, its holder and %s; exit 2; no token until a start that listens",
    async (name, flag, key, env) => {
      const data = join(dir.path, name);
      const { server, port } = await occupy();
      try {
        const other = flag === "--mqtt-port" ? "--http-port" : "--mqtt-port";
        const args = ["--no-demo", "--data-dir", data, "--ble", "off", other, "0"];
        const failed = await spawnHub([...args, flag, String(port)]).then(
          () => undefined,
          (e: Error) => e.message,
        );
        const line = `onsite: cannot listen for ${name} on 127.0.0.1:${port}: the port is in use by `;
        expect(failed).toContain("hub exited with 2:");
        const output = (failed ?? "").replace(/^hub exited with 2:\n/, "");
        // Exactly one line, no stack trace; the holder is this test process.
        expect(output.split("\n").filter(Boolean)).toHaveLength(1);
        expect(output).toContain(line);
        expect(output).toContain(`(pid ${process.pid})`);
        expect(output).toContain(`choose another port with ${flag} <port> (config ${key}, env ${env})`);
        expect(tokensIn(data)).toBe(0);

        // Once the port is free the start goes through, and it is a first start: the token is printed.
        const hub = await spawnHub([...args, flag, "0"]);
        expect(hub.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
        const res = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/sites`, {
          headers: { authorization: `Bearer ${hub.adminToken}` },
        });
        expect(res.status).toBe(200);
        hub.proc.kill("SIGTERM");
        expect(await hub.exited).toBe(0);
        expect(tokensIn(data)).toBe(1);
      } finally {
        server.close();
      }
    },
  );
});
