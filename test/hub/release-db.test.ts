/**
 * Migrations from the field: a database made by release 0.1.0 (test/fixtures/README.md) opens with
 * the current store, is migrated to the current schema, and every table reads back.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../hub/adapters/store/sqlite/migrations.js";
import { SqliteStore } from "../../hub/adapters/store/sqlite/sqlite-store.js";
import type { Hub } from "../../hub/app.js";
import { KeyVault, tokenDigest, verifySecret } from "../../hub/security/secrets.js";
import { toHex } from "../../protocol/index.js";
import { api, startHub, tempDir } from "./helpers.js";

const fixtures = new URL("../fixtures/", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(fixtures, "onsite-0.1.0.json"), "utf8")) as {
  schemaVersion: number;
  secrets: {
    adminToken: string;
    supervisorToken: string;
    kioskToken: string;
    passwords: Record<string, string>;
    badgeKey: string;
  };
};
const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));

/** A copy of the 0.1.0 data dir: the store migrates in place and switches to WAL. */
function copyOfRelease(dir: string): string {
  copyFileSync(join(fixtures, "onsite-0.1.0.db"), join(dir, "onsite.db"));
  copyFileSync(join(fixtures, "onsite-0.1.0.master.key"), join(dir, "master.key"));
  return join(dir, "onsite.db");
}

describe("a database made by release 0.1.0", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it("is schema version 2 as shipped", () => {
    const db = new Database(join(fixtures, "onsite-0.1.0.db"), { readonly: true });
    const versions = db
      .prepare<[], { version: number }>("SELECT version FROM schema_migrations ORDER BY version")
      .all()
      .map((r) => r.version);
    db.close();
    expect(versions).toEqual([1, 2]);
    expect(manifest.schemaVersion).toBe(2);
  });

  it("opens with the current store, migrates to the latest schema, and reads back", async () => {
    const path = copyOfRelease(dir.path);
    const store = new SqliteStore({ path });
    expect(store.schemaVersion).toBe(LATEST);

    expect((await store.listSites()).map((s) => [s.id, s.timeZone, s.requiredPpe])).toEqual([
      ["S1", "Asia/Shanghai", ["helmet"]],
    ]);
    expect(await store.getEngineer("E1")).toMatchObject({ name: "Zhang Wei", company: "Shengda" });
    expect((await store.listVisits({ siteId: "S1" })).map((v) => v.id)).toEqual(["V1", "V2"]);

    const devices = await store.listDevices();
    expect(devices.map((d) => [d.id, d.kind])).toEqual([
      ["badge-1", "badge"],
      ["gw-1", "gateway"],
      ["kiosk-1", "kiosk"],
    ]);
    for (const d of devices)
      expect(verifySecret(manifest.secrets.passwords[d.id] ?? "", d.passwordHash)).toBe(true);
    const badge = await store.findBadge({ rfidTag: "0A1B2C3D4E" });
    expect(badge?.badgeNo).toBe(0x1234);
    const vault = KeyVault.open(join(dir.path, "master.key"));
    expect(toHex(vault.open(badge?.sealedKey ?? ""))).toBe(manifest.secrets.badgeKey);
    expect(badge?.replay.highest).toBe(6);

    expect(await store.countEvents()).toBe(12);
    expect((await store.eventsOfVisit("V1")).map((e) => e.event.type)).toEqual([
      "arrival",
      "checkin_request",
      "checkin_confirmed",
      "gear_confirmed",
      "work_started",
      "completion_submitted",
      "completion_confirmed",
      "cleanup_signed_off",
      "departure",
    ]);
    // Migration 3: every event knows whom it is about, the views lost their timelines, and the
    // projection watermark says everything shipped was projected.
    const events = await store.eventsAfter(0, 100);
    expect(events.filter((e) => e.visitId === "V1").every((e) => e.subject === "E1")).toBe(true);
    expect(await store.projectionWatermark()).toBe(Math.max(...events.map((e) => e.seq ?? 0)));
    expect(await store.getView("V1")).not.toHaveProperty("timeline");
    // Migration 4: today's site and engineer are the first versions; migration 5: visits have an (empty) audit trail.
    expect((await store.siteVersions("S1")).map((v) => v.validFrom)).toEqual([0]);
    expect(await store.getSite("S1", 0)).toEqual(await store.getSite("S1"));
    expect(await store.visitChanges("V1")).toEqual([]);
    const v1 = await store.getView("V1");
    expect([v1?.state, v1?.complete, v1?.violations]).toEqual(["departed", true, []]);
    const v2 = await store.getView("V2");
    expect(v2?.alarms.map((a) => a.kind)).toEqual(["sos"]);
    expect((await store.alarmAcks("V2")).map((a) => [a.alarmAt, a.by])).toEqual([
      [v2?.alarms[0]?.at, "Supervisor Wang"],
    ]);

    expect((await store.findToken(tokenDigest(manifest.secrets.adminToken)))?.role).toBe("admin");
    expect((await store.findToken(tokenDigest(manifest.secrets.supervisorToken)))?.role).toBe("supervisor");
    expect(await store.findToken(tokenDigest(manifest.secrets.kioskToken))).toMatchObject({
      role: "kiosk",
      siteId: "S1",
    });
    expect(await store.countTokens()).toBe(3);

    expect(
      (await store.listPresence({ badge: "badge-1" })).map((p) => [p.id, p.siteId, p.sightings]),
    ).toEqual([["pres-1", "S1", 412]]);
    await store.close();
  });

  describe("a whole hub on it", () => {
    const hubDir = tempDir();
    let hub: Hub;
    beforeAll(async () => {
      copyOfRelease(hubDir.path);
      hub = await startHub(hubDir.path);
    });
    afterAll(async () => {
      await hub.stop();
      hubDir.cleanup();
    });

    it("takes the 0.1.0 admin token, makes no new one, and serves the old visits", async () => {
      expect(hub.adminToken).toBeUndefined();
      const r = await api(hub, "GET", "/api/v1/visits/V1", manifest.secrets.adminToken);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ visitId: "V1", state: "departed", complete: true });
    });
  });
});
