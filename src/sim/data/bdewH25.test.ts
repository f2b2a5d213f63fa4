import { describe, expect, it } from "vitest";
import { BDEW_DAY_TYPES, bdewH25, bdewH25Kwh } from "./bdewH25.ts";

describe("bdewH25 table", () => {
  it("was copied whole: 96 quarter-hour rows × 36 columns (12 months × SA/FT/WT)", () => {
    expect(bdewH25.rows).toHaveLength(96);
    for (const row of bdewH25.rows) expect(row).toHaveLength(36);
    expect(bdewH25.columns).toHaveLength(36);
    expect(bdewH25.columns.slice(0, 3)).toEqual(["01-SA", "01-FT", "01-WT"]);
    expect(bdewH25.columns[35]).toBe("12-WT");
    expect(bdewH25.quarterHours).toHaveLength(96);
    expect(bdewH25.quarterHours[0]).toBe("00:00-00:15");
    expect(bdewH25.quarterHours[95]).toBe("23:45-00:00");
    expect(BDEW_DAY_TYPES).toEqual(["SA", "FT", "WT"]);
  });

  it("matches the source CSV: checksum and spot values", () => {
    // Sum of all 3,456 values of bdew-h25.csv, computed once from the CSV when the table was generated.
    const total = bdewH25.rows.flat().reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(104186.435, 6);
    expect(bdewH25.rows[0]?.[0]).toBe(22.152); // Jan SA 00:00-00:15 (first value)
    expect(bdewH25.rows[95]?.[35]).toBe(21.911); // Dec WT 23:45-00:00 (last value)
    expect(bdewH25Kwh(1, "WT", 79)).toBe(40.382); // Jan WT 19:45-20:00
    expect(bdewH25Kwh(7, "SA", 47)).toBe(44.158); // Jul SA 11:45-12:00
  });

  it("holds only plausible positive values (kWh per quarter-hour for 1 GWh/a; mean 28.5)", () => {
    for (const value of bdewH25.rows.flat()) {
      expect(value).toBeGreaterThan(5);
      expect(value).toBeLessThan(60);
    }
  });

  it("rejects out-of-range look-ups", () => {
    expect(() => bdewH25Kwh(0, "WT", 0)).toThrow(RangeError);
    expect(() => bdewH25Kwh(13, "WT", 0)).toThrow(RangeError);
    expect(() => bdewH25Kwh(1, "WT", 96)).toThrow(RangeError);
  });
});
