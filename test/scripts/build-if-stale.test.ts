/**
 * scripts/build-if-stale.mjs (what `npm start` runs first): builds when a source is newer than the
 * last good build, skips otherwise. Run on a small project of its own with a build command that
 * counts its runs and copies a source into dist/.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../hub/helpers.js";

const script = fileURLToPath(new URL("../../scripts/build-if-stale.mjs", import.meta.url));
// The "build": fails when FAIL is set; else counts itself and copies src/a.txt to dist/a.txt
// (and with TOUCH set, edits a source while it runs).
const BUILD = `
const fs = require("node:fs");
if (process.env.FAIL) process.exit(3);
fs.mkdirSync("dist", { recursive: true });
fs.appendFileSync("builds.log", "x");
fs.copyFileSync("src/a.txt", "dist/a.txt");
if (process.env.TOUCH) fs.writeFileSync("src/during.txt", String(Date.now()));
`;

describe("build-if-stale", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const root = dir.path;
  mkdirSync(join(root, "src"));
  writeFileSync(join(root, "src/a.txt"), "one");
  writeFileSync(join(root, "src/b.txt"), "b");
  writeFileSync(join(root, "build.cjs"), BUILD);

  const run = (env: Record<string, string> = {}) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [script, "--root", root, "--sources", "src,build.cjs", "--", process.execPath, "build.cjs"],
        { cwd: root, env: { ...process.env, ...env } },
        (err, _out, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
      );
    });
  const builds = () => {
    try {
      return readFileSync(join(root, "builds.log"), "utf8").length;
    } catch {
      return 0;
    }
  };
  const output = () => readFileSync(join(root, "dist/a.txt"), "utf8");

  it("builds the first time, then skips while nothing changed", async () => {
    expect((await run()).stderr).toContain("no build yet, building");
    expect([builds(), output()]).toEqual([1, "one"]);
    const again = await run();
    expect([again.code, builds()]).toEqual([0, 1]);
    expect(again.stderr).toMatch(/dist\/ is up to date/);
  });

  it("rebuilds after a source changed, and the output has the change", async () => {
    writeFileSync(join(root, "src/a.txt"), "two");
    expect((await run()).stderr).toContain("src/a.txt changed since the last build");
    expect([builds(), output()]).toEqual([2, "two"]);
    await run();
    expect(builds()).toBe(2);
  });

  it("rebuilds after a source was deleted (its folder changed)", async () => {
    rmSync(join(root, "src/b.txt"));
    await run();
    expect(builds()).toBe(3);
  });

  it("a failed build leaves no stamp: its exit code, and the next start builds", async () => {
    writeFileSync(join(root, "src/a.txt"), "three");
    const failed = await run({ FAIL: "1" });
    expect([failed.code, builds()]).toEqual([3, 3]);
    expect(failed.stderr).toContain("build: failed");
    await run();
    expect([builds(), output()]).toEqual([4, "three"]);
  });

  it("a source saved during a build makes the next start build again", async () => {
    writeFileSync(join(root, "src/a.txt"), "four");
    await run({ TOUCH: "1" });
    expect(builds()).toBe(5);
    await run();
    expect(builds()).toBe(6);
    await run();
    expect(builds()).toBe(6);
  });
});
