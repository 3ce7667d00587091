/**
 * The install files in deploy/: the systemd units pass `systemd-analyze verify` (with no warning),
 * and the units and the Containerfile name the program, flags and environment the code has.
 * The image itself cannot be built here (no container runtime on these machines).
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ENV_KEYS } from "../../hub/config/config.js";
import { onsite } from "../bin/cli-run.js";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
const read = (p: string) => readFileSync(`${root}${p}`, "utf8");
const UNITS = ["deploy/onsite.service", "deploy/onsite-backup.service", "deploy/onsite-backup.timer"];
const ANALYZE = "/usr/bin/systemd-analyze";
const hasAnalyze = existsSync(ANALYZE);
const bin = (JSON.parse(read("package.json")) as { bin: { onsite: string } }).bin.onsite;

/** ONSITE_* variables the program reads: the config's, and ONSITE_CONFIG itself. */
const KNOWN_ENV = new Set([...Object.keys(ENV_KEYS), "ONSITE_CONFIG"]);
const onsiteEnv = (text: string) => [...text.matchAll(/\b(ONSITE_[A-Z_]+)=/g)].map((m) => m[1] ?? "");

describe("deploy/", { timeout: 60_000 }, () => {
  if (!hasAnalyze)
    process.stderr.write(`[deploy test] ${ANALYZE} is not installed: the systemd-analyze check is skipped\n`);

  it.skipIf(!hasAnalyze)(
    `systemd-analyze verify accepts the units without a warning${hasAnalyze ? "" : ` (SKIPPED: ${ANALYZE} not installed)`}`,
    async () => {
      const r = await run(ANALYZE, ["verify", ...UNITS], { cwd: root });
      expect([r.stdout, r.stderr]).toEqual(["", ""]);
    },
  );

  it("the units start the built CLI with flags it has, and set only variables it reads", async () => {
    const hub = read("deploy/onsite.service");
    expect(hub).toContain(`ExecStart=/usr/bin/node /opt/onsite/${bin} hub --no-demo\n`);
    expect((await onsite(["hub", "--help"])).stdout).toContain("--no-demo");
    const backup = read("deploy/onsite-backup.service");
    expect(backup).toContain(`/usr/bin/node /opt/onsite/${bin} backup --force `);
    expect((await onsite(["backup", "--help"])).stdout).toContain("--force");
    for (const text of [hub, backup]) for (const name of onsiteEnv(text)) expect(KNOWN_ENV).toContain(name);
  });

  it("the Containerfile runs the built CLI on a Node the package supports, with variables it reads", () => {
    const file = read("deploy/Containerfile");
    expect(file).toContain(`ENTRYPOINT ["node", "/opt/onsite/${bin}"]`);
    expect(file).toContain('CMD ["hub", "--no-demo"]');
    const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
    for (const [, major] of file.matchAll(/FROM \S*node:(\d+)/g))
      expect(engines).toMatch(new RegExp(`>=${major}\\.`));
    for (const name of onsiteEnv(file)) expect(KNOWN_ENV).toContain(name);
    for (const [, paths] of file.matchAll(/COPY --from=build ((?:\/src\/\S+ )+)\.\//g))
      for (const p of (paths ?? "").trim().split(" ")) {
        const inRepo = p.replace("/src/", "");
        if (!["node_modules", "dist"].includes(inRepo)) expect(existsSync(`${root}${inRepo}`)).toBe(true);
      }
  });
});
