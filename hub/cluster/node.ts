/**
 * A hub as one node of a cluster: every node ingests and follows the shared event log; the leader
 * (hub/cluster/leader.ts) also writes the projection, runs the notifier's timers and the
 * dispatcher, and speaks to devices (the announcer asks `visits.writing`). No visit rule lives
 * here: the node only says which of its services run.
 */
import { hostname } from "node:os";
import type { HubConfig } from "../config/config.js";
import type { VisitService } from "../core/service/visits.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { Dispatcher } from "../notify/dispatcher.js";
import type { Notifier } from "../notify/notifier.js";
import { LeaderElection } from "./leader.js";
import type { RedisBroker } from "./redis.js";

export interface ClusterNodeDeps {
  config: NonNullable<HubConfig["cluster"]>;
  storeUrl: string;
  visits: VisitService;
  notifier: Notifier;
  dispatcher: Dispatcher;
  redis: RedisBroker;
  log: Logger;
  metrics: Metrics;
  health: Map<string, { ok: boolean; detail?: string }>;
}

export const DEFAULT_FOLLOW_MS = 100;
export const DEFAULT_LEADER_RETRY_MS = 2000;

export function nodeIdOf(config: NonNullable<HubConfig["cluster"]>): string {
  return config.nodeId ?? `${hostname()}:${process.pid}`.slice(0, 64);
}

export class ClusterNode {
  readonly nodeId: string;
  private readonly election: LeaderElection;
  private follow: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  /** Serializes the leadership changes: a promotion's recovery finishes before a demotion acts. */
  private change: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ClusterNodeDeps) {
    this.nodeId = nodeIdOf(deps.config);
    this.election = new LeaderElection({
      url: deps.storeUrl,
      nodeId: this.nodeId,
      retryMs: deps.config.leaderRetryMs ?? DEFAULT_LEADER_RETRY_MS,
      log: deps.log,
      onChange: (leading) => {
        this.change = this.change
          .then(() => this.apply(leading))
          .catch((e: unknown) => deps.log.error({ err: e, leading }, "cluster: a leadership change failed"));
        this.report();
      },
    });
  }

  get leading(): boolean {
    return this.election.isLeader;
  }

  /** For the visit service's writes: the store refuses one whose lock session is gone. */
  fence(): { lock: number; session: number } {
    return this.election.fence();
  }

  private async apply(leading: boolean): Promise<void> {
    const { visits, notifier, dispatcher, metrics } = this.deps;
    metrics.set("onsite_cluster_leader", "1 while this node is the cluster's leader", leading ? 1 : 0);
    if (!leading) {
      await visits.lead(false);
      await dispatcher.stop();
      return;
    }
    // As after a crash: project from the stored watermark, storing what the last leader did not.
    const started = performance.now();
    await visits.lead(true);
    if (!this.election.isLeader) return;
    await notifier.start();
    dispatcher.start();
    this.deps.log.info(
      { node: this.nodeId, readyMs: Math.round(performance.now() - started) },
      "cluster: leader ready (projected from the stored watermark; timers and dispatcher running)",
    );
  }

  private report(): void {
    const { health, redis } = this.deps;
    health.set("cluster", {
      ok: redis.ready(),
      detail: `${this.nodeId} ${this.election.isLeader ? "leader" : "follower"}${redis.ready() ? "" : ", Redis unreachable"}`,
    });
  }

  async start(): Promise<void> {
    this.report();
    await this.election.start();
    const every = this.deps.config.followMs ?? DEFAULT_FOLLOW_MS;
    this.follow = setInterval(() => this.deps.visits.follow(), every);
    this.follow.unref();
    this.healthTimer = setInterval(() => this.report(), 1000);
    this.healthTimer.unref();
  }

  /** Whether this node does the time-driven notifications now (the hub's rule tick asks). */
  timers(): boolean {
    return this.election.isLeader && this.deps.visits.writing;
  }

  async stop(): Promise<void> {
    if (this.follow) clearInterval(this.follow);
    if (this.healthTimer) clearInterval(this.healthTimer);
    await this.election.stop();
    await this.change;
  }
}
