import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clearInterval, type EffectiveOrder, effectiveOrder, type Fill, type Tariffs } from "./clearing.ts";
import { clearZonal, UNLIMITED_WH, type ZonalClearing, type ZonalPosition, type ZoneLimits } from "./zonalClearing.ts";

const tariffs: Tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 300_000n };
const RICH_MICRO = 10n ** 12n;
const FREE: ZoneLimits = { importCapWh: UNLIMITED_WH, exportCapWh: UNLIMITED_WH, feeMicroPerKwh: 0n };

const seller = (meterId: number, zone: number, askMicroPerKwh: bigint, wh: bigint): ZonalPosition => ({
  meterId,
  zone,
  exportWh: wh,
  importWh: 0n,
  balanceMicro: 0n,
  order: { askMicroPerKwh, maxSellWh: wh, bidMicroPerKwh: 0n, maxBuyWh: 0n },
});

const buyer = (meterId: number, zone: number, bidMicroPerKwh: bigint, wh: bigint): ZonalPosition => ({
  meterId,
  zone,
  exportWh: 0n,
  importWh: wh,
  balanceMicro: RICH_MICRO,
  order: { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh, maxBuyWh: wh },
});

const limit = (exportCapWh: bigint, importCapWh: bigint, feeMicroPerKwh = 0n): ZoneLimits => ({
  exportCapWh,
  importCapWh,
  feeMicroPerKwh,
});

const fill = (meterId: number, soldWh: bigint, boughtWh: bigint): Fill => ({ meterId, soldWh, boughtWh });

const minB = (a: bigint, b: bigint) => (a < b ? a : b);
const maxB = (a: bigint, b: bigint) => (a > b ? a : b);
const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

const limitsOf = (limits: ReadonlyMap<number, ZoneLimits>, zone: number) => limits.get(zone) ?? FREE;

/** Each fill's zone price, by meter id. */
function zonePriceByMeter(positions: readonly ZonalPosition[], c: ZonalClearing): Map<number, bigint> {
  const price = new Map(c.zones.map((z) => [z.zone, z.priceMicroPerKwh]));
  return new Map(positions.map((p) => [p.meterId, price.get(p.zone) as bigint]));
}

/** What the grid account gets: buyers pay ⌈bought·p_z/1000⌉, sellers get ⌊sold·p_z/1000⌋. */
function gridMoneyMicro(positions: readonly ZonalPosition[], c: ZonalClearing): bigint {
  const price = zonePriceByMeter(positions, c);
  return c.fills.reduce((sum, f) => {
    const p = price.get(f.meterId) as bigint;
    return sum + ceilDiv(f.boughtWh * p, 1000n) - (f.soldWh * p) / 1000n;
  }, 0n);
}

/** −Σ e_z·p_z (micro-units × 1000: divide by 1000 for money) and Σ_{importing} |e_z|·f_z likewise. */
function gridIncome(c: ZonalClearing, limits: ReadonlyMap<number, ZoneLimits>) {
  let incomeMilli = 0n;
  let feesMilli = 0n;
  for (const z of c.zones) {
    incomeMilli -= z.netExportWh * z.priceMicroPerKwh;
    if (z.netExportWh < 0n) feesMilli += -z.netExportWh * limitsOf(limits, z.zone).feeMicroPerKwh;
  }
  return { incomeMilli, feesMilli };
}

// ---------------------------------------------------------------------------------------------------
// Naive reference: every definition of docs/architecture.md, "Grid zones", summed order by order.

/** S<, S, D>, D of a zone's orders at price x. */
function sums(orders: readonly EffectiveOrder[], x: bigint) {
  let sBelow = 0n;
  let s = 0n;
  let dAbove = 0n;
  let d = 0n;
  for (const o of orders) {
    if (o.askMicroPerKwh < x) sBelow += o.offerWh;
    if (o.askMicroPerKwh <= x) s += o.offerWh;
    if (o.demandWh > 0n && o.bidMicroPerKwh > x) dAbove += o.demandWh;
    if (o.demandWh > 0n && o.bidMicroPerKwh >= x) d += o.demandWh;
  }
  return { sBelow, s, dAbove, d };
}
const A = (orders: readonly EffectiveOrder[], x: bigint) => {
  const k = sums(orders, x);
  return k.sBelow - k.d;
};
const B = (orders: readonly EffectiveOrder[], x: bigint) => {
  const k = sums(orders, x);
  return k.s - k.dAbove;
};
function lo(orders: readonly EffectiveOrder[], l: ZoneLimits, x: bigint): bigint {
  const a = A(orders, x);
  return a > 0n ? minB(a, l.exportCapWh) : maxB(minB(A(orders, x + l.feeMicroPerKwh), 0n), -l.importCapWh);
}
function hi(orders: readonly EffectiveOrder[], l: ZoneLimits, x: bigint): bigint {
  const b = B(orders, x + l.feeMicroPerKwh);
  return b < 0n ? maxB(b, -l.importCapWh) : minB(maxB(B(orders, x), 0n), l.exportCapWh);
}

type NaiveZone = { zone: number; orders: EffectiveOrder[]; limits: ZoneLimits };

function naiveZones(positions: readonly ZonalPosition[], t: Tariffs, limits: ReadonlyMap<number, ZoneLimits>): NaiveZone[] {
  const ids = [...new Set(positions.map((p) => p.zone))].sort((a, b) => a - b);
  return ids.map((zone) => ({
    zone,
    orders: positions
      .filter((p) => p.zone === zone)
      .sort((a, b) => a.meterId - b.meterId)
      .map((p) => effectiveOrder(p, t)),
    limits: limitsOf(limits, zone),
  }));
}

const L = (zones: readonly NaiveZone[], x: bigint) => zones.reduce((s, z) => s + lo(z.orders, z.limits, x), 0n);
const H = (zones: readonly NaiveZone[], x: bigint) => zones.reduce((s, z) => s + hi(z.orders, z.limits, x), 0n);

