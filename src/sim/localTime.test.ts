import { describe, expect, it } from "vitest";
import { centralEuropeanUtcOffsetMinutes, localDateTime } from "./localTime.ts";

const at = (y: number, m: number, d: number, h = 0, min = 0, s = 0): number => Date.UTC(y, m - 1, d, h, min, s) / 1000;

describe("localDateTime", () => {
  it("breaks a moment down in a fixed offset", () => {
    expect(localDateTime(at(2025, 1, 6, 18), 60)).toEqual({
      year: 2025,
      month: 1,
      day: 6,
      weekday: 1,
      dayOfYear: 6,
      secondOfDay: 19 * 3600,
    });
  });

  it("rolls over local midnight and the year", () => {
    const d = localDateTime(at(2024, 12, 31, 23, 30), 60); // 00:30 on 1 Jan 2025 local
    expect([d.year, d.month, d.day, d.dayOfYear, d.secondOfDay]).toEqual([2025, 1, 1, 1, 1800]);
  });

  it("counts day 366 in a leap year", () => {
    expect(localDateTime(at(2024, 12, 31, 12), 60).dayOfYear).toBe(366);
    expect(localDateTime(at(2025, 12, 31, 12), 60).dayOfYear).toBe(365);
  });
});

describe("centralEuropeanUtcOffsetMinutes", () => {
  it("is +60 in winter and +120 in summer", () => {
    expect(centralEuropeanUtcOffsetMinutes(at(2025, 1, 15))).toBe(60);
    expect(centralEuropeanUtcOffsetMinutes(at(2025, 7, 15))).toBe(120);
    expect(centralEuropeanUtcOffsetMinutes(at(2025, 12, 15))).toBe(60);
  });

  it("switches at 01:00 UTC on the last Sundays of March and October", () => {
    // 2025: 30 March and 26 October.
    expect(centralEuropeanUtcOffsetMinutes(at(2025, 3, 30, 0, 59, 59))).toBe(60);
    expect(centralEuropeanUtcOffsetMinutes(at(2025, 3, 30, 1))).toBe(120);
    expect(centralEuropeanUtcOffsetMinutes(at(2025, 10, 26, 0, 59, 59))).toBe(120);
    expect(centralEuropeanUtcOffsetMinutes(at(2025, 10, 26, 1))).toBe(60);
    // 2024: 31 March and 27 October.
    expect(centralEuropeanUtcOffsetMinutes(at(2024, 3, 31, 1))).toBe(120);
    expect(centralEuropeanUtcOffsetMinutes(at(2024, 3, 24, 12))).toBe(60);
    expect(centralEuropeanUtcOffsetMinutes(at(2024, 10, 27, 1))).toBe(60);
  });
});
