/**
 * Vitest global setup: the Debian packages some suites need. Installs the missing ones when it can
 * (root and apt-get, as on CI); otherwise stops with exactly what is missing and how to install it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { ensureStandardFirmata } from "../../hardware/virtual/firmata-hex.js";

/** What the suites need: a shell check that passes when present → the Debian package that provides it. */
export const REQUIRED: Array<{ what: string; check: string; pkg: string }> = [
  { what: "mosquitto_pub", check: "command -v mosquitto_pub", pkg: "mosquitto-clients" },
  { what: "mosquitto_sub", check: "command -v mosquitto_sub", pkg: "mosquitto-clients" },
  { what: "chromium", check: "command -v chromium", pkg: "chromium" },
  // The private bus the BlueZ stand-in is served on (BLE suites).
  { what: "dbus-daemon", check: "command -v dbus-daemon", pkg: "dbus-daemon" },
  // A real SMTP server on loopback for the e-mail notifications (python3 -m aiosmtpd).
  { what: "aiosmtpd", check: "/usr/bin/python3 -c 'import aiosmtpd'", pkg: "python3-aiosmtpd" },
  // The PostgreSQL store's suites start a throwaway cluster of their own (test/setup/postgres.ts).
  {
    what: "PostgreSQL server binaries (initdb)",
    check: 'test -x "$ONSITE_PG_BINDIR/initdb" || ls /usr/lib/postgresql/*/bin/initdb >/dev/null',
    pkg: "postgresql",
  },
  // The hub cluster's suites start their own Redis (broker emitter and persistence) and HAProxy.
  { what: "redis-server", check: "command -v redis-server", pkg: "redis-server" },
  { what: "haproxy", check: "command -v haproxy || test -x /usr/sbin/haproxy", pkg: "haproxy" },
  // The printed visit report: its PDF turned into a PNG and its text read back.
  { what: "pdftoppm", check: "command -v pdftoppm", pkg: "poppler-utils" },
  { what: "pdftotext", check: "command -v pdftotext", pkg: "poppler-utils" },
  // The XLSX report opened as the zip it is.
  { what: "unzip", check: "command -v unzip", pkg: "unzip" },
  // Chinese glyphs in the kiosk and dashboard screenshots.
  { what: "a CJK font", check: "fc-list :lang=zh | grep -q .", pkg: "fonts-wqy-zenhei" },
];

const has = (check: string) => spawnSync("sh", ["-c", check], { stdio: "ignore" }).status === 0;

export default function setup(): void {
  // The real StandardFirmata for the emulated Uno: fetched from the npm registry once, sha256-pinned.
  ensureStandardFirmata();
  // The dashboard and kiosk screen the browser tests load, built as `npm run build` does.
  execFileSync("npx", ["vite", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], {
    stdio: "inherit",
  });
  const missing = [...new Set(REQUIRED.filter((r) => !has(r.check)).map((r) => r.pkg))];
  if (missing.length === 0) return;
  const root = process.getuid?.() === 0;
  if (root && has("command -v apt-get")) {
    process.stderr.write(`[setup] installing Debian packages: ${missing.join(" ")}\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
      stdio: "inherit",
      env,
    });
    const still = REQUIRED.filter((r) => !has(r.check)).map((r) => r.what);
    if (still.length === 0) return;
    throw new Error(`[setup] still missing after apt-get: ${still.join(", ")}`);
  }
  throw new Error(
    `[setup] these test suites need Debian packages that are not installed: ${missing.join(", ")}.\n` +
      `Install them with:  sudo apt-get install -y ${missing.join(" ")}`,
  );
}
