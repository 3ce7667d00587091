/** Debian's Chromium driven by playwright-core: never a browser download. Playwright gives each launch a fresh, empty profile. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export function artifact(name: string): string {
  const dir = new URL("../../test-artifacts/", import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
