/**
 * Ingest: parse → verify → dedupe → commit (grouped per event-loop turn) → then apply the visit
 * rules and announce. A submitter's promise settles only once its event is durable, so the MQTT
 * adapter can hold the PUBACK until then. Bad input is refused with a code, counted and logged;
 * nothing here throws for it.
 */
import {
  acceptCounter,
  checkCounter,
  type DeviceEvent,
  decodeEventPayload,
  decodeFrame,
  decodeGatewayEventsPayload,
  decodeGatewayFramesPayload,
  frameToEvent,
  fromHex,
  isProtocolError,
  parseEvent,
  peekFrame,
  toHex,
} from "../../protocol/index.js";
import type { Bus } from "../bus.js";
import type {
  EventIntake,
  FrameOutcome,
  FrameSink,
  IngestOutcome,
  Reception,
  Rejection,
} from "../core/intake.js";
import type { Clock, DeviceRecord, DeviceStateUpdate, Store, StoredEvent } from "../core/ports.js";
import type { Sighting } from "../core/presence.js";
import type { VisitService } from "../core/service/visits.js";
import type { EventSource } from "../core/visit/types.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { KeyVault } from "../security/secrets.js";
import { GroupCommitter } from "./group-commit.js";

export type { FrameOutcome, IngestOutcome, Reception } from "../core/intake.js";

/** Something that wants to know a badge was heard: presence tracking. */
export interface SightingSink {
  sighted(s: Sighting): void;
}

/** A duplicate frame still proves presence when it was signed this recently (adverts repeat). */
const SIGHTING_MAX_AGE_MS = 30_000;

export interface IngestDeps {
  store: Store;
  clock: Clock;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  visits: VisitService;
  vault: KeyVault;
  presence?: SightingSink;
}

interface Pending {
  event: StoredEvent | null;
  device: DeviceRecord;
  counter: number;
}

/** A heartbeat or presence frame received within this long of its own time counts as live. */
const LIVE_MS = 5_000;
/** A live device is sent the hub's time when its clock is off by more than this… */
const TIME_SYNC_OFF_MS = 250;
/** …or when it was last sent it this long ago. */
const TIME_SYNC_EVERY_MS = 3_600_000;
/** Events that never wait for the projection to catch up: the live path. */
const LIVE_PATH = new Set<DeviceEvent["type"]>(["sos"]);

export class Ingest implements EventIntake, FrameSink {
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly badgeKeys = new Map<number, { device: string; key: Uint8Array }>();
  private readonly committer: GroupCommitter<Pending, number | null>;
  /** Copies of an event being stored now, by `device#counter`: a second copy waits for the first. */
  private readonly inflight = new Map<string, Promise<IngestOutcome>>();
  /** The next counter of each operator id (staff events recorded through the API). */
  private readonly operatorCounters = new Map<string, number>();
  /** When each device was last sent the hub's time. */
  private readonly syncedAt = new Map<string, number>();

  constructor(private readonly deps: IngestDeps) {
    this.committer = new GroupCommitter((items) => this.commitBatch(items));
  }

  /** The device, from cache or store. */
  async device(id: string): Promise<DeviceRecord | undefined> {
    const cached = this.devices.get(id);
    if (cached) return cached;
    const d = await this.deps.store.getDevice(id);
    if (d) this.devices.set(id, d);
    return d;
  }

  /** Forget cached state of a device (after provisioning or revoking it). */
  forget(id: string): void {
    this.devices.delete(id);
    this.syncedAt.delete(id);
    for (const [no, v] of this.badgeKeys) if (v.device === id) this.badgeKeys.delete(no);
  }

  reject(r: Rejection): IngestOutcome {
    this.deps.metrics.inc("onsite_input_rejected_total", "Input refused at a boundary", {
      boundary: r.boundary,
      code: r.code,
    });
    this.deps.log.warn({ rejected: r }, `refused ${r.boundary} input: ${r.message}`);
    this.deps.bus.emit("input.rejected", r);
    return {
      status: "rejected",
      code: r.code,
      message: r.message,
      ...(r.field === undefined ? {} : { field: r.field }),
    };
  }

