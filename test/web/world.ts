/**
 * A small world for the dashboard's browser tests, its screenshots and its benchmark: two sites in
 * Shanghai, three engineers (two of them named Zhang Wei), badges and a kiosk, visits today (one
 * played through MQTT up to an SOS and a departure without clean-up, one at risk, one cancelled),
 * tomorrow and yesterday.
 */
import type { MqttClient } from "mqtt";
import type { Hub } from "../../hub/app.js";
import { defaultSite } from "../../hub/core/model.js";
import { resolveWindow } from "../../hub/core/time.js";
import type { DeviceEvent } from "../../protocol/index.js";
import { api, connect, newToken, type SeededDevices, seed, send } from "../hub/helpers.js";

export const ZONE = "Asia/Shanghai";
/** Wall time in Shanghai, `YYYY-MM-DDTHH:mm`, of an instant. */
export const shanghai = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);
export const shanghaiDay = (ms: number) => shanghai(ms).slice(0, 10);

export interface World {
  devices: SeededDevices;
  tokens: { admin: string; supervisor: string; dispatcher: string; kiosk: string };
  badge: MqttClient;
  kiosk: MqttClient;
  /** Sends the next event of a device (counters kept here). */
  ev(client: MqttClient, device: string, body: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function buildWorld(hub: Hub): Promise<World> {
  const devices = await seed(hub);
  const store = hub.ctx.store;
  await store.putSite(
    defaultSite({
      id: "S2",
      name: "徐汇办公楼",
      timeZone: ZONE,
      requiredPpe: ["helmet", "safety_shoes", "safety_glasses"],
      atRiskMinutes: 30,
    }),
  );
  await store.putEngineer({
    id: "E2",
    name: "李娜",
    company: "盛达机电",
    certificates: [{ kind: "safety_training", validUntil: "2099-12-31" }],
  });
  await store.putEngineer({
    id: "E3",
    name: "Zhang Wei",
    company: "Huatai Service",
    certificates: [{ kind: "safety_training", validUntil: "2020-01-01" }],
  });
  const now = Date.now();
  const win = (from: number, to: number) => resolveWindow(shanghai(from), shanghai(to), ZONE);
  const H = 3_600_000;
  await store.insertVisits(
    [
      {
        id: "V1",
        siteId: "S1",
        engineerId: "E1",
        window: win(now - 0.5 * H, now + 1.5 * H),
        createdAt: now - 2 * H,
      },
      // Not on site, the window closes in 20 min (the site warns 30 min before).
      {
        id: "V2",
        siteId: "S2",
        engineerId: "E2",
        window: win(now - 1 * H, now + 20 * 60_000),
        createdAt: now - 2 * H,
      },
      {
        id: "V3",
        siteId: "S2",
        engineerId: "E3",
        window: win(now + 2 * H, now + 3 * H),
        createdAt: now - 2 * H,
      },
      {
        id: "V4",
        siteId: "S1",
        engineerId: "E2",
        window: win(now + 24 * H, now + 26 * H),
        createdAt: now - 2 * H,
      },
      {
        id: "V5",
        siteId: "S1",
        engineerId: "E3",
        window: win(now - 24 * H, now - 23 * H),
        createdAt: now - 30 * H,
      },
    ],
    { at: now - 2 * H, by: "Dispatcher Li" },
  );
  hub.ctx.visits.plansChanged(
    (await Promise.all(["V1", "V2", "V3", "V4", "V5"].map((id) => store.getVisit(id)))).flatMap((p) =>
      p ? [p] : [],
    ),
  );
  const tokens = {
    admin: hub.adminToken ?? "",
    supervisor: await newToken(hub, "supervisor", "Supervisor Wang"),
    dispatcher: await newToken(hub, "dispatcher", "Dispatcher Li"),
    kiosk: await newToken(hub, "kiosk", "front desk", "S1"),
  };
  const badge = await connect(hub, devices.badge.id, devices.badge.password);
  const kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
  const counters = new Map<string, number>();
  const ev = async (client: MqttClient, device: string, body: Record<string, unknown>) => {
    const counter = (counters.get(device) ?? 0) + 1;
    counters.set(device, counter);
    await send(client, { v: 1, device, counter, time: Date.now(), ...body } as DeviceEvent);
  };
  return {
    devices,
    tokens,
    badge,
    kiosk,
    ev,
    async close() {
      await badge.endAsync();
      await kiosk.endAsync();
    },
  };
}

/** V1 played to the end: arrival, check-in, PPE, work, SOS, report, completion, departure without clean-up. */
export async function playV1(hub: Hub, w: World): Promise<void> {
  await w.ev(w.badge, "badge-1", { type: "arrival", source: "ble" });
  await w.ev(w.kiosk, "kiosk-1", { type: "checkin_request", tag: "0A1B2C3D4E" });
  await w.ev(w.kiosk, "kiosk-1", { type: "checkin_confirmed", engineer: "E1", consent: true });
  await w.ev(w.badge, "badge-1", { type: "gear_confirmed", items: ["helmet", "safety_shoes"] });
  await w.ev(w.badge, "badge-1", { type: "work_started" });
  await w.ev(w.badge, "badge-1", { type: "sos", kind: "injury" });
  await api(hub, "POST", "/api/v1/visits/V1/events", w.tokens.admin, {
    type: "completion_submitted",
    cause: "密封圈老化",
    parts: [{ name: "密封圈", partNo: "SR-220", quantity: 2 }],
    workDone: "更换了两个密封圈，试运行正常",
    advice: "建议每半年检查一次",
  });
  await w.ev(w.kiosk, "kiosk-1", { type: "completion_confirmed", resolved: true, rating: 5 });
  await w.ev(w.kiosk, "kiosk-1", {
    type: "cleanup_signed_off",
    items: ["work_area_clean", "items_restored"],
  });
  await w.ev(w.badge, "badge-1", { type: "departure", source: "ble" });
  await hub.ctx.ingest.settle();
}
