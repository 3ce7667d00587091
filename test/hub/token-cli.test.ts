/**
 * `onsite token`: an admin token minted on the hub's own machine while it runs (a lost first-start
 * token is not a dead end), then list, rotate and revoke over the API, as an operator would.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { api, startHub, tempDir } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

function onsite(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", "bin/onsite.ts", ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}

describe("onsite token", () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let url: string;

  beforeAll(async () => {
    dir = tempDir();
    hub = await startHub(dir.path);
    url = `http://127.0.0.1:${hub.httpPort}`;
  });
  afterAll(async () => {
    await hub.stop();
    dir.cleanup();
  });

  it("mints an admin token straight into a running hub's database, which then works over the API", async () => {
    const r = await onsite([
      "token",
      "create",
      "--local",
      "--role",
      "admin",
      "--name",
      "rescue",
      "--data-dir",
      dir.path,
    ]);
    expect(r.code).toBe(0);
    const token = r.out.trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(r.err).toMatch(/shown only this once/);
    expect((await api(hub, "GET", "/api/v1/sites", token)).status).toBe(200);
  }, 30_000);

  it("lists, rotates and revokes tokens over the API; a kiosk token shows its site", async () => {
    const admin = hub.adminToken ?? "";
    const env = { ONSITE_URL: url, ONSITE_TOKEN: admin };
    await api(hub, "POST", "/api/v1/sites", admin, { id: "S1", name: "Plant", timeZone: "Asia/Shanghai" });
    const kiosk = await onsite(
      ["token", "create", "--role", "kiosk", "--name", "front desk", "--site", "S1"],
      env,
    );
    expect(kiosk.code).toBe(0);
    const list = await onsite(["token", "list"], env);
    expect(list.code).toBe(0);
    const row = list.out.split("\n").find((l) => l.includes("front desk")) ?? "";
    expect(row).toMatch(/kiosk\s+front desk\s+S1/);
    const id = row.split(/\s+/)[0] ?? "";
    const rotated = await onsite(["token", "rotate", id], env);
    expect(rotated.code).toBe(0);
    const fresh = rotated.out.trim();
    expect((await api(hub, "GET", "/api/v1/kiosk/S1/state", kiosk.out.trim())).status).toBe(401);
    expect((await api(hub, "GET", "/api/v1/kiosk/S1/state", fresh)).status).toBe(200);
    const freshId = /token (\S+) replaces/.exec(rotated.err)?.[1] ?? "";
    expect((await onsite(["token", "revoke", freshId], env)).code).toBe(0);
    expect((await api(hub, "GET", "/api/v1/kiosk/S1/state", fresh)).status).toBe(401);
    const missing = await onsite(["token", "revoke", "0000000000000000"], env);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/no token/);
  }, 60_000);
});
