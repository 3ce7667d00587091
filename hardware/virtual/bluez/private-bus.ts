/**
 * A private D-Bus daemon for the BlueZ stand-in: the same `dbus-daemon` a Linux box runs, on a
 * socket of our own, so nothing here touches the machine's system bus. Point node-ble (dbus-next)
 * at it with `DBUS_SYSTEM_BUS_ADDRESS`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function dbusDaemonAvailable(): boolean {
  return spawnSync("dbus-daemon", ["--version"], { stdio: "ignore" }).status === 0;
}

export class PrivateBus {
  private child: ChildProcess | undefined;

  private constructor(
    readonly address: string,
    private readonly dir: string,
    private readonly owned: boolean,
  ) {}

  /** Starts a daemon on a fresh socket (or on `address` again after `kill`, for restart tests). */
  static async start(dir?: string): Promise<PrivateBus> {
    const bus = PrivateBus.create(dir);
    await bus.spawn();
    return bus;
  }

  /** A bus whose address is known now and whose daemon starts with `spawn()`. */
  static create(dir?: string): PrivateBus {
    const owned = dir === undefined;
    const d = dir ?? mkdtempSync(join(tmpdir(), "onsite-dbus-"));
    return new PrivateBus(`unix:path=${join(d, "bus")}`, d, owned);
  }

  spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        "dbus-daemon",
        ["--session", "--nofork", "--nopidfile", "--print-address=1", `--address=${this.address}`],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      this.child = child;
      let err = "";
      child.stderr?.on("data", (b: Buffer) => {
        err += b.toString();
      });
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`dbus-daemon exited (${code}): ${err.trim()}`)));
      child.stdout?.once("data", () => resolve());
    });
  }

  /** D-Bus gone: the daemon dies, every connection to it breaks. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.removeAllListeners("exit");
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
    rmSync(join(this.dir, "bus"), { force: true });
  }

  /** D-Bus back on the same address. */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  async stop(): Promise<void> {
    await this.kill();
    if (this.owned) rmSync(this.dir, { recursive: true, force: true });
  }
}
