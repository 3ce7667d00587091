/**
 * The SQLite store with its writes on a thread of their own. The hub's event loop reads through its
 * own connection (WAL: readers never wait for the writer) and hands every write to the writer
 * thread (writer.ts), whose answer comes once the transaction is committed — and fsynced with
 * `sync=full` — so a PUBACK that waits for `commitEvents` still means "durable". While a commit and
 * its fsync run, the event loop keeps reading sockets, parsing and projecting. The WAL is
 * checkpointed by the writer on a timer, never inside a commit.
 *
 * Why (docs/performance.md): under the real workload a quarter of the event loop went to SQLite
 * commits, fsyncs and the checkpoints inside them, and every one of those milliseconds was a
 * millisecond no PUBACK or stream message went out.
 */
import { Worker } from "node:worker_threads";
import type { RollCall } from "../../../../protocol/api.js";
import type { Engineer, Site, VisitPlan } from "../../../core/model.js";
import type { OutboxItem } from "../../../core/notify/plan.js";
import type {
  AlarmAck,
  ApiToken,
  Change,
  DeviceRecord,
  DeviceStateUpdate,
  OutboxQuery,
  PresenceQuery,
  ProjectionWrite,
  Role,
  Store,
  StoredEvent,
  StoredPresence,
  StoredWebhook,
  Versioned,
  VisitChangeInput,
  VisitChangeRecord,
  VisitQuery,
} from "../../../core/ports.js";
import type { VisitSummary } from "../../../core/visit/types.js";
import { type CheckpointResult, SqliteStore } from "./sqlite-store.js";
import type { WriterData, WriterReply, WriterRequest } from "./writer.js";

export interface ThreadedOptions {
  path: string;
  sync?: "full" | "normal";
  /** WAL checkpoint interval (default 1000 ms). */
  checkpointMs?: number;
  /** Each checkpoint the writer ran, and how long it took. */
  onCheckpoint?: (r: CheckpointResult & { ms: number }) => void;
  /** The writer thread stopped unexpectedly (its writes in flight failed; the next write starts a new one). */
  onWriterError?: (e: Error) => void;
}

