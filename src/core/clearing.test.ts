import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clearInterval, effectiveOrder, type MeterPosition, type Tariffs } from "./clearing.ts";
import { costMicro } from "./money.ts";

const smallTariffs: Tariffs = { feedInMicroPerKwh: 5n, retailMicroPerKwh: 40n };

const position = (tariffs: Tariffs) =>
  fc.record({
    exportWh: fc.bigInt({ min: 0n, max: 3_000n }),
    importWh: fc.bigInt({ min: 0n, max: 3_000n }),
    balanceMicro: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 200n }), fc.constant(10n ** 9n)),
    order: fc.record({
      askMicroPerKwh: fc.bigInt({ min: 0n, max: tariffs.retailMicroPerKwh + 5n }),
      maxSellWh: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 4_000n })),
      bidMicroPerKwh: fc.bigInt({ min: 1n, max: tariffs.retailMicroPerKwh + 5n }),
      maxBuyWh: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 4_000n })),
    }),
  });

const book = (tariffs: Tariffs) =>
  fc
    .array(position(tariffs), { minLength: 0, maxLength: 14 })
    .map((ps): MeterPosition[] => ps.map((p, i) => ({ ...p, meterId: i + 1 })));

/** Supply and demand at price x, straight from the definitions. */
function curve(positions: MeterPosition[], tariffs: Tariffs, x: bigint) {
  let sBelow = 0n;
  let s = 0n;
  let dAbove = 0n;
  let d = 0n;
  for (const p of positions) {
    const o = effectiveOrder(p, tariffs);
    if (o.askMicroPerKwh < x) sBelow += o.offerWh;
    if (o.askMicroPerKwh <= x) s += o.offerWh;
    if (o.demandWh > 0n && o.bidMicroPerKwh > x) dAbove += o.demandWh;
    if (o.demandWh > 0n && o.bidMicroPerKwh >= x) d += o.demandWh;
  }
  return { sBelow, s, dAbove, d };
}

