#!/usr/bin/env node
/**
 * `npm start` builds only when it must: runs the build unless dist/ was built after the newest
 * source file (and source folder: a deleted or renamed file changes its folder's time). The build
 * stamp (dist/.build-stamp) is written only after a build that succeeded, with the time the build
 * *started*, so a file saved during a build makes the next start build again.
 *
 *   node scripts/build-if-stale.mjs [--root DIR] [--stamp FILE] [--sources a,b,…] [-- build command…]
 *
 * Defaults: the repository, dist/.build-stamp, the folders and files `npm run build` reads, and
 * `npm run build --silent`. Plain JavaScript, so it runs before anything is compiled.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const DEFAULT_SOURCES = [
  "bin",
  "hub",
  "protocol",
  "firmware",
  "hardware",
  "types",
  "web",
  "tsconfig.json",
  "tsconfig.build.json",
  "package.json",
  "package-lock.json",
];
const SKIP = new Set(["node_modules", "dist", ".git"]);

function parseArgs(argv) {
  const o = {
    root: resolve(dirname(fileURLToPath(import.meta.url)), ".."),
    stamp: undefined,
    sources: DEFAULT_SOURCES,
    build: ["npm", "run", "build", "--silent"],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      o.build = argv.slice(i + 1);
      break;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === "--root") o.root = resolve(v);
    else if (a === "--stamp") o.stamp = v;
    else if (a === "--sources") o.sources = v.split(",");
    else throw new Error(`unknown option ${a}`);
  }
  o.stamp = resolve(o.root, o.stamp ?? "dist/.build-stamp");
  return o;
}

/** The newest modification time under `path` (files and folders), and the path that has it. */
function newest(path, best = { ms: 0, path: "" }) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return best;
  }
  if (st.mtimeMs > best.ms) best = { ms: st.mtimeMs, path };
  if (st.isDirectory())
    for (const name of readdirSync(path)) if (!SKIP.has(name)) best = newest(join(path, name), best);
  return best;
}

const o = parseArgs(process.argv.slice(2));
let latest = { ms: 0, path: "" };
for (const s of o.sources) latest = newest(join(o.root, s), latest);
const built = existsSync(o.stamp) ? statSync(o.stamp).mtimeMs : 0;
if (built > latest.ms) {
  process.stderr.write(`build: dist/ is up to date (built ${new Date(built).toISOString()})\n`);
  process.exit(0);
}
process.stderr.write(
  built === 0
    ? "build: no build yet, building\n"
    : `build: ${latest.path.slice(o.root.length + 1)} changed since the last build, building\n`,
);
const started = new Date();
const r = spawnSync(o.build[0], o.build.slice(1), { cwd: o.root, stdio: "inherit" });
if (r.error || r.status !== 0) {
  process.stderr.write(`build: failed${r.error ? ` (${r.error.message})` : ""}\n`);
  process.exit(r.status || 1);
}
mkdirSync(dirname(o.stamp), { recursive: true });
writeFileSync(o.stamp, `${started.toISOString()}\n`);
utimesSync(o.stamp, started, started);
