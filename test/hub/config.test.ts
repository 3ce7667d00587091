import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_CONFIG, loadConfig } from "../../hub/config/config.js";
import { spawnHub } from "./child-hub.js";
import { tempDir } from "./helpers.js";

describe("configuration", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const write = (name: string, text: string) => {
    const p = join(dir.path, name);
    writeFileSync(p, text);
    return p;
  };
  const errorOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ConfigError) return e;
      throw e;
    }
    throw new Error("no error");
  };

  it("defaults are valid and embedded", () => {
    expect(loadConfig()).toEqual(DEFAULT_CONFIG);
  });

  it("layers file < environment < flags", () => {
    const file = write(
      "a.json",
      JSON.stringify({ version: 1, http: { port: 9000 }, mqtt: { port: 1884 }, log: { level: "warn" } }),
    );
    const c = loadConfig({
      file,
      env: { ONSITE_HTTP_PORT: "9001", ONSITE_DEMO: "false" },
      overrides: { "http.port": 9002, "log.level": "debug" },
    });
    expect(c.http).toEqual({ host: "127.0.0.1", port: 9002 });
    expect(c.mqtt.port).toBe(1884);
    expect(c.mqtt.maxPayloadBytes).toBe(DEFAULT_CONFIG.mqtt.maxPayloadBytes);
    expect(c.demo.enabled).toBe(false);
    expect(c.log.level).toBe("debug");
  });

  it.each([
    [
      { env: { ONSITE_MQTT_PORT: "70000" } },
      "mqtt.port",
      /expected an integer 0\.\.65535, got 70000 \(also settable as ONSITE_MQTT_PORT\)/,
    ],
    [{ env: { ONSITE_HTTP_PORT: "eighty" } }, "http.port", /expected an integer 0\.\.65535, got "eighty"/],
    [{ env: { ONSITE_LOG_LEVEL: "loud" } }, "log.level", /one of fatal, error/],
    [{ overrides: { "demo.speed": 0 } }, "demo.speed", /a number 1\.\.60/],
    [{ overrides: { "mqtt.typo": 1 } }, "mqtt.typo", /unknown key/],
  ])("refuses %j naming %s", (src, key, message) => {
    const e = errorOf(() => loadConfig(src));
    expect(e.key).toBe(key);
    expect(e.message).toMatch(message);
  });

  it("refuses a missing, malformed or non-object file", () => {
    expect(errorOf(() => loadConfig({ file: join(dir.path, "nope.json") })).message).toMatch(
      /does not exist/,
    );
    expect(errorOf(() => loadConfig({ file: write("b.json", "{ version: 1 ") })).message).toMatch(
      /not valid JSON/,
    );
    expect(errorOf(() => loadConfig({ file: write("c.json", "[]") })).message).toMatch(/JSON object/);
    expect(errorOf(() => loadConfig({ file: write("d.json", '{"version": 2}') })).key).toBe("version");
  });

  it("`onsite hub` with a bad value stops with the key and expected form, exit code 2", async () => {
    await expect(
      spawnHub(["--no-demo", "--data-dir", dir.path], { ONSITE_MQTT_PORT: "99999" }),
    ).rejects.toThrow(
      /hub exited with 2:\s+onsite: config mqtt\.port: expected an integer 0\.\.65535, got 99999/,
    );
  });
});
