/**
 * `onsite token create|list|revoke|rotate`: API tokens through a running hub (admin token), and
 * `create --local`, which mints one straight into a hub's database on its own machine (while it
 * runs): a lost first-start token is not a dead end for whoever can read the data directory.
 */
import { type Command, Option } from "commander";
import type { PublicToken } from "../../protocol/api.js";
import { CliError, EXIT } from "./errors.js";
import { table } from "./format.js";
import { type ApiOptions, apiJson, withApiOptions } from "./http.js";

const ROLES = ["admin", "dispatcher", "supervisor", "kiosk"];
const out = (s: string) => process.stdout.write(s);
const note = (s: string) => process.stderr.write(`${s}\n`);
const iso = (t: number | null) =>
  t === null ? "-" : new Date(t).toISOString().slice(0, 19).replace("T", " ");

export function tokenCommands(program: Command): void {
  const token = program
    .command("token")
    .description("API tokens: create, list, revoke, rotate (over the API), or mint one locally (--local)");

  withApiOptions(
    token
      .command("create")
      .description("create a token; it is printed once (stdout), its id on stderr")
      .addOption(
        new Option("--role <role>", "admin | dispatcher | supervisor | kiosk")
          .choices(ROLES)
          .makeOptionMandatory(),
      )
      .requiredOption("--name <name>", "who or what the token is for")
      .option("--site <id>", "the site a kiosk token is bound to")
      .option(
        "--local",
        "write into the hub's database in --data-dir instead of using the API (works while the hub runs)",
      )
      .addOption(
        new Option("--data-dir <dir>", "the hub's data directory, for --local")
          .env("ONSITE_DATA_DIR")
          .default("./data"),
      ),
  ).action(
    async (
      o: ApiOptions & { role: string; name: string; site?: string; local?: boolean; dataDir: string },
    ) => {
      if (o.role === "kiosk" && !o.site)
        throw new CliError("a kiosk token is bound to a site: --site", EXIT.usage);
      let made: { token: string; id: string };
      if (o.local) {
        const { mintTokenLocally } = await import("../../hub/admin/local-token.js");
        try {
          made = await mintTokenLocally(o.dataDir, o.role as PublicToken["role"], o.name, o.site ?? null);
        } catch (e) {
          throw new CliError((e as Error).message, EXIT.refused);
        }
      } else {
        made = await apiJson<{ token: string; id: string }>(o, "POST", "/api/v1/tokens", {
          role: o.role,
          name: o.name,
          ...(o.site ? { siteId: o.site } : {}),
        });
      }
      out(`${made.token}\n`);
      note(
        `token ${made.id} (${o.role}, ${o.name}${o.site ? `, site ${o.site}` : ""}); it is shown only this once`,
      );
    },
  );

  withApiOptions(
    token.command("list").description("list tokens: id, role, name, site, created, revoked (no secrets)"),
  ).action(async (o: ApiOptions) => {
    const rows = await apiJson<PublicToken[]>(o, "GET", "/api/v1/tokens");
    out(
      table([
        ["ID", "ROLE", "NAME", "SITE", "CREATED", "REVOKED"],
        ...rows.map((r) => [r.id, r.role, r.name, r.siteId ?? "-", iso(r.createdAt), iso(r.revokedAt)]),
      ]),
    );
  });

  withApiOptions(
    token
      .command("revoke")
      .description(
        "revoke a token by its id (from `onsite token list`): its requests and live sessions stop at once",
      )
      .argument("<id>", "the token's id"),
  ).action(async (id: string, o: ApiOptions) => {
    await apiJson(o, "POST", `/api/v1/tokens/${encodeURIComponent(id)}/revoke`, {});
    out(`revoked ${id}\n`);
  });

  withApiOptions(
    token
      .command("rotate")
      .description("a new secret for a token (same role, name and site); the old one is revoked")
      .argument("<id>", "the token's id"),
  ).action(async (id: string, o: ApiOptions) => {
    const made = await apiJson<{ token: string; id: string }>(
      o,
      "POST",
      `/api/v1/tokens/${encodeURIComponent(id)}/rotate`,
      {},
    );
    out(`${made.token}\n`);
    note(`token ${made.id} replaces ${id}; it is shown only this once`);
  });
}