function naiveFlows(zones: readonly NaiveZone[], pi: bigint): bigint[] {
  const clamp = (x: bigint, l: bigint, h: bigint) => minB(maxB(x, l), h);
  const los = zones.map((z) => lo(z.orders, z.limits, pi));
  const his = zones.map((z) => hi(z.orders, z.limits, pi));
  const splits = zones.map((z, i) => {
    const k = sums(z.orders, (his[i] as bigint) > 0n ? pi : pi + z.limits.feeMicroPerKwh);
    return clamp(k.s - k.d, los[i] as bigint, his[i] as bigint);
  });
  const sigma = zones.map((_, i) => (splits[i] as bigint) - (los[i] as bigint));
  const beta = zones.map((_, i) => (his[i] as bigint) - (splits[i] as bigint));
  const total = (v: bigint[]) => v.reduce((s, x) => s + x, 0n);
  const short = -total(los);
  const sellersFirst = short <= total(sigma);
  const e = zones.map((_, i) => {
    const l = los[i] as bigint;
    if (sellersFirst) return l + (total(sigma) === 0n ? 0n : ((sigma[i] as bigint) * short) / total(sigma));
    return l + (sigma[i] as bigint) + ((beta[i] as bigint) * (short - total(sigma))) / total(beta);
  });
  const slack = sellersFirst ? sigma : beta;
  for (let i = 0; i < zones.length && total(e) < 0n; i++) {
    if ((slack[i] as bigint) > 0n) e[i] = (e[i] as bigint) + 1n;
  }
  expect(total(e)).toBe(0n);
  return e;
}

function naiveWindow(z: NaiveZone, e: bigint, pi: bigint, t: Tariffs) {
  const f = z.limits.feeMicroPerKwh;
  if (e > 0n && e >= A(z.orders, pi)) return { from: pi, to: pi };
  if (e < 0n && e <= B(z.orders, pi + f)) return { from: pi + f, to: pi + f };
  if (e === 0n && A(z.orders, pi) <= 0n && 0n <= B(z.orders, pi + f)) {
    return {
      from: z.limits.exportCapWh === 0n ? t.feedInMicroPerKwh : pi,
      to: z.limits.importCapWh === 0n ? t.retailMicroPerKwh : minB(pi + f, t.retailMicroPerKwh),
    };
  }
  return { from: t.feedInMicroPerKwh, to: t.retailMicroPerKwh };
}

/** A zone is reported capacity-bound when its price lies outside [π, π + f_z]. */
const splitFromHub = (z: NaiveZone, p: bigint, pi: bigint) => p < pi || p > pi + z.limits.feeMicroPerKwh;

/** Rations `targetWh` over one side: better orders full, ties pro rata, remainder to the lowest meter ids. */
function ration(side: { q: bigint; rank: "better" | "tied" | "worse" }[], targetWh: bigint): bigint[] {
  const better = side.reduce((s, o) => (o.rank === "better" ? s + o.q : s), 0n);
  const tied = side.reduce((s, o) => (o.rank === "tied" ? s + o.q : s), 0n);
  const residual = targetWh - better;
  const out = side.map((o) =>
    o.rank === "better" ? o.q : o.rank === "tied" ? (o.q * residual) / (tied === 0n ? 1n : tied) : 0n,
  );
  let left = residual - side.reduce((s, o, i) => (o.rank === "tied" ? s + (out[i] as bigint) : s), 0n);
  side.forEach((o, i) => {
    if (left > 0n && o.rank === "tied" && o.q > 0n) {
      out[i] = (out[i] as bigint) + 1n;
      left -= 1n;
    }
  });
  return out;
}

function naiveZoneFills(z: NaiveZone, p: bigint, e: bigint): Fill[] {
  const k = sums(z.orders, p);
  const sold = minB(k.s, k.d + e);
  const rank = (limit: bigint, better: boolean) => (limit === p ? "tied" : better ? "better" : "worse");
  const s = ration(
    z.orders.map((o) => ({ q: o.offerWh, rank: rank(o.askMicroPerKwh, o.askMicroPerKwh < p) })),
    sold,
  );
  const b = ration(
    z.orders.map((o) => ({ q: o.demandWh, rank: rank(o.bidMicroPerKwh, o.bidMicroPerKwh > p) })),
    sold - e,
  );
  return z.orders.map((o, i) => fill(o.meterId, s[i] as bigint, b[i] as bigint));
}

// ---------------------------------------------------------------------------------------------------
// Random books.

const capArb = (maxWh: bigint) =>
  fc.oneof(
    fc.constant(0n),
    fc.constant(UNLIMITED_WH),
    { arbitrary: fc.bigInt({ min: 1n, max: maxWh }), weight: 2 },
    fc.bigInt({ min: 1n, max: 10n * maxWh }),
  );

const limitsArb = (maxFee: bigint, maxWh: bigint) =>
  fc.record({
    importCapWh: capArb(maxWh),
    exportCapWh: capArb(maxWh),
    // Round fees too, so that π + f_z often meets an order's price (ties at the importing price).
    feeMicroPerKwh: fc.oneof(fc.constant(0n), fc.constantFrom(maxFee / 4n, maxFee / 2n), fc.bigInt({ min: 0n, max: maxFee })),
  });

type BookScale = {
  prices: fc.Arbitrary<bigint>;
  /** Each zone's prices are shifted by up to this much, so zones differ and trade with each other. */
  maxZoneShift: bigint;
  maxFee: bigint;
  maxWh: bigint;
  balances: fc.Arbitrary<bigint>;
};

/** Realistic scale: prices around feed-in 80,000 and retail 300,000, fees up to 50,000. */
const realScale: BookScale = {
  prices: fc.oneof(
    { arbitrary: fc.constantFrom(60_000n, 80_000n, 100_000n, 150_000n, 200_000n, 250_000n, 300_000n, 320_000n), weight: 2 },
    { arbitrary: fc.bigInt({ min: 50_000n, max: 330_000n }), weight: 1 },
  ),
  maxZoneShift: 100_000n,
  maxFee: 50_000n,
  maxWh: 2_000n,
  balances: fc.oneof(fc.constant(0n), fc.bigInt({ min: -1_000n, max: 500_000n }), fc.constant(RICH_MICRO)),
};

/** Small price band, so that a brute-force scan of every price is cheap. */
const smallTariffs: Tariffs = { feedInMicroPerKwh: 80n, retailMicroPerKwh: 140n };
const smallScale: BookScale = {
  prices: fc.oneof(
    { arbitrary: fc.constantFrom(70n, 80n, 100n, 120n, 140n, 150n), weight: 2 },
    { arbitrary: fc.bigInt({ min: 60n, max: 160n }), weight: 1 },
  ),
  maxZoneShift: 30n,
  maxFee: 40n,
  maxWh: 300n,
  balances: fc.oneof(fc.constant(0n), fc.bigInt({ min: -10n, max: 60n }), fc.constant(RICH_MICRO)),
};

