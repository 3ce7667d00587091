/**
 * Minting an API token on the hub's own machine, straight into its database: whoever can read the
 * data directory already holds everything, so a lost first-start token is not a dead end. Works
 * while the hub runs (SQLite in WAL mode; the hub reads tokens on each request).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SqliteStore } from "../adapters/store/sqlite/sqlite-store.js";
import { systemClock } from "../core/ports.js";
import { KeyVault } from "../security/secrets.js";
import { Provisioning, tokenId } from "./provisioning.js";

export async function mintTokenLocally(
  dataDir: string,
  role: "admin" | "dispatcher" | "supervisor" | "kiosk",
  name: string,
  siteId: string | null,
): Promise<{ token: string; id: string }> {
  const db = join(dataDir, "onsite.db");
  if (!existsSync(db)) throw new Error(`no hub database at ${db}: give the hub's --data-dir`);
  const store = new SqliteStore({ path: db });
  try {
    const provisioning = new Provisioning({
      store,
      vault: KeyVault.open(join(dataDir, "master.key")),
      clock: systemClock,
    });
    const { token, record } = await provisioning.createToken(role, name, siteId);
    return { token, id: tokenId(record) };
  } finally {
    await store.close();
  }
}
