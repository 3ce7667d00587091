/** The hub's typed event bus: adapters and services talk through it, not to each other. */
import type { DeviceCommand } from "../protocol/index.js";
import type { Rejection } from "./core/intake.js";
import type { VisitPlan } from "./core/model.js";
import type { StoredEvent, StoredPresence } from "./core/ports.js";
import type { VisitUpdate } from "./core/service/visits.js";

export type { Rejection } from "./core/intake.js";

export interface BusEvents {
  "visit.updated": VisitUpdate;
  "event.accepted": StoredEvent;
  "device.command": { device: string; command: DeviceCommand };
  "input.rejected": Rejection;
  /** `remote`: it happened on another node of the cluster (hub/cluster/peers.ts relays these). */
  "alarm.acknowledged": { visitId: string; alarmAt: number; by: string; remote?: true };
  /** Plans created, rescheduled, changed, imported: their engineers' events are attributed again. */
  "plans.changed": { plans: VisitPlan[]; remote?: true };
  /** A site's or an engineer's document changed: what was read of them is read again. */
  "context.changed": { remote?: true };
  /** Webhooks added or removed. */
  "webhooks.changed": { remote?: true };
  /** A device's record changed (provisioned, revoked, its key): what ingest knows of it is dropped. */
  "device.changed": { id: string; remote?: true };
  "presence.changed": { kind: "arrived" | "departed"; session: StoredPresence };
  /** A device or an API token was revoked: its live sessions end now. */
  "credentials.revoked": ({ device: string } | { tokenDigest: string }) & { remote?: true };
  /** Something a security officer should hear of: repeated failed logins, a lock-out. */
  "security.alert": { kind: string; subject: string; address: string };
}

type Handler<K extends keyof BusEvents> = (payload: BusEvents[K]) => void;

export class Bus {
  private readonly handlers = new Map<keyof BusEvents, Set<Handler<never>>>();

  on<K extends keyof BusEvents>(name: K, fn: Handler<K>): () => void {
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
    }
    set.add(fn as Handler<never>);
    return () => set.delete(fn as Handler<never>);
  }

  /** Calls every handler; one that throws is reported to `onError` and does not stop the others. */
  emit<K extends keyof BusEvents>(name: K, payload: BusEvents[K]): void {
    for (const fn of this.handlers.get(name) ?? []) {
      try {
        (fn as Handler<K>)(payload);
      } catch (e) {
        this.onError(e, name);
      }
    }
  }

  onError: (e: unknown, name: string) => void = () => {};
}
