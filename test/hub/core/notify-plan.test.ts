/** Who is told what, through which channel, and when: the planner is pure. */
import { describe, expect, it } from "vitest";
import { defaultSite } from "../../../hub/core/model.js";
import { type Notice, planNotifications, quietUntil } from "../../../hub/core/notify/plan.js";
import type { Contact } from "../../../protocol/api.js";

const at = (hhmm: string) => Date.parse(`2026-11-25T${hhmm}:00+08:00`);
const contacts: Contact[] = [
  {
    id: "A",
    name: "A",
    role: "supervisor",
    language: "zh-CN",
    email: "a@x.cn",
    events: ["sos"],
    escalation: 1,
  },
  { id: "B", name: "B", role: "supervisor", language: "en", phone: "+86 1", events: ["sos"], escalation: 2 },
  {
    id: "D",
    name: "D",
    role: "dispatcher",
    language: "en",
    email: "d@x.cn",
    events: ["*"],
    quietHours: { from: "22:00", to: "07:00" },
  },
  { id: "C", name: "C", role: "customer", language: "zh-CN", email: "c@x.cn", events: ["late_notice"] },
];
const site = defaultSite({ id: "S1", name: "Plant", timeZone: "Asia/Shanghai", contacts });
let n = 0;
const ctx = (now: number, webhooks: Array<{ id: string; events: string[]; siteId: string | null }> = []) => ({
  site,
  webhooks,
  channels: { email: true, sms: true },
  now,
  newId: () => `id${++n}`,
});
const notice = (type: Notice["type"], step = 0): Notice => ({
  key: `${type}:V1:1`,
  type,
  at: at("10:00"),
  siteId: "S1",
  visitId: "V1",
  details: { siteName: "Plant", engineerName: "Zhang Wei" },
  step,
});
const to = (items: ReturnType<typeof planNotifications>) =>
  items.map((i) => `${i.channel}:${i.target}`).sort();

describe("planning notifications", () => {
  it("an SOS goes to the first of the chain and to everyone subscribed outside it; reminders go round the chain", () => {
    expect(to(planNotifications(notice("sos"), ctx(at("10:00"))))).toEqual(["email:a@x.cn", "email:d@x.cn"]);
    expect(to(planNotifications(notice("sos", 1), ctx(at("10:05"))))).toEqual(["sms:+86 1"]);
    expect(to(planNotifications(notice("sos", 2), ctx(at("10:10"))))).toEqual(["email:a@x.cn"]);
    expect(to(planNotifications(notice("sos", 3), ctx(at("10:15"))))).toEqual(["sms:+86 1"]);
  });

  it("each delivery has its own key, so the same notice planned twice is stored once", () => {
    const a = planNotifications(notice("sos"), ctx(at("10:00")));
    const b = planNotifications(notice("sos"), ctx(at("10:00")));
    expect(a.map((i) => i.key)).toEqual(b.map((i) => i.key));
    expect(new Set(a.map((i) => i.key)).size).toBe(a.length);
    expect(new Set([...a, ...b].map((i) => i.id)).size).toBe(a.length + b.length);
  });

  it("the customer gets only what he subscribed to, in his language; an evacuation reaches everyone", () => {
    const late = planNotifications(notice("late_notice"), ctx(at("10:00")));
    expect(to(late)).toEqual(["email:c@x.cn", "email:d@x.cn"]);
    expect(JSON.parse(late.find((i) => i.target === "c@x.cn")?.body ?? "{}").text).toMatch(/^您好！/);
    expect(to(planNotifications(notice("evacuation"), ctx(at("23:30"))))).toEqual([
      "email:a@x.cn",
      "email:c@x.cn",
      "email:d@x.cn",
      "sms:+86 1",
    ]);
  });

  it("quiet hours over midnight hold back all but an SOS and an evacuation until they end", () => {
    const d = contacts[2] as Contact;
    expect(quietUntil(d, site, at("23:30"))).toBe(Date.parse("2026-11-26T07:00:00+08:00"));
    expect(quietUntil(d, site, at("06:00"))).toBe(at("07:00"));
    expect(quietUntil(d, site, at("12:00"))).toBeUndefined();
    const night = planNotifications(notice("no_show"), ctx(at("23:30")));
    expect(night.find((i) => i.target === "d@x.cn")?.nextAt).toBe(Date.parse("2026-11-26T07:00:00+08:00"));
    const sos = planNotifications(notice("sos"), ctx(at("23:30")));
    expect(sos.find((i) => i.target === "d@x.cn")?.nextAt).toBe(at("23:30"));
  });

  it("webhooks of another site get nothing, reminders go to people only, and an unconfigured channel is not planned", () => {
    const hooks = [
      { id: "all", events: ["*"], siteId: null },
      { id: "mine", events: ["sos"], siteId: "S1" },
      { id: "other", events: ["*"], siteId: "S2" },
    ];
    expect(
      to(planNotifications(notice("sos"), ctx(at("10:00"), hooks))).filter((t) => t.startsWith("webhook")),
    ).toEqual(["webhook:all", "webhook:mine"]);
    expect(
      to(planNotifications(notice("sos", 1), ctx(at("10:05"), hooks))).filter((t) => t.startsWith("webhook")),
    ).toEqual([]);
    const body = JSON.parse(planNotifications(notice("sos"), ctx(at("10:00"), hooks))[0]?.body ?? "{}");
    expect(Object.keys(body).sort()).toEqual(["at", "details", "id", "siteId", "type", "visitId"]);
    const noSms = planNotifications(notice("sos", 1), {
      ...ctx(at("10:05")),
      channels: { email: true, sms: false },
    });
    expect(noSms).toEqual([]);
  });
});
