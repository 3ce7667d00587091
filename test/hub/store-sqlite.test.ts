/**
 * The store contract on the SQLite store, inline and with its writer thread: a database file in a
 * temp dir per test.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { SqliteStore } from "../../hub/adapters/store/sqlite/sqlite-store.js";
import { ThreadedSqliteStore } from "../../hub/adapters/store/sqlite/threaded.js";
import type { Store } from "../../hub/core/ports.js";
import { tempDir } from "./helpers.js";
import { defineStoreContract } from "./store-contract.js";

for (const [name, openStore] of [
  ["SQLite", async (path: string) => new SqliteStore({ path, sync: "normal" })],
  ["SQLite, writer thread", (path: string) => ThreadedSqliteStore.open({ path, sync: "normal" })],
] as const) {
  defineStoreContract({
    name,
    async fresh() {
      const dir = tempDir("onsite-store-");
      const path = join(dir.path, "onsite.db");
      const opened: Store[] = [];
      const open = async () => {
        const s = await openStore(path);
        opened.push(s);
        return s;
      };
      return {
        store: await open(),
        open,
        async markNewerSchema() {
          const db = new Database(path);
          db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 0)").run();
          db.close();
        },
        async dispose() {
          for (const s of opened) await s.close();
          dir.cleanup();
        },
      };
    },
  });
}