  private refuse(boundary: string, e: unknown, device?: string): IngestOutcome {
    if (isProtocolError(e)) {
      return this.reject({
        boundary,
        code: e.code,
        message: e.message,
        ...(e.field ? { field: e.field } : {}),
        ...(device ? { device } : {}),
      });
    }
    throw e;
  }

  /** A JSON event a device published on its own events topic. */
  async submitJson(deviceId: string, payload: Uint8Array | string): Promise<IngestOutcome> {
    let event: DeviceEvent;
    try {
      event = decodeEventPayload(payload);
    } catch (e) {
      return this.refuse("mqtt", e, deviceId);
    }
    return this.submitEvent(event, deviceId, "mqtt");
  }

  /** An event from an authenticated device (MQTT, or the kiosk web page). */
  async submitEvent(input: unknown, deviceId: string, boundary: string): Promise<IngestOutcome> {
    let event: DeviceEvent;
    try {
      event = parseEvent(input);
    } catch (e) {
      return this.refuse(boundary, e, deviceId);
    }
    const device = await this.device(deviceId);
    if (!device)
      return this.reject({
        boundary,
        code: "unknown_device",
        message: `no device ${deviceId}`,
        device: deviceId,
      });
    if (event.device !== deviceId) {
      return this.reject({
        boundary,
        code: "device_mismatch",
        message: `event names device ${event.device}, sender is ${deviceId}`,
        field: "/device",
        device: deviceId,
      });
    }
    return this.accept(event, device, boundary, this.deps.clock.now());
  }

