/** `onsite hub`: load the configuration, start the hub (and the demo), stop cleanly on a signal. */
import { createHub, type Hub } from "./app.js";
import { ConfigError, type ConfigSources, loadConfig } from "./config/config.js";
import { ListenError } from "./ops/listen-error.js";
import { loadDemo } from "./stand-ins.js";

export async function runHub(sources: ConfigSources): Promise<Hub> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(sources);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`onsite: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  let hub: Hub;
  try {
    hub = await createHub(config);
  } catch (e) {
    // A port in use, a certificate that cannot be read: one line a person can act on, exit code 2.
    if (e instanceof ListenError || e instanceof ConfigError) {
      process.stderr.write(`onsite: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const { log } = hub.ctx;
  const web = `${hub.tls ? "https" : "http"}://${config.http.host}:${hub.httpPort}`;
  if (hub.adminToken) {
    process.stdout.write(
      `\n  First start: an admin API token was created. It is shown only this once:\n\n    ${hub.adminToken}\n\n` +
        `  Dashboard: ${web}/  ·  API docs: ${web}/docs  ·  health: /healthz\n\n`,
    );
  }
  const demo = config.demo.enabled
    ? await (await loadDemo())(hub, { speed: config.demo.speed, emulate: config.demo.emulate })
    : undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    (demo ? demo.stop() : Promise.resolve())
      .then(() => hub.stop())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          log.error({ err: e }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  log.info({ mqttPort: hub.mqttPort, httpPort: hub.httpPort, demo: demo !== undefined }, "hub ready");
  return hub;
}
