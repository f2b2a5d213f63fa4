import {
  byMeterId,
  checkTariffs,
  type EffectiveOrder,
  effectiveOrder,
  type Fill,
  type MeterPosition,
  type Tariffs,
} from "./clearing.ts";

/** The largest capacity a zone can have (uint64): a zone with this capacity is never clipped in practice. */
export const UNLIMITED_WH = 2n ** 64n - 1n;

/** Highest zone id (zones are uint16 on chain). */
const MAX_ZONE = 65_535;

/** Per-zone limits set by the grid operator; a zone without entry is unlimited and free. */
export type ZoneLimits = { importCapWh: bigint; exportCapWh: bigint; feeMicroPerKwh: bigint };

/** A meter's position together with the grid zone its meter sits in (integer 0..65535). */
export type ZonalPosition = MeterPosition & { zone: number };

/** The clearing of one zone: its net export to the hub and its price bounds. */
export type ZoneResult = {
  zone: number;
  /** e_z: sold − bought inside the zone, i.e. what it exports to the hub (negative: imports). */
  netExportWh: bigint;
  priceLowMicroPerKwh: bigint;
  priceHighMicroPerKwh: bigint;
  priceMicroPerKwh: bigint;
  /** True when the zone's price lies outside [π, π + f_z]: a capacity split it from the hub. */
  capacityBound: boolean;
};

/** The zonal clearing of one interval, in the shape the zonal verifier checks. */
export type ZonalClearing = {
  hubLowMicroPerKwh: bigint;
  hubHighMicroPerKwh: bigint;
  hubPriceMicroPerKwh: bigint;
  /** One per zone that has at least one position, in increasing zone id. */
  zones: ZoneResult[];
  /** One per position, in increasing meter id. */
  fills: Fill[];
  /** Total sold, which equals total bought since the zones' net exports add up to zero. */
  tradedWh: bigint;
};

const FREE_UNLIMITED: ZoneLimits = { importCapWh: UNLIMITED_WH, exportCapWh: UNLIMITED_WH, feeMicroPerKwh: 0n };

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/**
 * A zone's supply and demand curves: ask and bid prices ascending with cumulative quantities, so any of
 * S, S<, D, D> at a price is one binary search.
 */
type Curves = {
  askPricesMicroPerKwh: bigint[];
  /** supplyUpToWh[i]: offered Wh of the i cheapest asks. */
  supplyUpToWh: bigint[];
  bidPricesMicroPerKwh: bigint[];
  /** demandFromWh[i]: demanded Wh of bids i and above (in ascending bid order). */
  demandFromWh: bigint[];
};

/** One zone's book: its orders (increasing meter id), where they sit in the whole book, curves, limits. */
type ZoneBook = {
  zone: number;
  orders: EffectiveOrder[];
  bookIndices: number[];
  curves: Curves;
  limits: ZoneLimits;
};

