/**
 * Changes made through one node's API that the other nodes must hear of (a plan booked, a site
 * edited, an alarm acknowledged, a device revoked), carried on the broker's own emitter
 * (mqemitter-redis) under `$onsite/cluster/bus`, a topic no MQTT client may subscribe to. Each is
 * put on the receiving node's bus marked `remote`, and only local ones are sent on: no echo.
 * What arrives is parsed like any input; a message that does not parse is logged and dropped.
 */
import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { VisitPlanSchema } from "../../protocol/api.js";
import type { Bus } from "../bus.js";
import type { Logger } from "../log.js";

export const PEER_TOPIC = "$onsite/cluster/bus";

const PeerMessage = Type.Object({
  v: Type.Literal(1),
  from: Type.String({ maxLength: 64 }),
  change: Type.Union([
    Type.Object({ kind: Type.Literal("plans"), plans: Type.Array(VisitPlanSchema, { maxItems: 100_000 }) }),
    Type.Object({ kind: Type.Literal("context") }),
    Type.Object({ kind: Type.Literal("webhooks") }),
    Type.Object({ kind: Type.Literal("device"), id: Type.String({ maxLength: 200 }) }),
    Type.Object({ kind: Type.Literal("revoked"), device: Type.String({ maxLength: 200 }) }),
    Type.Object({ kind: Type.Literal("revoked"), tokenDigest: Type.String({ maxLength: 200 }) }),
    Type.Object({
      kind: Type.Literal("alarm"),
      visitId: Type.String({ maxLength: 200 }),
      alarmAt: Type.Number(),
      by: Type.String({ maxLength: 200 }),
    }),
  ]),
});
const check = TypeCompiler.Compile(PeerMessage);
type Change = (typeof PeerMessage)["static"]["change"];

/** The part of an mqemitter the relay uses. */
export interface Emitter {
  on(topic: string, fn: (msg: { topic: string; payload?: unknown }, done: () => void) => void): void;
  emit(msg: { topic: string; payload: Buffer }, cb?: (err?: Error) => void): void;
}

export class Peers {
  constructor(private readonly deps: { bus: Bus; mq: Emitter; nodeId: string; log: Logger }) {
    const { bus } = deps;
    bus.on("plans.changed", (e) => e.remote || this.send({ kind: "plans", plans: e.plans }));
    bus.on("context.changed", (e) => e.remote || this.send({ kind: "context" }));
    bus.on("webhooks.changed", (e) => e.remote || this.send({ kind: "webhooks" }));
    bus.on("device.changed", (e) => e.remote || this.send({ kind: "device", id: e.id }));
    bus.on("credentials.revoked", (e) => {
      if (e.remote) return;
      this.send(
        "device" in e
          ? { kind: "revoked", device: e.device }
          : { kind: "revoked", tokenDigest: e.tokenDigest },
      );
    });
    bus.on(
      "alarm.acknowledged",
      (e) => e.remote || this.send({ kind: "alarm", visitId: e.visitId, alarmAt: e.alarmAt, by: e.by }),
    );
    deps.mq.on(PEER_TOPIC, (msg, done) => {
      try {
        this.receive(msg.payload);
      } finally {
        done();
      }
    });
  }

  private send(change: Change): void {
    const payload = Buffer.from(JSON.stringify({ v: 1, from: this.deps.nodeId, change }));
    this.deps.mq.emit({ topic: PEER_TOPIC, payload }, (err) => {
      if (err)
        this.deps.log.error(
          { err, kind: change.kind },
          "cluster: a change could not be sent to the other nodes",
        );
    });
  }

  private receive(payload: unknown): void {
    let msg: unknown;
    try {
      const text = Buffer.isBuffer(payload) ? payload.toString("utf8") : String(payload);
      msg = JSON.parse(text);
    } catch {
      this.deps.log.warn("cluster: a peer message that is not JSON was dropped");
      return;
    }
    if (!check.Check(msg)) {
      const e = check.Errors(msg).First();
      this.deps.log.warn(
        { field: e?.path, why: e?.message },
        "cluster: a peer message that does not parse was dropped",
      );
      return;
    }
    if (msg.from === this.deps.nodeId) return;
    const c = msg.change;
    const { bus } = this.deps;
    switch (c.kind) {
      case "plans":
        bus.emit("plans.changed", { plans: c.plans, remote: true });
        return;
      case "context":
        bus.emit("context.changed", { remote: true });
        return;
      case "webhooks":
        bus.emit("webhooks.changed", { remote: true });
        return;
      case "device":
        bus.emit("device.changed", { id: c.id, remote: true });
        return;
      case "revoked":
        bus.emit(
          "credentials.revoked",
          "device" in c ? { device: c.device, remote: true } : { tokenDigest: c.tokenDigest, remote: true },
        );
        return;
      case "alarm":
        bus.emit("alarm.acknowledged", {
          visitId: c.visitId,
          alarmAt: c.alarmAt,
          by: c.by,
          remote: true,
        });
        return;
    }
  }
}
