/**
 * Turns visit updates into what people and devices see: retained MQTT status per visit and site,
 * the badge signals and kiosk prompts the rules call for. Subscribes to the bus; publishes through
 * the StatusSink port (the MQTT adapter) and the bus (device commands).
 */
import { alarmsOf } from "../protocol/api.js";
import type { SiteStatus, VisitStatus } from "../protocol/index.js";
import { topics } from "../protocol/index.js";
import type { Bus } from "./bus.js";
import type { Clock, Store } from "./core/ports.js";
import { kioskPrompt } from "./core/service/kiosk-prompts.js";
import { SITE_HORIZON_MS, SiteBoard } from "./core/service/site-board.js";
import type { VisitService, VisitUpdate } from "./core/service/visits.js";
import { badgeSignalsFor } from "./core/visit/changes.js";
import type { VisitSummary } from "./core/visit/types.js";
import type { Logger } from "./log.js";

export interface StatusSink {
  publish(topic: string, payload: string, retain: boolean): void;
}

export function visitStatus(view: VisitSummary, now: number): VisitStatus {
  return {
    v: 1,
    visit: view.visitId,
    site: view.siteId,
    engineer: view.engineerId,
    state: view.state,
    window: view.window,
    arrival: view.arrival
      ? { at: view.arrival.at, class: view.arrival.verdict.class, minutes: view.arrival.verdict.minutes }
      : null,
    gearMissing: view.gear.missing,
    cleanupMissing: view.cleanup.missing,
    complete: view.complete,
    violations: view.violations.map((v) => v.kind),
    alarms: alarmsOf(view).length,
    updatedAt: now,
  };
}

export class Announcer {
  private chain: Promise<void> = Promise.resolve();
  private readonly board: SiteBoard;
  private readonly dirtySites = new Set<string>();
  private flushScheduled = false;
  /** The last kiosk prompt sent per visit: a prompt goes out when what it says changes. */
  private readonly lastPrompt = new Map<string, string>();
  /**
   * Visit status topics retained on the broker, and when each is cleared: a day after the visit's window
   * (the horizon of the site status). The broker keeps a retained message for as long as its topic
   * is not cleared, so without this every visit ever announced would stay in its memory.
   */
  private readonly retained = new Map<string, number>();
  private nextSweep = 0;

  constructor(
    private readonly deps: {
      store: Store;
      visits: VisitService;
      bus: Bus;
      clock: Clock;
      log: Logger;
      sink: StatusSink;
      /**
       * A cluster: whether this node is the one that publishes (retained status, commands to
       * devices). Every node keeps its board for reads; one speaks. Default: always.
       */
      leading?: () => boolean;
    },
  ) {
    this.board = new SiteBoard({
      store: deps.store,
      clock: deps.clock,
      summary: (id) => deps.visits.summary(id),
    });
    deps.bus.on("visit.updated", (u) => {
      this.board.update(u.view);
      this.enqueue(() => this.announce(u));
    });
    deps.bus.on("alarm.acknowledged", ({ visitId, alarmAt }) =>
      this.enqueue(async () => {
        const plan = await deps.store.getVisit(visitId);
        if (!plan) return;
        this.board.acknowledged(plan.siteId, visitId, alarmAt);
        this.siteChanged(plan.siteId);
      }),
    );
  }

  /** Site or engineer data changed: every site's status is read again when next asked for. */
  contextChanged(): void {
    this.board.reset();
  }

  /**
   * A site's status is published once per turn of the event loop however many of its visits
   * changed in it: under load one message carries many updates, and no update waits for more.
   */
  private siteChanged(siteId: string): void {
    this.dirtySites.add(siteId);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const sites = [...this.dirtySites];
      this.dirtySites.clear();
      this.enqueue(async () => {
        for (const s of sites) await this.publishSite(s);
      });
    });
  }

  private enqueue(job: () => Promise<void>): void {
    this.chain = this.chain
      .then(job)
      .catch((e: unknown) => this.deps.log.error({ err: e }, "announce failed"));
  }

  async idle(): Promise<void> {
    do {
      await this.chain;
      if (this.flushScheduled) await new Promise((r) => setImmediate(r));
    } while (this.flushScheduled || this.dirtySites.size > 0);
    await this.chain;
  }

  private speaks(): boolean {
    return this.deps.leading?.() ?? true;
  }

  private async announce(u: VisitUpdate): Promise<void> {
    if (!this.speaks()) return;
    const { sink, store, bus, clock } = this.deps;
    const now = clock.now();
    const topic = topics.visitStatus(u.plan.siteId, u.plan.id);
    sink.publish(topic, JSON.stringify(visitStatus(u.view, now)), true);
    this.retained.delete(topic);
    this.retained.set(topic, u.plan.window.to + SITE_HORIZON_MS);
    this.clearOld(now);
    this.siteChanged(u.plan.siteId);
    const prompt = kioskPrompt(u.view, u.engineer, now);
    // A kiosk that just acted (a tap, a button) gets an answer even if the text did not change.
    const promptKey = prompt
      ? `${prompt.prompt}|${prompt.lines.join("|")}|${prompt.item ?? ""}|${u.kioskActions}`
      : "";
    if (prompt && this.lastPrompt.get(u.plan.id) !== promptKey) {
      this.lastPrompt.delete(u.plan.id);
      this.lastPrompt.set(u.plan.id, promptKey);
      // Bounded: only visits still in progress matter; the oldest entries go first.
      if (this.lastPrompt.size > 2000) this.lastPrompt.delete(this.lastPrompt.keys().next().value as string);
      for (const kiosk of await store.devicesOf({ siteId: u.plan.siteId })) {
        if (kiosk.kind === "kiosk") bus.emit("device.command", { device: kiosk.id, command: prompt });
      }
    }
    const signals = badgeSignalsFor(u.changes);
    if (signals.length > 0) {
      for (const badge of await store.devicesOf({ engineerId: u.plan.engineerId })) {
        if (badge.kind !== "badge") continue;
        for (const pattern of signals) {
          bus.emit("device.command", {
            device: badge.id,
            command: {
              v: 1,
              type: "signal",
              time: now,
              pattern,
              repeat: pattern === "cleanup_missing" ? 5 : 2,
            },
          });
        }
      }
    }
  }

  /** Clears (an empty retained message) the statuses of visits whose window ended a day ago; once a minute. */
  private clearOld(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + 60_000;
    for (const [topic, until] of this.retained) {
      if (until > now) continue;
      this.deps.sink.publish(topic, "", true);
      this.retained.delete(topic);
    }
  }

  /** Today's (±1 day) visits of a site, summarised (kept up to date, not rebuilt: SiteBoard). */
  async siteStatus(siteId: string): Promise<SiteStatus> {
    return this.board.status(siteId);
  }

  async publishSite(siteId: string): Promise<void> {
    if (!this.speaks()) return;
    this.deps.sink.publish(topics.siteStatus(siteId), JSON.stringify(await this.siteStatus(siteId)), true);
  }
}
