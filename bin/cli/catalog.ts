/**
 * `onsite site create|list|show` and `onsite engineer create|list|show`, through a running hub's
 * HTTP API (admin token to create; any staff token to read). `create` refuses an id that exists
 * unless `--replace`, which updates it (PUT: the hub keeps the earlier version).
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { CLEANUP_ITEMS, PPE_ITEMS } from "../../protocol/vocab.js";
import { CliError } from "./errors.js";
import { fields, list, table } from "./format.js";
import { type ApiOptions, apiJson, withApiOptions } from "./http.js";

interface Site {
  id: string;
  name: string;
  timeZone: string;
  requiredPpe: string[];
  cleanupChecklist: string[];
  requiredCertificates: string[];
  certificatePolicy: "warn" | "refuse";
  workingDays: number[];
  holidays: string[];
  atRiskMinutes: number;
}

interface Certificate {
  kind: string;
  number?: string;
  validUntil: string;
}

interface Engineer {
  id: string;
  name: string;
  company: string;
  certificates: Certificate[];
}

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A comma-separated list ("none" for an empty one), each item checked. */
const itemsOf =
  (flag: string, allowed?: readonly string[], check?: (item: string) => boolean) =>
  (v: string): string[] => {
    const items = v === "none" || v === "" ? [] : v.split(",").map((s) => s.trim());
    for (const item of items) {
      if (allowed && !allowed.includes(item))
        throw new InvalidArgumentError(`${flag}: ${item} is not one of ${allowed.join(", ")}`);
      if (check && !check(item)) throw new InvalidArgumentError(`${flag}: ${item} is not valid`);
    }
    return items;
  };

