/**
 * The real StandardFirmata 2.4 for the Uno, as shipped in avrgirl-arduino@5.0.1. Fetched from the
 * npm registry on first use (never committed), pinned by sha256, cached under .cache/.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIRMATA_PACKAGE = "avrgirl-arduino@5.0.1";
export const FIRMATA_PATH_IN_PACKAGE = "package/junk/hex/uno/StandardFirmata.cpp.hex";
export const FIRMATA_SHA256 = "6d57ea7cf30e26c9c2f3a01ee37907d2c951f8bc9c27f84dddad12fa9c8b8f36";

const defaultCache = fileURLToPath(
  new URL(`../../${import.meta.url.includes("/dist/") ? "../" : ""}.cache/firmata/`, import.meta.url),
);

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Path of the verified hex file, fetching it when missing. */
export function ensureStandardFirmata(cacheDir = defaultCache): string {
  const target = join(cacheDir, "StandardFirmata.uno.hex");
  if (existsSync(target) && sha256(readFileSync(target)) === FIRMATA_SHA256) return target;
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "onsite-firmata-"));
  try {
    const name =
      execFileSync("npm", ["pack", FIRMATA_PACKAGE, "--silent", "--pack-destination", work], {
        encoding: "utf8",
      })
        .trim()
        .split("\n")
        .at(-1) ?? "";
    execFileSync("tar", ["-xzf", join(work, name), "-C", work, FIRMATA_PATH_IN_PACKAGE]);
    const file = join(work, FIRMATA_PATH_IN_PACKAGE);
    const got = sha256(readFileSync(file));
    if (got !== FIRMATA_SHA256)
      throw new Error(`StandardFirmata hex sha256 ${got}, expected ${FIRMATA_SHA256}`);
    renameSync(file, target);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
