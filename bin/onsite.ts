#!/usr/bin/env node
/** The onsite command line. `onsite --help` lists the commands; each has its own --help. */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { engineerCommands, siteCommands } from "./cli/catalog.js";
import { dataCommands } from "./cli/data.js";
import { CliError, EXIT } from "./cli/errors.js";
import { type ApiOptions, api, apiBytes, readInput, withApiOptions } from "./cli/http.js";
import { tokenCommands } from "./cli/tokens.js";

const program = new Command()
  .name("onsite")
  .description("Field-service visits measured and enforced: the site hub and its tools.")
  .version("0.1.0")
  // Usage errors exit with EXIT.usage (commander prints the message); see the end of this file.
  .exitOverride()
  .addHelpText(
    "after",
    `
Commands that talk to a hub take --url (ONSITE_URL), --token (ONSITE_TOKEN) and --cafile (ONSITE_CAFILE).
Exit codes: 0 done; ${EXIT.refused} refused or failed (the hub said no, bad rows, differing verdicts);
${EXIT.usage} usage (bad flag or argument, unreadable file, no token, bad configuration); ${EXIT.unreachable} the hub
cannot be reached; ${EXIT.unauthorized} the token was refused or its role may not do this.`,
  );

const int = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return Number(v);
};

program
  .command("hub")
  .description(
    "run the hub: MQTT broker, HTTP API and dashboard, visit rules, store (and the demo unless --no-demo)",
  )
  .option("-c, --config <file>", "JSON config file (env ONSITE_CONFIG)")
  .option("--data-dir <dir>", "where the database and keys live (default ./data; env ONSITE_DATA_DIR)")
  .option("--mqtt-host <host>", "MQTT listen address (default 127.0.0.1)")
  .option("--mqtt-port <port>", "MQTT TCP port (default 1883; 0 picks a free port)", int("--mqtt-port"))
  .option("--http-host <host>", "HTTP listen address (default 127.0.0.1)")
  .option("--http-port <port>", "HTTP port (default 8080; MQTT over WebSocket at /mqtt)", int("--http-port"))
  .option(
    "--mqtts-port <port>",
    "MQTT over TLS port, with a certificate (default 8883; env ONSITE_MQTTS_PORT)",
    int("--mqtts-port"),
  )
  .option("--no-mqtt-plain", "with a certificate: no plain MQTT, only mqtts and wss (config mqtt.plain)")
  .option("--tls-cert <file>", "PEM certificate: HTTPS, wss and mqtts (env ONSITE_TLS_CERT; needs --tls-key)")
  .option("--tls-key <file>", "PEM private key of --tls-cert (env ONSITE_TLS_KEY)")
  .option(
    "--store <url>",
    "PostgreSQL instead of SQLite, postgres://user@host:port/db (env ONSITE_STORE_URL; a password is better in PGPASSWORD)",
  )
  .option(
    "--cluster <url>",
    "join a hub cluster on this Redis, redis://host:port (env ONSITE_CLUSTER_URL; needs --store postgres://… and --no-demo)",
  )
  .option("--no-demo", "do not load the demo site or run virtual devices (a real install)")
  .option("--demo-speed <n>", "demo script minutes per real minute, 1..60 (default 60)", int("--demo-speed"))
  .option("--emulate", "run the demo's first kiosk on an emulated Arduino Uno with the real StandardFirmata")
  .addOption(
    new Option(
      "--ble <mode>",
      "BLE radio: auto (bluez with an adapter, else the BlueZ stand-in for the demo, else off), off, bluez, virtual (env ONSITE_BLE)",
    ).choices(["auto", "off", "bluez", "virtual"]),
  )
  .option("--ble-site <id>", "the site this hub's radio stands at, for presence (env ONSITE_BLE_SITE)")
  .addOption(
    new Option("--log-level <level>", "log level").choices([
      "fatal",
      "error",
      "warn",
      "info",
      "debug",
      "trace",
      "silent",
    ]),
  )
  .addHelpText(
    "after",
    "\nPrecedence: flags > environment (ONSITE_*) > config file > defaults. See docs/operations.md.",
  )
  .action(async (o: Record<string, string | number | boolean | undefined>) => {
    const overrides: Record<string, string | number | boolean> = {};
    const map: Record<string, string> = {
      dataDir: "dataDir",
      mqttHost: "mqtt.host",
      mqttPort: "mqtt.port",
      httpHost: "http.host",
      httpPort: "http.port",
      mqttsPort: "mqtt.tlsPort",
      tlsCert: "tls.cert",
      tlsKey: "tls.key",
      demoSpeed: "demo.speed",
      logLevel: "log.level",
      ble: "ble.mode",
      bleSite: "ble.siteId",
      store: "store.url",
      cluster: "cluster.url",
    };
    for (const [flag, key] of Object.entries(map))
      if (o[flag] !== undefined) overrides[key] = o[flag] as string | number;
    if (o.demo === false) overrides["demo.enabled"] = false;
    if (o.mqttPlain === false) overrides["mqtt.plain"] = false;
    if (o.emulate === true) overrides["demo.emulate"] = true;
    // The hub (and everything under it) loads only for this command: the other commands stay light.
    const { runHub } = await import("../hub/main.js");
    await runHub({
      ...(typeof o.config === "string" ? { file: o.config } : {}),
      env: process.env,
      overrides,
    });
  });

