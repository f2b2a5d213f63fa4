import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Clearing,
  clearInterval,
  type EffectiveOrder,
  effectiveOrder,
  type Fill,
  type MeterPosition,
  type Tariffs,
} from "./clearing.ts";
import { costMicro } from "./money.ts";

const smallTariffs: Tariffs = { feedInMicroPerKwh: 5n, retailMicroPerKwh: 40n };

/** Quantities up to `maxWh` (readings and caps); escrow from none to ample (`richMicro`). */
const position = (tariffs: Tariffs, maxWh = 3_000n, richMicro = 10n ** 9n) =>
  fc.record({
    exportWh: fc.bigInt({ min: 0n, max: maxWh }),
    importWh: fc.bigInt({ min: 0n, max: maxWh }),
    balanceMicro: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 200n }), fc.constant(richMicro)),
    order: fc.record({
      // Now and then a limit far above any tariff (beyond 2^64): such an ask never sells, such a bid pays retail at most.
      askMicroPerKwh: fc.oneof(
        { arbitrary: fc.bigInt({ min: 0n, max: tariffs.retailMicroPerKwh + 5n }), weight: 9 },
        { arbitrary: fc.constant(2n ** 64n + 3n), weight: 1 },
      ),
      maxSellWh: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: (maxWh * 4n) / 3n })),
      bidMicroPerKwh: fc.oneof(
        { arbitrary: fc.bigInt({ min: 1n, max: tariffs.retailMicroPerKwh + 5n }), weight: 9 },
        { arbitrary: fc.constant(2n ** 64n + 3n), weight: 1 },
      ),
      maxBuyWh: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: (maxWh * 4n) / 3n })),
    }),
  });

const book = (tariffs: Tariffs, maxWh?: bigint, richMicro?: bigint) =>
  fc
    .array(position(tariffs, maxWh, richMicro), { minLength: 0, maxLength: 14 })
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

/** An order at the price: its quantity, and how to add Wh to its fill. */
type Tied = { quantityWh: bigint; add: (wh: bigint) => void };

/** Pro-rata shares of `residualWh` among `tied` (in meter id order), the rounding remainder one Wh each to the first. */
function proRata(tied: Tied[], residualWh: bigint) {
  const tiedWh = tied.reduce((sum, t) => sum + t.quantityWh, 0n);
  let remainder = residualWh;
  for (const t of tied) {
    const share = (t.quantityWh * residualWh) / tiedWh;
    t.add(share);
    remainder -= share;
  }
  for (const t of tied) {
    if (remainder === 0n) break;
    t.add(1n);
    remainder -= 1n;
  }
}

/** Fills at `price` by the rule of docs/architecture.md, straight from its wording, one order at a time. */
function naiveFills(positions: MeterPosition[], tariffs: Tariffs, price: bigint): { fills: Fill[]; tradedWh: bigint } {
  const orders: EffectiveOrder[] = [...positions].sort((a, b) => a.meterId - b.meterId).map((p) => effectiveOrder(p, tariffs));
  const k = curve(positions, tariffs, price);
  const volume = k.s < k.d ? k.s : k.d;
  const fills = orders.map((o): Fill => ({ meterId: o.meterId, soldWh: 0n, boughtWh: 0n }));
  const tiedSellers: Tied[] = [];
  const tiedBuyers: Tied[] = [];
  orders.forEach((o, i) => {
    const f = fills[i] as Fill;
    if (o.offerWh > 0n && o.askMicroPerKwh < price) f.soldWh = o.offerWh;
    if (o.offerWh > 0n && o.askMicroPerKwh === price) tiedSellers.push({ quantityWh: o.offerWh, add: (wh) => (f.soldWh += wh) });
    if (o.demandWh > 0n && o.bidMicroPerKwh > price) f.boughtWh = o.demandWh;
    if (o.demandWh > 0n && o.bidMicroPerKwh === price)
      tiedBuyers.push({ quantityWh: o.demandWh, add: (wh) => (f.boughtWh += wh) });
  });
  // The long side's ties share what remains; on the other side (or with no long side) ties fill completely.
  const sellersLong = k.s > volume;
  const buyersLong = !sellersLong && k.d > volume;
  proRata(tiedSellers, sellersLong ? volume - k.sBelow : tiedSellers.reduce((sum, t) => sum + t.quantityWh, 0n));
  proRata(tiedBuyers, buyersLong ? volume - k.dAbove : tiedBuyers.reduce((sum, t) => sum + t.quantityWh, 0n));
  return { fills, tradedWh: volume };
}

