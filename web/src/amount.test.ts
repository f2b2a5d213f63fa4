import { describe, expect, it } from "vitest";
import { checkAmount } from "./amount.ts";

describe("amounts of credits typed into the funds forms", () => {
  it("takes up to 6 decimals as exact micro-credits, up to the limit", () => {
    expect(checkAmount("2.5", 3_000_000n, "your escrow")).toEqual({ value: 2_500_000n });
    expect(checkAmount("0.000001", 1n, "your wallet")).toEqual({ value: 1n });
    expect(checkAmount(" 3 ", 3_000_000n, "your escrow")).toEqual({ value: 3_000_000n });
    expect(checkAmount("123456789012.345678", 123_456_789_012_345_678n, "your wallet")).toEqual({
      value: 123_456_789_012_345_678n,
    });
  });
  it("refuses what is not a positive amount the account holds, saying why", () => {
    expect(checkAmount("1.2345678", 10_000_000n, "your escrow")).toEqual({ error: "at most 6 decimals" });
    expect(checkAmount("-1", 10_000_000n, "your escrow")).toEqual({ error: "enter a number, e.g. 0.25" });
    expect(checkAmount("", 10_000_000n, "your escrow")).toEqual({ error: "enter a number, e.g. 0.25" });
    expect(checkAmount("1e3", 10_000_000n, "your escrow")).toEqual({ error: "enter a number, e.g. 0.25" });
    expect(checkAmount("0.000", 10_000_000n, "your escrow")).toEqual({ error: "enter more than 0" });
    expect(checkAmount("3.000001", 3_000_000n, "your escrow")).toEqual({
      error: "more than your escrow holds (3.000000 credits)",
    });
    expect(checkAmount("1", 0n, "your wallet")).toEqual({ error: "more than your wallet holds (0.000000 credits)" });
  });
});
