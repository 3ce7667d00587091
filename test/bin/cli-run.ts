/** Runs the onsite CLI in a child process, as a person would, and collects what it printed. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Asynchronous, so a hub in the test's own process keeps answering. */
export function onsite(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "bin/onsite.ts", ...args],
      {
        cwd: root,
        env: { ...process.env, ONSITE_URL: undefined, ONSITE_TOKEN: undefined, ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
