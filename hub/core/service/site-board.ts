/**
 * Each site's status (what its retained MQTT topic and `GET /sites/:id/status` say), kept up to date
 * from visit updates and alarm acknowledgements instead of rebuilt from every view on every change.
 * A site is read from the store once — its visits within a day of now, their summaries and
 * acknowledgements — and then maintained entry by entry; it is read again after `RELOAD_MS`, so a
 * visit booked days ahead enters the horizon as time passes without an update of its own.
 */
import { alarmsOf } from "../../../protocol/api.js";
import type { SiteStatus } from "../../../protocol/index.js";
import type { ArrivalWindow } from "../model.js";
import type { Clock, Store } from "../ports.js";
import type { VisitSummary } from "../visit/types.js";

/** The horizon of a site's status: visits whose window is within a day of now. */
export const SITE_HORIZON_MS = 86_400_000;
/** A site's entries are read again from the store this long after they were (see the file comment). */
const RELOAD_MS = 10 * 60_000;

interface Entry {
  window: ArrivalWindow;
  state: string;
  violations: number;
  /** When each of the visit's alarms (`alarmsOf`: SOS, departure without clean-up) went off. */
  alarms: number[];
  acked: Set<number>;
}

interface Board {
  entries: Map<string, Entry>;
  loadedAt: number;
  /** Acknowledgements being read for entries that came in by update (see `update`). */
  pending: Set<Promise<void>>;
}

export interface SiteBoardDeps {
  store: Store;
  clock: Clock;
  /** The visit's summary judged at now (the visit service's). */
  summary: (visitId: string) => Promise<VisitSummary | undefined>;
}

const entryOf = (view: VisitSummary, acked: Set<number>): Entry => ({
  window: view.window,
  state: view.state,
  violations: view.violations.length,
  alarms: alarmsOf(view).map((a) => a.at),
  acked,
});

export class SiteBoard {
  private readonly boards = new Map<string, Board>();
  /** Sites being read now: a second caller waits for the same read. */
  private readonly loading = new Map<string, Promise<Board>>();
  /** The site each visit on a board is on. */
  private readonly siteOf = new Map<string, string>();

  constructor(private readonly deps: SiteBoardDeps) {}

  /** A visit's summary changed. Sites not read yet are left to their first read. */
  update(view: VisitSummary): void {
    const was = this.siteOf.get(view.visitId);
    // A visit moved to another site keeps its acknowledgements.
    let carried: Set<number> | undefined;
    if (was !== undefined && was !== view.siteId) {
      const old = this.boards.get(was);
      carried = old?.entries.get(view.visitId)?.acked;
      old?.entries.delete(view.visitId);
      this.siteOf.delete(view.visitId);
    }
    const board = this.boards.get(view.siteId);
    if (!board) return;
    this.siteOf.set(view.visitId, view.siteId);
    const known = board.entries.get(view.visitId)?.acked ?? carried;
    const acked = known ?? new Set<number>();
    board.entries.set(view.visitId, entryOf(view, acked));
    // A visit new to the board (booked, moved in, or rescheduled back into the horizon) may have
    // acknowledgements on record already: they are read before the site's status is given again.
    if (!known) {
      const read: Promise<void> = this.deps.store.alarmAcks(view.visitId).then(
        (acks) => {
          for (const a of acks) acked.add(a.alarmAt);
        },
        () => undefined, // a failed read is mended by the site's next reload
      );
      board.pending.add(read);
      void read.finally(() => board.pending.delete(read));
    }
  }

  /** An alarm was acknowledged. */
  acknowledged(siteId: string, visitId: string, alarmAt: number): void {
    this.boards.get(siteId)?.entries.get(visitId)?.acked.add(alarmAt);
  }

  /** Forgets every site (site or engineer data changed, or the store was replaced). */
  reset(): void {
    this.boards.clear();
    this.siteOf.clear();
  }

  async status(siteId: string): Promise<SiteStatus> {
    const now = this.deps.clock.now();
    const board = await this.board(siteId, now);
    if (board.pending.size > 0) await Promise.all(board.pending);
    const byState: Record<string, number> = {};
    const activeAlarms: SiteStatus["activeAlarms"] = [];
    let violations = 0;
    let visits = 0;
    for (const [id, e] of board.entries) {
      // As the store's listVisits({from: now - horizon, to: now + horizon}) would choose them.
      if (e.window.to < now - SITE_HORIZON_MS || e.window.from >= now + SITE_HORIZON_MS) {
        if (e.window.to < now - SITE_HORIZON_MS) {
          board.entries.delete(id);
          this.siteOf.delete(id);
        }
        continue;
      }
      visits++;
      byState[e.state] = (byState[e.state] ?? 0) + 1;
      violations += e.violations;
      for (const at of e.alarms) if (!e.acked.has(at)) activeAlarms.push({ visit: id, at });
    }
    activeAlarms.sort((a, b) => a.at - b.at || (a.visit < b.visit ? -1 : a.visit > b.visit ? 1 : 0));
    return {
      v: 1,
      site: siteId,
      condition: activeAlarms.length > 0 ? "incident" : "normal",
      visits,
      byState,
      violations,
      activeAlarms,
      updatedAt: now,
    };
  }

  private async board(siteId: string, now: number): Promise<Board> {
    // A site being read is waited for: its board is in place (for updates) but not complete yet.
    const inFlight = this.loading.get(siteId);
    if (inFlight) return inFlight;
    const have = this.boards.get(siteId);
    if (have && now - have.loadedAt < RELOAD_MS) return have;
    const read = this.read(siteId, now).finally(() => this.loading.delete(siteId));
    this.loading.set(siteId, read);
    return read;
  }

  private async read(siteId: string, now: number): Promise<Board> {
    const { store } = this.deps;
    // Updates that arrive while the site is read are kept: they are newer than what is read.
    const board: Board = { entries: new Map(), loadedAt: now, pending: new Set() };
    const before = this.boards.get(siteId);
    this.boards.set(siteId, board);
    const plans = await store.listVisits({ siteId, from: now - SITE_HORIZON_MS, to: now + SITE_HORIZON_MS });
    for (const p of plans) {
      const [view, acks] = await Promise.all([this.deps.summary(p.id), store.alarmAcks(p.id)]);
      if (!view || view.siteId !== siteId) continue;
      const acked = new Set(acks.map((a) => a.alarmAt));
      const newer = board.entries.get(p.id);
      if (newer) for (const at of acked) newer.acked.add(at);
      else board.entries.set(p.id, entryOf(view, acked));
      this.siteOf.set(p.id, siteId);
    }
    // Acknowledgements recorded while the site was read were added to the old entries.
    for (const [id, old] of before?.entries ?? []) {
      const e = board.entries.get(id);
      if (e) for (const at of old.acked) e.acked.add(at);
      else if (this.siteOf.get(id) === siteId) this.siteOf.delete(id);
    }
    return board;
  }
}
