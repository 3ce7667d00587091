/**
 * The SQLite writer thread (a worker_threads Worker, started by ThreadedSqliteStore): the one
 * connection that writes. It runs the store's write methods as the main thread asks — each one
 * transaction, its commit and fsync here, off the hub's event loop — and checkpoints the WAL on a
 * schedule of its own, never inside a commit.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type CheckpointResult, SqliteStore } from "./sqlite-store.js";

export interface WriterData {
  path: string;
  sync: "full" | "normal";
  /** How often the WAL is checkpointed (passive: readers are not waited for). */
  checkpointMs: number;
}

export type WriterRequest = { id: number; method: string; args: unknown[] };
export type WriterReply =
  | { id: number; result: unknown }
  | { id: number; error: { message: string; name: string; code?: string } }
  | { ready: true }
  | { checkpoint: CheckpointResult & { ms: number } };

const port = parentPort;
if (!port) throw new Error("writer.ts runs as a worker thread");
const data = workerData as WriterData;
const store = new SqliteStore({ path: data.path, sync: data.sync, checkpoint: "manual" });
const methods = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

let closing = false;
const timer = setInterval(() => {
  if (closing) return;
  const t = performance.now();
  const r = store.checkpoint("passive");
  if (r.walFrames > 0) port.postMessage({ checkpoint: { ...r, ms: performance.now() - t } });
}, data.checkpointMs);

port.on("message", async (m: WriterRequest) => {
  try {
    if (m.method === "close") {
      closing = true;
      clearInterval(timer);
      store.checkpoint("truncate");
      await store.close();
      port.postMessage({ id: m.id, result: undefined });
      port.close();
      return;
    }
    const fn = methods[m.method];
    if (typeof fn !== "function") throw new Error(`the writer has no method ${m.method}`);
    port.postMessage({ id: m.id, result: await fn.apply(store, m.args) });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as { code?: unknown }).code;
    port.postMessage({
      id: m.id,
      error: { message: err.message, name: err.name, ...(typeof code === "string" ? { code } : {}) },
    });
  }
});
port.postMessage({ ready: true });
