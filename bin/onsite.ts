#!/usr/bin/env node
/** The onsite command line. `onsite --help` lists the commands; each has its own --help. */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import { runHub } from "../hub/main.js";

const program = new Command()
  .name("onsite")
  .description("Field-service visits measured and enforced: the site hub and its tools.")
  .version("0.1.0");

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
      demoSpeed: "demo.speed",
      logLevel: "log.level",
      ble: "ble.mode",
      bleSite: "ble.siteId",
    };
    for (const [flag, key] of Object.entries(map))
      if (o[flag] !== undefined) overrides[key] = o[flag] as string | number;
    if (o.demo === false) overrides["demo.enabled"] = false;
    if (o.emulate === true) overrides["demo.emulate"] = true;
    await runHub({
      ...(typeof o.config === "string" ? { file: o.config } : {}),
      env: process.env,
      overrides,
    });
  });

/** Commands that talk to a running hub over its HTTP API. */
function apiCommand(name: string, description: string) {
  return program
    .command(name)
    .description(description)
    .option("--url <url>", "hub base URL (env ONSITE_URL)", process.env.ONSITE_URL ?? "http://127.0.0.1:8080")
    .option("--token <token>", "API token (env ONSITE_TOKEN)", process.env.ONSITE_TOKEN);
}