/** Index of the first entry of ascending `prices` that is >= x (strict: > x). */
function searchPrices(prices: readonly bigint[], x: bigint, strict: boolean): number {
  let lo = 0;
  let hi = prices.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const p = prices[mid] as bigint;
    if (strict ? p <= x : p < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Smallest x in [lo, hi] with pred(x), for a predicate false below some point and true from it on (hi if none). */
function firstTrue(lo: bigint, hi: bigint, pred: (x: bigint) => boolean): bigint {
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if (pred(mid)) hi = mid;
    else lo = mid + 1n;
  }
  return lo;
}

const byFirst = (a: readonly [bigint, bigint], b: readonly [bigint, bigint]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Sorts a zone's asks and bids once and accumulates their quantities: the O(n log n) part. */
function buildCurves(orders: readonly EffectiveOrder[]): Curves {
  const asks: [bigint, bigint][] = [];
  const bids: [bigint, bigint][] = [];
  for (const o of orders) {
    if (o.offerWh !== 0n) asks.push([o.askMicroPerKwh, o.offerWh]);
    if (o.demandWh !== 0n) bids.push([o.bidMicroPerKwh, o.demandWh]);
  }
  asks.sort(byFirst);
  bids.sort(byFirst);
  const supplyUpToWh = new Array<bigint>(asks.length + 1);
  supplyUpToWh[0] = 0n;
  for (let i = 0; i < asks.length; i++) supplyUpToWh[i + 1] = (supplyUpToWh[i] as bigint) + (asks[i] as [bigint, bigint])[1];
  const demandFromWh = new Array<bigint>(bids.length + 1);
  demandFromWh[bids.length] = 0n;
  for (let i = bids.length - 1; i >= 0; i--) demandFromWh[i] = (demandFromWh[i + 1] as bigint) + (bids[i] as [bigint, bigint])[1];
  return {
    askPricesMicroPerKwh: asks.map((a) => a[0]),
    supplyUpToWh,
    bidPricesMicroPerKwh: bids.map((b) => b[0]),
    demandFromWh,
  };
}

/** S<(x): offered Wh with ask < x. */
const supplyBelowWh = (c: Curves, x: bigint) => c.supplyUpToWh[searchPrices(c.askPricesMicroPerKwh, x, false)] as bigint;
/** S(x): offered Wh with ask <= x. */
const supplyAtOrBelowWh = (c: Curves, x: bigint) => c.supplyUpToWh[searchPrices(c.askPricesMicroPerKwh, x, true)] as bigint;
/** D>(x): demanded Wh with bid > x. */
const demandAboveWh = (c: Curves, x: bigint) => c.demandFromWh[searchPrices(c.bidPricesMicroPerKwh, x, true)] as bigint;
/** D(x): demanded Wh with bid >= x. */
const demandAtOrAboveWh = (c: Curves, x: bigint) => c.demandFromWh[searchPrices(c.bidPricesMicroPerKwh, x, false)] as bigint;

/**
 * A_z(x) = S<_z(x) − D_z(x): the least net export (sold − bought) zone z can have at zone price x.
 * @example minNetExportWh(buildCurves([{ meterId: 1, offerWh: 5n, askMicroPerKwh: 90n, demandWh: 0n, bidMicroPerKwh: 0n }]), 90n) // 0n
 */
function minNetExportWh(c: Curves, x: bigint): bigint {
  return supplyBelowWh(c, x) - demandAtOrAboveWh(c, x);
}

/**
 * B_z(x) = S_z(x) − D>_z(x): the most net export zone z can have at zone price x.
 * @example maxNetExportWh(buildCurves([{ meterId: 1, offerWh: 5n, askMicroPerKwh: 90n, demandWh: 0n, bidMicroPerKwh: 0n }]), 90n) // 5n
 */
function maxNetExportWh(c: Curves, x: bigint): bigint {
  return supplyAtOrBelowWh(c, x) - demandAboveWh(c, x);
}

/**
 * lo_z(x): the least the zone exports when the hub price is x (it sells at x, buys at x + f_z; caps clip).
 * lo_z(x) = min(A_z(x), capX_z) if A_z(x) > 0, else max(min(A_z(x + f_z), 0), −capM_z).
 */
function hubMinExportWh(zone: ZoneBook, x: bigint): bigint {
  const { exportCapWh, importCapWh, feeMicroPerKwh } = zone.limits;
  const atSell = minNetExportWh(zone.curves, x);
  if (atSell > 0n) return min(atSell, exportCapWh);
  return max(min(minNetExportWh(zone.curves, x + feeMicroPerKwh), 0n), -importCapWh);
}

/**
 * hi_z(x): the most the zone exports when the hub price is x.
 * hi_z(x) = max(B_z(x + f_z), −capM_z) if B_z(x + f_z) < 0, else min(max(B_z(x), 0), capX_z).
 */
function hubMaxExportWh(zone: ZoneBook, x: bigint): bigint {
  const { exportCapWh, importCapWh, feeMicroPerKwh } = zone.limits;
  const atBuy = maxNetExportWh(zone.curves, x + feeMicroPerKwh);
  if (atBuy < 0n) return max(atBuy, -importCapWh);
  return min(max(maxNetExportWh(zone.curves, x), 0n), exportCapWh);
}

const sumOver = (zones: readonly ZoneBook[], f: (zone: ZoneBook) => bigint) => zones.reduce((sum, z) => sum + f(z), 0n);

/**
 * The hub's equilibrium prices [low, high] (L(x) ≤ 0 ≤ H(x)) and its price π = ⌊(low + high)/2⌋.
 * H is non-decreasing with H(retail) ≥ 0, L non-decreasing with L(feed-in) ≤ 0: two binary searches.
 */
function hubPrice(zones: readonly ZoneBook[], tariffs: Tariffs): { lowMicroPerKwh: bigint; highMicroPerKwh: bigint } {
  const { feedInMicroPerKwh: feedIn, retailMicroPerKwh: retail } = tariffs;
  const lowMicroPerKwh = firstTrue(feedIn, retail, (x) => sumOver(zones, (z) => hubMaxExportWh(z, x)) >= 0n);
  const highMicroPerKwh =
    firstTrue(feedIn, retail + 1n, (x) => x > retail || sumOver(zones, (z) => hubMinExportWh(z, x)) > 0n) - 1n;
  return { lowMicroPerKwh, highMicroPerKwh };
}

/** A zone's lo_z(π) and its seller and buyer slack σ_z, β_z (σ_z + β_z = hi_z(π) − lo_z(π)). */
type HubSlack = { loWh: bigint; sellerWh: bigint; buyerWh: bigint };

/** clamp(x, lo, hi) for lo ≤ hi. */
const clamp = (x: bigint, lo: bigint, hi: bigint) => min(max(x, lo), hi);

/**
 * A zone's export range [lo_z(π), hi_z(π)] at hub price π, split at m_z (its tied sellers have all sold
 * and its tied buyers all still buy, at the price it trades with the hub: π if hi_z > 0, else π + f_z)
 * into seller slack σ_z = clamp(m_z) − lo_z and buyer slack β_z = hi_z − clamp(m_z).
 */
function hubSlack(zone: ZoneBook, hubMicroPerKwh: bigint): HubSlack {
  const loWh = hubMinExportWh(zone, hubMicroPerKwh);
  const hiWh = hubMaxExportWh(zone, hubMicroPerKwh);
  const at = hiWh > 0n ? hubMicroPerKwh : hubMicroPerKwh + zone.limits.feeMicroPerKwh;
  const splitWh = clamp(supplyAtOrBelowWh(zone.curves, at) - demandAtOrAboveWh(zone.curves, at), loWh, hiWh);
  return { loWh, sellerWh: splitWh - loWh, buyerWh: hiWh - splitWh };
}

/**
 * The zones' net exports at hub price π: each zone starts at lo_z(π) and the hub's shortfall −L(π) is
 * covered by tied sellers first (pro rata to seller slack), tied buyers staying out only beyond that (pro
 * rata to buyer slack); rounded down, then one Wh each to the zones with slack on that side, in increasing
 * zone id, until Σ e_z = 0. Of all the equally good flows this one trades the most energy.
 * @example // [lo, hi] = [−10, −10] and [0, 100] with all 100 Wh tied sellers: σ = [0, 100], short 10 → e = [−10, 10]
 */
function zoneFlowsWh(zones: readonly ZoneBook[], hubMicroPerKwh: bigint): bigint[] {
  const slacks = zones.map((z) => hubSlack(z, hubMicroPerKwh));
  const shortWh = -slacks.reduce((sum, s) => sum + s.loWh, 0n);
  const sellerTotalWh = slacks.reduce((sum, s) => sum + s.sellerWh, 0n);
  const buyerTotalWh = slacks.reduce((sum, s) => sum + s.buyerWh, 0n);
  const sellersRationed = shortWh <= sellerTotalWh;
  const slackOf = (s: HubSlack) => (sellersRationed ? s.sellerWh : s.buyerWh);
  const totalWh = sellersRationed ? sellerTotalWh : buyerTotalWh;
  const residualWh = sellersRationed ? shortWh : shortWh - sellerTotalWh;
  let handedWh = 0n;
  const flows = slacks.map((s) => {
    const shareWh = totalWh === 0n ? 0n : (slackOf(s) * residualWh) / totalWh;
    handedWh += shareWh;
    return s.loWh + (sellersRationed ? shareWh : s.sellerWh + shareWh);
  });
  for (let i = 0; i < slacks.length && handedWh < residualWh; i++) {
    if (slackOf(slacks[i] as HubSlack) > 0n) {
      flows[i] = (flows[i] as bigint) + 1n;
      handedWh += 1n;
    }
  }
  return flows;
}

type PriceWindow = { lowMicroPerKwh: bigint; highMicroPerKwh: bigint };

/**
 * W_z, where zone z's price may lie given its net export e_z and the hub price π: π for a non-binding
 * exporter, π + f_z for a non-binding importer, [π, min(π + f_z, retail)] for a self-sufficient zone (from
 * feed-in if it cannot export, to retail if it cannot import: an islanded zone clears on its own),
 * [feed-in, retail] when a capacity binds.
 */
function zonePriceWindow(zone: ZoneBook, netExportWh: bigint, hubMicroPerKwh: bigint, tariffs: Tariffs): PriceWindow {
  const { exportCapWh, importCapWh, feeMicroPerKwh } = zone.limits;
  const { feedInMicroPerKwh: feedIn, retailMicroPerKwh: retail } = tariffs;
  const buyMicroPerKwh = hubMicroPerKwh + feeMicroPerKwh;
  const window = (lowMicroPerKwh: bigint, highMicroPerKwh: bigint): PriceWindow => ({ lowMicroPerKwh, highMicroPerKwh });
  if (netExportWh > 0n && netExportWh >= minNetExportWh(zone.curves, hubMicroPerKwh))
    return window(hubMicroPerKwh, hubMicroPerKwh);
  if (netExportWh < 0n && netExportWh <= maxNetExportWh(zone.curves, buyMicroPerKwh))
    return window(buyMicroPerKwh, buyMicroPerKwh);
  if (
    netExportWh === 0n &&
    minNetExportWh(zone.curves, hubMicroPerKwh) <= 0n &&
    maxNetExportWh(zone.curves, buyMicroPerKwh) >= 0n
  ) {
    return window(exportCapWh === 0n ? feedIn : hubMicroPerKwh, importCapWh === 0n ? retail : min(buyMicroPerKwh, retail));
  }
  return window(feedIn, retail);
}

/**
 * Zone z's equilibrium prices given e_z (A_z(x) ≤ e_z ≤ B_z(x)) inside its window: low_z is the first x
 * in W_z with B_z(x) ≥ e_z, high_z the last with A_z(x) ≤ e_z.
 */
function zonePriceBounds(zone: ZoneBook, netExportWh: bigint, w: PriceWindow): { low: bigint; high: bigint } {
  const low = firstTrue(w.lowMicroPerKwh, w.highMicroPerKwh, (x) => maxNetExportWh(zone.curves, x) >= netExportWh);
  const high =
    firstTrue(
      w.lowMicroPerKwh,
      w.highMicroPerKwh + 1n,
      (x) => x > w.highMicroPerKwh || minNetExportWh(zone.curves, x) > netExportWh,
    ) - 1n;
  return { low, high };
}

/**
 * Fills one side of a zone: orders better than the price completely, worse ones not at all; when the
 * side is rationed (`residualWh` defined), ties share `residualWh` pro rata to their quantity, rounded
 * down, and the Wh left over go one each to the tied orders with a quantity, lowest meter id first.
 */
function fillSide(
  orders: readonly EffectiveOrder[],
  quantityWh: (o: EffectiveOrder) => bigint,
  limitMicroPerKwh: (o: EffectiveOrder) => bigint,
  isBetter: (limit: bigint) => boolean,
  priceMicroPerKwh: bigint,
  residualWh: bigint | undefined,
): bigint[] {
  const isTied = (o: EffectiveOrder) => quantityWh(o) !== 0n && limitMicroPerKwh(o) === priceMicroPerKwh;
  const tiedWh = orders.reduce((sum, o) => (isTied(o) ? sum + quantityWh(o) : sum), 0n);
  const fills = orders.map((o) => {
    const q = quantityWh(o);
    if (q === 0n) return 0n;
    if (isBetter(limitMicroPerKwh(o))) return q;
    if (!isTied(o)) return 0n;
    return residualWh === undefined ? q : (q * residualWh) / tiedWh;
  });
  if (residualWh === undefined) return fills;
  let remainderWh = residualWh - orders.reduce((sum, o, i) => (isTied(o) ? sum + (fills[i] as bigint) : sum), 0n);
  for (let i = 0; i < orders.length && remainderWh > 0n; i++) {
    if (isTied(orders[i] as EffectiveOrder)) {
      fills[i] = (fills[i] as bigint) + 1n;
      remainderWh -= 1n;
    }
  }
  return fills;
}

/**
 * Fills inside zone z at price p with e_z as a fixed outside buyer (e_z > 0) or seller (e_z < 0): sellers
 * sell V = min(S_z(p), D_z(p) + e_z), buyers buy V − e_z; the long side is rationed.
 */
function fillZone(zone: ZoneBook, priceMicroPerKwh: bigint, netExportWh: bigint): { sold: bigint[]; bought: bigint[] } {
  const c = zone.curves;
  const p = priceMicroPerKwh;
  const supplyWh = supplyAtOrBelowWh(c, p);
  const demandWh = demandAtOrAboveWh(c, p);
  const soldWh = min(supplyWh, demandWh + netExportWh);
  const boughtWh = soldWh - netExportWh;
  const sold = fillSide(
    zone.orders,
    (o) => o.offerWh,
    (o) => o.askMicroPerKwh,
    (ask) => ask < p,
    p,
    supplyWh > soldWh ? soldWh - supplyBelowWh(c, p) : undefined,
  );
  const bought = fillSide(
    zone.orders,
    (o) => o.demandWh,
    (o) => o.bidMicroPerKwh,
    (bid) => bid > p,
    p,
    demandWh > boughtWh ? boughtWh - demandAboveWh(c, p) : undefined,
  );
  return { sold, bought };
}

function validateLimits(limits: ReadonlyMap<number, ZoneLimits>): void {
  for (const [zone, l] of limits) {
    for (const [name, capWh] of [
      ["import capacity", l.importCapWh],
      ["export capacity", l.exportCapWh],
    ] as const) {
      if (capWh < 0n || capWh > UNLIMITED_WH)
        throw new RangeError(`zone ${zone}: ${name} ${capWh} Wh outside 0..${UNLIMITED_WH}`);
    }
    if (l.feeMicroPerKwh < 0n) throw new RangeError(`zone ${zone}: negative grid fee ${l.feeMicroPerKwh}`);
  }
}

/** Positions in increasing meter id; refuses duplicate meters and zone ids outside 0..65535. */
function sortPositions(positions: readonly ZonalPosition[]): ZonalPosition[] {
  const sorted = byMeterId(positions);
  for (const p of sorted) {
    if (!Number.isInteger(p.zone) || p.zone < 0 || p.zone > MAX_ZONE) {
      throw new RangeError(`meter ${p.meterId}: zone ${p.zone} is not an integer in 0..${MAX_ZONE}`);
    }
  }
  return sorted;
}

/** Splits the book (increasing meter id) by zone, in increasing zone id, and builds each zone's curves. */
function zoneBooks(
  sorted: readonly ZonalPosition[],
  book: readonly EffectiveOrder[],
  limits: ReadonlyMap<number, ZoneLimits>,
): ZoneBook[] {
  const byZone = new Map<number, { orders: EffectiveOrder[]; bookIndices: number[] }>();
  sorted.forEach((p, i) => {
    let entry = byZone.get(p.zone);
    if (entry === undefined) {
      entry = { orders: [], bookIndices: [] };
      byZone.set(p.zone, entry);
    }
    entry.orders.push(book[i] as EffectiveOrder);
    entry.bookIndices.push(i);
  });
  return [...byZone.entries()]
    .sort(([a], [b]) => a - b)
    .map(([zone, { orders, bookIndices }]) => ({
      zone,
      orders,
      bookIndices,
      curves: buildCurves(orders),
      limits: limits.get(zone) ?? FREE_UNLIMITED,
    }));
}

/**
 * Clears one interval by zones ("market splitting", the rule in docs/architecture.md, "Grid zones"):
 * a hub price π from the zones' export ranges under their capacities and fees, each zone's net export
 * e_z (the hub's shortfall covered by tied sellers first, then by tied buyers staying out, pro rata to
 * each zone's slack, remainder by zone id), each zone's price inside its window, and
 * fills inside each zone at its price with e_z as a fixed outside trade. Pure and deterministic:
 * positions may arrive in any order. O(n log n): sorting dominates; prices are binary searches.
 * Throws RangeError for invalid tariffs, a duplicate meter, a zone id outside 0..65535, or negative
 * capacities or fees.
 * @example
 * const tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 300_000n };
 * const seller = { meterId: 1, zone: 0, exportWh: 1000n, importWh: 0n, balanceMicro: 0n,
 *   order: { askMicroPerKwh: 100_000n, maxSellWh: 10_000n, bidMicroPerKwh: 0n, maxBuyWh: 0n } };
 * const buyer = { meterId: 2, zone: 1, exportWh: 0n, importWh: 600n, balanceMicro: 10_000_000n,
 *   order: { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 250_000n, maxBuyWh: 10_000n } };
 * const fee = new Map([[1, { importCapWh: UNLIMITED_WH, exportCapWh: UNLIMITED_WH, feeMicroPerKwh: 20_000n }]]);
 * clearZonal([seller, buyer], tariffs, fee).zones.map((z) => z.priceMicroPerKwh) // [100_000n, 120_000n]
 * clearZonal([seller, buyer], tariffs, new Map([[0, { importCapWh: 0n, exportCapWh: 0n, feeMicroPerKwh: 0n }]]))
 *   .tradedWh // 0n: zone 0 is islanded
 */
export function clearZonal(
  positions: readonly ZonalPosition[],
  tariffs: Tariffs,
  limits: ReadonlyMap<number, ZoneLimits>,
): ZonalClearing {
  checkTariffs(tariffs);
  validateLimits(limits);
  const sorted = sortPositions(positions);
  const book = sorted.map((p) => effectiveOrder(p, tariffs));
  const zones = zoneBooks(sorted, book, limits);

  const hub = hubPrice(zones, tariffs);
  const hubMicroPerKwh = (hub.lowMicroPerKwh + hub.highMicroPerKwh) / 2n;
  const flowsWh = zoneFlowsWh(zones, hubMicroPerKwh);

  const soldWh = new Array<bigint>(book.length).fill(0n);
  const boughtWh = new Array<bigint>(book.length).fill(0n);
  let tradedWh = 0n;
  const zoneResults = zones.map((zone, z): ZoneResult => {
    const netExportWh = flowsWh[z] as bigint;
    const window = zonePriceWindow(zone, netExportWh, hubMicroPerKwh, tariffs);
    const { low, high } = zonePriceBounds(zone, netExportWh, window);
    const priceMicroPerKwh = (low + high) / 2n;
    const { sold, bought } = fillZone(zone, priceMicroPerKwh, netExportWh);
    zone.bookIndices.forEach((bookIndex, i) => {
      soldWh[bookIndex] = sold[i] as bigint;
      boughtWh[bookIndex] = bought[i] as bigint;
      tradedWh += sold[i] as bigint;
    });
    return {
      zone: zone.zone,
      netExportWh,
      priceLowMicroPerKwh: low,
      priceHighMicroPerKwh: high,
      priceMicroPerKwh,
      capacityBound: priceMicroPerKwh < hubMicroPerKwh || priceMicroPerKwh > hubMicroPerKwh + zone.limits.feeMicroPerKwh,
    };
  });
  return {
    hubLowMicroPerKwh: hub.lowMicroPerKwh,
    hubHighMicroPerKwh: hub.highMicroPerKwh,
    hubPriceMicroPerKwh: hubMicroPerKwh,
    zones: zoneResults,
    fills: book.map((o, i) => ({ meterId: o.meterId, soldWh: soldWh[i] as bigint, boughtWh: boughtWh[i] as bigint })),
    tradedWh,
  };
}
