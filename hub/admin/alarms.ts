/**
 * Acknowledging alarms (an SOS, a departure without the customer's clean-up sign-off), the one way
 * both the single acknowledgement (`POST /visits/:id/alarms/ack`) and the alarm list's batch
 * (`POST /alarms/ack`) go: every alarm checked against the visit as it is now, the acknowledgements
 * and the notifications they make stored in one transaction (all or none), then escalation stops and
 * the board and the live stream are told.
 */
import { alarmsOf } from "../../protocol/api.js";
import type { HubContext } from "../context.js";
import type { OutboxItem } from "../core/notify/plan.js";
import type { AlarmAck } from "../core/ports.js";
import { InputError } from "./errors.js";

export interface AlarmRef {
  visitId: string;
  alarmAt: number;
}

/** The request's field for item `i`'s key, as the caller names it (`alarms.0.visitId`, `alarmAt`). */
export type FieldOf = (i: number, key: keyof AlarmRef) => string;

export async function acknowledgeAlarms(
  ctx: Pick<HubContext, "store" | "visits" | "notifier" | "dispatcher" | "bus" | "clock">,
  items: readonly AlarmRef[],
  by: string,
  note: string | undefined,
  fieldOf: FieldOf = (i, key) => `alarms.${i}.${key}`,
): Promise<AlarmAck[]> {
  const at = ctx.clock.now();
  const acks: AlarmAck[] = [];
  for (const [i, item] of items.entries()) {
    const plan = await ctx.store.getVisit(item.visitId);
    if (!plan) throw new InputError(fieldOf(i, "visitId"), `no visit ${item.visitId}`, 404);
    const view = await ctx.visits.summary(plan);
    if (!view || !alarmsOf(view).some((a) => a.at === item.alarmAt))
      throw new InputError(fieldOf(i, "alarmAt"), "no such alarm on this visit", 404);
    acks.push({ visitId: plan.id, alarmAt: item.alarmAt, by, at, ...(note === undefined ? {} : { note }) });
  }
  const outbox: OutboxItem[] = [];
  for (const a of acks)
    outbox.push(
      ...(await ctx.notifier.acknowledged(
        {
          visitId: a.visitId,
          alarmAt: a.alarmAt,
          by,
          ...(note === undefined ? {} : { note }),
        },
        false,
      )),
    );
  await ctx.store.putAlarmAcks(acks, outbox);
  // Escalation stops only once the acknowledgements are stored: all of them, or none.
  for (const a of acks) ctx.notifier.dismiss(a.visitId, a.alarmAt);
  if (outbox.length > 0) ctx.dispatcher.kick();
  for (const a of acks) ctx.bus.emit("alarm.acknowledged", { visitId: a.visitId, alarmAt: a.alarmAt, by });
  return acks;
}
