/**
 * The trust boundaries under abuse, measured: the hub's memory after eight unauthenticated
 * connections each claiming 128 MiB (a hub in a child process), events accepted in 10 s from one
 * device that reconnects as fast as it may, wrong passwords checked per second for one id (from one
 * address and from four), and the time from revoking a device to its session's end. Defaults
 * everywhere (rate 50/s, burst 500). Loopback only; bounded in time.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { createHub } from "../hub/app.js";
import { DEFAULT_CONFIG } from "../hub/config/config.js";
import { defaultSite } from "../hub/core/model.js";
import { silentLogger } from "../hub/log.js";
import { spawnHub } from "../test/hub/child-hub.js";
import { claimHeader, rawClient, rawLogin } from "../test/hub/raw-mqtt.js";

const MiB = 1024 * 1024;
const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;

async function lengthClaims(dir: string): Promise<{ idle: number; after: number }> {
  const hub = await spawnHub(["--no-demo", "--data-dir", dir, "--mqtt-port", "0", "--http-port", "0"]);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idle = rssOf(hub.proc.pid ?? 0);
    const conns = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const c = await rawClient(hub.mqttPort);
        c.socket.write(claimHeader(i % 2 ? 1 : 3, 128 * MiB));
        for (let k = 0; k < 16 && !c.socket.destroyed; k++) c.socket.write(Buffer.alloc(MiB));
        return c;
      }),
    );
    await Promise.all(conns.map((c) => c.closed));
    await new Promise((r) => setTimeout(r, 1000));
    return { idle, after: rssOf(hub.proc.pid ?? 0) };
  } finally {
    hub.proc.kill("SIGTERM");
    await hub.exited;
  }
}

export async function benchBoundaries(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "onsite-bench-boundaries-"));
  try {
    const mem = await lengthClaims(join(dir, "child"));
    console.log(
      `8 unauthenticated connections claiming 128 MiB each: hub RSS ${(mem.idle / MiB).toFixed(1)} MB idle, ${(mem.after / MiB).toFixed(1)} MB after (+${((mem.after - mem.idle) / MiB).toFixed(1)} MB; goal within 10 MB)`,
    );

    const hub = await createHub(
      {
        ...DEFAULT_CONFIG,
        dataDir: join(dir, "hub"),
        mqtt: { ...DEFAULT_CONFIG.mqtt, port: 0 },
        http: { ...DEFAULT_CONFIG.http, port: 0 },
        demo: { ...DEFAULT_CONFIG.demo, enabled: false },
        ble: { ...DEFAULT_CONFIG.ble, mode: "off" },
        log: { level: "silent" },
      },
      { log: silentLogger() },
    );
    try {
      await hub.ctx.store.putSite(defaultSite({ id: "S1", name: "S1", timeZone: "UTC" }));
      const flood = await hub.ctx.provisioning.provision({ id: "kiosk-flood", kind: "kiosk", siteId: "S1" });
      const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
      const before = await hub.ctx.store.countEvents();
      const start = Date.now();
      let counter = 0;
      while (Date.now() - start < 10_000) {
        const c = await mqtt
          .connectAsync(url, {
            clientId: "kiosk-flood",
            username: "kiosk-flood",
            password: flood.password,
            reconnectPeriod: 0,
          })
          .catch(() => undefined);
        if (!c) continue;
        const closed = new Promise<void>((r) => c.once("close", () => r()));
        const sends = Array.from({ length: 200 }, () =>
          c
            .publishAsync(
              "onsite/v1/dev/kiosk-flood/events",
              JSON.stringify({
                v: 1,
                type: "heartbeat",
                device: "kiosk-flood",
                counter: ++counter,
                time: Date.now(),
              }),
              { qos: 1 },
            )
            .catch(() => undefined),
        );
        await Promise.race([Promise.all(sends), closed]);
        await c.endAsync(true);
      }
      await hub.ctx.ingest.settle();
      const secs = (Date.now() - start) / 1000;
      const accepted = (await hub.ctx.store.countEvents()) - before;
      console.log(
        `one device reconnecting for ${secs.toFixed(1)} s: ${accepted} events accepted (goal ≤ burst + time × rate = ${500 + Math.round(secs * 50)})`,
      );

      const guess = async (addresses: string[], seconds: number) => {
        const checkedBefore = hub.ctx.metrics.value("onsite_mqtt_refused_total", {
          reason: "bad_credentials",
        });
        const t0 = Date.now();
        await Promise.all(
          addresses.map(async (a) => {
            while (Date.now() - t0 < seconds * 1000) {
              const r = await rawLogin(
                hub.mqttPort,
                { clientId: "kiosk-1", username: "kiosk-1", password: "guess" },
                a,
              ).catch(() => undefined);
              r?.client.socket.destroy();
            }
          }),
        );
        const checked =
          hub.ctx.metrics.value("onsite_mqtt_refused_total", { reason: "bad_credentials" }) - checkedBefore;
        return checked / ((Date.now() - t0) / 1000);
      };
      await hub.ctx.provisioning.provision({ id: "kiosk-1", kind: "kiosk", siteId: "S1" });
      const one = await guess(["127.0.0.2"], 10);
      const four = await guess(["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"], 10);
      console.log(
        `wrong passwords checked per second for one id: ${one.toFixed(2)}/s from one address, ${four.toFixed(2)}/s from four (before: 1,875/s)`,
      );

      const victim = await hub.ctx.provisioning.provision({ id: "kiosk-r", kind: "kiosk", siteId: "S1" });
      const c = await mqtt.connectAsync(url, {
        clientId: "kiosk-r",
        username: "kiosk-r",
        password: victim.password,
        reconnectPeriod: 0,
      });
      const closed = new Promise<number>((r) => c.once("close", () => r(Date.now())));
      const t1 = Date.now();
      await hub.ctx.provisioning.revoke("kiosk-r");
      console.log(`revoke to disconnect: ${(await closed) - t1} ms (goal ≤ 1000 ms)`);
    } finally {
      await hub.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
