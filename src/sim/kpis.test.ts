import { describe, expect, it } from "vitest";
import { addInterval, communitySummary, emptyTotals, giniBps, householdSummary } from "./kpis.ts";
import type { IntervalSummary } from "./result.ts";

const meta = { index: 0, name: "House 01", zone: 1, strategy: "fixed" as const, pvKwp: 5, batteryKwh: 0, hasEv: false };

describe("giniBps", () => {
  it("is 0 for equal shares, (n−1)/n when one holds everything, null without a positive sum", () => {
    expect(giniBps([5n, 5n, 5n])).toBe(0n);
    expect(giniBps([0n, 0n, 0n, 4n])).toBe(7_500n);
    expect(giniBps([4n, 0n, 0n, 0n])).toBe(7_500n);
    expect(giniBps([1n, 2n, 3n, 4n])).toBe(2_500n);
    expect(giniBps([])).toBeNull();
    expect(giniBps([-1n, 1n])).toBeNull();
  });
});

describe("householdSummary", () => {
  it("adds intervals, keeps peaks in W and compares with grid-only", () => {
    const t = emptyTotals();
    const base = { soldGridWh: 0n, boughtGridWh: 0n, paidMicro: 0n, earnedMicro: 0n, gridOnlyBillMicro: 0n };
    addInterval(t, {
      ...base,
      productionWh: 1_000n,
      consumptionWh: 200n,
      exportWh: 800n,
      importWh: 0n,
      soldLocalWh: 500n,
      boughtLocalWh: 0n,
      soldGridWh: 300n,
      earnedMicro: 124_000n,
      gridOnlyBillMicro: -64_000n,
    });
    addInterval(t, {
      ...base,
      productionWh: 0n,
      consumptionWh: 400n,
      exportWh: 0n,
      importWh: 400n,
      soldLocalWh: 0n,
      boughtLocalWh: 100n,
      boughtGridWh: 300n,
      paidMicro: 116_000n,
      gridOnlyBillMicro: 128_000n,
    });
    const s = householdSummary(meta, t, 900n);
    expect(s).toMatchObject({
      productionWh: 1_000n,
      consumptionWh: 600n,
      netCostMicro: -8_000n,
      gridOnlyBillMicro: 64_000n,
      savingsMicro: 72_000n,
      selfConsumptionBps: 2_000n,
      selfSufficiencyBps: 3_333n,
      peakImportW: 1_600n,
      peakExportW: 3_200n,
    });
    expect(householdSummary(meta, emptyTotals(), 900n).selfConsumptionBps).toBeNull();
  });
});

describe("communitySummary", () => {
  const interval = (over: Partial<IntervalSummary>): IntervalSummary => ({
    interval: 1n,
    startsAt: 0n,
    localTime: "2026-06-15T00:00",
    priceMicroPerKwh: 0n,
    productionWh: 0n,
    consumptionWh: 0n,
    exportWh: 0n,
    importWh: 0n,
    tradedWh: 0n,
    toGridWh: 0n,
    fromGridWh: 0n,
    batteryStoredWh: 0n,
    trades: 0,
    gas: 0n,
    boundZones: [],
    ...over,
  });

  it("weights the mean price by traded energy and leaves untraded intervals out of min and max", () => {
    const c = communitySummary(
      [],
      [
        interval({
          priceMicroPerKwh: 100_000n,
          tradedWh: 3_000n,
          exportWh: 4_000n,
          importWh: 3_000n,
          toGridWh: 1_000n,
          productionWh: 5_000n,
          consumptionWh: 4_000n,
          gas: 500_000n,
        }),
        interval({
          priceMicroPerKwh: 200_000n,
          tradedWh: 1_000n,
          exportWh: 1_000n,
          importWh: 2_000n,
          fromGridWh: 1_000n,
          consumptionWh: 2_000n,
          gas: 500_000n,
        }),
        interval({ priceMicroPerKwh: 320_000n, importWh: 1_000n, fromGridWh: 1_000n, consumptionWh: 1_000n }),
      ],
      { intervalSeconds: 900n, gridIntensityGPerKwh: 400n },
    );
    expect(c).toMatchObject({
      minPriceMicroPerKwh: 100_000n,
      meanPriceMicroPerKwh: 125_000n,
      maxPriceMicroPerKwh: 200_000n,
      localShareOfDemandBps: 6_666n,
      localShareOfSupplyBps: 8_000n,
      selfConsumptionBps: 8_000n,
      selfSufficiencyBps: 7_142n,
      peakImportW: 4_000n,
      peakExportW: 4_000n,
      co2AvoidedGrams: 2_000n,
      gasPerSettledKwh: 90_909n,
      gasPerTradedKwh: 250_000n,
    });
  });
});
