/**
 * `node --import ./record.mjs …`: records every module the process loads into the file named by
 * ONSITE_MODULE_LOG, one URL or path a line. ESM through a resolve hook (it runs on the loader
 * thread, so it appends to the file itself); CommonJS from require.cache when the process exits.
 */
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const log = process.env.ONSITE_MODULE_LOG;
if (log) {
  register("./hooks.mjs", import.meta.url, { data: { log } });
  const require = createRequire(import.meta.url);
  process.on("exit", () => {
    const paths = Object.keys(require.cache);
    if (paths.length > 0) appendFileSync(log, `${paths.map((p) => `cjs ${p}`).join("\n")}\n`);
  });
}