/** An error from the writer thread, with SQLite's code (SQLITE_CONSTRAINT_UNIQUE, …) kept. */
export class WriterError extends Error {
  constructor(
    message: string,
    override readonly name: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** tsx's API, found from here (an eval worker would look for it from the working directory). */
function tsxApi(): string {
  try {
    return import.meta.resolve("tsx/esm/api");
  } catch {
    return "tsx/esm/api";
  }
}

export class ThreadedSqliteStore implements Store {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly reader: SqliteStore,
    private readonly opts: ThreadedOptions,
  ) {}

  /** Opens (and migrates) the database, then starts the writer. */
  static async open(opts: ThreadedOptions): Promise<ThreadedSqliteStore> {
    const reader = new SqliteStore({ path: opts.path, sync: opts.sync ?? "full", checkpoint: "manual" });
    const store = new ThreadedSqliteStore(reader, opts);
    try {
      await store.start();
    } catch (e) {
      await reader.close();
      throw e;
    }
    return store;
  }

  get schemaVersion(): number {
    return this.reader.schemaVersion;
  }

  private start(): Promise<void> {
    const here = import.meta.url;
    const data: WriterData = {
      path: this.opts.path,
      sync: this.opts.sync ?? "full",
      checkpointMs: this.opts.checkpointMs ?? 1000,
    };
    // From source (tests, the benches) the worker is TypeScript too: it registers tsx's loader
    // in its own thread first. Built (dist/), it is plain JavaScript.
    const worker = here.endsWith(".ts")
      ? new Worker(
          `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL("./writer.ts", here).href)}); });`,
          { eval: true, workerData: data },
        )
      : new Worker(new URL("./writer.js", here), { workerData: data });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      let up = false;
      worker.on("message", (m: WriterReply) => {
        if ("ready" in m) {
          up = true;
          resolve();
        } else if ("checkpoint" in m) this.opts.onCheckpoint?.(m.checkpoint);
        else this.settle(m);
      });
      const down = (e: Error) => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
        if (!up) reject(e);
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
        if (!this.closed) this.opts.onWriterError?.(e);
      };
      worker.on("error", down);
      worker.on("exit", (code) => {
        if (!this.closed || this.pending.size > 0)
          down(new Error(`the SQLite writer thread exited (${code})`));
      });
    });
    return this.ready;
  }

  private settle(m: Extract<WriterReply, { id: number }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if ("error" in m) p.reject(new WriterError(m.error.message, m.error.name, m.error.code));
    else p.resolve(m.result);
  }

  /** Runs a write method in the writer thread; resolves once its transaction is committed. */
  private async write<T>(method: keyof Store, args: unknown[]): Promise<T> {
    if (this.closed) throw new Error("the store is closed");
    if (!this.ready) await this.start();
    await this.ready;
    const worker = this.worker;
    if (!worker) throw new Error("the SQLite writer thread is not running");
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, method, args } satisfies WriterRequest);
    });
  }

  // ---- writes: on the writer thread ----

  putSite(site: Site, change?: Change): Promise<void> {
    return this.write("putSite", [site, change]);
  }
  putEngineer(engineer: Engineer, change?: Change): Promise<void> {
    return this.write("putEngineer", [engineer, change]);
  }
  insertVisits(plans: VisitPlan[], change?: Change): Promise<boolean[]> {
    return this.write("insertVisits", [plans, change]);
  }
  updateVisit(plan: VisitPlan, change: VisitChangeInput): Promise<void> {
    return this.write("updateVisit", [plan, change]);
  }
  putDevice(device: DeviceRecord): Promise<void> {
    return this.write("putDevice", [device]);
  }
  commitEvents(events: StoredEvent[], devices: DeviceStateUpdate[]): Promise<Array<number | null>> {
    return this.write("commitEvents", [events, devices]);
  }
  saveProjection(write: ProjectionWrite): Promise<void> {
    return this.write("saveProjection", [write]);
  }
  putToken(token: ApiToken): Promise<void> {
    return this.write("putToken", [token]);
  }
  putPresence(sessions: StoredPresence[]): Promise<void> {
    return this.write("putPresence", [sessions]);
  }
  putAlarmAck(ack: AlarmAck, outbox?: OutboxItem[]): Promise<void> {
    return this.write("putAlarmAck", [ack, outbox]);
  }
  putAlarmAcks(acks: AlarmAck[], outbox?: OutboxItem[]): Promise<void> {
    return this.write("putAlarmAcks", [acks, outbox]);
  }
  enqueueOutbox(items: OutboxItem[]): Promise<number> {
    return this.write("enqueueOutbox", [items]);
  }
  updateOutbox(
    id: string,
    patch: Pick<OutboxItem, "status" | "attempts" | "nextAt" | "lastError" | "deliveredAt">,
  ): Promise<void> {
    return this.write("updateOutbox", [id, patch]);
  }
  putWebhook(hook: StoredWebhook): Promise<void> {
    return this.write("putWebhook", [hook]);
  }
  deleteWebhook(id: string): Promise<boolean> {
    return this.write("deleteWebhook", [id]);
  }
  putRollCall(rollCall: RollCall, outbox?: OutboxItem[]): Promise<void> {
    return this.write("putRollCall", [rollCall, outbox]);
  }

  // ---- reads: on this thread's own connection ----

  getSite(id: string, at?: number): Promise<Site | undefined> {
    return this.reader.getSite(id, at);
  }
  listSites(): Promise<Site[]> {
    return this.reader.listSites();
  }
  siteVersions(id: string): Promise<Array<Versioned<Site>>> {
    return this.reader.siteVersions(id);
  }
  getEngineer(id: string, at?: number): Promise<Engineer | undefined> {
    return this.reader.getEngineer(id, at);
  }
  listEngineers(): Promise<Engineer[]> {
    return this.reader.listEngineers();
  }
  engineerVersions(id: string): Promise<Array<Versioned<Engineer>>> {
    return this.reader.engineerVersions(id);
  }
  visitChanges(visitId: string): Promise<VisitChangeRecord[]> {
    return this.reader.visitChanges(visitId);
  }
  getVisit(id: string): Promise<VisitPlan | undefined> {
    return this.reader.getVisit(id);
  }
  listVisits(query: VisitQuery): Promise<VisitPlan[]> {
    return this.reader.listVisits(query);
  }
  getDevice(id: string): Promise<DeviceRecord | undefined> {
    return this.reader.getDevice(id);
  }
  listDevices(): Promise<DeviceRecord[]> {
    return this.reader.listDevices();
  }
  findBadge(by: { badgeNo: number } | { rfidTag: string }): Promise<DeviceRecord | undefined> {
    return this.reader.findBadge(by);
  }
  devicesOf(by: { engineerId: string } | { siteId: string }): Promise<DeviceRecord[]> {
    return this.reader.devicesOf(by);
  }
  eventsOfVisit(visitId: string, maxSeq?: number): Promise<StoredEvent[]> {
    return this.reader.eventsOfVisit(visitId, maxSeq);
  }
  eventsOfSubject(engineerId: string, fromTime: number, maxSeq: number): Promise<StoredEvent[]> {
    return this.reader.eventsOfSubject(engineerId, fromTime, maxSeq);
  }
  eventsOfSite(siteId: string, fromTime: number, maxSeq: number): Promise<StoredEvent[]> {
    return this.reader.eventsOfSite(siteId, fromTime, maxSeq);
  }
  lastTimeOfSubject(engineerId: string, maxSeq: number): Promise<number | null> {
    return this.reader.lastTimeOfSubject(engineerId, maxSeq);
  }
  eventsAfter(afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.reader.eventsAfter(afterSeq, limit);
  }
  uplinkCursor(name: string): Promise<number> {
    return this.reader.uplinkCursor(name);
  }
  setUplinkCursor(name: string, seq: number): Promise<void> {
    return this.write("setUplinkCursor", [name, seq]);
  }
  maxCounter(device: string): Promise<number> {
    return this.reader.maxCounter(device);
  }
  countEvents(): Promise<number> {
    return this.reader.countEvents();
  }
  getView(visitId: string): Promise<VisitSummary | undefined> {
    return this.reader.getView(visitId);
  }
  projectionWatermark(): Promise<number> {
    return this.reader.projectionWatermark();
  }
  findToken(digest: string): Promise<ApiToken | undefined> {
    return this.reader.findToken(digest);
  }
  listTokens(): Promise<ApiToken[]> {
    return this.reader.listTokens();
  }
  countTokens(role?: Role): Promise<number> {
    return this.reader.countTokens(role);
  }
  listPresence(query: PresenceQuery): Promise<StoredPresence[]> {
    return this.reader.listPresence(query);
  }
  alarmAcks(visitId: string): Promise<AlarmAck[]> {
    return this.reader.alarmAcks(visitId);
  }
  alarmAcksOf(visitIds: readonly string[]): Promise<AlarmAck[]> {
    return this.reader.alarmAcksOf(visitIds);
  }
  dueOutbox(now: number, limit: number): Promise<OutboxItem[]> {
    return this.reader.dueOutbox(now, limit);
  }
  listOutbox(query: OutboxQuery): Promise<OutboxItem[]> {
    return this.reader.listOutbox(query);
  }
  listWebhooks(): Promise<StoredWebhook[]> {
    return this.reader.listWebhooks();
  }
  getRollCall(id: string): Promise<RollCall | undefined> {
    return this.reader.getRollCall(id);
  }
  listRollCalls(siteId: string, limit: number): Promise<RollCall[]> {
    return this.reader.listRollCalls(siteId, limit);
  }

  /** Waits for the writes in flight, checkpoints the whole WAL, stops the writer, closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.worker && this.ready) {
      try {
        await this.ready;
        const done = this.write<void>("close", []);
        this.closed = true;
        await done;
        await this.worker?.terminate();
      } catch {
        // The writer was already gone: nothing of it to close.
      }
    }
    this.closed = true;
    this.worker = undefined;
    await this.reader.close();
  }
}
