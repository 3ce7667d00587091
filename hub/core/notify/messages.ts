/**
 * What each notification says, in the recipient's language. Customers get the seed's polite wording
 * (您好, 请, 谢谢, 请稍等; never a forbidden phrase); staff get the facts first. Times are in the
 * site's zone. Pure.
 */
import { DateTime } from "luxon";
import type { NotifyEvent } from "../../../protocol/api.js";

export type Language = "zh-CN" | "en";

/** The facts a message is made of (whatever applies to the notice). */
export interface NoticeDetails {
  siteName?: string;
  zone?: string;
  engineerName?: string;
  windowFrom?: number;
  windowTo?: number;
  eta?: number | null;
  minutesLate?: number;
  missing?: string[];
  sosKind?: string;
  deviceId?: string;
  deviceKind?: string;
  lastSeenAt?: number | null;
  acknowledgedBy?: string;
  note?: string;
  problems?: string[];
  /** An SOS reminder: how many times it was sent before without acknowledgement. */
  reminder?: number;
}

const time = (ms: number | null | undefined, zone: string | undefined, lang: Language) =>
  ms == null
    ? lang === "zh-CN"
      ? "未知时间"
      : "an unknown time"
    : DateTime.fromMillis(ms, { zone: zone ?? "UTC" }).toFormat(
        lang === "zh-CN" ? "M月d日 HH:mm" : "d LLL HH:mm",
      );

const SOS_KIND: Record<Language, Record<string, string>> = {
  "zh-CN": { injury: "受伤", hazard: "危险", other: "其他" },
  en: { injury: "injury", hazard: "hazard", other: "other" },
};

export interface Message {
  subject: string;
  text: string;
}

/** The message for one notice, for one recipient's language. */
export function message(type: NotifyEvent, d: NoticeDetails, at: number, lang: Language): Message {
  const zh = lang === "zh-CN";
  const site = d.siteName ?? (zh ? "现场" : "the site");
  const who = d.engineerName ?? (zh ? "工程师" : "the engineer");
  const when = (ms: number | null | undefined) => time(ms, d.zone, lang);
  const list = (xs: string[] | undefined) =>
    xs && xs.length > 0 ? xs.join(zh ? "、" : ", ") : zh ? "无" : "none";
  switch (type) {
    case "sos": {
      const kind = SOS_KIND[lang][d.sosKind ?? "other"] ?? d.sosKind ?? "";
      const again = d.reminder
        ? zh
          ? `（第 ${d.reminder} 次提醒，尚未确认）`
          : ` (reminder ${d.reminder}: not acknowledged yet)`
        : "";
      return zh
        ? {
            subject: `【紧急求救】${site}：${who}${again}`,
            text: `${site}：${who} 于 ${when(at)} 发出求救信号（${kind}）${again}。请立即处理，并在控制台确认。`,
          }
        : {
            subject: `URGENT: SOS at ${site} (${who})${again}`,
            text: `${who} raised an SOS (${kind}) at ${site} at ${when(at)}${again}. Please respond now and acknowledge it on the dashboard.`,
          };
    }
    case "departed_without_cleanup":
      return zh
        ? {
            subject: `${site}：离场前未完成清洁确认`,
            text: `${who} 于 ${when(at)} 离开${site}，客户的清洁确认尚未完成（未签：${list(d.missing)}）。请跟进。`,
          }
        : {
            subject: `${site}: left before the clean-up sign-off`,
            text: `${who} left ${site} at ${when(at)} before the customer signed off the clean-up (missing: ${list(d.missing)}). Please follow up.`,
          };
    case "late_without_notice":
      return zh
        ? {
            subject: `${site}：迟到且未提前通知`,
            text: `${who} 于 ${when(at)} 到达${site}，迟到 ${d.minutesLate ?? "?"} 分钟，事先未通知客户。`,
          }
        : {
            subject: `${site}: late without notice`,
            text: `${who} arrived at ${site} at ${when(at)}, ${d.minutesLate ?? "?"} min late, without telling the customer in advance.`,
          };
    case "no_show":
      return zh
        ? {
            subject: `${site}：工程师未到场`,
            text: `${who} 未在承诺时间（${when(d.windowFrom)} – ${when(d.windowTo)}）内到达${site}。`,
          }
        : {
            subject: `${site}: no-show`,
            text: `${who} did not arrive at ${site} within the promised window (${when(d.windowFrom)} – ${when(d.windowTo)}).`,
          };
    case "at_risk":
      return zh
        ? {
            subject: `${site}：工程师尚未到场`,
            text: `${who} 还未到达${site}，承诺的到达时间将于 ${when(d.windowTo)} 结束。`,
          }
        : {
            subject: `${site}: not on site yet`,
            text: `${who} is not at ${site} yet; the promised window closes at ${when(d.windowTo)}.`,
          };
    case "unqualified_checkin":
      return zh
        ? {
            subject: `${site}：无有效证书签到`,
            text: `${who} 于 ${when(at)} 在${site}签到，但安全培训证书缺失或已过期（${list(d.problems)}）。`,
          }
        : {
            subject: `${site}: check-in without a valid certificate`,
            text: `${who} checked in at ${site} at ${when(at)} without a valid safety certificate (${list(d.problems)}).`,
          };
    case "device_offline":
      return zh
        ? {
            subject: `${site}：设备离线 ${d.deviceId ?? ""}`,
            text: `设备 ${d.deviceId ?? ""}（${d.deviceKind ?? ""}）自 ${when(d.lastSeenAt)} 起没有消息。请检查供电和网络。`,
          }
        : {
            subject: `${site}: device offline ${d.deviceId ?? ""}`,
            text: `Device ${d.deviceId ?? ""} (${d.deviceKind ?? ""}) at ${site} has not been heard since ${when(d.lastSeenAt)}. Please check its power and network.`,
          };
    case "alarm_acknowledged":
      return zh
        ? {
            subject: `${site}：警报已确认`,
            text: `${d.acknowledgedBy ?? "主管"} 已于 ${when(at)} 确认${who}的警报${d.note ? `：${d.note}` : ""}。`,
          }
        : {
            subject: `${site}: alarm acknowledged`,
            text: `${d.acknowledgedBy ?? "A supervisor"} acknowledged the alarm for ${who} at ${when(at)}${d.note ? `: ${d.note}` : ""}.`,
          };
    case "late_notice":
      return zh
        ? {
            subject: `您好，${who} 将晚些到达`,
            text: `您好！非常抱歉，${who} 将晚些到达${site}，预计 ${when(d.eta)} 到达。请稍等，谢谢您的耐心与理解。`,
          }
        : {
            subject: `${who} will be a little late`,
            text: `Hello! We are sorry: ${who} will reach ${site} a little late and expects to arrive at ${when(d.eta)}. Thank you for your patience.`,
          };
    case "en_route":
      return zh
        ? {
            subject: `您好，${who} 已出发`,
            text: `您好！${who} 已出发前往${site}${d.eta ? `，预计 ${when(d.eta)} 到达` : ""}。谢谢！`,
          }
        : {
            subject: `${who} is on the way`,
            text: `Hello! ${who} is on the way to ${site}${d.eta ? ` and expects to arrive at ${when(d.eta)}` : ""}. Thank you!`,
          };
    case "evacuation":
      return zh
        ? {
            subject: `【紧急疏散】${site}`,
            text: `${site} 于 ${when(at)} 开始紧急疏散。请立即前往集合点，并向现场负责人报到。`,
          }
        : {
            subject: `EVACUATION at ${site}`,
            text: `${site} started an evacuation at ${when(at)}. Go to the assembly point now and report to the warden.`,
          };
  }
}
