/**
 * Reports on visits: one row per visit (times in the site's own zone), as CSV that Excel opens with
 * Chinese text intact (UTF-8 with a byte-order mark) and as XLSX (write-excel-file: a visits sheet
 * with real date cells, and sheets per engineer and per site). Shared by the HTTP API and the CLI.
 */
import { DateTime } from "luxon";
import writeXlsxFile, { type Row, type SheetData } from "write-excel-file/node";
import type { Engineer, Site, VisitPlan } from "../core/model.js";
import { toSiteIso } from "../core/time.js";
import type { VisitSummary } from "../core/visit/types.js";
import { toCsv } from "./csv.js";

export const REPORT_COLUMNS = [
  "visit_id",
  "site_id",
  "engineer_id",
  "engineer_name",
  "window_from",
  "window_to",
  "state",
  "arrived_at",
  "arrival_class",
  "minutes_late",
  "late_notice",
  "gear_complete",
  "gear_missing",
  "work_started_at",
  "completion",
  "rating",
  "cleanup_complete",
  "cleanup_missing",
  "departed_at",
  "violations",
  "sos",
  "follow_up_due",
  "site_name",
  "time_zone",
  "cancelled_at",
] as const;
type Column = (typeof REPORT_COLUMNS)[number];

export type ReportLang = "en" | "zh-CN";

/** Column titles of the XLSX visits sheet (the CSV keeps the codes above: scripts read it). */
const TITLES: Record<ReportLang, Record<Column, string>> = {
  en: {
    visit_id: "Visit",
    site_id: "Site ID",
    engineer_id: "Engineer ID",
    engineer_name: "Engineer",
    window_from: "Window from",
    window_to: "Window to",
    state: "State",
    arrived_at: "Arrived",
    arrival_class: "Arrival",
    minutes_late: "Minutes late",
    late_notice: "Advance late notice",
    gear_complete: "PPE complete",
    gear_missing: "PPE missing",
    work_started_at: "Work started",
    completion: "Completion",
    rating: "Rating",
    cleanup_complete: "Clean-up signed off",
    cleanup_missing: "Clean-up missing",
    departed_at: "Departed",
    violations: "Violations",
    sos: "SOS",
    follow_up_due: "Follow-up due",
    site_name: "Site",
    time_zone: "Time zone",
    cancelled_at: "Cancelled",
  },
  "zh-CN": {
    visit_id: "上门编号",
    site_id: "现场编号",
    engineer_id: "工程师编号",
    engineer_name: "工程师",
    window_from: "承诺时段开始",
    window_to: "承诺时段结束",
    state: "状态",
    arrived_at: "到达时间",
    arrival_class: "到达情况",
    minutes_late: "迟到分钟",
    late_notice: "提前告知迟到",
    gear_complete: "防护用品齐全",
    gear_missing: "缺少的防护用品",
    work_started_at: "开工时间",
    completion: "完工确认",
    rating: "评分",
    cleanup_complete: "清场已签字",
    cleanup_missing: "未签字的清场项",
    departed_at: "离开时间",
    violations: "违规",
    sos: "紧急求助",
    follow_up_due: "回访日期",
    site_name: "现场",
    time_zone: "时区",
    cancelled_at: "取消时间",
  },
};

type Cell = string | number | boolean | null;

/** One visit as the report shows it; instants stay instants until written. */
export interface ReportRow {
  plan: VisitPlan;
  site: Site | undefined;
  engineer: Engineer | undefined;
  view: VisitSummary;
}

export async function reportRows(
  plans: VisitPlan[],
  deps: {
    site: (id: string) => Promise<Site | undefined>;
    engineer: (id: string) => Promise<Engineer | undefined>;
    view: (p: VisitPlan) => Promise<VisitSummary>;
  },
): Promise<ReportRow[]> {
  const rows: ReportRow[] = [];
  for (const plan of plans) {
    rows.push({
      plan,
      site: await deps.site(plan.siteId),
      engineer: await deps.engineer(plan.engineerId),
      view: await deps.view(plan),
    });
  }
  return rows;
}

/** The row's cells in REPORT_COLUMNS order; `time` writes an instant (null: empty). */
function cells<T>(
  r: ReportRow,
  time: (ms: number | null | undefined, zone: string) => T | "",
): Array<Cell | T> {
  const { plan: p, view: v } = r;
  const zone = r.site?.timeZone ?? "UTC";
  const t = (ms: number | null | undefined) => time(ms, zone);
  return [
    p.id,
    p.siteId,
    p.engineerId,
    r.engineer?.name ?? "",
    t(p.window.from),
    t(p.window.to),
    v.state,
    t(v.arrival?.at),
    v.arrival?.verdict.class ?? "",
    v.arrival?.verdict.class === "late" ? v.arrival.verdict.minutes : 0,
    v.advanceNotice !== null,
    v.gear.missing.length === 0,
    v.gear.missing.join(";"),
    t(v.workStartedAt),
    v.completion ? (v.completion.resolved ? "resolved" : "unresolved") : "",
    v.completion?.rating ?? "",
    v.cleanup.completeAt !== null,
    v.cleanup.missing.join(";"),
    t(v.departure?.at),
    v.violations.map((x) => x.kind).join(";"),
    v.alarms.length,
    v.followUp?.dueDate ?? "",
    r.site?.name ?? "",
    zone,
    t(p.cancelledAt),
  ];
}

