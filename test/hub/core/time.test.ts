import { describe, expect, it } from "vitest";
import {
  classifyArrival,
  defaultSite,
  localDate,
  ManualClock,
  nextWorkingDay,
  projectVisit,
  resolveWindow,
  systemClock,
  TimeError,
  toSiteIso,
  wallToInstant,
} from "../../../hub/core/index.js";
import { ctx, ev, MIN, resetCounters } from "./fixtures.js";

const BERLIN = "Europe/Berlin";
const SHANGHAI = "Asia/Shanghai";
const utc = (s: string) => Date.parse(s);

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof TimeError) return e.code;
    throw e;
  }
  return "none";
}

describe("site wall time to instants", () => {
  it("Shanghai is UTC+8 all year", () => {
    expect(wallToInstant("2026-01-15T09:00", SHANGHAI)).toBe(utc("2026-01-15T01:00:00Z"));
    expect(wallToInstant("2026-07-15T09:00", SHANGHAI)).toBe(utc("2026-07-15T01:00:00Z"));
    expect(wallToInstant("2026-03-29T02:30", SHANGHAI)).toBe(utc("2026-03-28T18:30:00Z"));
  });

  it("Berlin switches between +01:00 and +02:00", () => {
    expect(wallToInstant("2026-03-28T09:00", BERLIN)).toBe(utc("2026-03-28T08:00:00Z"));
    expect(wallToInstant("2026-03-30T09:00", BERLIN)).toBe(utc("2026-03-30T07:00:00Z"));
  });

  it("refuses a time inside the spring-forward gap", () => {
    expect(errorCode(() => wallToInstant("2026-03-29T02:30", BERLIN))).toBe("nonexistent_time");
  });

  it("refuses an ambiguous fall-back time unless the offset says which", () => {
    expect(errorCode(() => wallToInstant("2026-10-25T02:30", BERLIN))).toBe("ambiguous_time");
    expect(() => wallToInstant("2026-10-25T02:30", BERLIN)).toThrow(/\+02:00 or 2026-10-25T02:30\+01:00/);
    expect(wallToInstant("2026-10-25T02:30+02:00", BERLIN)).toBe(utc("2026-10-25T00:30:00Z"));
    expect(wallToInstant("2026-10-25T02:30+01:00", BERLIN)).toBe(utc("2026-10-25T01:30:00Z"));
  });

  it("refuses unknown zones, bad text and bad windows, naming the field", () => {
    expect(errorCode(() => wallToInstant("2026-01-01T09:00", "Mars/Olympus"))).toBe("bad_zone");
    expect(errorCode(() => wallToInstant("tomorrow", SHANGHAI))).toBe("bad_time");
    expect(errorCode(() => resolveWindow("2026-01-01T10:00", "2026-01-01T09:00", SHANGHAI))).toBe(
      "bad_window",
    );
    expect(errorCode(() => resolveWindow("2026-01-01T10:00", "2026-01-03T09:00", SHANGHAI))).toBe(
      "bad_window",
    );
    expect(() => resolveWindow("2026-01-01T10:00", "2026-01-01T09:00", SHANGHAI)).toThrow(/^window\.to: /);
  });

  it("formats instants in the site's zone", () => {
    expect(toSiteIso(utc("2026-03-29T01:30:00Z"), BERLIN)).toBe("2026-03-29T03:30:00+02:00");
    expect(localDate(utc("2026-11-25T17:00:00Z"), SHANGHAI)).toBe("2026-11-26");
  });
});