const wholeNumber = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${flag} must be a whole number`);
  return Number(v);
};

const certificateOf = (v: string, previous: Certificate[] = []): Certificate[] => {
  const [kind, validUntil, number] = v.split(":");
  if (!kind || !validUntil || !ISO_DATE.test(validUntil))
    throw new InvalidArgumentError(`--cert ${v}: expected kind:YYYY-MM-DD or kind:YYYY-MM-DD:number`);
  return [...previous, { kind, validUntil, ...(number ? { number } : {}) }];
};

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
const out = (text: string): void => {
  process.stdout.write(text);
};

function showSite(s: Site): string {
  return fields(`${s.id}  ${s.name}`, [
    ["time zone", s.timeZone],
    ["required PPE", list(s.requiredPpe)],
    ["clean-up checklist", list(s.cleanupChecklist)],
    ["certificates", `${list(s.requiredCertificates)} (policy: ${s.certificatePolicy})`],
    ["working days", s.workingDays.map((d) => WEEKDAYS[d - 1] ?? String(d)).join(" ")],
    ["holidays", list(s.holidays)],
    ["at risk", `${s.atRiskMinutes} min before the window closes`],
  ]);
}

function showEngineer(e: Engineer): string {
  return fields(`${e.id}  ${e.name}`, [
    ["company", e.company],
    [
      "certificates",
      list(e.certificates.map((c) => `${c.kind}${c.number ? ` ${c.number}` : ""} until ${c.validUntil}`)),
    ],
  ]);
}

async function siteExists(o: ApiOptions, id: string): Promise<boolean> {
  const sites = await apiJson<Site[]>(o, "GET", "/api/v1/sites");
  return sites.some((s) => s.id === id);
}

export function siteCommands(program: Command): void {
  const site = program
    .command("site")
    .description("sites: where visits happen (through a running hub's API)");

  withApiOptions(
    site
      .command("create")
      .description("create a site (admin token); fields not given get the hub's defaults")
      .argument("<id>", "site id, e.g. S-0042")
      .requiredOption("--name <name>", "the site's name")
      .requiredOption("--zone <zone>", "IANA time zone of the site, e.g. Asia/Shanghai")
      .option(
        "--ppe <items>",
        `required PPE, comma-separated or none (${PPE_ITEMS.join(", ")}; default helmet,safety_shoes)`,
        itemsOf("--ppe", PPE_ITEMS),
      )
      .option(
        "--cleanup <items>",
        `clean-up checklist, comma-separated (${CLEANUP_ITEMS.join(", ")}; default all)`,
        itemsOf("--cleanup", CLEANUP_ITEMS),
      )
      .option(
        "--certificates <kinds>",
        "certificate kinds every engineer must hold, comma-separated or none (default safety_training)",
        itemsOf("--certificates"),
      )
      .addOption(
        new Option(
          "--certificate-policy <policy>",
          "warn: check-in goes ahead with a violation; refuse: it is blocked (default warn)",
        ).choices(["warn", "refuse"]),
      )
      .option(
        "--working-days <days>",
        "ISO weekdays the site works, 1 = Monday (default 1,2,3,4,5)",
        itemsOf("--working-days", undefined, (d) => /^[1-7]$/.test(d)),
      )
      .option(
        "--holidays <dates>",
        "days off, YYYY-MM-DD, comma-separated",
        itemsOf("--holidays", undefined, (d) => ISO_DATE.test(d)),
      )
      .option(
        "--at-risk-minutes <n>",
        "warn when the engineer is not on site this long before the window closes (default 15)",
        wholeNumber("--at-risk-minutes"),
      )
      .option("--replace", "overwrite a site with this id")
      .option("--json", "print the stored site as JSON"),
  ).action(
    async (
      id: string,
      o: ApiOptions & {
        name: string;
        zone: string;
        ppe?: string[];
        cleanup?: string[];
        certificates?: string[];
        certificatePolicy?: string;
        workingDays?: string[];
        holidays?: string[];
        atRiskMinutes?: number;
        replace?: boolean;
        json?: boolean;
      },
    ) => {
      if (o.cleanup?.length === 0) throw new CliError("--cleanup needs at least one item", 2);
      if (o.workingDays?.length === 0) throw new CliError("--working-days needs at least one day", 2);
      const exists = await siteExists(o, id);
      if (exists && !o.replace) throw new CliError(`site ${id} exists; --replace overwrites it`);
      const body = {
        id,
        name: o.name,
        timeZone: o.zone,
        ...(o.ppe ? { requiredPpe: o.ppe } : {}),
        ...(o.cleanup ? { cleanupChecklist: o.cleanup } : {}),
        ...(o.certificates ? { requiredCertificates: o.certificates } : {}),
        ...(o.certificatePolicy ? { certificatePolicy: o.certificatePolicy } : {}),
        ...(o.workingDays ? { workingDays: o.workingDays.map(Number) } : {}),
        ...(o.holidays ? { holidays: o.holidays } : {}),
        ...(o.atRiskMinutes === undefined ? {} : { atRiskMinutes: o.atRiskMinutes }),
      };
      const stored = exists
        ? await apiJson<Site>(o, "PUT", `/api/v1/sites/${encodeURIComponent(id)}`, {
            ...(await apiJson<Site>(o, "GET", `/api/v1/sites/${encodeURIComponent(id)}`)),
            ...body,
          })
        : await apiJson<Site>(o, "POST", "/api/v1/sites", body);
      out(o.json ? json(stored) : `${exists ? "updated" : "created"} site ${stored.id}\n${showSite(stored)}`);
    },
  );

  withApiOptions(site.command("list").description("list the sites").option("--json", "as JSON")).action(
    async (o: ApiOptions & { json?: boolean }) => {
      const sites = await apiJson<Site[]>(o, "GET", "/api/v1/sites");
      if (o.json) out(json(sites));
      else if (sites.length === 0) out("no sites\n");
      else
        out(
          table([
            ["ID", "NAME", "TIME ZONE", "PPE"],
            ...sites.map((s) => [s.id, s.name, s.timeZone, list(s.requiredPpe)]),
          ]),
        );
    },
  );

  withApiOptions(
    site.command("show").description("one site").argument("<id>", "site id").option("--json", "as JSON"),
  ).action(async (id: string, o: ApiOptions & { json?: boolean }) => {
    const s = await apiJson<Site>(o, "GET", `/api/v1/sites/${encodeURIComponent(id)}`);
    out(o.json ? json(s) : showSite(s));
  });
}

export function engineerCommands(program: Command): void {
  const engineer = program
    .command("engineer")
    .description("engineers: who visits (through a running hub's API)");

  const byId = async (o: ApiOptions, id: string) =>
    (await apiJson<Engineer[]>(o, "GET", "/api/v1/engineers")).find((e) => e.id === id);

  withApiOptions(
    engineer
      .command("create")
      .description("create an engineer (admin token)")
      .argument("<id>", "engineer id, e.g. E-0042")
      .requiredOption("--name <name>", "the engineer's name")
      .requiredOption("--company <company>", "the company the engineer works for")
      .option(
        "--cert <kind:YYYY-MM-DD[:number]>",
        "a certificate and its last valid day (repeat for more)",
        certificateOf,
      )
      .option("--replace", "overwrite an engineer with this id")
      .option("--json", "print the stored engineer as JSON"),
  ).action(
    async (
      id: string,
      o: ApiOptions & {
        name: string;
        company: string;
        cert?: Certificate[];
        replace?: boolean;
        json?: boolean;
      },
    ) => {
      const exists = (await byId(o, id)) !== undefined;
      if (exists && !o.replace) throw new CliError(`engineer ${id} exists; --replace overwrites it`);
      const doc = { id, name: o.name, company: o.company, certificates: o.cert ?? [] };
      const stored = exists
        ? await apiJson<Engineer>(o, "PUT", `/api/v1/engineers/${encodeURIComponent(id)}`, doc)
        : await apiJson<Engineer>(o, "POST", "/api/v1/engineers", doc);
      out(
        o.json
          ? json(stored)
          : `${exists ? "updated" : "created"} engineer ${stored.id}\n${showEngineer(stored)}`,
      );
    },
  );

  withApiOptions(
    engineer.command("list").description("list the engineers").option("--json", "as JSON"),
  ).action(async (o: ApiOptions & { json?: boolean }) => {
    const engineers = await apiJson<Engineer[]>(o, "GET", "/api/v1/engineers");
    if (o.json) return out(json(engineers));
    if (engineers.length === 0) return out("no engineers\n");
    out(
      table([
        ["ID", "NAME", "COMPANY", "CERTIFICATES"],
        ...engineers.map((e) => [
          e.id,
          e.name,
          e.company,
          list(e.certificates.map((c) => `${c.kind} (${c.validUntil})`)),
        ]),
      ]),
    );
  });

  withApiOptions(
    engineer
      .command("show")
      .description("one engineer")
      .argument("<id>", "engineer id")
      .option("--json", "as JSON"),
  ).action(async (id: string, o: ApiOptions & { json?: boolean }) => {
    const e = await byId(o, id);
    if (!e) throw new CliError(`no engineer ${id}`);
    out(o.json ? json(e) : showEngineer(e));
  });
}
