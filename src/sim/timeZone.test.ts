import { describe, expect, it } from "vitest";
import { addCalendarDays, formatLocal, isTimeZone, localMidnight, parseCalendarDate, utcOffsetMinutesIn } from "./timeZone.ts";

const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi) / 1000;

describe("utcOffsetMinutesIn", () => {
  it("gives standard and summer time in Europe", () => {
    expect(utcOffsetMinutesIn("Europe/Berlin", utc(2026, 1, 15))).toBe(60);
    expect(utcOffsetMinutesIn("Europe/Berlin", utc(2026, 7, 15))).toBe(120);
    expect(utcOffsetMinutesIn("Europe/Zurich", utc(2026, 6, 1, 12))).toBe(120);
    expect(utcOffsetMinutesIn("UTC", utc(2026, 6, 1))).toBe(0);
    expect(utcOffsetMinutesIn("America/New_York", utc(2026, 1, 15))).toBe(-300);
    expect(utcOffsetMinutesIn("Asia/Kolkata", utc(2026, 1, 15))).toBe(330);
  });

  it("switches exactly at 01:00 UTC on the EU change days, also when cached", () => {
    const spring = utc(2026, 3, 29, 1);
    for (let pass = 0; pass < 2; pass++) {
      expect(utcOffsetMinutesIn("Europe/Berlin", spring - 1)).toBe(60);
      expect(utcOffsetMinutesIn("Europe/Berlin", spring)).toBe(120);
      expect(utcOffsetMinutesIn("Europe/Berlin", utc(2026, 10, 25, 1) - 1)).toBe(120);
      expect(utcOffsetMinutesIn("Europe/Berlin", utc(2026, 10, 25, 1))).toBe(60);
    }
  });

  it("is exact inside an hour that holds a transition not on a UTC hour (Lord Howe, 30-minute DST)", () => {
    // Lord Howe leaves DST at 02:00 local (+11:00) = 15:00 UTC; starts it at 02:00 local (+10:30) = 15:30 UTC.
    const autumn = utc(2026, 4, 4, 15);
    expect(utcOffsetMinutesIn("Australia/Lord_Howe", autumn - 1)).toBe(660);
    expect(utcOffsetMinutesIn("Australia/Lord_Howe", autumn)).toBe(630);
    const spring = utc(2026, 10, 3, 15, 30);
    expect(utcOffsetMinutesIn("Australia/Lord_Howe", spring - 60)).toBe(630);
    expect(utcOffsetMinutesIn("Australia/Lord_Howe", spring + 60)).toBe(660);
  });

  it("throws a RangeError for an unknown zone", () => {
    expect(() => utcOffsetMinutesIn("Mars/Olympus", 0)).toThrow(/unknown time zone "Mars\/Olympus"/);
  });
});

describe("localMidnight", () => {
  it("is 00:00 local on ordinary, 23-hour and 25-hour days", () => {
    expect(localMidnight("2026-06-01", "Europe/Zurich")).toBe(utc(2026, 5, 31, 22));
    expect(localMidnight("2026-01-12", "Europe/Berlin")).toBe(utc(2026, 1, 11, 23));
    expect(localMidnight("2026-03-30", "Europe/Berlin") - localMidnight("2026-03-29", "Europe/Berlin")).toBe(23 * 3600);
    expect(localMidnight("2026-10-26", "Europe/Berlin") - localMidnight("2026-10-25", "Europe/Berlin")).toBe(25 * 3600);
    expect(localMidnight("2026-07-01", "UTC")).toBe(utc(2026, 7, 1));
    expect(localMidnight("2026-07-01", "Pacific/Auckland")).toBe(utc(2026, 6, 30, 12));
  });

  it("is the first instant of the day where midnight is skipped (Santiago springs forward at 00:00)", () => {
    const t = localMidnight("2026-09-06", "America/Santiago");
    expect(formatLocal(t, "America/Santiago")).toBe("2026-09-06T01:00");
    expect(formatLocal(t - 1, "America/Santiago")).toBe("2026-09-05T23:59");
  });

  it("is the first of two midnights (Havana falls back from 01:00 to 00:00)", () => {
    const t = localMidnight("2026-11-01", "America/Havana");
    expect(t).toBe(utc(2026, 11, 1, 4));
    expect(formatLocal(t, "America/Havana")).toBe("2026-11-01T00:00");
  });

  it("rejects a date that does not exist", () => {
    expect(() => localMidnight("2026-02-29", "UTC")).toThrow(RangeError);
  });
});

describe("calendar dates", () => {
  it("parses real dates only", () => {
    expect(parseCalendarDate("2028-02-29")).toEqual({ year: 2028, month: 2, day: 29 });
    expect(parseCalendarDate("2026-02-29")).toBeUndefined();
    expect(parseCalendarDate("2026-13-01")).toBeUndefined();
    expect(parseCalendarDate("2026-6-1")).toBeUndefined();
  });

  it("adds days across months and years", () => {
    expect(addCalendarDays("2026-03-28", 2)).toBe("2026-03-30");
    expect(addCalendarDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addCalendarDays("2026-03-01", -1)).toBe("2026-02-28");
  });
});

describe("isTimeZone", () => {
  it("accepts IANA names and rejects typos and bare offsets", () => {
    expect(isTimeZone("Europe/Zurich")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Europe/Zurch")).toBe(false);
    expect(isTimeZone("+01:00")).toBe(false);
    expect(isTimeZone("")).toBe(false);
  });
});

describe("formatLocal", () => {
  it("formats wall-clock time, including summer time", () => {
    expect(formatLocal(utc(2026, 6, 15, 10), "Europe/Zurich")).toBe("2026-06-15T12:00");
    expect(formatLocal(utc(2026, 1, 15, 10, 45), "Europe/Zurich")).toBe("2026-01-15T11:45");
    expect(formatLocal(utc(2026, 1, 1, 5, 30), "Asia/Kolkata")).toBe("2026-01-01T11:00");
  });
});