siteCommands(program);
engineerCommands(program);
dataCommands(program);
tokenCommands(program);

/** Commands that talk to a running hub over its HTTP API. */
function apiCommand(name: string, description: string) {
  return withApiOptions(program.command(name).description(description));
}

const call = async (o: ApiOptions, method: string, path: string, body?: string, type?: string) =>
  (await api(o, method, path, body, type)).text;

apiCommand("provision", "provision a device (badge, kiosk or gateway); prints its credentials once")
  .argument("<kind>", "badge | kiosk | gateway")
  .argument("<id>", "device id, e.g. badge-0042")
  .option("--engineer <id>", "the engineer a badge belongs to")
  .option("--site <id>", "the site a kiosk or gateway stands at")
  .option("--tag <hex>", "the badge's RFID tag (10 hex digits)")
  .option("--badge-no <n>", "the badge's 32-bit number (default: a random one)", int("--badge-no"))
  .option(
    "--key <hex>",
    "a badge's existing frame key, 32 hex digits (gateway mode: the same badge on two hubs)",
  )
  .option("--revoke", "revoke the device instead")
  .action(
    async (
      kind: string,
      id: string,
      o: ApiOptions & {
        engineer?: string;
        site?: string;
        tag?: string;
        badgeNo?: number;
        key?: string;
        revoke?: boolean;
      },
    ) => {
      if (o.revoke) {
        process.stdout.write(
          `${await call(o, "POST", `/api/v1/devices/${encodeURIComponent(id)}/revoke`)}\n`,
        );
        return;
      }
      const body = {
        id,
        kind,
        ...(o.engineer ? { engineerId: o.engineer } : {}),
        ...(o.site ? { siteId: o.site } : {}),
        ...(o.tag ? { rfidTag: o.tag.toUpperCase() } : {}),
        ...(o.badgeNo === undefined ? {} : { badgeNo: o.badgeNo }),
        ...(o.key ? { key: o.key.toLowerCase() } : {}),
      };
      process.stdout.write(
        `${JSON.stringify(JSON.parse(await call(o, "POST", "/api/v1/devices", JSON.stringify(body))), null, 2)}\n`,
      );
    },
  );

const visits = program.command("visits").description("dispatch: visits");
withApiOptions(
  visits
    .command("import")
    .description(
      "import visits from a CSV file (header id,site_id,engineer_id,date,from,to; site wall time); bad rows are listed, good rows kept",
    )
    .argument("<file>", "CSV file"),
).action(async (file: string, o: ApiOptions) => {
  const result = JSON.parse(await call(o, "POST", "/api/v1/visits/import", readInput(file), "text/csv")) as {
    imported: string[];
    errors: Array<{ line: number; field: string; message: string }>;
  };
  process.stdout.write(`imported ${result.imported.length} visit(s)\n`);
  for (const e of result.errors) process.stdout.write(`line ${e.line}, ${e.field}: ${e.message}\n`);
  if (result.errors.length > 0) process.exitCode = EXIT.refused;
});

