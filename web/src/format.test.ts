import { describe, expect, it } from "vitest";
import { credits, formatScaled, kwh, parseScaled, pricePerKwh, ratioBps, sum, toInput, U64_MAX } from "./format.ts";

describe("dashboard number formatting (integer strings, no floats)", () => {
  it("scales and rounds half away from zero", () => {
    expect(formatScaled("1234567", 6, 2)).toBe("1.23");
    expect(formatScaled("1235000", 6, 2)).toBe("1.24");
    expect(formatScaled("-1235000", 6, 2)).toBe("−1.24");
    expect(formatScaled("-4", 6, 2)).toBe("0.00");
    expect(formatScaled("5", 3, 3)).toBe("0.005");
    expect(formatScaled("0", 3, 3)).toBe("0.000");
    expect(formatScaled("12", 0, 2)).toBe("12.00");
    expect(formatScaled("not a number", 3, 3)).toBe("–");
  });
  it("keeps every digit of values far beyond 2^53", () => {
    expect(formatScaled("123456789012345678901234567", 6, 6)).toBe("123,456,789,012,345,678,901.234567");
    expect(sum(["9007199254740993", "1"])).toBe("9007199254740994");
  });
  it("formats energy, money and prices", () => {
    expect(kwh("7943")).toBe("7.943 kWh");
    expect(kwh("1234567")).toBe("1,234.567 kWh");
    expect(credits("50000000")).toBe("50.00 credits");
    expect(pricePerKwh("94400")).toBe("0.0944 /kWh");
    expect(ratioBps("1", "4")).toBe("2500");
    expect(ratioBps("1", "0")).toBe("0");
  });
  it("parses typed decimals into integers without floating point", () => {
    expect(parseScaled("0.25", 6)).toEqual({ value: 250_000n });
    expect(parseScaled(" 1,000.5 ", 3)).toEqual({ value: 1_000_500n });
    expect(parseScaled(".1", 6)).toEqual({ value: 100_000n });
    expect(parseScaled("7", 0)).toEqual({ value: 7n });
    // 0.1 + 0.2 style float errors cannot happen: 0.3 is exactly 300000.
    expect(parseScaled("0.3", 6)).toEqual({ value: 300_000n });
    expect(parseScaled("18446744073709.551615", 6)).toEqual({ value: U64_MAX });
    expect(parseScaled("18446744073709.551616", 6)).toHaveProperty("error");
    for (const bad of ["", ".", "-1", "1e3", "abc", "1.2.3", "0.1234567"])
      expect(parseScaled(bad, 6), bad).toHaveProperty("error");
    expect(parseScaled("1.5", 0)).toEqual({ error: "enter a whole number" });
    expect(toInput("250000", 6)).toBe("0.25");
    expect(toInput("3000", 3)).toBe("3");
    expect(toInput("18446744073709551615", 6)).toBe("18446744073709.551615");
  });
});
