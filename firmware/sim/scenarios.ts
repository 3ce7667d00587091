/**
 * Visits drawn from RULES.md, as what people do: the engineer's badge presses, the customer's kiosk
 * buttons and badge taps, the engineer's app. Steps are in script minutes; each visit's promised
 * window is placed relative to the real time of its arrival, so the hub judges what was intended.
 */
import type { CleanupItem, PpeItem } from "../../protocol/index.js";

export type SimAction =
  | {
      actor: "badge";
      do: "arrive" | "gear" | "work" | "depart" | "sos" | "late" | "out_of_range" | "in_range";
    }
  | { actor: "kiosk"; do: "tap" | "confirm_checkin" | "sign_cleanup" }
  | { actor: "kiosk"; do: "confirm_completion"; resolved: boolean; rating: number }
  | { actor: "app"; do: "report" };

export interface SimExpectation {
  violations: string[];
  alarms?: number;
  followUp?: boolean;
}

export interface SimScenario {
  name: string;
  /** What the engineer's badge confirms with its gear step (default: everything the site requires). */
  ppe?: PpeItem[];
  certificateExpired?: boolean;
  /** Window [from, to] in real ms, given the real time of the arrival step and of the start. */
  window: (arrivalAt: number, startAt: number) => [number, number];
  steps: Array<{ at: number } & SimAction>;
  expect: SimExpectation;
}

export const SITE_PPE: PpeItem[] = ["helmet", "safety_shoes"];
export const SITE_CLEANUP: CleanupItem[] = ["work_area_clean", "items_restored", "waste_removed"];

const MIN = 60_000;
const checkIn = (t: number): Array<{ at: number } & SimAction> => [
  { at: t, actor: "badge", do: "arrive" },
  { at: t + 1, actor: "kiosk", do: "tap" },
  { at: t + 2, actor: "kiosk", do: "confirm_checkin" },
  { at: t + 3, actor: "badge", do: "gear" },
  { at: t + 4, actor: "badge", do: "work" },
];
const finish = (t: number, resolved = true): Array<{ at: number } & SimAction> => [
  { at: t, actor: "app", do: "report" },
  { at: t + 1, actor: "kiosk", do: "confirm_completion", resolved, rating: resolved ? 5 : 2 },
  { at: t + 3, actor: "kiosk", do: "sign_cleanup" },
  { at: t + 6, actor: "badge", do: "depart" },
];

export const SCENARIOS: SimScenario[] = [
  {
    name: "on time, every step",
    window: (a) => [a - 20 * MIN, a + 40 * MIN],
    steps: [...checkIn(1), ...finish(8)],
    expect: { violations: [] },
  },
  {
    // The notice has two thirds of the way to the arrival to reach the hub before the window closes.
    name: "late with advance notice",
    window: (a, start) => [start - 60 * MIN, start + ((a - start) * 2) / 3],
    steps: [{ at: 0, actor: "badge", do: "late" }, ...checkIn(15), ...finish(22)],
    expect: { violations: ["late_arrival"] },
  },
  {
    name: "late without notice",
    window: (a) => [a - 72 * MIN, a - 12 * MIN],
    steps: [...checkIn(2), ...finish(9)],
    expect: { violations: ["late_arrival", "late_without_notice"] },
  },
  {
    name: "no-show",
    window: (_a, start) => [start - 90 * MIN, start - 30 * MIN],
    steps: [],
    expect: { violations: ["no_show"] },
  },
  {
    name: "missing PPE: work refused",
    ppe: ["helmet"],
    window: (a) => [a - 10 * MIN, a + 50 * MIN],
    steps: [...checkIn(1)],
    expect: { violations: ["work_without_gear"] },
  },
  {
    name: "expired safety certificate",
    certificateExpired: true,
    window: (a) => [a - 30 * MIN, a + 30 * MIN],
    steps: [...checkIn(1)],
    expect: { violations: ["unqualified_checkin"] },
  },
  {
    name: "leaves before clean-up",
    window: (a) => [a - 15 * MIN, a + 45 * MIN],
    steps: [
      ...checkIn(1),
      { at: 8, actor: "app", do: "report" },
      { at: 9, actor: "kiosk", do: "confirm_completion", resolved: true, rating: 4 },
      { at: 12, actor: "badge", do: "depart" },
    ],
    expect: { violations: ["departed_without_cleanup"] },
  },
  {
    name: "SOS during work",
    window: (a) => [a - 5 * MIN, a + 55 * MIN],
    steps: [...checkIn(1), { at: 8, actor: "badge", do: "sos" }],
    expect: { violations: [], alarms: 1 },
  },
  {
    name: "unresolved job",
    window: (a) => [a - 25 * MIN, a + 35 * MIN],
    steps: [...checkIn(1), ...finish(8, false)],
    expect: { violations: [], followUp: true },
  },
  {
    name: "badge out of range with a backlog",
    window: (a) => [a - 20 * MIN, a + 40 * MIN],
    steps: [
      { at: 0, actor: "badge", do: "out_of_range" },
      { at: 1, actor: "badge", do: "arrive" },
      { at: 2, actor: "kiosk", do: "tap" },
      { at: 3, actor: "kiosk", do: "confirm_checkin" },
      { at: 4, actor: "badge", do: "gear" },
      { at: 7, actor: "badge", do: "in_range" },
      { at: 9, actor: "badge", do: "work" },
      ...finish(11),
    ],
    expect: { violations: [] },
  },
];