describe("a window spanning a DST change", () => {
  // 01:30–03:30 Berlin wall time on the spring-forward night is one real hour.
  const spring = resolveWindow("2026-03-29T01:30", "2026-03-29T03:30", BERLIN);
  // 01:30–03:30 on the fall-back night is three real hours.
  const autumn = resolveWindow("2026-10-25T01:30", "2026-10-25T03:30", BERLIN);

  it("counts real time, not wall-clock difference", () => {
    expect((spring.to - spring.from) / MIN).toBe(60);
    expect((autumn.to - autumn.from) / MIN).toBe(180);
  });

  it("classifies arrivals across the spring-forward jump", () => {
    expect(classifyArrival(wallToInstant("2026-03-29T03:20", BERLIN), spring)).toEqual({
      class: "on_time",
      minutes: 0,
    });
    expect(classifyArrival(wallToInstant("2026-03-29T03:45", BERLIN), spring)).toEqual({
      class: "late",
      minutes: 15,
    });
    expect(classifyArrival(wallToInstant("2026-03-29T01:00", BERLIN), spring)).toEqual({
      class: "early",
      minutes: 30,
    });
  });

  it("classifies arrivals in the repeated hour by their instant", () => {
    expect(classifyArrival(wallToInstant("2026-10-25T02:45+01:00", BERLIN), autumn).class).toBe("on_time");
    expect(classifyArrival(wallToInstant("2026-10-25T03:31", BERLIN), autumn)).toEqual({
      class: "late",
      minutes: 1,
    });
  });

  it("a whole visit on the spring-forward night is judged in real minutes", () => {
    resetCounters();
    const c = { ...ctx, site: { ...ctx.site, timeZone: BERLIN }, plan: { ...ctx.plan, window: spring } };
    const v = projectVisit(
      c,
      [ev("arrival", wallToInstant("2026-03-29T03:50", BERLIN), { source: "ble" })],
      spring.to + 3_600_000,
    );
    expect(v.violations.map((x) => [x.kind, "minutesLate" in x ? x.minutesLate : null])).toEqual([
      ["late_arrival", 20],
      ["late_without_notice", 20],
    ]);
  });
});

describe("clocks", () => {
  it("a manual clock moves only when told", () => {
    const clock = new ManualClock(1000);
    clock.advance(500);
    expect(clock.now()).toBe(1500);
    clock.set(42);
    expect(clock.now()).toBe(42);
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1000);
  });
});

describe("next working day in the site's calendar", () => {
  const shanghai = defaultSite({ id: "S", name: "S", timeZone: SHANGHAI });
  it.each([
    ["Monday", "2026-11-23T04:00:00Z", "2026-11-24"],
    ["Friday", "2026-11-27T04:00:00Z", "2026-11-30"],
    ["Saturday", "2026-11-28T04:00:00Z", "2026-11-30"],
    ["Sunday", "2026-11-29T04:00:00Z", "2026-11-30"],
    // 23:30 UTC Thursday is already Friday in Shanghai.
    ["late Thursday UTC = Friday local", "2026-11-26T23:30:00Z", "2026-11-30"],
  ])("after %s", (_n, at, due) => {
    expect(nextWorkingDay(utc(at), shanghai)).toBe(due);
  });

  it("skips the site's holidays and honours its working days", () => {
    expect(
      nextWorkingDay(utc("2026-09-30T04:00:00Z"), { ...shanghai, holidays: ["2026-10-01", "2026-10-02"] }),
    ).toBe("2026-10-05");
    expect(
      nextWorkingDay(utc("2026-11-27T04:00:00Z"), { ...shanghai, workingDays: [1, 2, 3, 4, 5, 6] }),
    ).toBe("2026-11-28");
    expect(() => nextWorkingDay(0, { ...shanghai, workingDays: [1], holidays: [] })).not.toThrow();
  });

  it("gives up with a clear error when no day can be a working day", () => {
    const allHolidays = Array.from({ length: 400 }, (_, i) =>
      new Date(utc("2026-11-26T00:00:00Z") + i * 86_400_000).toISOString().slice(0, 10),
    );
    expect(() => nextWorkingDay(utc("2026-11-25T04:00:00Z"), { ...shanghai, holidays: allHolidays })).toThrow(
      /working day/,
    );
  });
});