/** UTF-8 with a byte-order mark: without it Excel reads the file as the system's code page. */
export const BOM = "\uFEFF";

export function reportCsv(rows: ReportRow[]): string {
  return (
    BOM +
    toCsv(
      REPORT_COLUMNS,
      rows.map((r) => cells(r, (ms, zone) => (ms == null ? "" : toSiteIso(ms, zone)))),
    )
  );
}

/** An instant as the site's wall time in a date cell (a spreadsheet date has no zone). */
function wallDate(ms: number, zone: string): Date {
  const d = DateTime.fromMillis(ms, { zone });
  return new Date(Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, d.second));
}

interface Tally {
  key: string;
  name: string;
  extra: string;
  visits: number;
  arrived: number;
  onTime: number;
  late: number;
  noShow: number;
  violations: number;
  sos: number;
  ratings: number[];
}

export function tally(rows: ReportRow[], by: "engineer" | "site"): Tally[] {
  const out = new Map<string, Tally>();
  for (const r of rows) {
    const key = by === "engineer" ? r.plan.engineerId : r.plan.siteId;
    let t = out.get(key);
    if (!t) {
      t = {
        key,
        name: (by === "engineer" ? r.engineer?.name : r.site?.name) ?? "",
        extra: (by === "engineer" ? r.engineer?.company : r.site?.timeZone) ?? "",
        visits: 0,
        arrived: 0,
        onTime: 0,
        late: 0,
        noShow: 0,
        violations: 0,
        sos: 0,
        ratings: [],
      };
      out.set(key, t);
    }
    t.visits++;
    if (r.view.arrival) {
      t.arrived++;
      if (r.view.arrival.verdict.class === "late") t.late++;
      else t.onTime++;
    }
    if (r.view.state === "no_show") t.noShow++;
    t.violations += r.view.violations.length;
    t.sos += r.view.alarms.length;
    if (r.view.completion) t.ratings.push(r.view.completion.rating);
  }
  return [...out.values()].sort((a, b) => a.key.localeCompare(b.key));
}

const TALLY_TITLES: Record<
  ReportLang,
  { engineer: string[]; site: string[]; rest: string[]; sheets: string[] }
> = {
  en: {
    engineer: ["Engineer ID", "Engineer", "Company"],
    site: ["Site ID", "Site", "Time zone"],
    rest: [
      "Visits",
      "Arrived",
      "On time",
      "Late",
      "No-show",
      "On-time share",
      "Violations",
      "SOS",
      "Average rating",
    ],
    sheets: ["Visits", "Per engineer", "Per site"],
  },
  "zh-CN": {
    engineer: ["工程师编号", "工程师", "公司"],
    site: ["现场编号", "现场", "时区"],
    rest: ["上门次数", "已到达", "准时", "迟到", "未到场", "准时率", "违规", "紧急求助", "平均评分"],
    sheets: ["上门记录", "按工程师", "按现场"],
  },
};

function tallySheet(rows: ReportRow[], by: "engineer" | "site", lang: ReportLang): SheetData {
  const titles = TALLY_TITLES[lang];
  const head: Row = [...titles[by], ...titles.rest].map((value) => ({ value, fontWeight: "bold" as const }));
  const body: Row[] = tally(rows, by).map((t) => [
    t.key,
    t.name,
    t.extra,
    t.visits,
    t.arrived,
    t.onTime,
    t.late,
    t.noShow,
    t.arrived > 0 ? { value: t.onTime / t.arrived, format: "0%" } : null,
    t.violations,
    t.sos,
    t.ratings.length > 0
      ? { value: t.ratings.reduce((a, b) => a + b, 0) / t.ratings.length, format: "0.0" }
      : null,
  ]);
  return [head, ...body];
}

export async function reportXlsx(rows: ReportRow[], lang: ReportLang): Promise<Buffer> {
  const head: Row = REPORT_COLUMNS.map((c) => ({ value: TITLES[lang][c], fontWeight: "bold" as const }));
  const body: Row[] = rows.map((r) =>
    cells<Date>(r, (ms, zone) => (ms == null ? "" : wallDate(ms, zone))).map((value) =>
      value instanceof Date
        ? { value, type: Date, format: "yyyy-mm-dd hh:mm:ss" }
        : value === "" || value === null
          ? null
          : value,
    ),
  );
  const widths = REPORT_COLUMNS.map((c) => ({
    width: c.endsWith("_at") || c.startsWith("window") ? 20 : 14,
  }));
  const [visits = "Visits", perEngineer = "Per engineer", perSite = "Per site"] = TALLY_TITLES[lang].sheets;
  return writeXlsxFile([
    { data: [head, ...body], sheet: visits, columns: widths, stickyRowsCount: 1 },
    { data: tallySheet(rows, "engineer", lang), sheet: perEngineer, stickyRowsCount: 1 },
    { data: tallySheet(rows, "site", lang), sheet: perSite, stickyRowsCount: 1 },
  ]).toBuffer();
}