/** Tiny quantities, so that every flow vector in the hub's box can be enumerated. */
const tinyScale: BookScale = { ...smallScale, maxWh: 5n };

const zoneIdsArb = fc.uniqueArray(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 65_535 })), {
  minLength: 1,
  maxLength: 4,
});

type Book = { positions: ZonalPosition[]; limits: Map<number, ZoneLimits> };

/** Up to `maxLength` positions with distinct meter ids in the given zones, each zone's prices shifted. */
function positionsArb(zoneIds: number[], scale: BookScale, shifts: bigint[] = [], maxLength = 40): fc.Arbitrary<ZonalPosition[]> {
  const wh = fc.oneof(
    { arbitrary: fc.constant(0n), weight: 1 },
    { arbitrary: fc.bigInt({ min: 1n, max: scale.maxWh }), weight: 3 },
  );
  const shifted = (price: bigint, i: number) => maxB(price + (shifts[i] ?? 0n), 1n);
  return fc.uniqueArray(
    fc
      .record({
        meterId: fc.integer({ min: 1, max: 1_000_000 }),
        zoneIndex: fc.nat({ max: zoneIds.length - 1 }),
        exportWh: wh,
        importWh: wh,
        balanceMicro: scale.balances,
        ask: fc.oneof({ arbitrary: fc.constant(0n), weight: 1 }, { arbitrary: scale.prices, weight: 4 }),
        maxSellWh: wh,
        bid: fc.oneof({ arbitrary: fc.constant(0n), weight: 1 }, { arbitrary: scale.prices, weight: 4 }),
        maxBuyWh: wh,
      })
      .map(
        ({ zoneIndex, ask, bid, maxSellWh, maxBuyWh, ...p }): ZonalPosition => ({
          ...p,
          zone: zoneIds[zoneIndex] as number,
          order: {
            askMicroPerKwh: ask === 0n ? 0n : shifted(ask, zoneIndex),
            maxSellWh,
            bidMicroPerKwh: bid === 0n ? 0n : shifted(bid, zoneIndex),
            maxBuyWh,
          },
        }),
      ),
    { minLength: 1, maxLength, selector: (p) => p.meterId },
  );
}

const shiftsArb = (n: number, scale: BookScale) =>
  fc.array(fc.oneof(fc.constant(0n), fc.bigInt({ min: -scale.maxZoneShift, max: scale.maxZoneShift })), {
    minLength: n,
    maxLength: n,
  });

function bookArb(scale: BookScale, maxLength = 40): fc.Arbitrary<Book> {
  return zoneIdsArb.chain((zoneIds) =>
    fc.record({
      positions: shiftsArb(zoneIds.length, scale).chain((shifts) => positionsArb(zoneIds, scale, shifts, maxLength)),
      limits: fc
        .array(fc.option(limitsArb(scale.maxFee, scale.maxWh), { nil: undefined, freq: 3 }), {
          minLength: zoneIds.length,
          maxLength: zoneIds.length,
        })
        .map((ls) => new Map(zoneIds.flatMap((z, i) => (ls[i] === undefined ? [] : [[z, ls[i]] as const])))),
    }),
  );
}

const RUNS = 200;

// ---------------------------------------------------------------------------------------------------