  /**
   * An event staff record through the API for a visit (a late notice taken by phone, the engineer's
   * service report from the app). It gets an operator device id and the next counter of that id.
   */
  async submitOperatorEvent(
    body: Record<string, unknown>,
    user: string,
    visitId: string,
    as: { kind: "operator" } | { kind: "kiosk"; siteId: string } = { kind: "operator" },
  ): Promise<IngestOutcome> {
    const name = user
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, "-")
      .slice(0, 60);
    const id = as.kind === "kiosk" ? name : `op-${name}`;
    let device = this.devices.get(id);
    let counter = this.operatorCounters.get(id);
    if (!device || counter === undefined) {
      const made = await this.synthetic(id, as.kind, as.kind === "kiosk" ? as.siteId : null);
      device = device ?? made.device;
      counter = Math.max(counter ?? 0, made.highest + 1);
    }
    this.operatorCounters.set(id, counter + 1);
    const event = {
      ...body,
      v: 1,
      device: id,
      counter,
      time: this.deps.clock.now(),
      visit: visitId,
    };
    let parsed: DeviceEvent;
    try {
      parsed = parseEvent(event);
    } catch (e) {
      return this.refuse("http", e, id);
    }
    return this.accept(parsed, device, "http", this.deps.clock.now());
  }

  /** A device the hub speaks for (an operator, the kiosk screen, a relayed operator), with its stored state. */
  private async synthetic(
    id: string,
    kind: "operator" | "kiosk",
    siteId: string | null,
  ): Promise<{ device: DeviceRecord; highest: number }> {
    const highest = await this.deps.store.maxCounter(id);
    const device: DeviceRecord = {
      id,
      kind,
      engineerId: null,
      siteId,
      badgeNo: null,
      rfidTag: null,
      passwordHash: "",
      sealedKey: null,
      createdAt: this.deps.clock.now(),
      revokedAt: null,
      clockOffsetMs: 0,
      lastSeenAt: null,
      replay: { highest, seen: highest < 0 ? 0n : 1n },
      battery: null,
    };
    this.devices.set(id, device);
    return { device, highest };
  }

  /**
   * Events a site hub relays (gateway mode, `onsite/v1/gw/<id>/events`), in its commit order: a
   * provisioned kiosk's only if it is a kiosk of the gateway's site; an event of a device this hub
   * does not know (an operator, the kiosk screen at the site) is kept as the gateway's — its id
   * becomes `<gateway>_<id>` — and only for a visit at the gateway's site. Each is deduped by
   * `(device, counter)`, so a batch sent again is stored once.
   */
  async submitRelayedEvents(gatewayId: string, payload: Uint8Array | string): Promise<IngestOutcome[]> {
    let batch: ReturnType<typeof decodeGatewayEventsPayload>;
    try {
      batch = decodeGatewayEventsPayload(payload);
    } catch (e) {
      return [this.refuse("relay", e, gatewayId)];
    }
    const reject = (code: Rejection["code"], message: string, field: string) =>
      this.reject({ boundary: "relay", code, message, field, device: gatewayId });
    if (batch.gateway !== gatewayId)
      return [reject("device_mismatch", `payload names gateway ${batch.gateway}`, "/gateway")];
    const gateway = await this.device(gatewayId);
    if (gateway?.kind !== "gateway" || gateway.siteId === null)
      return [reject("unknown_device", `${gatewayId} is not a gateway of a site`, "/gateway")];
    const out: IngestOutcome[] = [];
    for (const [i, r] of batch.events.entries()) {
      const at = `/events/${i}`;
      let event: DeviceEvent;
      try {
        event = parseEvent(r.event);
      } catch (e) {
        out.push(
          isProtocolError(e)
            ? reject(e.code, e.message, `${at}/event${e.field ?? ""}`)
            : reject("schema", String(e), `${at}/event`),
        );
        continue;
      }
      // A device the hub speaks for itself (its operators, its kiosk screen) is not provisioned: the
      // site's event of the same name is the site's, kept under the gateway's name.
      let device = await this.device(event.device);
      if (device?.passwordHash === "") device = undefined;
      if (device) {
        if (device.kind !== "kiosk" || device.siteId !== gateway.siteId) {
          out.push(
            reject(
              "foreign_visit",
              `${event.device} is not a kiosk of ${gateway.siteId}`,
              `${at}/event/device`,
            ),
          );
          continue;
        }
      } else {
        const id = `${gatewayId}_${event.device}`;
        if (id.length > 64) {
          out.push(reject("schema", `relayed device id ${id} is longer than 64`, `${at}/event/device`));
          continue;
        }
        const plan =
          "visit" in event && event.visit !== undefined
            ? await this.deps.store.getVisit(event.visit)
            : undefined;
        if (!plan || plan.siteId !== gateway.siteId) {
          out.push(
            reject(
              "foreign_visit",
              `a relayed operator event must name a visit at ${gateway.siteId}`,
              `${at}/event/visit`,
            ),
          );
          continue;
        }
        device = this.devices.get(id) ?? (await this.synthetic(id, "operator", null)).device;
        event = { ...event, device: id };
      }
      // The site hub's knowledge of the device's clock goes with the event, not into the device's record
      // here (an old batch sent again must not roll it back).
      const offset = device.clockOffsetMs;
      device.clockOffsetMs = r.clockOffsetMs;
      try {
        out.push(await this.accept(event, device, "relay", r.hubTime));
      } finally {
        device.clockOffsetMs = offset;
      }
    }
    return out;
  }

  /** Badge frames relayed by a gateway: each verified with the badge's own key. */
  async submitFrames(gatewayId: string, payload: Uint8Array | string): Promise<FrameOutcome[]> {
    let batch: ReturnType<typeof decodeGatewayFramesPayload>;
    try {
      batch = decodeGatewayFramesPayload(payload);
    } catch (e) {
      return [this.refuse("mqtt", e, gatewayId)];
    }
    if (batch.gateway !== gatewayId) {
      return [
        this.reject({
          boundary: "mqtt",
          code: "device_mismatch",
          message: `payload names gateway ${batch.gateway}`,
          field: "/gateway",
          device: gatewayId,
        }),
      ];
    }
    const out: FrameOutcome[] = [];
    for (const f of batch.frames) {
      out.push(
        await this.submitFrame(fromHex(f.hex), { at: f.rxTime, gateway: gatewayId, rssi: f.rssi ?? null }),
      );
    }
    return out;
  }

  /**
   * One badge frame off the air (an advert, a GATT notification, or relayed by a gateway). A frame
   * that verifies is also a sighting of the badge at `rx.gateway`, handed to presence tracking:
   * a new one always, a repeat only while it is fresh (a recorded advert replayed later is not).
   */
  async submitFrame(bytes: Uint8Array, rx: Reception): Promise<FrameOutcome> {
    let event: DeviceEvent;
    let device: DeviceRecord;
    let no: number;
    let presence = false;
    try {
      no = peekFrame(bytes).badge;
      const badge = await this.badgeKey(no);
      const frame = decodeFrame(bytes, (n) => (badge && n === badge.no ? badge.key : undefined));
      const d = badge && (await this.device(badge.device));
      if (!d)
        return this.reject({ boundary: "frame", code: "unknown_device", message: "badge not provisioned" });
      device = d;
      presence = frame.type === "presence";
      event = parseEvent(frameToEvent(frame, device.id));
    } catch (e) {
      return this.refuse("frame", e);
    }
    const hex = toHex(bytes);
    const outcome = await this.accept(event, device, "frame", this.deps.clock.now(), {
      presence,
      rxTime: rx.at,
      hex,
    });
    const signedAgo = Math.abs(rx.at - (event.time + device.clockOffsetMs));
    if (
      this.deps.presence &&
      (outcome.status === "accepted" || (outcome.status === "duplicate" && signedAgo <= SIGHTING_MAX_AGE_MS))
    ) {
      this.deps.presence.sighted({
        badge: device.id,
        gateway: rx.gateway,
        at: rx.at,
        rssi: rx.rssi,
        counter: event.counter,
        frame: hex,
      });
    }
    return { ...outcome, badge: { device: device.id, no }, counter: event.counter, presence };
  }

  /** A badge's frame key (to sign what the hub writes to it), if the badge is provisioned. */
  async keyOfBadge(no: number): Promise<Uint8Array | undefined> {
    return (await this.badgeKey(no))?.key;
  }

  private async badgeKey(no: number): Promise<{ no: number; device: string; key: Uint8Array } | undefined> {
    const cached = this.badgeKeys.get(no);
    if (cached) return { no, ...cached };
    const d = await this.deps.store.findBadge({ badgeNo: no });
    if (!d?.sealedKey || d.revokedAt !== null) return undefined;
    const entry = { device: d.id, key: this.deps.vault.open(d.sealedKey) };
    this.badgeKeys.set(no, entry);
    return { no, ...entry };
  }

  /**
   * Dedupe is by what is stored: an event is new exactly when its `(device, counter)` is not in the
   * store. The replay window is only a fast path for counters known durable; a copy of an event that
   * is still being stored waits for that commit, so no copy is answered before the event is on disk.
   */
  private async accept(
    event: DeviceEvent,
    device: DeviceRecord,
    boundary: string,
    hubTime: number,
    frame?: { presence: boolean; rxTime: number; hex: string },
  ): Promise<IngestOutcome> {
    if (device.revokedAt !== null)
      return this.reject({
        boundary,
        code: "revoked",
        message: `device ${device.id} is revoked`,
        device: device.id,
      });
    const key = `${device.id}#${event.counter}`;
    const first = this.inflight.get(key);
    if (first) {
      const outcome = await first.catch(() => undefined);
      // Stored (or already stored) by the first copy: this one is a duplicate, answered only now.
      if (outcome && outcome.status !== "rejected") return this.duplicate(boundary);
    }
    const verdict = checkCounter(device.replay, event.counter);
    if (verdict === "duplicate") return this.duplicate(boundary);
    if (frame?.presence && verdict === "replayed") {
      // A presence advert older than the window: stale proof of presence, not an event to store.
      this.deps.metrics.inc("onsite_presence_stale_total", "Presence adverts older than the replay window");
      return { status: "duplicate" };
    }
    const pending = this.store(event, device, boundary, hubTime, frame);
    this.inflight.set(key, pending);
    try {
      return await pending;
    } finally {
      if (this.inflight.get(key) === pending) this.inflight.delete(key);
    }
  }

  private duplicate(boundary: string): IngestOutcome {
    this.deps.metrics.inc("onsite_events_duplicate_total", "Events already accepted, dropped", { boundary });
    return { status: "duplicate" };
  }

  private async store(
    event: DeviceEvent,
    device: DeviceRecord,
    boundary: string,
    hubTime: number,
    frame?: { presence: boolean; rxTime: number; hex: string },
  ): Promise<IngestOutcome> {
    const { metrics } = this.deps;
    device.lastSeenAt = hubTime;
    if (event.type === "heartbeat" && event.battery !== undefined) device.battery = event.battery;
    const liveAt = frame ? frame.rxTime : hubTime;
    // A relayed event was received by the site hub, not heard here now: never live.
    const live =
      boundary !== "relay" &&
      event.type === "heartbeat" &&
      (event.queued ?? 0) === 0 &&
      Math.abs(hubTime - liveAt) < LIVE_MS;
    if (live) device.clockOffsetMs = liveAt - event.time;
    if (frame?.presence) {
      await this.commit({ event: null, device, counter: event.counter });
      metrics.inc("onsite_presence_frames_total", "Verified presence adverts");
      return { status: "accepted", visitId: null };
    }
    const about = await this.subjectOf(event, device);
    if ("refusal" in about)
      return this.reject({
        boundary,
        code: "foreign_visit",
        message: about.refusal,
        field: "/visit",
        device: device.id,
      });
    const { subject, visitId } = about;
    if (event.type !== "heartbeat") {
      const { visits } = this.deps;
      // Back-pressure: while the projection is behind, bulk visit events wait here, before their
      // commit (their PUBACK with them); an SOS goes straight through.
      if (visits.saturated && !LIVE_PATH.has(event.type)) {
        const held = this.deps.clock.now();
        metrics.inc("onsite_ingest_held_total", "Events held until the projection caught up", { boundary });
        await visits.room();
        metrics.observe(
          "onsite_ingest_held_seconds",
          "How long an event was held for the projection",
          (this.deps.clock.now() - held) / 1000,
          [0.01, 0.05, 0.2, 1, 5],
        );
      }
      const full = visits.admit(subject, visitId ?? undefined);
      if (full !== undefined)
        return this.reject({ boundary, code: "visit_full", message: full, device: device.id });
    }
    const stored: StoredEvent = {
      event,
      source: sourceOf(device),
      hubTime,
      clockOffsetMs: device.clockOffsetMs,
      visitId,
      subject,
      // The signed frame is kept as evidence, and is what a central hub verifies again (uplink).
      ...(frame ? { frame: frame.hex } : {}),
    };
    const seq = await this.commit({ event: stored, device, counter: event.counter });
    if (seq === null) return this.duplicate(boundary);
    metrics.inc("onsite_events_accepted_total", "Events durably stored", { type: event.type });
    // A device whose clock is right is not told so on every heartbeat: when it is off, or hourly.
    const synced = this.syncedAt.get(device.id);
    if (
      live &&
      (Math.abs(device.clockOffsetMs) > TIME_SYNC_OFF_MS ||
        synced === undefined ||
        hubTime - synced >= TIME_SYNC_EVERY_MS)
    ) {
      this.syncedAt.set(device.id, hubTime);
      this.deps.bus.emit("device.command", {
        device: device.id,
        command: { v: 1, type: "time_sync", time: hubTime, deviceTime: event.time, hubTime },
      });
    }
    return { status: "accepted", visitId };
  }

  private async commit(item: Pending): Promise<number | null> {
    try {
      return await this.committer.submit(item);
    } catch (e) {
      this.devices.delete(item.device.id); // cached state may be ahead of the store: reload next time
      throw e;
    }
  }

  /**
   * Whom an event is about, and the visit it names if that visit exists. Attribution itself is the
   * visit service's, after the commit, from these facts.
   */
  private async subjectOf(
    event: DeviceEvent,
    device: DeviceRecord,
  ): Promise<{ subject: string | null; visitId: string | null } | { refusal: string }> {
    if (event.type === "heartbeat") return { subject: null, visitId: null };
    const { store } = this.deps;
    if (event.visit !== undefined) {
      const plan = await store.getVisit(event.visit);
      // A device speaks only for what it is bound to: a kiosk for its site's visits, a badge for its engineer's.
      if (plan && device.kind === "kiosk" && plan.siteId !== device.siteId)
        return { refusal: `visit ${plan.id} is at another site than kiosk ${device.id}` };
      if (plan && device.kind === "badge" && plan.engineerId !== device.engineerId)
        return { refusal: `visit ${plan.id} belongs to another engineer than badge ${device.id}` };
      if (plan) return { subject: plan.engineerId, visitId: plan.id };
    }
    if (device.kind === "badge") return { subject: device.engineerId, visitId: null };
    if (device.kind === "kiosk" && event.type === "checkin_request")
      return { subject: (await store.findBadge({ rfidTag: event.tag }))?.engineerId ?? null, visitId: null };
    if (device.kind === "kiosk" && event.type === "checkin_confirmed")
      return { subject: event.engineer, visitId: null };
    return { subject: null, visitId: null };
  }

  private async commitBatch(items: Pending[]): Promise<Array<number | null>> {
    const { store, metrics, clock } = this.deps;
    const started = clock.now();
    const events = items.flatMap((i) => (i.event ? [i.event] : []));
    // Each device's window after this batch; it becomes the device's state once the batch is durable.
    const windows = new Map<string, { device: DeviceRecord; replay: DeviceRecord["replay"] }>();
    for (const i of items) {
      const w = windows.get(i.device.id) ?? { device: i.device, replay: i.device.replay };
      if (checkCounter(w.replay, i.counter) === "fresh") w.replay = acceptCounter(w.replay, i.counter);
      windows.set(i.device.id, w);
    }
    const devices: DeviceStateUpdate[] = [...windows.values()].map(({ device, replay }) => ({
      id: device.id,
      replay,
      lastSeenAt: device.lastSeenAt ?? started,
      clockOffsetMs: device.clockOffsetMs,
      battery: device.battery,
    }));
    const seqs = await store.commitEvents(events, devices);
    for (const { device, replay } of windows.values()) device.replay = replay;
    metrics.observe(
      "onsite_commit_batch_size",
      "Events per group commit",
      items.length,
      [1, 10, 100, 1000, 5000],
    );
    metrics.observe(
      "onsite_commit_seconds",
      "Group commit time",
      (clock.now() - started) / 1000,
      [0.001, 0.005, 0.02, 0.1, 0.5],
    );
    const committed: StoredEvent[] = [];
    let k = 0;
    const results = items.map((i) => {
      if (!i.event) return 0;
      const seq = seqs[k++] ?? null;
      if (seq !== null) {
        const stored = { ...i.event, seq };
        committed.push(stored);
        this.deps.bus.emit("event.accepted", stored);
      }
      return seq;
    });
    // Projection runs after the commit, in the visit service's own pump: PUBACKs never wait for it.
    this.deps.visits.committed(committed);
    return results;
  }

  /** Resolves when all accepted events are committed and projected. */
  async settle(): Promise<void> {
    await this.committer.drain();
    await this.deps.visits.idle();
  }
}

export function sourceOf(device: DeviceRecord): EventSource {
  if (device.kind === "badge") return { kind: "badge", engineerId: device.engineerId ?? "" };
  if (device.kind === "kiosk") return { kind: "kiosk", siteId: device.siteId ?? "" };
  return { kind: "operator", user: device.id };
}
