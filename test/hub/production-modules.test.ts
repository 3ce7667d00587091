/**
 * A real install loads no test stand-in: `onsite hub --no-demo`, run in a child process with a
 * loader hook that records every module it resolves (test/hub/modules/record.mjs), never loads the
 * demo, the simulator, the virtual boards, the BlueZ stand-in or the board libraries under them.
 */

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { spawnHub } from "./child-hub.js";
import { tempDir } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const recorder = ["--import", "./test/hub/modules/record.mjs"];

/** What a production hub must not load: our stand-ins, and the packages only they use. */
const FORBIDDEN: Array<[string, RegExp]> = [
  ["hardware/virtual/**", /\/hardware\/virtual\//],
  ["firmware/**", /\/firmware\//],
  ["hub/demo/**", /\/hub\/demo\//],
  ["avr8js", /\/node_modules\/avr8js\//],
  ["johnny-five", /\/node_modules\/johnny-five\//],
  ["firmata-io", /\/node_modules\/firmata-io\//],
];

const loaded = (log: string) => [
  ...new Set(
    readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^(esm|cjs) /, "")),
  ),
];

describe("the production path", { timeout: 60_000 }, () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it("`onsite hub --no-demo` loads none of the stand-ins, the demo or their libraries", async () => {
    const log = join(dir.path, "modules.log");
    const hub = await spawnHub(
      ["--no-demo", "--data-dir", join(dir.path, "data"), "--mqtt-port", "0", "--http-port", "0"],
      { ONSITE_MODULE_LOG: log },
      { nodeArgs: recorder },
    );
    // Serve a request first, so lazily loaded parts of a running hub are counted too.
    expect((await fetch(`http://127.0.0.1:${hub.httpPort}/healthz`)).status).toBe(200);
    hub.proc.kill("SIGTERM");
    expect(await hub.exited).toBe(0);
    const modules = loaded(log);
    // The recorder saw the hub itself (so an empty list cannot pass).
    expect(modules.some((m) => m.endsWith("/hub/app.ts"))).toBe(true);
    expect(modules.some((m) => m.includes("/node_modules/aedes/"))).toBe(true);
    expect(FORBIDDEN.filter(([, re]) => modules.some((m) => re.test(m))).map(([name]) => name)).toEqual([]);
  });

  it("the recorder does see the demo and the stand-ins when they are asked for", () => {
    const log = join(dir.path, "demo-modules.log");
    execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        ...recorder,
        "--input-type=module",
        "-e",
        'const s = await import("./hub/stand-ins.ts"); await s.loadDemo();',
      ],
      { cwd: root, env: { ...process.env, ONSITE_MODULE_LOG: log }, stdio: "pipe" },
    );
    expect(existsSync(log)).toBe(true);
    const modules = loaded(log);
    expect(FORBIDDEN.filter(([, re]) => modules.some((m) => re.test(m))).map(([name]) => name)).toEqual([
      "hardware/virtual/**",
      "firmware/**",
      "hub/demo/**",
      "avr8js",
      "johnny-five",
      "firmata-io",
    ]);
  });
});
