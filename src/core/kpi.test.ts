import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { communityKpis, savingsAgainstGridOnly } from "./kpi.ts";
import { costMicro } from "./money.ts";

const tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 320_000n };

describe("communityKpis", () => {
  it("compares trades with the grid-only baseline", () => {
    const k = communityKpis(
      [
        { priceMicroPerKwh: 200_000n, tradedWh: 1000n, exportWh: 1500n, importWh: 2000n },
        { priceMicroPerKwh: 320_000n, tradedWh: 0n, exportWh: 0n, importWh: 2000n },
      ],
      tariffs,
    );
    expect(k).toEqual({
      intervals: 2,
      tradedWh: 1000n,
      exportWh: 1500n,
      importWh: 4000n,
      localShareOfDemandBps: 2500n,
      localShareOfSupplyBps: 6666n,
      buyersSavedMicro: 120_000n,
      sellersGainedMicro: 120_000n,
    });
    expect(communityKpis([], tariffs).localShareOfDemandBps).toBe(0n);
  });

  it("splits the whole local gain, (retail − feed-in) per traded kWh, between buyers and sellers", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            priceMicroPerKwh: fc.bigInt({ min: 80_000n, max: 320_000n }),
            tradedWh: fc.bigInt({ min: 0n, max: 100_000n }),
          }),
        ),
        (rows) => {
          const flows = rows.map((r) => ({ ...r, exportWh: r.tradedWh, importWh: r.tradedWh }));
          const k = communityKpis(flows, tariffs);
          const whole = costMicro(k.tradedWh, tariffs.retailMicroPerKwh - tariffs.feedInMicroPerKwh);
          // Each side rounds down once per interval, so together they fall short by at most 2 per interval.
          expect(k.buyersSavedMicro + k.sellersGainedMicro).toBeLessThanOrEqual(whole);
          expect(whole - (k.buyersSavedMicro + k.sellersGainedMicro)).toBeLessThanOrEqual(2n * BigInt(flows.length));
          expect(k.buyersSavedMicro).toBeGreaterThanOrEqual(0n);
          expect(k.sellersGainedMicro).toBeGreaterThanOrEqual(0n);
        },
      ),
    );
  });
});

describe("savings against grid-only", () => {
  it("is the grid-only bill minus what the market cost (paid − earned), negative when the market cost more", () => {
    expect(savingsAgainstGridOnly({ gridOnlyBillMicro: 300n, paidMicro: 200n, earnedMicro: 50n })).toEqual({
      netCostMicro: 150n,
      savingsMicro: 150n,
    });
    // A seller: grid-only it would have earned 80 (bill −80); on the market it earned 100.
    expect(savingsAgainstGridOnly({ gridOnlyBillMicro: -80n, paidMicro: 0n, earnedMicro: 100n })).toEqual({
      netCostMicro: -100n,
      savingsMicro: 20n,
    });
    expect(savingsAgainstGridOnly({ gridOnlyBillMicro: 100n, paidMicro: 130n, earnedMicro: 0n }).savingsMicro).toBe(-30n);
  });
});
