/**
 * Telling people, end to end against real parts on loopback: a webhook receiver that checks every
 * signature, Debian's aiosmtpd as the SMTP server, an HTTP SMS gateway; the hub on a manual clock so
 * escalation and quiet hours are exact. SOS at once and escalated round the chain until
 * acknowledged; the customer told of a late notice and of the engineer on his way, politely, in
 * Chinese; quiet hours; retries with backoff; a kiosk gone offline; the roll-call and evacuation.
 */
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { DEFAULT_CONFIG } from "../../hub/config/config.js";
import { ManualClock } from "../../hub/core/ports.js";
import type { DeviceEvent } from "../../protocol/index.js";
import { api, connect, eventually, type SeededDevices, seed, send, startHub, tempDir } from "./helpers.js";
import { type SmtpServer, startSmtp } from "./smtp-server.js";

const MIN = 60_000;
/** 2026-11-25 10:00 in Shanghai. */
const T10 = Date.UTC(2026, 10, 25, 2, 0);
const SECRET = "webhook-secret-of-the-tests";

interface Delivery {
  id: string;
  type: string;
  at: number;
  siteId: string;
  visitId?: string;
  details: Record<string, unknown>;
}

describe("notifications", { timeout: 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;
  let devices: SeededDevices;
  let smtp: SmtpServer;
  let receiver: Server;
  let sms: Server;
  const clock = new ManualClock(T10);
  const hooks: Delivery[] = [];
  const badSignatures: string[] = [];
  const texts: Array<{ phone: string; text: string }> = [];
  /** Deliveries of this type the receiver answers 500 to, before it accepts them. */
  const failing = { type: "", times: 0 };
  let badge: MqttClient;
  let b = 0;

  const listen = (s: Server) =>
    new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
  const badgeEvent = (body: Record<string, unknown>) =>
    send(badge, { v: 1, device: "badge-1", counter: ++b, time: clock.now(), ...body } as DeviceEvent);
  /** Lets the hub notice and deliver what is due now. */
  const deliver = async () => {
    await hub.ctx.ingest.settle();
    await hub.ctx.notifier.tick();
    hub.ctx.dispatcher.kick();
    await new Promise((r) => setTimeout(r, 150));
  };
  const mailsTo = (to: string) => smtp.messages().filter((m) => m.to === to);

  beforeAll(async () => {
    dir = tempDir();
    smtp = await startSmtp(dir.path);
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        const want = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
        if (req.headers["x-onsite-signature"] !== want || req.headers["content-type"] !== "application/json")
          badSignatures.push(body);
        const d = JSON.parse(body) as Delivery;
        if (d.type === failing.type && failing.times > 0) {
          failing.times--;
          res.writeHead(500).end();
          return;
        }
        hooks.push(d);
        res.writeHead(204).end();
      });
    });
    sms = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        texts.push(JSON.parse(body) as { phone: string; text: string });
        res.writeHead(200).end("{}");
      });
    });
    const [hookPort, smsPort] = [await listen(receiver), await listen(sms)];
    hub = await startHub(
      dir.path,
      { clock },
      {
        notify: {
          smtp: { host: "127.0.0.1", port: smtp.port, secure: false, from: "onsite <noreply@onsite.test>" },
          sms: {
            url: `http://127.0.0.1:${smsPort}/send`,
            method: "POST",
            headers: { "content-type": "application/json" },
            body: '{"phone":"{{phone}}","text":{{text_json}}}',
          },
          retryBaseMs: 1000,
        },
        rules: { ...DEFAULT_CONFIG.rules, tickMs: 60_000 },
      },
    );
    devices = await seed(hub);
    const site = await api(hub, "PATCH", "/api/v1/sites/S1", hub.adminToken, {
      escalationMinutes: 5,
      requiredPpe: [],
      contacts: [
        {
          id: "A",
          name: "Wang (site lead)",
          role: "supervisor",
          language: "zh-CN",
          email: "a@onsite.test",
          events: ["sos", "departed_without_cleanup", "alarm_acknowledged"],
          escalation: 1,
        },
        {
          id: "B",
          name: "Li (deputy)",
          role: "supervisor",
          language: "en",
          email: "b@onsite.test",
          phone: "+86 138 0000 0000",
          events: ["sos"],
          escalation: 2,
        },
        {
          id: "C",
          name: "Mrs Chen (customer)",
          role: "customer",
          language: "zh-CN",
          email: "c@onsite.test",
          events: ["late_notice", "en_route"],
        },
        {
          id: "D",
          name: "Night dispatch",
          role: "dispatcher",
          language: "en",
          email: "d@onsite.test",
          events: ["*"],
          quietHours: { from: "22:00", to: "07:00" },
        },
      ],
    });
    expect(site.status).toBe(200);
    const hook = await api(hub, "POST", "/api/v1/webhooks", hub.adminToken, {
      url: `http://127.0.0.1:${hookPort}/onsite`,
      events: ["*"],
      secret: SECRET,
    });
    expect(hook.status).toBe(201);
    await api(hub, "POST", "/api/v1/visits", hub.adminToken, {
      id: "V1",
      siteId: "S1",
      engineerId: "E1",
      window: { from: "2026-11-25T09:30", to: "2026-11-25T11:30" },
    });
    await api(hub, "POST", "/api/v1/visits", hub.adminToken, {
      id: "V2",
      siteId: "S1",
      engineerId: "E1",
      window: { from: "2026-11-25T15:00", to: "2026-11-25T16:00" },
    });
    badge = await connect(hub, devices.badge.id, devices.badge.password);
  });
  afterAll(async () => {
    await badge.endAsync();
    await hub.stop();
    await smtp.stop();
    receiver.close();
    sms.close();
    dir.cleanup();
  });

  it("an SOS reaches the webhook, signed, and the first of the chain at once; unacknowledged, the next, round the chain; acknowledged, it stops", async () => {
    await badgeEvent({ type: "arrival", source: "ble" });
    clock.advance(MIN);
    await badgeEvent({ type: "sos", kind: "injury" });
    await deliver();
    await eventually(() => hooks.some((h) => h.type === "sos"));
    const sos = hooks.find((h) => h.type === "sos");
    expect(sos).toMatchObject({
      siteId: "S1",
      visitId: "V1",
      details: { engineerName: "Zhang Wei", sosKind: "injury" },
    });
    expect(typeof sos?.id).toBe("string");
    await eventually(() => mailsTo("a@onsite.test").length === 1 && mailsTo("d@onsite.test").length === 1);
    const first = mailsTo("a@onsite.test")[0];
    expect(first?.subject).toContain("紧急求救");
    expect(first?.text).toContain("Zhang Wei");
    expect(mailsTo("b@onsite.test")).toEqual([]);

    clock.advance(5 * MIN);
    await deliver();
    await eventually(() => mailsTo("b@onsite.test").length === 1 && texts.length === 1);
    expect(mailsTo("b@onsite.test")[0]?.subject).toMatch(/URGENT: SOS .*reminder 1/);
    expect(texts[0]).toMatchObject({ phone: "+86 138 0000 0000" });
    expect(texts[0]?.text).toContain("raised an SOS");

    clock.advance(5 * MIN);
    await deliver();
    await eventually(() => mailsTo("a@onsite.test").length === 2);
    expect(mailsTo("a@onsite.test").some((m) => m.subject.includes("第 2 次提醒"))).toBe(true);

    const view = (await api(hub, "GET", "/api/v1/visits/V1", hub.adminToken)).body as unknown as {
      alarms: Array<{ at: number }>;
    };
    const ack = await api(hub, "POST", "/api/v1/visits/V1/alarms/ack", hub.adminToken, {
      alarmAt: view.alarms[0]?.at,
    });
    expect(ack.status).toBe(200);
    clock.advance(10 * MIN);
    await deliver();
    await eventually(() => hooks.some((h) => h.type === "alarm_acknowledged"));
    await eventually(() => mailsTo("a@onsite.test").length === 3);
    expect(mailsTo("a@onsite.test").some((m) => m.subject.includes("警报已确认"))).toBe(true);
    // No reminder after the acknowledgement.
    expect(mailsTo("b@onsite.test")).toHaveLength(1);
    expect(badSignatures).toEqual([]);
  });

  it("an SOS acknowledged from the alarm list (the batch, with a note) is told and stops escalating too", async () => {
    // The hub is shared with the test before: count from here.
    const [mailsA, mailsB, sent] = [
      mailsTo("a@onsite.test").length,
      mailsTo("b@onsite.test").length,
      texts.length,
    ];
    clock.advance(MIN);
    await badgeEvent({ type: "sos", kind: "hazard" });
    await deliver();
    await eventually(() => mailsTo("a@onsite.test").length === mailsA + 1);
    const [alarm] = (await api(hub, "GET", "/api/v1/alarms?open=true", hub.adminToken))
      .body as unknown as Array<{
      visitId: string;
      at: number;
    }>;
    const ack = await api(hub, "POST", "/api/v1/alarms/ack", hub.adminToken, {
      alarms: [{ visitId: alarm?.visitId, alarmAt: alarm?.at }],
      note: "gas valve closed",
    });
    expect(ack.status).toBe(200);
    clock.advance(15 * MIN);
    await deliver();
    const told = await eventually(() =>
      hooks.find(
        (h) =>
          h.type === "alarm_acknowledged" && (h.details as { note?: string }).note === "gas valve closed",
      ),
    );
    expect(told).toMatchObject({ visitId: "V1", details: { acknowledgedBy: expect.any(String) } });
    await eventually(() => mailsTo("a@onsite.test").length === mailsA + 2);
    // Acknowledged before the first reminder was due: the second of the chain is never asked.
    expect(mailsTo("b@onsite.test")).toHaveLength(mailsB);
    expect(texts).toHaveLength(sent);
  });

  it("the customer is told of a late notice and of the engineer on his way, in Chinese, politely", async () => {
    await badgeEvent({
      type: "late_notice",
      eta: Date.UTC(2026, 10, 25, 7, 40),
      reason: "traffic",
      visit: "V2",
    });
    await deliver();
    await eventually(() => mailsTo("c@onsite.test").length === 1);
    const late = mailsTo("c@onsite.test")[0];
    expect(late?.text).toMatch(/^您好！/);
    expect(late?.text).toContain("请稍等");
    expect(late?.text).toContain("15:40");
    expect(late?.text).toContain("谢谢");
    await badgeEvent({ type: "en_route", eta: Date.UTC(2026, 10, 25, 7, 40), visit: "V2" });
    await deliver();
    await eventually(() => mailsTo("c@onsite.test").length === 2);
    expect(mailsTo("c@onsite.test").some((m) => m.text.includes("已出发"))).toBe(true);
  });

  it("quiet hours hold back all but an SOS until they end", async () => {
    clock.set(Date.UTC(2026, 10, 25, 15, 0)); // 23:00 in Shanghai
    await badgeEvent({ type: "departure", source: "ble" }); // V1 ends (arrived only: no violation)
    await hub.ctx.ingest.settle();
    clock.advance(MIN);
    const kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    let k = 100;
    const ke = (body: Record<string, unknown>) =>
      send(kiosk, { v: 1, device: "kiosk-1", counter: ++k, time: clock.now(), ...body } as DeviceEvent);
    // A night visit: tap, check-in, work, then the engineer leaves without the clean-up sign-off.
    await api(hub, "POST", "/api/v1/visits", hub.adminToken, {
      id: "V3",
      siteId: "S1",
      engineerId: "E1",
      window: { from: "2026-11-25T22:30", to: "2026-11-25T23:30" },
    });
    await ke({ type: "checkin_request", tag: "0A1B2C3D4E" });
    await ke({ type: "checkin_confirmed", engineer: "E1", consent: true, visit: "V3" });
    await badgeEvent({ type: "work_started" });
    clock.advance(20 * MIN);
    await badgeEvent({ type: "departure", source: "ble" });
    await deliver();
    await eventually(() => mailsTo("a@onsite.test").some((m) => m.subject.includes("清洁")));
    const pending = (await api(hub, "GET", "/api/v1/notifications?status=pending", hub.adminToken))
      .body as unknown as Array<{
      type: string;
      target: string;
      nextAt: number;
    }>;
    const held = pending.find((p) => p.type === "departed_without_cleanup" && p.target === "d@onsite.test");
    expect(held?.nextAt).toBe(Date.UTC(2026, 10, 25, 23, 0)); // 07:00 in Shanghai
    expect(mailsTo("d@onsite.test").some((m) => m.subject.includes("clean-up"))).toBe(false);
    clock.set(Date.UTC(2026, 10, 25, 23, 1));
    await deliver();
    await eventually(() => mailsTo("d@onsite.test").some((m) => m.subject.includes("clean-up")));
    await kiosk.endAsync();
  });

  it("a failing webhook is retried with backoff; the outbox shows the error, then the delivery", async () => {
    failing.type = "sos";
    failing.times = 2;
    const before = hooks.filter((h) => h.type === "sos").length;
    await badgeEvent({ type: "sos", kind: "hazard", visit: "V3" });
    await deliver();
    const row = async () =>
      (
        (await api(hub, "GET", "/api/v1/notifications?visit=V3", hub.adminToken)).body as unknown as Array<{
          type: string;
          channel: string;
          status: string;
          attempts: number;
          lastError: string | null;
        }>
      ).find((n) => n.type === "sos" && n.channel === "webhook");
    await eventually(async () => (await row())?.attempts === 1);
    expect(await row()).toMatchObject({ status: "pending", lastError: "webhook answered 500" });
    clock.advance(1500);
    await deliver();
    await eventually(async () => (await row())?.attempts === 2);
    clock.advance(3000);
    await deliver();
    await eventually(async () => (await row())?.status === "delivered");
    expect((await row())?.attempts).toBe(3);
    expect(hooks.filter((h) => h.type === "sos").length).toBe(before + 1);
  });

  it("a kiosk gone offline is told of once; device health and open alarms are on the API and /metrics", async () => {
    const kiosk = await connect(hub, devices.kiosk.id, devices.kiosk.password);
    const heardAt = clock.now();
    await send(kiosk, { v: 1, type: "heartbeat", device: "kiosk-1", counter: 500, time: heardAt });
    await deliver();
    await kiosk.endAsync();
    await eventually(() => !hub.ctx.connected("kiosk-1"));
    clock.advance(6 * MIN);
    await deliver();
    const offline = () =>
      hooks.filter(
        (h) =>
          h.type === "device_offline" && h.details.deviceId === "kiosk-1" && h.details.lastSeenAt === heardAt,
      );
    await eventually(() => offline().length === 1);
    clock.advance(MIN);
    await deliver();
    // Once for this silence (an earlier one, after the night visit, was told of on its own).
    expect(offline()).toHaveLength(1);
    const health = (await api(hub, "GET", "/api/v1/devices/health", hub.adminToken))
      .body as unknown as Array<{
      id: string;
      health: string;
    }>;
    expect(health.find((d) => d.id === "kiosk-1")?.health).toBe("offline");
    const metrics = (await api(hub, "GET", "/metrics", undefined)).text;
    expect(metrics).toMatch(/onsite_devices\{kind="kiosk",health="offline"\} 1/);
    // V3's SOS and its departure without clean-up wait for a supervisor.
    expect(metrics).toMatch(/onsite_open_alarms\{kind="sos"\} 1/);
    expect(metrics).toMatch(/onsite_open_alarms\{kind="departed_without_cleanup"\} 1/);
    expect(metrics).toMatch(/process_cpu_user_seconds_total/);
    expect(metrics).toMatch(/onsite_http_request_duration_seconds_bucket/);
  });

  it("the roll-call lists who is on site; an evacuation tells everyone on the list at once; the warden marks each", async () => {
    const evacuation = () => smtp.messages().filter((m) => /EVACUATION|紧急疏散/.test(m.subject));
    expect((await api(hub, "GET", "/api/v1/sites/S1/present", hub.adminToken)).body).toEqual([]);
    const rc = await api(hub, "POST", "/api/v1/sites/S1/rollcalls", hub.adminToken, { kind: "evacuation" });
    expect(rc.status).toBe(201);
    await deliver();
    // Everyone on the list, quiet hours or not.
    await eventually(() => evacuation().length >= 4);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      evacuation()
        .map((m) => m.to)
        .sort(),
    ).toEqual(["a@onsite.test", "b@onsite.test", "c@onsite.test", "d@onsite.test"]);
    expect(hooks.some((h) => h.type === "evacuation")).toBe(true);
    const id = String(rc.body.id);
    const marked = await api(hub, "POST", `/api/v1/rollcalls/${id}/marks`, hub.adminToken, {
      engineerId: "E1",
      status: "safe",
    });
    expect(marked.status).toBe(200);
    const page = await api(hub, "GET", `/api/v1/rollcalls/${id}/print?lang=zh-CN`, hub.adminToken);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.text).toContain("Zhang Wei");
    expect(page.text).toContain("安全");
    expect(
      (await api(hub, "POST", `/api/v1/rollcalls/${id}/end`, hub.adminToken)).body.endedAt,
    ).not.toBeNull();
  });
});