async function call(
  o: { url: string; token?: string },
  method: string,
  path: string,
  body?: string,
  type = "application/json",
) {
  if (!o.token) fail("an API token is required: --token or ONSITE_TOKEN");
  const res = await fetch(new URL(path, o.url), {
    method,
    headers: { authorization: `Bearer ${o.token}`, ...(body !== undefined ? { "content-type": type } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  if (!res.ok) fail(`${res.status}: ${text}`);
  return text;
}

function fail(message: string): never {
  process.stderr.write(`onsite: ${message}\n`);
  process.exit(1);
}

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
      o: {
        url: string;
        token?: string;
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
visits
  .command("import")
  .description("import visits from a CSV file (header id,site_id,engineer_id,date,from,to; site wall time)")
  .argument("<file>", "CSV file")
  .option("--url <url>", "hub base URL (env ONSITE_URL)", process.env.ONSITE_URL ?? "http://127.0.0.1:8080")
  .option("--token <token>", "API token (env ONSITE_TOKEN)", process.env.ONSITE_TOKEN)
  .action(async (file: string, o: { url: string; token?: string }) => {
    const result = JSON.parse(
      await call(o, "POST", "/api/v1/visits/import", readFileSync(file, "utf8"), "text/csv"),
    ) as {
      imported: string[];
      errors: Array<{ line: number; field: string; message: string }>;
    };
    process.stdout.write(`imported ${result.imported.length} visit(s)\n`);
    for (const e of result.errors) process.stdout.write(`line ${e.line}, ${e.field}: ${e.message}\n`);
    if (result.errors.length > 0) process.exitCode = 1;
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
    async (o: {
      url: string;
      token?: string;
      day?: string;
      from?: string;
      to?: string;
      site?: string;
      engineer?: string;
      format: string;
      lang: string;
      output?: string;
    }) => {
      if (o.format !== "csv" && o.format !== "xlsx") fail("--format is csv or xlsx");
      if (o.format === "xlsx" && !o.output) fail("an XLSX report needs -o <file>");
      const q = new URLSearchParams();
      for (const k of ["day", "from", "to", "site", "engineer"] as const) {
        const v = o[k];
        if (v) q.set(k, v);
      }
      if (o.format === "xlsx") q.set("lang", o.lang);
      if (!o.token) fail("an API token is required: --token or ONSITE_TOKEN");
      const res = await fetch(new URL(`/api/v1/reports/visits.${o.format}?${q}`, o.url), {
        headers: { authorization: `Bearer ${o.token}` },
      });
      // The bytes as sent: a CSV keeps its byte-order mark (text() would drop it).
      const bytes = Buffer.from(await res.arrayBuffer());
      if (!res.ok) fail(`${res.status}: ${bytes.toString("utf8")}`);
      if (o.output) writeFileSync(o.output, bytes);
      else process.stdout.write(bytes);
    },
  );

const token = program
  .command("token")
  .description("API tokens: create, list, revoke, rotate (over the API), or mint an admin token locally");
const tokenApi = (name: string, description: string) =>
  token
    .command(name)
    .description(description)
    .option("--url <url>", "hub base URL (env ONSITE_URL)", process.env.ONSITE_URL ?? "http://127.0.0.1:8080")
    .option("--token <token>", "admin API token (env ONSITE_TOKEN)", process.env.ONSITE_TOKEN);
const ROLES = ["admin", "dispatcher", "supervisor", "kiosk"];

token
  .command("create")
  .description(
    "create a token over the API; with --local, mint one straight into the hub's database on this machine (a lost first-start token is not a dead end)",
  )
  .addOption(
    new Option("--role <role>", "admin | dispatcher | supervisor | kiosk")
      .choices(ROLES)
      .makeOptionMandatory(),
  )
  .requiredOption("--name <name>", "who or what the token is for")
  .option("--site <id>", "the site a kiosk token is bound to")
  .option("--local", "write into the database in --data-dir (works while the hub runs)")
  .option("--data-dir <dir>", "the hub's data directory, for --local (default ./data; env ONSITE_DATA_DIR)")
  .option("--url <url>", "hub base URL (env ONSITE_URL)", process.env.ONSITE_URL ?? "http://127.0.0.1:8080")
  .option("--token <token>", "admin API token (env ONSITE_TOKEN)", process.env.ONSITE_TOKEN)
  .action(
    async (o: {
      role: string;
      name: string;
      site?: string;
      local?: boolean;
      dataDir?: string;
      url: string;
      token?: string;
    }) => {
      if (o.role === "kiosk" && !o.site) fail("a kiosk token is bound to a site: --site");
      if (o.local) {
        const { mintTokenLocally } = await import("../hub/admin/local-token.js");
        const dir = o.dataDir ?? process.env.ONSITE_DATA_DIR ?? "./data";
        try {
          const made = await mintTokenLocally(dir, o.role as "admin", o.name, o.site ?? null);
          process.stdout.write(`${made.token}\n`);
          process.stderr.write(
            `token ${made.id} (${o.role}, ${o.name}) written to ${dir}; it is shown only this once\n`,
          );
        } catch (e) {
          fail((e as Error).message);
        }
        return;
      }
      const body = JSON.stringify({ role: o.role, name: o.name, ...(o.site ? { siteId: o.site } : {}) });
      const made = JSON.parse(await call(o, "POST", "/api/v1/tokens", body)) as { token: string; id: string };
      process.stdout.write(`${made.token}\n`);
      process.stderr.write(`token ${made.id} (${o.role}, ${o.name}); it is shown only this once\n`);
    },
  );
tokenApi("list", "list tokens: id, role, name, site, created, revoked (never the secrets)").action(
  async (o: { url: string; token?: string }) => {
    const rows = JSON.parse(await call(o, "GET", "/api/v1/tokens")) as Array<{
      id: string;
      role: string;
      name: string;
      siteId: string | null;
      createdAt: number;
      revokedAt: number | null;
    }>;
    const iso = (t: number | null) =>
      t === null ? "-" : new Date(t).toISOString().slice(0, 19).replace("T", " ");
    process.stdout.write(
      "id                role        name                     site         created              revoked\n",
    );
    for (const r of rows) {
      process.stdout.write(
        `${r.id}  ${r.role.padEnd(10)}  ${r.name.slice(0, 24).padEnd(24)} ${(r.siteId ?? "-").padEnd(12)} ${iso(r.createdAt)}  ${iso(r.revokedAt)}\n`,
      );
    }
  },
);
tokenApi(
  "revoke",
  "revoke a token by its id (from `onsite token list`): requests and live sessions with it stop at once",
)
  .argument("<id>", "the token's id")
  .action(async (id: string, o: { url: string; token?: string }) => {
    await call(o, "POST", `/api/v1/tokens/${encodeURIComponent(id)}/revoke`, "{}");
    process.stdout.write(`revoked ${id}\n`);
  });
tokenApi("rotate", "a new secret for a token (same role, name, site); the old one is revoked")
  .argument("<id>", "the token's id")
  .action(async (id: string, o: { url: string; token?: string }) => {
    const made = JSON.parse(
      await call(o, "POST", `/api/v1/tokens/${encodeURIComponent(id)}/rotate`, "{}"),
    ) as {
      token: string;
      id: string;
    };
    process.stdout.write(`${made.token}\n`);
    process.stderr.write(`token ${made.id} replaces ${id}; it is shown only this once\n`);
  });

program
  .command("sim")
  .description(
    "site simulator: runs engineers' badges and customers' kiosks (firmware on virtual boards) through RULES.md scenarios against a hub, then checks the hub's verdicts",
  )
  .option(
    "--url <url>",
    "hub HTTP base URL (env ONSITE_URL)",
    process.env.ONSITE_URL ?? "http://127.0.0.1:8080",
  )
  .option("--mqtt <url>", "hub MQTT URL", process.env.ONSITE_MQTT_URL ?? "mqtt://127.0.0.1:1883")
  .option("--token <token>", "admin API token (env ONSITE_TOKEN)", process.env.ONSITE_TOKEN)
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
      if (!o.token) fail("an admin API token is required: --token or ONSITE_TOKEN");
      if (o.speed < 1 || o.speed > 60) fail("--speed must be 1..60 (badge frames carry whole seconds)");
      const { runSim } = await import("../firmware/sim/run.js");
      const { SCENARIOS } = await import("../firmware/sim/scenarios.js");
      const scenarios = o.scenario
        ? SCENARIOS.filter((s) => o.scenario?.some((t) => s.name.includes(t)))
        : SCENARIOS;
      if (scenarios.length === 0)
        fail(`no scenario matches; scenarios: ${SCENARIOS.map((s) => s.name).join("; ")}`);
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
    "suites to run: protocol, presence, projection, hub, boundaries, web (default: all)",
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
      fail("benchmarks need the dev dependencies (npm install) and the source tree");
  });

await program.parseAsync(process.argv);
