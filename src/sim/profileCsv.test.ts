import { describe, expect, it } from "vitest";
import { parseIsoTimeWithOffset, parseProfileCsv } from "./profileCsv.ts";

const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi) / 1000;

describe("parseIsoTimeWithOffset", () => {
  it("reads offsets and Z", () => {
    expect(parseIsoTimeWithOffset("2026-06-15T00:00:00+02:00")).toBe(utc(2026, 6, 14, 22));
    expect(parseIsoTimeWithOffset("2026-06-15T00:00:00Z")).toBe(utc(2026, 6, 15));
    expect(parseIsoTimeWithOffset("2026-06-15T00:15-0530")).toBe(utc(2026, 6, 15, 5, 45));
    expect(parseIsoTimeWithOffset("2026-06-15 00:00:00.000+01")).toBe(utc(2026, 6, 14, 23));
  });

  it("rejects times without an offset, impossible dates and fractions of a second", () => {
    expect(parseIsoTimeWithOffset("2026-06-15T00:00:00")).toBeUndefined();
    expect(parseIsoTimeWithOffset("2026-02-30T00:00:00Z")).toBeUndefined();
    expect(parseIsoTimeWithOffset("2026-06-15T24:00:00Z")).toBeUndefined();
    expect(parseIsoTimeWithOffset("2026-06-15T00:00:00.5Z")).toBeUndefined();
  });
});

describe("parseProfileCsv", () => {
  it("reads rows keyed by interval start", () => {
    const profile = parseProfileCsv(
      "time,consumptionWh,productionWh\n2026-06-15T00:00:00+02:00,105,0\n2026-06-15T00:15:00+02:00,98,3\n",
      "a.csv",
    );
    expect(profile.size).toBe(2);
    expect(profile.get(utc(2026, 6, 14, 22))).toEqual({ consumptionWh: 105n, productionWh: 0n });
    expect(profile.get(utc(2026, 6, 14, 22, 15))).toEqual({ consumptionWh: 98n, productionWh: 3n });
  });

  it("takes columns in any order, ignores extra ones, skips comments and blank lines, accepts CRLF and a BOM", () => {
    const profile = parseProfileCsv(
      '\uFEFF# exported from the meter portal\r\nproductionWh,meter,time,consumptionWh\r\n\r\n7,"A, 1",2026-06-15T10:00:00Z,40\r\n',
      "b.csv",
    );
    expect(profile.get(utc(2026, 6, 15, 10))).toEqual({ consumptionWh: 40n, productionWh: 7n });
  });

  it("counts a missing energy column as 0", () => {
    const profile = parseProfileCsv("time,consumptionWh\n2026-06-15T10:00:00Z,40\n", "c.csv");
    expect(profile.get(utc(2026, 6, 15, 10))).toEqual({ consumptionWh: 40n, productionWh: 0n });
  });

  it("reads a file without a header as time,consumptionWh,productionWh, and semicolons", () => {
    const profile = parseProfileCsv("2026-06-15T10:00:00Z;40;12\n2026-06-15T10:15:00Z;41;13\n", "d.csv");
    expect(profile.get(utc(2026, 6, 15, 10, 15))).toEqual({ consumptionWh: 41n, productionWh: 13n });
  });

  it("names the file and line of a bad energy value", () => {
    const text = [
      "time,consumptionWh,productionWh",
      "2026-06-15T00:00:00+02:00,1,0",
      "2026-06-15T00:15:00+02:00,1,0",
      "2026-06-15T00:30:00+02:00,1,0",
      "2026-06-15T00:45:00+02:00,1,0",
      "2026-06-15T01:00:00+02:00,1,0",
      "2026-06-15T01:15:00+02:00,1.5,0",
    ].join("\n");
    expect(() => parseProfileCsv(text, "profiles/a.csv")).toThrow(
      'profiles/a.csv line 7: consumptionWh must be a whole number of Wh ≥ 0, got "1.5"',
    );
    expect(() => parseProfileCsv(text.replace("1.5", "-2"), "profiles/a.csv")).toThrow(
      'profiles/a.csv line 7: consumptionWh must be a whole number of Wh ≥ 0, got "-2"',
    );
    expect(() => parseProfileCsv(text.replace("1.5,0", "3,"), "profiles/a.csv")).toThrow(
      'profiles/a.csv line 7: productionWh must be a whole number of Wh ≥ 0, got ""',
    );
  });

  it("rejects duplicate times, even written with different offsets", () => {
    const text = "time,consumptionWh\n2026-06-15T00:00:00+02:00,1\n2026-06-14T22:00:00Z,2\n";
    expect(() => parseProfileCsv(text, "e.csv")).toThrow(
      "e.csv line 3: time 2026-06-14T22:00:00Z appears twice (first on line 2)",
    );
  });

  it("rejects times without an offset", () => {
    expect(() => parseProfileCsv("time,consumptionWh\n2026-06-15T00:00:00,1\n", "f.csv")).toThrow(
      'f.csv line 2: time must be an ISO 8601 time with an offset or Z, got "2026-06-15T00:00:00"',
    );
  });

  it("rejects a header without the needed columns, and empty files", () => {
    expect(() => parseProfileCsv("when,consumptionWh\n", "g.csv")).toThrow("g.csv line 1: the header has no time column");
    expect(() => parseProfileCsv("time,kwh\n2026-06-15T00:00:00Z,1\n", "h.csv")).toThrow(
      "h.csv line 1: the header has neither a consumptionWh nor a productionWh column",
    );
    expect(() => parseProfileCsv("\n\n", "i.csv")).toThrow("i.csv: the file has no rows");
    expect(() => parseProfileCsv("time,consumptionWh\n", "j.csv")).toThrow("j.csv: the file has a header but no rows");
  });

  it("reports a row too short for its columns", () => {
    expect(() => parseProfileCsv("time,productionWh,consumptionWh\n2026-06-15T00:00:00Z,1\n", "k.csv")).toThrow(
      "k.csv line 2: consumptionWh is missing (the row has 2 columns)",
    );
  });
});