describe("clearInterval", () => {
  it("matches the documented example", () => {
    const tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 300_000n };
    const seller: MeterPosition = {
      meterId: 1,
      exportWh: 1000n,
      importWh: 0n,
      balanceMicro: 0n,
      order: { askMicroPerKwh: 100_000n, maxSellWh: 10_000n, bidMicroPerKwh: 0n, maxBuyWh: 0n },
    };
    const buyer: MeterPosition = {
      meterId: 2,
      exportWh: 0n,
      importWh: 600n,
      balanceMicro: 10_000_000n,
      order: { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 250_000n, maxBuyWh: 10_000n },
    };
    const c = clearInterval([buyer, seller], tariffs);
    expect(c.priceMicroPerKwh).toBe(100_000n);
    expect(c.tradedWh).toBe(600n);
    expect(c.fills).toEqual([
      { meterId: 1, soldWh: 600n, boughtWh: 0n },
      { meterId: 2, soldWh: 0n, boughtWh: 600n },
    ]);
  });

  it("rations ties pro rata and gives the remainder to the lowest meter ids", () => {
    const order = { askMicroPerKwh: 5n, maxSellWh: 10_000n, bidMicroPerKwh: 0n, maxBuyWh: 0n };
    const sellers: MeterPosition[] = [1, 2, 3].map((meterId) => ({
      meterId,
      exportWh: 100n,
      importWh: 0n,
      balanceMicro: 0n,
      order,
    }));
    const buyer: MeterPosition = {
      meterId: 4,
      exportWh: 0n,
      importWh: 200n,
      balanceMicro: 10n ** 9n,
      order: { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 40n, maxBuyWh: 1000n },
    };
    const c = clearInterval([...sellers, buyer], smallTariffs);
    expect(c.priceMicroPerKwh).toBe(5n);
    expect(c.fills.map((f) => f.soldWh)).toEqual([67n, 67n, 66n, 0n]);
  });

  it("keeps the price in [feed-in, retail] and inside every filled order's limit; balances volume", () => {
    fc.assert(
      fc.property(book(smallTariffs), (positions) => {
        const c = clearInterval(positions, smallTariffs);
        expect(c.priceMicroPerKwh).toBeGreaterThanOrEqual(smallTariffs.feedInMicroPerKwh);
        expect(c.priceMicroPerKwh).toBeLessThanOrEqual(smallTariffs.retailMicroPerKwh);
        let sold = 0n;
        let bought = 0n;
        for (const f of c.fills) {
          const p = positions.find((x) => x.meterId === f.meterId) as MeterPosition;
          const o = effectiveOrder(p, smallTariffs);
          expect(f.soldWh).toBeLessThanOrEqual(o.offerWh);
          expect(f.boughtWh).toBeLessThanOrEqual(o.demandWh);
          if (f.soldWh > 0n) expect(o.askMicroPerKwh).toBeLessThanOrEqual(c.priceMicroPerKwh);
          if (f.boughtWh > 0n) expect(o.bidMicroPerKwh).toBeGreaterThanOrEqual(c.priceMicroPerKwh);
          // No better-priced order left out.
          if (o.askMicroPerKwh < c.priceMicroPerKwh) expect(f.soldWh).toBe(o.offerWh);
          if (o.demandWh > 0n && o.bidMicroPerKwh > c.priceMicroPerKwh) expect(f.boughtWh).toBe(o.demandWh);
          // A buyer can always pay for what it bought.
          expect(costMicro(f.boughtWh, c.priceMicroPerKwh)).toBeLessThanOrEqual(p.balanceMicro);
          sold += f.soldWh;
          bought += f.boughtWh;
        }
        expect(sold).toBe(bought);
        expect(sold).toBe(c.tradedWh);
      }),
      { numRuns: 400 },
    );
  });

  it("finds the equilibrium interval and the largest feasible volume (brute force over every price)", () => {
    fc.assert(
      fc.property(book(smallTariffs), (positions) => {
        const c = clearInterval(positions, smallTariffs);
        const equilibrium: bigint[] = [];
        let bestVolume = 0n;
        for (let x = smallTariffs.feedInMicroPerKwh; x <= smallTariffs.retailMicroPerKwh; x++) {
          const k = curve(positions, smallTariffs, x);
          if (k.sBelow <= k.d && k.dAbove <= k.s) equilibrium.push(x);
          bestVolume = k.s < k.d ? (k.s > bestVolume ? k.s : bestVolume) : k.d > bestVolume ? k.d : bestVolume;
        }
        expect(equilibrium.length).toBeGreaterThan(0);
        expect(c.priceLowMicroPerKwh).toBe(equilibrium[0]);
        expect(c.priceHighMicroPerKwh).toBe(equilibrium[equilibrium.length - 1]);
        // The equilibrium prices are contiguous, so the midpoint is one of them.
        expect(BigInt(equilibrium.length)).toBe(c.priceHighMicroPerKwh - c.priceLowMicroPerKwh + 1n);
        expect(c.tradedWh).toBe(bestVolume);
      }),
      { numRuns: 400 },
    );
  });

  it("puts the price bounds exactly where the equilibrium begins and ends, for large books at real tariffs", () => {
    const tariffs: Tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 320_000n };
    const big = fc
      .array(position(tariffs), { minLength: 1, maxLength: 300 })
      .map((ps): MeterPosition[] => ps.map((p, i) => ({ ...p, meterId: i + 1 })));
    const isEquilibrium = (ps: MeterPosition[], x: bigint) => {
      const k = curve(ps, tariffs, x);
      return k.sBelow <= k.d && k.dAbove <= k.s;
    };
    fc.assert(
      fc.property(big, (positions) => {
        const { priceLowMicroPerKwh: low, priceHighMicroPerKwh: high } = clearInterval(positions, tariffs);
        expect(isEquilibrium(positions, low)).toBe(true);
        expect(isEquilibrium(positions, high)).toBe(true);
        if (low > tariffs.feedInMicroPerKwh) expect(isEquilibrium(positions, low - 1n)).toBe(false);
        if (high < tariffs.retailMicroPerKwh) expect(isEquilibrium(positions, high + 1n)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("does not depend on the order positions arrive in", () => {
    fc.assert(
      fc.property(
        book(smallTariffs).chain((ps) =>
          fc.tuple(fc.constant(ps), fc.shuffledSubarray(ps, { minLength: ps.length, maxLength: ps.length })),
        ),
        ([positions, shuffled]) => {
          expect(clearInterval(shuffled, smallTariffs)).toEqual(clearInterval(positions, smallTariffs));
        },
      ),
    );
  });

  it("rejects a meter listed twice and invalid tariffs", () => {
    const p: MeterPosition = {
      meterId: 1,
      exportWh: 1n,
      importWh: 0n,
      balanceMicro: 0n,
      order: { askMicroPerKwh: 0n, maxSellWh: 1n, bidMicroPerKwh: 0n, maxBuyWh: 0n },
    };
    expect(() => clearInterval([p, p], smallTariffs)).toThrow(/appears twice/);
    expect(() => clearInterval([p], { feedInMicroPerKwh: 50n, retailMicroPerKwh: 40n })).toThrow(/invalid tariffs/);
  });
});