apiCommand(
  "report",
  "report of visits (CSV with a byte-order mark, or XLSX): arrival, gear, clean-up, violations",
)
  .option("--day <date>", "YYYY-MM-DD in each site's time zone, or today (each site's own today)")
  .option("--from <date>", "first day of a range, YYYY-MM-DD (each site's zone)")
  .option("--to <date>", "last day of the range, inclusive")
  .option("--site <id>", "one site")
  .option("--engineer <id>", "one engineer")
  .option("--format <format>", "csv or xlsx", "csv")
  .option("--lang <lang>", "XLSX column titles: en or zh-CN", "en")
  .option("-o, --output <file>", "write to a file instead of stdout")
  .action(
    async (
      o: ApiOptions & {
        day?: string;
        from?: string;
        to?: string;
        site?: string;
        engineer?: string;
        format: string;
        lang: string;
        output?: string;
      },
    ) => {
      if (o.format !== "csv" && o.format !== "xlsx")
        throw new CliError(`--format is csv or xlsx, not ${o.format}`, EXIT.usage);
      if (o.format === "xlsx" && !o.output) throw new CliError("an XLSX report needs -o <file>", EXIT.usage);
      const q = new URLSearchParams();
      for (const k of ["day", "from", "to", "site", "engineer"] as const) {
        const v = o[k];
        if (v) q.set(k, v);
      }
      if (o.format === "xlsx") q.set("lang", o.lang);
      // The bytes as sent: a CSV keeps its byte-order mark.
      const { bytes } = await apiBytes(o, "GET", `/api/v1/reports/visits.${o.format}?${q}`);
      if (o.output) writeFileSync(o.output, bytes);
      else process.stdout.write(bytes);
    },
  );

program
  .command("sim")
  .description(
    "site simulator: runs engineers' badges and customers' kiosks (firmware on virtual boards) through scenarios drawn from the rules (docs/rules.md) against a hub, then checks the hub's verdicts (exit 1 if they differ)",
  )
  .addOption(
    new Option("--url <url>", "hub HTTP base URL").env("ONSITE_URL").default("http://127.0.0.1:8080"),
  )
  .addOption(
    new Option("--mqtt <url>", "hub MQTT URL").env("ONSITE_MQTT_URL").default("mqtt://127.0.0.1:1883"),
  )
  .addOption(new Option("--token <token>", "admin API token").env("ONSITE_TOKEN"))
  .option("--speed <n>", "script minutes per real minute, 1..60", int("--speed"), 60)
  .option("--seed <n>", "seed for timing jitter and names (printed; replay a run with it)", int("--seed"))
  .option("--scenario <text...>", "only scenarios whose name contains this text")
  .option("--emulate", "run the first kiosk on the emulated Uno with the real StandardFirmata")
  .action(
    async (o: {
      url: string;
      mqtt: string;
      token?: string;
      speed: number;
      seed?: number;
      scenario?: string[];
      emulate?: boolean;
    }) => {
      if (!o.token) throw new CliError("an admin API token is required: --token or ONSITE_TOKEN", EXIT.usage);
      if (o.speed < 1 || o.speed > 60)
        throw new CliError("--speed must be 1..60 (badge frames carry whole seconds)", EXIT.usage);
      const { runSim } = await import("../firmware/sim/run.js");
      const { SCENARIOS } = await import("../firmware/sim/scenarios.js");
      const scenarios = o.scenario
        ? SCENARIOS.filter((s) => o.scenario?.some((t) => s.name.includes(t)))
        : SCENARIOS;
      if (scenarios.length === 0)
        throw new CliError(
          `no scenario matches; scenarios: ${SCENARIOS.map((s) => s.name).join("; ")}`,
          EXIT.usage,
        );
      const summary = await runSim({
        httpUrl: o.url,
        mqttUrl: o.mqtt,
        token: o.token,
        speed: o.speed,
        seed: o.seed ?? Math.floor(Math.random() * 1_000_000),
        scenarios,
        emulate: o.emulate === true,
        log: (l) => process.stdout.write(`${l}\n`),
      });
      process.exit(summary.ok ? 0 : 1);
    },
  );

program
  .command("bench")
  .description(
    "run the benchmarks (same as npm run bench); figures are ratios against baselines run in the same process",
  )
  .argument(
    "[suites...]",
    "suites to run: protocol, presence, projection, hub, boundaries, store, workload, web, cluster (default: all)",
  )
  .action((suites: string[]) => {
    // Benchmarks run from the source tree with tsx (a dev dependency), like `npm run bench`.
    const root = fileURLToPath(
      new URL(import.meta.url.includes("/dist/") ? "../../" : "../", import.meta.url),
    );
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts", ...suites], {
      cwd: root,
      stdio: "inherit",
    });
    if (r.error || r.status !== 0)
      throw new CliError("benchmarks need the dev dependencies (npm install) and the source tree");
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end here too; commander has printed what it had to say.
    process.exit(e.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  if (e instanceof CliError) {
    process.stderr.write(`onsite: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  // Anything else is a bug or an environment we did not foresee: one line, the stack on request.
  process.stderr.write(
    `onsite: ${e instanceof Error ? e.message : String(e)}${process.env.ONSITE_DEBUG ? `\n${(e as Error).stack}` : " (ONSITE_DEBUG=1 shows where)"}\n`,
  );
  process.exit(EXIT.refused);
}