describe("clearZonal: hand-computed examples", () => {
  it("(1) two unlimited, free zones give clearInterval's price and fills, ties rationed across meters", () => {
    const positions = [
      seller(1, 0, 100_000n, 600n),
      seller(2, 0, 100_000n, 400n),
      buyer(3, 0, 120_000n, 100n),
      buyer(4, 1, 250_000n, 500n),
    ];
    const single = clearInterval(positions, tariffs);
    expect(single.priceMicroPerKwh).toBe(100_000n);
    const c = clearZonal(positions, tariffs, new Map());
    expect(c.hubPriceMicroPerKwh).toBe(100_000n);
    expect(c.zones).toEqual([
      {
        zone: 0,
        netExportWh: 500n,
        priceLowMicroPerKwh: 100_000n,
        priceHighMicroPerKwh: 100_000n,
        priceMicroPerKwh: 100_000n,
        capacityBound: false,
      },
      {
        zone: 1,
        netExportWh: -500n,
        priceLowMicroPerKwh: 100_000n,
        priceHighMicroPerKwh: 100_000n,
        priceMicroPerKwh: 100_000n,
        capacityBound: false,
      },
    ]);
    expect(c.fills).toEqual([fill(1, 360n, 0n), fill(2, 240n, 0n), fill(3, 0n, 100n), fill(4, 0n, 500n)]);
    expect(c.fills).toEqual(single.fills);
    expect(c.tradedWh).toBe(single.tradedWh);
  });

  // Zone 0: cheap seller (1000 Wh at 100,000) and a buyer (200 Wh up to 150,000).
  // Zone 1: seller 1000 Wh at 200,000 and buyer 1000 Wh up to 250,000. One market: 175,000.
  const twoZones = [
    seller(1, 0, 100_000n, 1000n),
    buyer(2, 0, 150_000n, 200n),
    seller(3, 1, 200_000n, 1000n),
    buyer(4, 1, 250_000n, 1000n),
  ];

  it("(2) a binding export capacity splits the prices: exporter below the hub, importer above the single price", () => {
    const single = clearInterval(twoZones, tariffs);
    expect(single.priceMicroPerKwh).toBe(175_000n);
    const limits = new Map([[0, limit(300n, UNLIMITED_WH)]]);
    const c = clearZonal(twoZones, tariffs, limits);
    // H(x) < 0 below 200,000 and L(x) > 0 above: the hub price is 200,000, zone 1's marginal ask.
    expect([c.hubLowMicroPerKwh, c.hubHighMicroPerKwh, c.hubPriceMicroPerKwh]).toEqual([200_000n, 200_000n, 200_000n]);
    expect(c.zones).toEqual([
      // Exports exactly its cap; A_0(x) ≤ 300 ≤ B_0(x) only at its own ask.
      {
        zone: 0,
        netExportWh: 300n,
        priceLowMicroPerKwh: 100_000n,
        priceHighMicroPerKwh: 100_000n,
        priceMicroPerKwh: 100_000n,
        capacityBound: true,
      },
      {
        zone: 1,
        netExportWh: -300n,
        priceLowMicroPerKwh: 200_000n,
        priceHighMicroPerKwh: 200_000n,
        priceMicroPerKwh: 200_000n,
        capacityBound: false,
      },
    ]);
    // Zone 0 at 100,000: V = min(1000, 200 + 300) = 500. Zone 1 at 200,000: V = min(1000, 1000 − 300) = 700.
    expect(c.fills).toEqual([fill(1, 500n, 0n), fill(2, 0n, 200n), fill(3, 700n, 0n), fill(4, 0n, 1000n)]);
    expect(c.tradedWh).toBe(1200n);
    // Congestion rent: buyers pay 20,000 + 200,000, sellers get 50,000 + 140,000.
    expect(gridMoneyMicro(twoZones, c)).toBe(30_000n);
    expect(gridIncome(c, limits)).toEqual({ incomeMilli: 30_000_000n, feesMilli: 0n });
  });

  it("(3) a capacity at or above the flow changes nothing", () => {
    const unlimited = clearZonal(twoZones, tariffs, new Map());
    expect(unlimited.hubPriceMicroPerKwh).toBe(175_000n);
    expect(unlimited.zones.map((z) => [z.netExportWh, z.priceMicroPerKwh])).toEqual([
      [1000n, 175_000n],
      [-1000n, 175_000n],
    ]);
    expect(unlimited.fills).toEqual(clearInterval(twoZones, tariffs).fills);
    for (const capWh of [1000n, 2000n]) {
      expect(clearZonal(twoZones, tariffs, new Map([[0, limit(capWh, 0n)]]))).toEqual(unlimited);
      expect(clearZonal(twoZones, tariffs, new Map([[1, limit(0n, capWh)]]))).toEqual(unlimited);
    }
  });

  it("(4) zero capacity islands a zone: no flow, each zone clears on its own", () => {
    const c = clearZonal(twoZones, tariffs, new Map([[0, limit(0n, 0n)]]));
    const zone0 = clearInterval(twoZones.slice(0, 2), tariffs);
    const zone1 = clearInterval(twoZones.slice(2), tariffs);
    expect(zone0.priceMicroPerKwh).toBe(100_000n);
    expect(zone1.priceMicroPerKwh).toBe(225_000n);
    expect(c.hubPriceMicroPerKwh).toBe(225_000n);
    expect(c.zones.map((z) => [z.netExportWh, z.priceMicroPerKwh, z.capacityBound])).toEqual([
      [0n, 100_000n, true],
      [0n, 225_000n, false],
    ]);
    expect(c.fills).toEqual([...zone0.fills, ...zone1.fills]);
    expect(c.tradedWh).toBe(zone0.tradedWh + zone1.tradedWh);
  });

  it("(5) a fee: the importing zone pays π + fee, the exporter gets π; the grid gets the fee once", () => {
    const positions = [seller(1, 0, 100_000n, 1000n), buyer(2, 1, 250_000n, 600n), seller(3, 1, 280_000n, 500n)];
    const limits = new Map([[1, limit(UNLIMITED_WH, UNLIMITED_WH, 20_333n)]]);
    const c = clearZonal(positions, tariffs, limits);
    // Zone 0 would export 1000 Wh above 100,000 but zone 1 takes 600: supply is long, π falls to the ask.
    expect(c.hubPriceMicroPerKwh).toBe(100_000n);
    expect(c.zones.map((z) => [z.netExportWh, z.priceMicroPerKwh])).toEqual([
      [600n, 100_000n],
      [-600n, 120_333n],
    ]);
    expect(c.fills).toEqual([fill(1, 600n, 0n), fill(2, 0n, 600n), fill(3, 0n, 0n)]);
    // Buyer pays ⌈600 · 120,333 / 1000⌉ = 72,200; seller gets 60,000.
    const { incomeMilli, feesMilli } = gridIncome(c, limits);
    expect(feesMilli).toBe(600n * 20_333n); // 12,199.8 micro-units: the fee on 600 Wh, charged once
    expect(incomeMilli).toBe(feesMilli); // no capacity binds: no congestion rent
    expect(gridMoneyMicro(positions, c)).toBe(12_200n); // rounding (0.2) favours the grid
    expect(gridMoneyMicro(positions, c) * 1000n).toBeGreaterThanOrEqual(incomeMilli);
  });

  it("an importing zone's tied buyers share its import pro rata, the remainder to the lowest meter id", () => {
    // Zone 0 exports at most 100 Wh; zone 1's three buyers tie at 150,000 for 300 Wh.
    const positions = [
      seller(1, 0, 80_000n, 1000n),
      buyer(9, 1, 150_000n, 100n),
      buyer(4, 1, 150_000n, 100n),
      buyer(7, 1, 150_000n, 100n),
    ];
    const limits = new Map([[0, limit(100n, UNLIMITED_WH)]]);
    const c = clearZonal(positions, tariffs, limits);
    expect(c.hubPriceMicroPerKwh).toBe(150_000n);
    expect(c.zones.map((z) => [z.netExportWh, z.priceMicroPerKwh, z.capacityBound])).toEqual([
      [100n, 80_000n, true],
      [-100n, 150_000n, false],
    ]);
    expect(c.fills).toEqual([fill(1, 100n, 0n), fill(4, 0n, 34n), fill(7, 0n, 33n), fill(9, 0n, 33n)]);
    expect(gridMoneyMicro(positions, c)).toBe(7_000n); // congestion rent: 100 Wh × (150,000 − 80,000)
  });

  it("with several zones, ties are rationed zone by zone (the remainder goes by zone id, not meter id)", () => {
    // Meter 5 (zone 0) and meter 3 (zone 1) tie at 100,000 for 101 Wh of demand.
    const positions = [seller(5, 0, 100_000n, 100n), seller(3, 1, 100_000n, 100n), buyer(9, 2, 200_000n, 101n)];
    expect(clearInterval(positions, tariffs).fills).toEqual([fill(3, 51n, 0n), fill(5, 50n, 0n), fill(9, 0n, 101n)]);
    const c = clearZonal(positions, tariffs, new Map());
    expect(c.zones.map((z) => z.netExportWh)).toEqual([51n, 50n, -101n]);
    expect(c.fills).toEqual([fill(3, 50n, 0n), fill(5, 51n, 0n), fill(9, 0n, 101n)]);
  });

  it("with several zones, the hub's shortfall is covered by tied sellers first: volume as in one market", () => {
    // One market: price 100,000, both tied, 10 Wh trade. Zone 0: [lo, hi] = [−10, 0], all buyer slack;
    // zone 1: [0, 100], all seller slack. −L = 10 ≤ Σσ = 100: zone 1's tied seller covers it.
    const positions = [buyer(1, 0, 100_000n, 10n), seller(2, 1, 100_000n, 100n)];
    const single = clearInterval(positions, tariffs);
    expect(single.tradedWh).toBe(10n);
    const c = clearZonal(positions, tariffs, new Map());
    expect(c.hubPriceMicroPerKwh).toBe(100_000n);
    expect(c.zones.map((z) => [z.netExportWh, z.priceMicroPerKwh, z.capacityBound])).toEqual([
      [-10n, 100_000n, false],
      [10n, 100_000n, false],
    ]);
    expect(c.fills).toEqual(single.fills);
    expect(c.tradedWh).toBe(10n);
  });

  it("with several zones, tied buyers stay out only beyond the sellers' slack, pro rata, the remainder by zone id", () => {
    // Buyers of 100 (zone 0) and 50 Wh (zone 1) tie with a seller of 31 Wh (zone 2) at 100,000.
    // −L = 150 > Σσ = 31: the 119 Wh the buyers go without are shared 100 : 50 → 79 + 39, one more to zone 0.
    const positions = [buyer(1, 0, 100_000n, 100n), buyer(2, 1, 100_000n, 50n), seller(3, 2, 100_000n, 31n)];
    const single = clearInterval(positions, tariffs);
    expect(single.fills).toEqual([fill(1, 0n, 21n), fill(2, 0n, 10n), fill(3, 31n, 0n)]);
    const c = clearZonal(positions, tariffs, new Map());
    expect(c.zones.map((z) => [z.netExportWh, z.priceMicroPerKwh])).toEqual([
      [-20n, 100_000n],
      [-11n, 100_000n],
      [31n, 100_000n],
    ]);
    // Same volume; the rounding Wh lands in a different meter than in the single market.
    expect(c.fills).toEqual([fill(1, 0n, 20n), fill(2, 0n, 11n), fill(3, 31n, 0n)]);
    expect(c.tradedWh).toBe(single.tradedWh);
  });

  it("an importing zone's split point is taken at π + f_z: its tied seller there covers part of the shortfall", () => {
    // π = 100,000. Zone 0: [lo, hi] = [0, 10], all seller slack (its seller asks π). Zone 1 (fee 20,000):
    // [−10, −5]; at π + f = 120,000 its seller (5 Wh) ties, so m_1 = 5 − 10 = −5 and σ_1 = 5.
    // −L = 10 ≤ Σσ = 15: e = [⌊10 · 10/15⌋, −10 + ⌊5 · 10/15⌋] = [6, −7], one more Wh to zone 0.
    const positions = [seller(1, 0, 100_000n, 10n), buyer(2, 1, 150_000n, 10n), seller(3, 1, 120_000n, 5n)];
    const limits = new Map([[1, limit(UNLIMITED_WH, UNLIMITED_WH, 20_000n)]]);
    const c = clearZonal(positions, tariffs, limits);
    expect([c.hubLowMicroPerKwh, c.hubHighMicroPerKwh]).toEqual([100_000n, 100_000n]);
    expect(c.zones.map((z) => [z.netExportWh, z.priceMicroPerKwh, z.capacityBound])).toEqual([
      [7n, 100_000n, false],
      [-7n, 120_000n, false],
    ]);
    // Zone 1 at 120,000: sellers sell min(5, 10 − 7) = 3, buyers buy 3 + 7 = 10.
    expect(c.fills).toEqual([fill(1, 7n, 0n), fill(2, 0n, 10n), fill(3, 3n, 0n)]);

    // With 15 Wh at 120,000 zone 1 could supply itself there: [lo, hi] = [−10, 0] (hi = 0, so still π + f):
    // m_1 = 15 − 10 clamps to 0, σ = [10, 10], e = [5, −5].
    const selfSupplied = [positions[0], positions[1], seller(3, 1, 120_000n, 15n)] as ZonalPosition[];
    const d = clearZonal(selfSupplied, tariffs, limits);
    expect(d.hubPriceMicroPerKwh).toBe(100_000n);
    expect(d.zones.map((z) => [z.netExportWh, z.priceMicroPerKwh])).toEqual([
      [5n, 100_000n],
      [-5n, 120_000n],
    ]);
    expect(d.fills).toEqual([fill(1, 5n, 0n), fill(2, 0n, 10n), fill(3, 5n, 0n)]);
  });

  it("with several zones, a tied meter's fill can differ from the single market's by 2 Wh (rounding twice)", () => {
    // 36 Wh of buyers tie at 110,000 for 15 Wh. One market: 8, 1, 7, 20 → ⌊3.33⌋ + 1, ⌊0.42⌋ + 1, ⌊2.92⌋, ⌊8.33⌋.
    // Zonal: zone 0 (β = 9) and zone 2 (β = 27) go without 21 Wh: 5 + 1 and 15 → they buy 3 and 12; inside
    // zone 2, meter 4 gets ⌊7 · 12 / 27⌋ + 1 = 4.
    const positions = [
      seller(1, 0, 90_000n, 15n),
      buyer(2, 0, 110_000n, 8n),
      buyer(3, 0, 110_000n, 1n),
      buyer(4, 2, 110_000n, 7n),
      buyer(5, 2, 110_000n, 20n),
    ];
    const single = clearInterval(positions, tariffs);
    expect(single.fills.map((f) => f.boughtWh)).toEqual([0n, 4n, 1n, 2n, 8n]);
    const c = clearZonal(positions, tariffs, new Map());
    expect(c.zones.map((z) => [z.netExportWh, z.priceMicroPerKwh])).toEqual([
      [12n, 110_000n],
      [-12n, 110_000n],
    ]);
    expect(c.fills.map((f) => f.boughtWh)).toEqual([0n, 3n, 0n, 4n, 8n]);
    expect(c.tradedWh).toBe(single.tradedWh);
  });

  // Zone 0 alone: equilibria [100,000, 200,000], price 150,000. Zone 1 alone: [120,000, 130,000], 125,000.
  const selfSufficient = [
    seller(1, 0, 100_000n, 500n),
    buyer(2, 0, 200_000n, 500n),
    seller(3, 1, 120_000n, 300n),
    buyer(4, 1, 130_000n, 300n),
  ];

  it("an islanded zone (both capacities 0) clears on its own, at its own price, not at π", () => {
    const alone = clearInterval(selfSufficient.slice(0, 2), tariffs);
    expect(alone.priceMicroPerKwh).toBe(150_000n);
    const c = clearZonal(selfSufficient, tariffs, new Map([[0, limit(0n, 0n, 7n)]]));
    expect(c.hubPriceMicroPerKwh).toBe(125_000n);
    expect(c.zones).toEqual([
      {
        zone: 0,
        netExportWh: 0n,
        priceLowMicroPerKwh: 100_000n,
        priceHighMicroPerKwh: 200_000n,
        priceMicroPerKwh: 150_000n,
        capacityBound: true,
      },
      {
        zone: 1,
        netExportWh: 0n,
        priceLowMicroPerKwh: 125_000n, // self-sufficient at π with f = 0: window [π, π]
        priceHighMicroPerKwh: 125_000n,
        priceMicroPerKwh: 125_000n,
        capacityBound: false,
      },
    ]);
    expect(c.fills).toEqual(clearInterval(selfSufficient, tariffs).fills);
  });

  it("a self-sufficient zone that cannot export is priced from feed-in, one that cannot import up to retail", () => {
    // π = 125,000 either way. Window [feed-in, 125,000] → [100,000, 125,000]; [125,000, retail] → [125,000, 200,000].
    const noExport = clearZonal(selfSufficient, tariffs, new Map([[0, limit(0n, UNLIMITED_WH)]]));
    const noImport = clearZonal(selfSufficient, tariffs, new Map([[0, limit(UNLIMITED_WH, 0n)]]));
    for (const c of [noExport, noImport]) expect(c.hubPriceMicroPerKwh).toBe(125_000n);
    expect(noExport.zones[0]).toMatchObject({
      netExportWh: 0n,
      priceLowMicroPerKwh: 100_000n,
      priceHighMicroPerKwh: 125_000n,
      priceMicroPerKwh: 112_500n,
      capacityBound: true,
    });
    expect(noImport.zones[0]).toMatchObject({
      netExportWh: 0n,
      priceLowMicroPerKwh: 125_000n,
      priceHighMicroPerKwh: 200_000n,
      priceMicroPerKwh: 162_500n,
      capacityBound: true,
    });
    // With both capacities open, zone 0 is merely self-sufficient at π and priced there.
    const open = clearZonal(selfSufficient, tariffs, new Map([[0, limit(1n, 1n)]]));
    expect(open.zones[0]).toMatchObject({ netExportWh: 0n, priceMicroPerKwh: 125_000n, capacityBound: false });
  });

  it("clears an empty book like clearInterval", () => {
    const c = clearZonal([], tariffs, new Map());
    const single = clearInterval([], tariffs);
    expect([c.hubLowMicroPerKwh, c.hubHighMicroPerKwh, c.hubPriceMicroPerKwh]).toEqual([
      single.priceLowMicroPerKwh,
      single.priceHighMicroPerKwh,
      single.priceMicroPerKwh,
    ]);
    expect(c).toMatchObject({ zones: [], fills: [], tradedWh: 0n });
  });

  it("rejects invalid tariffs, a meter listed twice, a bad zone id, negative capacities and fees", () => {
    const p = seller(1, 0, 100_000n, 10n);
    expect(() => clearZonal([p], { feedInMicroPerKwh: 0n, retailMicroPerKwh: 1n }, new Map())).toThrow(/invalid tariffs/);
    expect(() => clearZonal([p], { feedInMicroPerKwh: 5n, retailMicroPerKwh: 4n }, new Map())).toThrow(RangeError);
    expect(() => clearZonal([p, { ...p, zone: 1 }], tariffs, new Map())).toThrow(/meter 1 appears twice/);
    for (const zone of [-1, 65_536, 1.5, Number.NaN]) {
      expect(() => clearZonal([{ ...p, zone }], tariffs, new Map())).toThrow(/not an integer in 0..65535/);
    }
    expect(() => clearZonal([p], tariffs, new Map([[0, limit(-1n, 0n)]]))).toThrow(/export capacity -1/);
    expect(() => clearZonal([p], tariffs, new Map([[0, limit(0n, -1n)]]))).toThrow(/import capacity -1/);
    expect(() => clearZonal([p], tariffs, new Map([[0, limit(UNLIMITED_WH + 1n, 0n)]]))).toThrow(RangeError);
    expect(() => clearZonal([p], tariffs, new Map([[3, limit(0n, 0n, -1n)]]))).toThrow(/zone 3: negative grid fee/);
  });
});

