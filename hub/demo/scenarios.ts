/**
 * The demo's visits, drawn from RULES.md. Steps are in script minutes (compressed by the demo speed);
 * each visit's promised window is placed relative to when its arrival will really happen, so the
 * hub judges the outcome the scenario intends.
 */
import type { CleanupItem, PpeItem } from "../../protocol/index.js";

export type DemoAction =
  | { actor: "badge"; do: "arrive" | "depart" | "work" | "sos" }
  | { actor: "badge"; do: "gear"; items: PpeItem[] }
  | { actor: "badge"; do: "late"; etaMinutes: number }
  | { actor: "kiosk"; do: "tap" }
  | { actor: "kiosk"; do: "confirm_checkin" }
  | { actor: "kiosk"; do: "report" }
  | { actor: "kiosk"; do: "confirm_completion"; resolved: boolean; rating: number }
  | { actor: "kiosk"; do: "sign_cleanup"; items: CleanupItem[] };

export interface DemoScenario {
  name: string;
  /** Index into the demo engineers. */
  engineer: number;
  /** Window from/to in real ms, given the real time of the arrival step (or of the start, for no-shows). */
  window: (arrivalAt: number, startAt: number) => [number, number];
  steps: Array<{ at: number } & DemoAction>;
  expect: string[];
}

const MIN = 60_000;
const ALL_CLEANUP: CleanupItem[] = [
  "work_area_clean",
  "items_restored",
  "borrowed_returned",
  "waste_removed",
  "own_items_removed",
];
const PPE: PpeItem[] = ["helmet", "safety_shoes"];

const throughWork = (t: number): Array<{ at: number } & DemoAction> => [
  { at: t, actor: "badge", do: "arrive" },
  { at: t + 1, actor: "kiosk", do: "tap" },
  { at: t + 2, actor: "kiosk", do: "confirm_checkin" },
  { at: t + 3, actor: "badge", do: "gear", items: PPE },
  { at: t + 4, actor: "badge", do: "work" },
];

export const DEMO_SCENARIOS: DemoScenario[] = [
  {
    name: "on time, every step",
    engineer: 0,
    window: (a) => [a - 20 * MIN, a + 40 * MIN],
    steps: [
      ...throughWork(1),
      { at: 20, actor: "kiosk", do: "report" },
      { at: 22, actor: "kiosk", do: "confirm_completion", resolved: true, rating: 5 },
      { at: 24, actor: "kiosk", do: "sign_cleanup", items: ALL_CLEANUP },
      { at: 26, actor: "badge", do: "depart" },
    ],
    expect: [],
  },
  {
    name: "late without notice, leaves before clean-up",
    engineer: 1,
    window: (a) => [a - 72 * MIN, a - 12 * MIN],
    steps: [
      ...throughWork(6),
      { at: 18, actor: "kiosk", do: "report" },
      { at: 19, actor: "kiosk", do: "confirm_completion", resolved: true, rating: 3 },
      { at: 21, actor: "badge", do: "depart" },
    ],
    expect: ["late_arrival", "late_without_notice", "departed_without_cleanup"],
  },
  {
    name: "late with advance notice, job unresolved",
    engineer: 2,
    window: (a, start) => [start - 60 * MIN, start + (a - start) / 2],
    steps: [
      { at: 0, actor: "badge", do: "late", etaMinutes: 20 },
      ...throughWork(10),
      { at: 25, actor: "kiosk", do: "report" },
      { at: 27, actor: "kiosk", do: "confirm_completion", resolved: false, rating: 2 },
      { at: 28, actor: "kiosk", do: "sign_cleanup", items: ALL_CLEANUP },
      { at: 29, actor: "badge", do: "depart" },
    ],
    expect: ["late_arrival"],
  },
  {
    name: "no-show",
    engineer: 3,
    window: (_a, start) => [start - 90 * MIN, start - 30 * MIN],
    steps: [],
    expect: ["no_show"],
  },
  {
    name: "starts work without PPE, then SOS",
    engineer: 4,
    window: (a) => [a - 10 * MIN, a + 50 * MIN],
    steps: [
      { at: 3, actor: "badge", do: "arrive" },
      { at: 4, actor: "kiosk", do: "tap" },
      { at: 5, actor: "kiosk", do: "confirm_checkin" },
      { at: 6, actor: "badge", do: "gear", items: ["helmet"] },
      { at: 7, actor: "badge", do: "work" },
      { at: 8, actor: "badge", do: "gear", items: ["safety_shoes"] },
      { at: 9, actor: "badge", do: "work" },
      { at: 15, actor: "badge", do: "sos" },
    ],
    expect: ["work_without_gear"],
  },
  {
    name: "expired safety certificate",
    engineer: 5,
    window: (a) => [a - 30 * MIN, a + 30 * MIN],
    steps: [...throughWork(12)],
    expect: ["unqualified_checkin"],
  },
];
