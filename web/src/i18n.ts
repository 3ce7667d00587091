/** Simplified Chinese and English; the choice is remembered. */
export type Lang = "zh-CN" | "en";

const en = {
  title: "onsite — live sites",
  login: "Sign in",
  token: "API token",
  signOut: "Sign out",
  badToken: "This token was refused.",
  wrongRole: "This token may not open the dashboard.",
  live: "Live",
  reconnecting: "Reconnecting…",
  board: "Board",
  punctuality: "Punctuality",
  dispatch: "Dispatch",
  engineer: "Engineer",
  window: "Promised window",
  state: "State",
  arrival: "Arrival",
  ppe: "PPE",
  completion: "Completion",
  cleanup: "Clean-up",
  violations: "Violations",
  none: "none",
  ok: "OK",
  missing: "missing",
  early: "early",
  on_time: "on time",
  late: "late",
  min: "min",
  acknowledge: "Acknowledge",
  sos: "SOS",
  departedWithoutCleanup: "Left without clean-up sign-off",
  timeline: "Timeline",
  deviceTime: "Device time",
  hubTime: "Hub time",
  lateData: "late data",
  evidence: "Evidence",
  report: "Service report",
  followUp: "Follow-up due",
  back: "Back",
  onTimeShare: "On time",
  lateness: "Minutes late",
  perEngineer: "Per engineer",
  downloadCsv: "Download CSV",
  createVisit: "Create a visit",
  site: "Site",
  from: "From",
  to: "To",
  create: "Create",
  importCsv: "Import visits (CSV)",
  import: "Import",
  imported: "Imported",
  line: "Line",
  field: "Field",
  message: "Problem",
  visits: "visits",
  noVisits: "No visits today.",
  language: "Language",
  states: {
    scheduled: "scheduled",
    no_show: "no-show",
    arrived: "arrived",
    refused: "refused",
    checked_in: "checked in",
    working: "working",
    completed: "completed",
    departed: "departed",
  } as Record<string, string>,
  resolved: "resolved",
  unresolved: "unresolved",
};
type Dict = typeof en;

const zh: Dict = {
  title: "onsite — 现场实时看板",
  login: "登录",
  token: "访问令牌",
  signOut: "退出",
  badToken: "令牌无效。",
  wrongRole: "此令牌无权查看看板。",
  live: "实时",
  reconnecting: "正在重新连接…",
  board: "看板",
  punctuality: "准时情况",
  dispatch: "派工",
  engineer: "工程师",
  window: "承诺到达时段",
  state: "状态",
  arrival: "到达",
  ppe: "防护用品",
  completion: "完工确认",
  cleanup: "清场",
  violations: "违规",
  none: "无",
  ok: "齐全",
  missing: "缺少",
  early: "提前",
  on_time: "准时",
  late: "迟到",
  min: "分钟",
  acknowledge: "确认收到",
  sos: "紧急求助",
  departedWithoutCleanup: "未经清场签字即离开",
  timeline: "时间线",
  deviceTime: "设备时间",
  hubTime: "中心时间",
  lateData: "延迟数据",
  evidence: "证据",
  report: "服务报告",
  followUp: "回访日期",
  back: "返回",
  onTimeShare: "准时率",
  lateness: "迟到分钟数",
  perEngineer: "按工程师",
  downloadCsv: "下载 CSV",
  createVisit: "新建上门服务",
  site: "现场",
  from: "从",
  to: "到",
  create: "创建",
  importCsv: "导入上门服务（CSV）",
  import: "导入",
  imported: "已导入",
  line: "行",
  field: "字段",
  message: "问题",
  visits: "次上门",
  noVisits: "今天没有上门服务。",
  language: "语言",
  states: {
    scheduled: "已安排",
    no_show: "未到场",
    arrived: "已到达",
    refused: "被拒入场",
    checked_in: "已签到",
    working: "作业中",
    completed: "已完工",
    departed: "已离开",
  },
  resolved: "已解决",
  unresolved: "未解决",
};

export const dictionaries: Record<Lang, Dict> = { en, "zh-CN": zh };

export function currentLang(fallback: Lang): Lang {
  const saved = localStorage.getItem("onsite.lang");
  return saved === "en" || saved === "zh-CN" ? saved : fallback;
}

export function saveLang(lang: Lang): void {
  localStorage.setItem("onsite.lang", lang);
  document.documentElement.lang = lang;
}

export function formatTime(ms: number, zone: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang, {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  }).format(ms);
}

export function formatDateTime(ms: number, zone: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang, {
    timeZone: zone,
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  }).format(ms);
}

export const esc = (s: unknown): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
