/**
 * SIGTERM stops a hub even when nobody reads its output any more (the pipe it logs to is closed:
 * its parent went away). With pino's asynchronous stdout, the exit flush retried the EPIPE write
 * forever and the hub never stopped; it logs synchronously now (hub/log.ts).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("stopping a hub whose output nobody reads", { timeout: 60_000 }, () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it("exits on SIGTERM after its stdout pipe closed", async () => {
    // A parent that starts the hub with its output on pipes, waits until it listens, and leaves.
    const parent = `
      const { spawn } = require("node:child_process");
      const hub = spawn(process.execPath, ["--import", "tsx", "bin/onsite.ts", "hub", "--no-demo", "--ble", "off",
        "--data-dir", ${JSON.stringify(dir.path)}, "--mqtt-port", "0", "--http-port", "0"],
        { stdio: ["ignore", "pipe", "pipe"], detached: true });
      let out = "";
      hub.stdout.on("data", (d) => { out += d; if (out.includes('"hub listening"')) { console.log(hub.pid); process.exit(0); } });
      setTimeout(() => process.exit(1), 40000);`;
    const pid = Number(
      execFileSync(process.execPath, ["-e", parent], { cwd: root, encoding: "utf8" }).trim(),
    );
    expect(pid).toBeGreaterThan(0);
    try {
      expect(alive(pid)).toBe(true);
      process.kill(pid, "SIGTERM");
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid)).toBe(false);
    } finally {
      if (alive(pid)) process.kill(pid, "SIGKILL");
    }
  });
});
