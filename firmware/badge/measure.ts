/**
 * What the badge program costs in CPU: `npm run build && npx tsx firmware/badge/measure.ts [seconds]`.
 *
 * Runs the built entry point (dist/firmware/badge/main.js) in a child process, as systemd would,
 * against a BlueZ stand-in host on a private bus (its bluetoothd is not the child's cost), with
 * the button on a FIFO of input events and the LED and buzzer on files: the badge on site between
 * presses, signing a presence frame every 2 s and handing it to bluetoothd (the controller repeats
 * it four times a second). Its user and system CPU time are read from /proc/<pid>/stat after a
 * warm-up. docs/hardware.md turns the figures into a battery estimate.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BADGE_KERNEL } from "../../hardware/profiles/badge.js";
import { PrivateBus } from "../../hardware/virtual/bluez/private-bus.js";
import { BluezStandIn } from "../../hardware/virtual/bluez/stand-in.js";

const seconds = Number(process.argv[2] ?? 120);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuMs(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const tick = 1000 / 100; // USER_HZ
  return { user: Number(fields[11]) * tick, system: Number(fields[12]) * tick };
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "onsite-measure-"));
  const hubBus = await PrivateBus.start();
  const bluez = await BluezStandIn.start(hubBus.address);
  const host = bluez.host("C4:11:22:33:44:7E");
  await host.ready;
  const fifo = join(dir, "event0");
  execFileSync("mkfifo", [fifo]);
  for (const label of [BADGE_KERNEL.led.label, BADGE_KERNEL.buzzer.label]) {
    mkdirSync(join(dir, "leds", label), { recursive: true });
    writeFileSync(join(dir, "leds", label, "brightness"), "0");
  }
  const config = join(dir, "badge.json");
  writeFileSync(
    config,
    JSON.stringify({
      deviceId: "badge-measure",
      badgeNo: 0x7e,
      key: "00112233445566778899aabbccddeeff",
      stateDir: join(dir, "state"),
      ppe: ["helmet"],
      buttonDevice: fifo,
      ledsRoot: join(dir, "leds"),
      busAddress: host.busAddress,
    }),
  );
  const child = spawn(process.execPath, ["dist/firmware/badge/main.js", config], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const pid = child.pid as number;
  const button = await open(fifo, "w");
  await sleep(5000); // start-up and registration are not the steady state
  const t0 = cpuMs(pid);
  const start = Date.now();
  await sleep(seconds * 1000);
  const t1 = cpuMs(pid);
  const elapsedS = (Date.now() - start) / 1000;
  const cpu = t1.user - t0.user + (t1.system - t0.system);
  const frames = Math.floor(elapsedS / 2);
  const out = {
    node: process.version,
    arch: process.arch,
    elapsedS: Math.round(elapsedS),
    framesSigned: frames,
    cpuMs: { user: t1.user - t0.user, system: t1.system - t0.system },
    cpuMsPerHour: Math.round((cpu / elapsedS) * 3600),
    cpuMsPerFrame: Number((cpu / frames).toFixed(2)),
    dutyCyclePercent: Number(((cpu / (elapsedS * 1000)) * 100).toFixed(3)),
    rssMiB: Number((rssKiB(pid) / 1024).toFixed(1)),
  };
  console.log(JSON.stringify(out, null, 2));
  await button.close();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  await bluez.stopAll();
  await hubBus.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