describe("clearZonal: properties", () => {
  it("balances flows within capacities, fills within limits, prices within windows, grid income ≥ fees", () => {
    fc.assert(
      fc.property(bookArb(realScale), ({ positions, limits }) => {
        const c = clearZonal(positions, tariffs, limits);
        const zones = naiveZones(positions, tariffs, limits);
        const { feedInMicroPerKwh: feedIn, retailMicroPerKwh: retail } = tariffs;
        const pi = c.hubPriceMicroPerKwh;
        expect(c.zones.map((z) => z.zone)).toEqual(zones.map((z) => z.zone));
        expect(c.fills.map((f) => f.meterId)).toEqual(positions.map((p) => p.meterId).sort((a, b) => a - b));
        expect(feedIn <= c.hubLowMicroPerKwh && c.hubLowMicroPerKwh <= pi && pi <= c.hubHighMicroPerKwh).toBe(true);
        expect(c.hubHighMicroPerKwh <= retail).toBe(true);
        // Hub bounds as the verifier checks them, at a handful of prices.
        expect(L(zones, c.hubLowMicroPerKwh) <= 0n && H(zones, c.hubLowMicroPerKwh) >= 0n).toBe(true);
        expect(L(zones, c.hubHighMicroPerKwh) <= 0n && H(zones, c.hubHighMicroPerKwh) >= 0n).toBe(true);
        if (c.hubLowMicroPerKwh > feedIn) expect(L(zones, c.hubLowMicroPerKwh)).toBeLessThan(0n);
        if (c.hubHighMicroPerKwh < retail) expect(H(zones, c.hubHighMicroPerKwh)).toBeGreaterThan(0n);

        expect(c.zones.reduce((s, z) => s + z.netExportWh, 0n)).toBe(0n);
        const fillOf = new Map(c.fills.map((f) => [f.meterId, f]));
        let traded = 0n;
        c.zones.forEach((z, i) => {
          const nz = zones[i] as NaiveZone;
          const e = z.netExportWh;
          const p = z.priceMicroPerKwh;
          expect(-nz.limits.importCapWh <= e && e <= nz.limits.exportCapWh).toBe(true);
          expect(feedIn <= z.priceLowMicroPerKwh && z.priceLowMicroPerKwh <= p && p <= z.priceHighMicroPerKwh).toBe(true);
          expect(z.priceHighMicroPerKwh <= retail).toBe(true);
          if (e > 0n) expect(p <= pi).toBe(true);
          if (e < 0n) expect(p >= pi + nz.limits.feeMicroPerKwh).toBe(true);
          // The zone's bounds are equilibria given e_z, and extreme within the window.
          const w = naiveWindow(nz, e, pi, tariffs);
          expect(z.capacityBound).toBe(splitFromHub(nz, p, pi));
          for (const x of [z.priceLowMicroPerKwh, p, z.priceHighMicroPerKwh]) {
            expect(w.from <= x && x <= w.to && A(nz.orders, x) <= e && e <= B(nz.orders, x)).toBe(true);
          }
          if (z.priceLowMicroPerKwh > w.from) expect(A(nz.orders, z.priceLowMicroPerKwh)).toBeLessThan(e);
          if (z.priceHighMicroPerKwh < w.to) expect(B(nz.orders, z.priceHighMicroPerKwh)).toBeGreaterThan(e);

          let sold = 0n;
          let bought = 0n;
          for (const o of nz.orders) {
            const f = fillOf.get(o.meterId) as Fill;
            expect(f.soldWh <= o.offerWh && f.boughtWh <= o.demandWh).toBe(true);
            if (f.soldWh > 0n) expect(o.askMicroPerKwh <= p).toBe(true);
            if (f.boughtWh > 0n) expect(o.bidMicroPerKwh >= p).toBe(true);
            if (o.askMicroPerKwh < p) expect(f.soldWh).toBe(o.offerWh);
            if (o.bidMicroPerKwh > p) expect(f.boughtWh).toBe(o.demandWh);
            sold += f.soldWh;
            bought += f.boughtWh;
          }
          expect(sold - bought).toBe(e);
          expect(nz.orders.map((o) => fillOf.get(o.meterId))).toEqual(naiveZoneFills(nz, p, e));
          traded += sold;
        });
        expect(c.tradedWh).toBe(traded);
        // A buyer can pay for what it bought at its zone's price (⌈⌉ included) out of its escrow.
        const price = zonePriceByMeter(positions, c);
        for (const pos of positions) {
          const f = fillOf.get(pos.meterId) as Fill;
          if (f.boughtWh > 0n)
            expect(ceilDiv(f.boughtWh * (price.get(pos.meterId) as bigint), 1000n) <= pos.balanceMicro).toBe(true);
        }
        // Money: the grid's income covers every imported kWh's fee, and rounding only adds to it.
        const { incomeMilli, feesMilli } = gridIncome(c, limits);
        expect(feesMilli >= 0n && incomeMilli >= feesMilli).toBe(true);
        const money = gridMoneyMicro(positions, c);
        expect(money * 1000n >= incomeMilli).toBe(true);
        expect((money - 2n * BigInt(c.fills.length)) * 1000n <= incomeMilli).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it("matches a brute-force scan of every price for the hub and every zone's window", () => {
    fc.assert(
      fc.property(bookArb(smallScale), ({ positions, limits }) => {
        const t = smallTariffs;
        const c = clearZonal(positions, t, limits);
        const zones = naiveZones(positions, t, limits);
        const hub: bigint[] = [];
        for (let x = t.feedInMicroPerKwh; x <= t.retailMicroPerKwh; x++) {
          if (L(zones, x) <= 0n && 0n <= H(zones, x)) hub.push(x);
        }
        expect(hub.length).toBeGreaterThan(0);
        expect(BigInt(hub.length)).toBe((hub.at(-1) as bigint) - (hub[0] as bigint) + 1n); // contiguous
        expect([c.hubLowMicroPerKwh, c.hubHighMicroPerKwh]).toEqual([hub[0], hub.at(-1)]);
        const pi = ((hub[0] as bigint) + (hub.at(-1) as bigint)) / 2n;
        expect(c.hubPriceMicroPerKwh).toBe(pi);

        const flows = naiveFlows(zones, pi);
        expect(c.zones.map((z) => z.netExportWh)).toEqual(flows);
        const fills: Fill[] = [];
        zones.forEach((z, i) => {
          const e = flows[i] as bigint;
          const w = naiveWindow(z, e, pi, t);
          const inZone: bigint[] = [];
          for (let x = w.from; x <= w.to; x++) if (A(z.orders, x) <= e && e <= B(z.orders, x)) inZone.push(x);
          expect(inZone.length).toBeGreaterThan(0);
          expect(BigInt(inZone.length)).toBe((inZone.at(-1) as bigint) - (inZone[0] as bigint) + 1n);
          const p = ((inZone[0] as bigint) + (inZone.at(-1) as bigint)) / 2n;
          expect(c.zones[i]).toEqual({
            zone: z.zone,
            netExportWh: e,
            priceLowMicroPerKwh: inZone[0],
            priceHighMicroPerKwh: inZone.at(-1),
            priceMicroPerKwh: p,
            capacityBound: splitFromHub(z, p, pi),
          });
          fills.push(...naiveZoneFills(z, p, e));
        });
        expect(c.fills).toEqual(fills.sort((a, b) => a.meterId - b.meterId));
      }),
      { numRuns: RUNS },
    );
  });

  it("of all the flows in the hub's box [lo_z(π), hi_z(π)], picks one that trades the most; all give the same surplus", () => {
    fc.assert(
      fc.property(bookArb(tinyScale, 8), ({ positions, limits }) => {
        const t = smallTariffs;
        const c = clearZonal(positions, t, limits);
        const zones = naiveZones(positions, t, limits);
        const pi = c.hubPriceMicroPerKwh;
        const ranges = zones.map((z) => [lo(z.orders, z.limits, pi), hi(z.orders, z.limits, pi)] as const);
        /** Volume and surplus (bids bought − asks sold − fees on imports, micro-units × 1000) of flows `es`. */
        const outcome = (es: readonly bigint[]) => {
          let volume = 0n;
          let surplus = 0n;
          zones.forEach((z, i) => {
            const e = es[i] as bigint;
            const w = naiveWindow(z, e, pi, t);
            const eq: bigint[] = [];
            for (let x = w.from; x <= w.to; x++) if (A(z.orders, x) <= e && e <= B(z.orders, x)) eq.push(x);
            expect(eq.length).toBeGreaterThan(0); // every flow in the box is an equilibrium
            const fills = naiveZoneFills(z, ((eq[0] as bigint) + (eq.at(-1) as bigint)) / 2n, e);
            z.orders.forEach((o, k) => {
              const f = fills[k] as Fill;
              volume += f.soldWh;
              surplus += f.boughtWh * o.bidMicroPerKwh - f.soldWh * o.askMicroPerKwh;
            });
            if (e < 0n) surplus += e * z.limits.feeMicroPerKwh;
          });
          return { volume, surplus };
        };
        const chosen = outcome(c.zones.map((z) => z.netExportWh));
        expect(chosen.volume).toBe(c.tradedWh);
        // Every vector in the box with Σ e_z = 0: the last zone's flow follows from the others'.
        const visit = (i: number, es: bigint[]) => {
          if (i === zones.length - 1) {
            const last = -es.reduce((s, e) => s + e, 0n);
            const [l, h] = ranges[i] as readonly [bigint, bigint];
            if (last < l || last > h) return;
            const other = outcome([...es, last]);
            expect(other.surplus).toBe(chosen.surplus);
            expect(other.volume <= chosen.volume).toBe(true);
            return;
          }
          const [l, h] = ranges[i] as readonly [bigint, bigint];
          for (let e = l; e <= h; e++) visit(i + 1, [...es, e]);
        };
        visit(0, []);
      }),
      { numRuns: RUNS },
    );
  });

  it("does not depend on the order positions arrive in", () => {
    fc.assert(
      fc.property(
        bookArb(realScale).chain((b) =>
          fc.tuple(
            fc.constant(b),
            fc.shuffledSubarray(b.positions, { minLength: b.positions.length, maxLength: b.positions.length }),
          ),
        ),
        ([{ positions, limits }, shuffled]) => {
          expect(clearZonal(shuffled, tariffs, limits)).toEqual(clearZonal(positions, tariffs, limits));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("with one unlimited, free zone equals clearInterval, fill for fill", () => {
    const oneZone = fc
      .tuple(fc.integer({ min: 0, max: 65_535 }), fc.boolean())
      .chain(([zone, explicit]) =>
        fc.tuple(
          positionsArb([zone], realScale),
          fc.constant(explicit ? new Map([[zone, FREE]]) : new Map<number, ZoneLimits>()),
        ),
      );
    fc.assert(
      fc.property(oneZone, ([positions, limits]) => {
        const c = clearZonal(positions, tariffs, limits);
        const single = clearInterval(positions, tariffs);
        expect([c.hubLowMicroPerKwh, c.hubHighMicroPerKwh, c.hubPriceMicroPerKwh]).toEqual([
          single.priceLowMicroPerKwh,
          single.priceHighMicroPerKwh,
          single.priceMicroPerKwh,
        ]);
        expect(c.zones.map((z) => [z.netExportWh, z.priceMicroPerKwh, z.capacityBound])).toEqual([
          [0n, single.priceMicroPerKwh, false],
        ]);
        expect(c.fills).toEqual(single.fills);
        expect(c.tradedWh).toBe(single.tradedWh);
      }),
      { numRuns: RUNS },
    );
  });

  it("with several unlimited, free zones gives clearInterval's prices and volume, each fill within 2 Wh of its", () => {
    const freeZones = zoneIdsArb.chain((zoneIds) =>
      fc.tuple(
        shiftsArb(zoneIds.length, realScale).chain((shifts) => positionsArb(zoneIds, realScale, shifts)),
        fc.constant(new Map(zoneIds.filter((z) => z % 2 === 0).map((z) => [z, FREE]))),
      ),
    );
    fc.assert(
      fc.property(freeZones, ([positions, limits]) => {
        const c = clearZonal(positions, tariffs, limits);
        const single = clearInterval(positions, tariffs);
        const p = single.priceMicroPerKwh;
        expect([c.hubLowMicroPerKwh, c.hubHighMicroPerKwh, c.hubPriceMicroPerKwh]).toEqual([
          single.priceLowMicroPerKwh,
          single.priceHighMicroPerKwh,
          p,
        ]);
        for (const z of c.zones) expect([z.priceMicroPerKwh, z.capacityBound]).toEqual([p, false]);
        expect(c.tradedWh).toBe(single.tradedWh);
        // Ties are rationed zone by zone, then meter by meter, each rounded: a fill may move by up to 2 Wh
        // (see the examples; the zone's share and the meter's share within it are each off by less than 1).
        c.fills.forEach((f, i) => {
          const g = single.fills[i] as Fill;
          expect(f.meterId).toBe(g.meterId);
          expect(f.soldWh - g.soldWh <= 2n && g.soldWh - f.soldWh <= 2n).toBe(true);
          expect(f.boughtWh - g.boughtWh <= 2n && g.boughtWh - f.boughtWh <= 2n).toBe(true);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("an islanded zone (both capacities 0) clears as clearInterval of its own positions", () => {
    const islanded = bookArb(realScale).chain((book) => {
      const zoneIds = [...new Set(book.positions.map((p) => p.zone))];
      return fc.tuple(fc.constant(book), fc.constantFrom(...zoneIds), fc.bigInt({ min: 0n, max: realScale.maxFee }));
    });
    fc.assert(
      fc.property(islanded, ([{ positions, limits }, zone, fee]) => {
        const c = clearZonal(positions, tariffs, new Map([...limits, [zone, limit(0n, 0n, fee)]]));
        const own = positions.filter((p) => p.zone === zone);
        const alone = clearInterval(own, tariffs);
        expect(c.zones.find((z) => z.zone === zone)).toMatchObject({
          netExportWh: 0n,
          priceLowMicroPerKwh: alone.priceLowMicroPerKwh,
          priceHighMicroPerKwh: alone.priceHighMicroPerKwh,
          priceMicroPerKwh: alone.priceMicroPerKwh,
        });
        const ownIds = new Set(own.map((p) => p.meterId));
        expect(c.fills.filter((f) => ownIds.has(f.meterId))).toEqual(alone.fills);
      }),
      { numRuns: RUNS },
    );
  });
});
