import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { resolveWindow } from "../../hub/core/time.js";
import { eventually, type SeededDevices, seed, startHub, tempDir } from "./helpers.js";

const run = promisify(execFile);

/** Debian's mosquitto clients, a peer no one here wrote, act as device and observer. */
describe("interop with mosquitto_pub / mosquitto_sub", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let devices: SeededDevices;

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    devices = await seed(hub);
    const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);
    const window = resolveWindow(local(Date.now() - 600_000), local(Date.now() + 3_600_000), "Asia/Shanghai");
    await hub.ctx.store.insertVisits([{ id: "V1", siteId: "S1", engineerId: "E1", window }]);
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  const common = () => ["-h", "127.0.0.1", "-p", String(hub.mqttPort), "-V", "mqttv311"];

  it("mosquitto_pub as the kiosk: its QoS 1 event is stored and moves the visit; mosquitto_sub sees the status", async () => {
    const sub = spawn("mosquitto_sub", [
      ...common(),
      "-i",
      "observer-1",
      "-u",
      "api",
      "-P",
      hub.adminToken ?? "",
      "-q",
      "1",
      "-v",
      "-t",
      "onsite/v1/site/S1/visit/+/status",
    ]);
    let seen = "";
    sub.stdout.on("data", (d: Buffer) => {
      seen += d.toString();
    });
    const event = {
      v: 1,
      type: "checkin_request",
      device: "kiosk-1",
      counter: 1,
      time: Date.now(),
      tag: "0A1B2C3D4E",
    };
    await run("mosquitto_pub", [
      ...common(),
      "-i",
      "kiosk-1",
      "-u",
      "kiosk-1",
      "-P",
      devices.kiosk.password,
      "-q",
      "1",
      "-t",
      "onsite/v1/dev/kiosk-1/events",
      "-m",
      JSON.stringify(event),
    ]);
    const line = await eventually(() =>
      seen.split("\n").find((l) => l.startsWith("onsite/v1/site/S1/visit/V1/status ")),
    );
    const status = JSON.parse(line.slice(line.indexOf(" ") + 1)) as {
      state: string;
      arrival: { class: string };
    };
    expect(status.state).toBe("arrived");
    expect(status.arrival.class).toBe("on_time");
    expect(await hub.ctx.store.countEvents()).toBe(1);
    sub.kill();
  });

  it("mosquitto_pub with a wrong password is refused by the broker", async () => {
    const r = await run("mosquitto_pub", [
      ...common(),
      "-i",
      "kiosk-1",
      "-u",
      "kiosk-1",
      "-P",
      "wrong",
      "-q",
      "1",
      "-t",
      "onsite/v1/dev/kiosk-1/events",
      "-m",
      "{}",
    ]).catch((e: { code: number; stderr: string }) => e);
    expect("code" in r && r.code).not.toBe(0);
    expect(String("stderr" in r ? r.stderr : "")).toMatch(
      /not authori[sz]ed|bad user name or password|Connection Refused/i,
    );
  });
});
