/** Runs `onsite hub` in a child process, as an installer would, and reads its ports and admin token. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface ChildHub {
  proc: ChildProcess;
  mqttPort: number;
  httpPort: number;
  adminToken: string | undefined;
  output: () => string;
  exited: Promise<number | null>;
}

const root = fileURLToPath(new URL("../../", import.meta.url));

export async function spawnHub(
  args: string[],
  env: Record<string, string> = {},
  opts: { nodeArgs?: string[] } = {},
): Promise<ChildHub> {
  const nodeArgs = ["--import", "tsx", ...(opts.nodeArgs ?? [])];
  const proc = spawn(process.execPath, [...nodeArgs, "bin/onsite.ts", "hub", ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const ready = await new Promise<{ mqttPort: number; httpPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start:\n${out}`)), 20_000);
    const check = () => {
      const line = out.split("\n").find((l) => l.includes('"hub listening"'));
      if (line) {
        clearTimeout(timer);
        const j = JSON.parse(line) as { mqttPort: number; httpPort: number };
        resolve({ mqttPort: j.mqttPort, httpPort: j.httpPort });
      }
    };
    proc.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code}:\n${out}`));
    });
  });
  const token = /shown only this once:\s+(\S+)/.exec(out)?.[1];
  return { proc, ...ready, adminToken: token, output: () => out, exited };
}
