/**
 * The CLI as a person meets it: `onsite site|engineer create|list|show` against a running hub, and
 * what it says when things go wrong (unreachable hub, refused token, missing file, refused input):
 * one line on stderr, no stack trace, and the documented exit code.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { newToken, startHub, tempDir } from "../hub/helpers.js";
import { type CliResult, onsite } from "./cli-run.js";

/** One line on stderr, starting "onsite: ", without a stack trace. */
function oneLine(r: CliResult): string {
  const lines = r.stderr.split("\n").filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(lines[0]).toMatch(/^onsite: /);
  return lines[0] ?? "";
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("onsite CLI", { timeout: 60_000 }, () => {
  const dir = tempDir();
  let hub: Hub;
  let env: Record<string, string>;
  let supervisor: string;

  beforeAll(async () => {
    hub = await startHub(dir.path);
    env = { ONSITE_URL: `http://127.0.0.1:${hub.httpPort}`, ONSITE_TOKEN: hub.adminToken ?? "" };
    supervisor = await newToken(hub, "supervisor", "Supervisor Wang");
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  it("site create, list, show; create refuses an existing id unless --replace", async () => {
    const created = await onsite(
      [
        "site",
        "create",
        "S-7",
        "--name",
        "Dalian port",
        "--zone",
        "Asia/Shanghai",
        "--ppe",
        "helmet,hi_vis",
      ].concat(["--working-days", "1,2,3,4,5,6", "--holidays", "2026-10-01", "--at-risk-minutes", "20"]),
      env,
    );
    expect([created.code, created.stderr]).toEqual([0, ""]);
    expect(created.stdout).toMatch(/^created site S-7\nS-7 {2}Dalian port\n/);
    const stored = await hub.ctx.store.getSite("S-7");
    expect(stored).toMatchObject({
      name: "Dalian port",
      timeZone: "Asia/Shanghai",
      requiredPpe: ["helmet", "hi_vis"],
      workingDays: [1, 2, 3, 4, 5, 6],
      holidays: ["2026-10-01"],
      atRiskMinutes: 20,
    });
    // Fields not given are the hub's defaults.
    expect(stored?.certificatePolicy).toBe("warn");

    const listed = await onsite(["site", "list"], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+TIME ZONE\s+PPE$/);
    expect(listed.stdout).toMatch(/S-7\s+Dalian port\s+Asia\/Shanghai\s+helmet, hi_vis/);

    const shown = await onsite(["site", "show", "S-7"], env);
    expect(shown.stdout).toContain("working days        Mon Tue Wed Thu Fri Sat");
    const json = await onsite(["site", "show", "S-7", "--json"], env);
    expect(JSON.parse(json.stdout)).toEqual(stored);

    const again = await onsite(["site", "create", "S-7", "--name", "Other", "--zone", "UTC"], env);
    expect(again.code).toBe(1);
    expect(oneLine(again)).toBe("onsite: site S-7 exists; --replace overwrites it");
    const replaced = await onsite(
      ["site", "create", "S-7", "--name", "Other", "--zone", "UTC", "--replace"],
      env,
    );
    expect(replaced.code).toBe(0);
    expect((await hub.ctx.store.getSite("S-7"))?.name).toBe("Other");

    const missing = await onsite(["site", "show", "S-404"], env);
    expect([missing.code, oneLine(missing)]).toEqual([1, "onsite: id: no site S-404"]);
  });

  it("engineer create (certificates), list, show", async () => {
    const created = await onsite(
      ["engineer", "create", "E-7", "--name", "Li Na", "--company", "Shengda"].concat([
        "--cert",
        "safety_training:2027-06-30",
        "--cert",
        "electrician:2026-12-31:DL-0042",
      ]),
      env,
    );
    expect([created.code, created.stderr]).toEqual([0, ""]);
    expect(await hub.ctx.store.getEngineer("E-7")).toEqual({
      id: "E-7",
      name: "Li Na",
      company: "Shengda",
      certificates: [
        { kind: "safety_training", validUntil: "2027-06-30" },
        { kind: "electrician", validUntil: "2026-12-31", number: "DL-0042" },
      ],
    });
    const listed = await onsite(["engineer", "list"], env);
    expect(listed.stdout).toMatch(
      /E-7\s+Li Na\s+Shengda\s+safety_training \(2027-06-30\), electrician \(2026-12-31\)/,
    );
    const shown = await onsite(["engineer", "show", "E-7"], env);
    expect(shown.stdout).toContain("electrician DL-0042 until 2026-12-31");
    const missing = await onsite(["engineer", "show", "E-404"], env);
    expect([missing.code, oneLine(missing)]).toEqual([1, "onsite: no engineer E-404"]);
    const again = await onsite(["engineer", "create", "E-7", "--name", "x", "--company", "y"], env);
    expect([again.code, oneLine(again)]).toEqual([1, "onsite: engineer E-7 exists; --replace overwrites it"]);
    const badCert = await onsite(
      ["engineer", "create", "E-8", "--name", "x", "--company", "y", "--cert", "x:soon"],
      env,
    );
    expect(badCert.code).toBe(2);
    expect(badCert.stderr).toContain("expected kind:YYYY-MM-DD");
  });

  it("an unreachable hub: one line naming the URL, exit 3", async () => {
    const port = await closedPort();
    const r = await onsite(["site", "list"], { ...env, ONSITE_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(3);
    expect(oneLine(r)).toBe(
      `onsite: cannot reach the hub at http://127.0.0.1:${port} (nothing is listening there); is it running? Point --url (or ONSITE_URL) at it`,
    );
  });

  it("a bad token, and a role that may not: exit 4", async () => {
    const bad = await onsite(["site", "list", "--token", "not-a-token"], env);
    expect([bad.code, oneLine(bad)]).toEqual([
      4,
      "onsite: the hub refused the token (unknown or revoked token): check --token or ONSITE_TOKEN",
    ]);
    const role = await onsite(["site", "create", "S-8", "--name", "x", "--zone", "UTC"], {
      ...env,
      ONSITE_TOKEN: supervisor,
    });
    expect([role.code, oneLine(role)]).toEqual([
      4,
      "onsite: not allowed: role supervisor may not use this endpoint",
    ]);
    const none = await onsite(["report"], { ...env, ONSITE_TOKEN: undefined });
    expect([none.code, oneLine(none)]).toEqual([
      2,
      "onsite: an API token is required: --token or ONSITE_TOKEN",
    ]);
  });

  it("a missing file: exit 2 naming it; input the hub refuses: its message, exit 1", async () => {
    const file = await onsite(["visits", "import", "/nonexistent/visits.csv"], env);
    expect([file.code, oneLine(file)]).toEqual([
      2,
      "onsite: cannot read /nonexistent/visits.csv: no such file",
    ]);
    const zone = await onsite(["site", "create", "S-9", "--name", "x", "--zone", "Mars/Olympus"], env);
    expect(zone.code).toBe(1);
    expect(oneLine(zone)).toMatch(/^onsite: timeZone: .*Mars\/Olympus/);
    const device = await onsite(["provision", "kiosk", "kiosk-9", "--site", "S-404"], env);
    expect([device.code, oneLine(device)]).toEqual([1, "onsite: siteId: no site S-404"]);
  });

  it("usage errors exit 2; --help exits 0 and lists each command's flags", async () => {
    const usage = await onsite(["site", "create", "S-1", "--zone", "UTC"], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '--name <name>' not specified");
    const help = await onsite(["site", "create", "--help"]);
    expect(help.code).toBe(0);
    for (const flag of [
      "--name",
      "--zone",
      "--ppe",
      "--cleanup",
      "--certificates",
      "--replace",
      "--url",
      "--cafile",
    ])
      expect(help.stdout).toContain(flag);
    const top = await onsite(["--help"]);
    expect(top.stdout).toMatch(/Exit codes: 0 done; 1 refused/);
  });
});