/** The clearing by brute force: every integer price of the band tested for equilibrium, then the fills by the rule. */
function naiveClearing(positions: MeterPosition[], tariffs: Tariffs): Clearing & { equilibrium: bigint[] } {
  const equilibrium: bigint[] = [];
  for (let x = tariffs.feedInMicroPerKwh; x <= tariffs.retailMicroPerKwh; x++) {
    const k = curve(positions, tariffs, x);
    if (k.sBelow <= k.d && k.dAbove <= k.s) equilibrium.push(x);
  }
  const low = equilibrium[0] as bigint;
  const high = equilibrium.at(-1) as bigint;
  const price = (low + high) / 2n;
  return {
    equilibrium,
    priceLowMicroPerKwh: low,
    priceHighMicroPerKwh: high,
    priceMicroPerKwh: price,
    ...naiveFills(positions, tariffs, price),
  };
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
        expect(c.priceLowMicroPerKwh).toBeGreaterThanOrEqual(smallTariffs.feedInMicroPerKwh);
        expect(c.priceMicroPerKwh).toBeGreaterThanOrEqual(c.priceLowMicroPerKwh);
        expect(c.priceMicroPerKwh).toBeLessThanOrEqual(c.priceHighMicroPerKwh);
        expect(c.priceHighMicroPerKwh).toBeLessThanOrEqual(smallTariffs.retailMicroPerKwh);
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

  it("equals a brute-force reference (every price scanned, fills by the rule), with Wh sums below and beyond 2^53", () => {
    // Quantities up to 2^60 take the engine's bigint sums; the reference is bigint throughout.
    const books = fc.oneof(book(smallTariffs), book(smallTariffs, 2n ** 60n, 10n ** 40n));
    fc.assert(
      fc.property(books, (positions) => {
        const c = clearInterval(positions, smallTariffs);
        const { equilibrium, ...reference } = naiveClearing(positions, smallTariffs);
        expect(c).toEqual(reference);
        // The equilibrium prices are contiguous, so the midpoint is one of them.
        expect(BigInt(equilibrium.length)).toBe(c.priceHighMicroPerKwh - c.priceLowMicroPerKwh + 1n);
        // No single price moves more energy.
        for (let x = smallTariffs.feedInMicroPerKwh; x <= smallTariffs.retailMicroPerKwh; x++) {
          const k = curve(positions, smallTariffs, x);
          expect(k.s < k.d ? k.s : k.d).toBeLessThanOrEqual(c.tradedWh);
        }
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    ["real tariffs", { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 320_000n }],
    ["limits spread over 32 bits", { feedInMicroPerKwh: 1n, retailMicroPerKwh: 2n ** 32n - 2n }],
  ])(
    "puts the price bounds exactly where the equilibrium begins and ends and fills by the rule, for large books at %s",
    (_, tariffs: Tariffs) => {
      const big = fc
        .array(position(tariffs), { minLength: 1, maxLength: 300 })
        .map((ps): MeterPosition[] => ps.map((p, i) => ({ ...p, meterId: i + 1 })));
      const isEquilibrium = (ps: MeterPosition[], x: bigint) => {
        const k = curve(ps, tariffs, x);
        return k.sBelow <= k.d && k.dAbove <= k.s;
      };
      fc.assert(
        fc.property(big, (positions) => {
          const c = clearInterval(positions, tariffs);
          const { priceLowMicroPerKwh: low, priceHighMicroPerKwh: high } = c;
          expect(isEquilibrium(positions, low)).toBe(true);
          expect(isEquilibrium(positions, high)).toBe(true);
          if (low > tariffs.feedInMicroPerKwh) expect(isEquilibrium(positions, low - 1n)).toBe(false);
          if (high < tariffs.retailMicroPerKwh) expect(isEquilibrium(positions, high + 1n)).toBe(false);
          expect({ fills: c.fills, tradedWh: c.tradedWh }).toEqual(naiveFills(positions, tariffs, c.priceMicroPerKwh));
        }),
        { numRuns: 200 },
      );
    },
  );

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

  it("shifts with the tariffs: prices near and beyond 2^32 clear like small ones, moved by the same amount", () => {
    // With ample escrow the demand does not depend on the bid, so adding K to the tariffs, asks and
    // bids adds K to the equilibrium bounds and the price (low + high + 2K is even) and changes no fill.
    // K = 2^32 − 50 puts the limits just under 2^32, K = 2^60 far beyond (the engine's comparator sort).
    const shift = (ps: MeterPosition[], k: bigint) =>
      ps.map((p) => ({
        ...p,
        order: { ...p.order, askMicroPerKwh: p.order.askMicroPerKwh + k, bidMicroPerKwh: p.order.bidMicroPerKwh + k },
      }));
    fc.assert(
      fc.property(book(smallTariffs), fc.constantFrom(2n ** 32n - 50n, 2n ** 60n), (positions, k) => {
        const rich = positions.map((p) => ({ ...p, balanceMicro: 10n ** 40n }));
        const shiftedTariffs = {
          feedInMicroPerKwh: smallTariffs.feedInMicroPerKwh + k,
          retailMicroPerKwh: smallTariffs.retailMicroPerKwh + k,
        };
        const c = clearInterval(rich, smallTariffs);
        expect(clearInterval(shift(rich, k), shiftedTariffs)).toEqual({
          ...c,
          priceLowMicroPerKwh: c.priceLowMicroPerKwh + k,
          priceHighMicroPerKwh: c.priceHighMicroPerKwh + k,
          priceMicroPerKwh: c.priceMicroPerKwh + k,
        });
      }),
      { numRuns: 200 },
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
