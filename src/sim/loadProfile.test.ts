import { describe, expect, it } from "vitest";
import { bdewH25Kwh } from "./data/bdewH25.ts";
import { dynamisationFactor, h25DayType, loadWattsAt } from "./loadProfile.ts";
import { centralEuropeanUtcOffsetMinutes, localDateTime } from "./localTime.ts";

const DAY = 86_400;
const utc = (y: number, m: number, d: number, h = 0, min = 0): number => Date.UTC(y, m - 1, d, h, min) / 1000;

/** Sum of the H25 table over every day of a year: [raw, dynamised]. */
function annualTableSum(year: number): [number, number] {
  let raw = 0;
  let dynamised = 0;
  for (let t = utc(year, 1, 1); t < utc(year + 1, 1, 1); t += DAY) {
    const date = localDateTime(t, 0);
    let day = 0;
    for (let q = 0; q < 96; q++) day += bdewH25Kwh(date.month, h25DayType(date), q);
    raw += day;
    dynamised += day * dynamisationFactor(date.dayOfYear);
  }
  return [raw, dynamised];
}

describe("h25DayType", () => {
  it("maps Saturday → SA, Sunday → FT, other days → WT", () => {
    expect(h25DayType(localDateTime(utc(2025, 1, 4, 12), 60))).toBe("SA");
    expect(h25DayType(localDateTime(utc(2025, 1, 5, 12), 60))).toBe("FT");
    expect(h25DayType(localDateTime(utc(2025, 1, 6, 12), 60))).toBe("WT"); // 6 Jan: a holiday in Bavaria, but only Sundays count
    expect(h25DayType(localDateTime(utc(2025, 1, 10, 12), 60))).toBe("WT");
  });

  it("treats 24 and 31 December as Saturday, unless they are a Sunday", () => {
    expect(h25DayType({ month: 12, day: 24, weekday: 3 })).toBe("SA");
    expect(h25DayType({ month: 12, day: 31, weekday: 3 })).toBe("SA");
    expect(h25DayType(localDateTime(utc(2023, 12, 24, 12), 60))).toBe("FT"); // a Sunday
    expect(h25DayType({ month: 12, day: 25, weekday: 4 })).toBe("WT");
  });
});

describe("dynamisationFactor", () => {
  it("has the documented shape: ≈1.24 on 1 Jan, minimum 0.785 around day 202, 1.257 on 31 Dec, mean ≈ 1.0045", () => {
    expect(dynamisationFactor(1)).toBeCloseTo(1.2421, 3);
    expect(dynamisationFactor(365)).toBeCloseTo(1.257, 2);
    let minDay = 1;
    let sum = 0;
    for (let d = 1; d <= 365; d++) {
      sum += dynamisationFactor(d);
      if (dynamisationFactor(d) < dynamisationFactor(minDay)) minDay = d;
    }
    expect(Math.abs(minDay - 202)).toBeLessThanOrEqual(3);
    expect(dynamisationFactor(minDay)).toBeCloseTo(0.785, 2);
    expect(sum / 365).toBeCloseTo(1.0045, 3);
  });
});

describe("H25 annual energy", () => {
  it("the undynamised table sums to ≈ 1,000,000 kWh over a year", () => {
    for (const year of [2024, 2025, 2026]) {
      const [raw] = annualTableSum(year);
      expect(Math.abs(raw / 1_000_000 - 1)).toBeLessThan(0.005);
    }
  });

  it("the dynamised table sums to ≈ 1,000,000 kWh × mean(F)", () => {
    for (const year of [2024, 2025, 2026]) {
      const [, dynamised] = annualTableSum(year);
      const days = (utc(year + 1, 1, 1) - utc(year, 1, 1)) / DAY;
      let meanF = 0;
      for (let d = 1; d <= days; d++) meanF += dynamisationFactor(d) / days;
      // F is low in summer, when the undynamised days hold more energy, so the product lands ~0.9 % under 1e6·mean(F).
      expect(Math.abs(dynamised / (1_000_000 * meanF) - 1)).toBeLessThan(0.015);
    }
  });
});

describe("loadWattsAt", () => {
  it("scales the quarter-hour value: kWh/qh × F × 4 × annualKwh / 1e6 × 1000 W", () => {
    const t = utc(2025, 1, 8, 18, 50); // 19:50 CET on Wednesday 8 January: quarter-hour 79
    const expected = ((40.382 * dynamisationFactor(8) * 4 * 3500) / 1_000_000) * 1000;
    expect(loadWattsAt(3500, t, 60)).toBeCloseTo(expected, 9);
  });

  it("a 3,500 kWh home consumes 3,500 kWh ± 5 % over a year", () => {
    for (const year of [2024, 2025]) {
      let wh = 0;
      for (let t = utc(year, 1, 1); t < utc(year + 1, 1, 1); t += 900) {
        wh += (loadWattsAt(3500, t, centralEuropeanUtcOffsetMinutes(t)) * 900) / 3600;
      }
      expect(wh / 1000).toBeGreaterThan(3500 * 0.95);
      expect(wh / 1000).toBeLessThan(3500 * 1.05);
    }
  });

  it("peaks in the evening, after 17:00 and before 21:00, on a winter workday; minimum at night", () => {
    const midnight = utc(2025, 1, 7, 23); // 00:00 CET, Wednesday 8 January 2025
    const watts = Array.from({ length: 96 }, (_, q) => loadWattsAt(3500, midnight + q * 900, 60));
    const peak = watts.indexOf(Math.max(...watts));
    const trough = watts.indexOf(Math.min(...watts));
    expect(peak / 4).toBeGreaterThanOrEqual(17);
    expect(peak / 4).toBeLessThan(21);
    expect(trough / 4).toBeGreaterThanOrEqual(1);
    expect(trough / 4).toBeLessThan(6);
    const mean = watts.reduce((a, b) => a + b, 0) / watts.length;
    expect(Math.max(...watts) / mean).toBeGreaterThan(1.3);
    expect(Math.min(...watts) / mean).toBeLessThan(0.7);
  });

  it("uses the local clock: the same UTC moment reads different quarter-hours in CET and CEST", () => {
    const t = utc(2025, 7, 9, 17); // Wednesday
    expect(loadWattsAt(3500, t, 120)).toBe(loadWattsAt(3500, t + 3600, 60));
  });

  it("draws more on a winter evening than a summer evening (dynamisation)", () => {
    expect(loadWattsAt(3500, utc(2025, 1, 8, 18, 30), 60)).toBeGreaterThan(loadWattsAt(3500, utc(2025, 7, 9, 17, 30), 120));
  });
});
