import { WH_PER_KWH } from "./money.ts";

/** Grid tariffs; every clearing price lies in [feedIn, retail]. */
export type Tariffs = {
  feedInMicroPerKwh: bigint;
  retailMicroPerKwh: bigint;
};

/** A participant's standing order; a cap of 0 means the participant is not on that side. */
export type StandingOrder = {
  askMicroPerKwh: bigint;
  maxSellWh: bigint;
  bidMicroPerKwh: bigint;
  maxBuyWh: bigint;
};

/** One meter's verified reading in an interval, with its owner's order and escrow (negative: grid debt). */
export type MeterPosition = {
  meterId: number;
  exportWh: bigint;
  importWh: bigint;
  order: StandingOrder;
  balanceMicro: bigint;
};

/** What a meter effectively offers and demands: caps applied, prices clamped into the tariff band. */
export type EffectiveOrder = {
  meterId: number;
  offerWh: bigint;
  askMicroPerKwh: bigint;
  demandWh: bigint;
  bidMicroPerKwh: bigint;
};

export type Fill = { meterId: number; soldWh: bigint; boughtWh: bigint };

/** The clearing of one interval, in the shape the market contract verifies. */
export type Clearing = {
  priceLowMicroPerKwh: bigint;
  priceHighMicroPerKwh: bigint;
  priceMicroPerKwh: bigint;
  /** One per meter, in increasing meter id. */
  fills: Fill[];
  tradedWh: bigint;
};

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * Applies the market's rules to one position: sell up to the export and the sell cap at an ask of at
 * least the feed-in tariff; buy up to the import, the buy cap and what escrow pays at the bid, at a bid
 * of at most the retail price. Mirrors `EnergyMarket._effectiveOrder`.
 * @example effectiveOrder({ meterId: 1, exportWh: 500n, importWh: 0n, balanceMicro: 0n,
 *   order: { askMicroPerKwh: 0n, maxSellWh: 10_000n, bidMicroPerKwh: 0n, maxBuyWh: 0n } },
 *   { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 300_000n })
 * // { meterId: 1, offerWh: 500n, askMicroPerKwh: 80_000n, demandWh: 0n, bidMicroPerKwh: 0n }
 */
export function effectiveOrder(p: MeterPosition, tariffs: Tariffs): EffectiveOrder {
  const ask = p.order.askMicroPerKwh < tariffs.feedInMicroPerKwh ? tariffs.feedInMicroPerKwh : p.order.askMicroPerKwh;
  let demandWh = 0n;
  let bid = 0n;
  if (p.order.maxBuyWh !== 0n && p.order.bidMicroPerKwh !== 0n) {
    bid = min(p.order.bidMicroPerKwh, tariffs.retailMicroPerKwh);
    const escrowMicro = p.balanceMicro > 0n ? p.balanceMicro : 0n;
    demandWh = min(min(p.importWh, p.order.maxBuyWh), (escrowMicro * WH_PER_KWH) / bid);
  }
  return {
    meterId: p.meterId,
    offerWh: min(p.exportWh, p.order.maxSellWh),
    askMicroPerKwh: ask,
    demandWh,
    bidMicroPerKwh: bid,
  };
}

type Curve = { supplyBelow: bigint; supplyAtOrBelow: bigint; demandAbove: bigint; demandAtOrAbove: bigint };

const byPrice = (a: readonly [bigint, bigint], b: readonly [bigint, bigint]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Index of the first price in ascending `prices` that is >= x (strict: > x). */
function searchPrices(prices: readonly (readonly [bigint, bigint])[], x: bigint, strict: boolean): number {
  let lo = 0;
  let hi = prices.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const p = (prices[mid] as readonly [bigint, bigint])[0];
    if (strict ? p <= x : p < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Supply and demand curves of a book: asks and bids sorted by price with cumulative quantities, so
 * each evaluation is a binary search. Building them is the O(n log n) part of clearing.
 */
function curves(book: readonly EffectiveOrder[]): (x: bigint) => Curve {
  const asks = book.filter((o) => o.offerWh !== 0n).map((o) => [o.askMicroPerKwh, o.offerWh] as const);
  const bids = book.filter((o) => o.demandWh !== 0n).map((o) => [o.bidMicroPerKwh, o.demandWh] as const);
  asks.sort(byPrice);
  bids.sort(byPrice);
  // supplyUpTo[i]: offered Wh of the i cheapest asks; demandFrom[i]: demanded Wh of bids i and above.
  const supplyUpTo = [0n];
  for (const [, q] of asks) supplyUpTo.push((supplyUpTo.at(-1) as bigint) + q);
  const demandFrom = new Array<bigint>(bids.length + 1).fill(0n);
  for (let i = bids.length - 1; i >= 0; i--)
    demandFrom[i] = (demandFrom[i + 1] as bigint) + (bids[i] as readonly [bigint, bigint])[1];
  return (x) => ({
    supplyBelow: supplyUpTo[searchPrices(asks, x, false)] as bigint,
    supplyAtOrBelow: supplyUpTo[searchPrices(asks, x, true)] as bigint,
    demandAbove: demandFrom[searchPrices(bids, x, true)] as bigint,
    demandAtOrAbove: demandFrom[searchPrices(bids, x, false)] as bigint,
  });
}

/** Smallest x in [lo, hi] with pred(x), for a predicate false below some point and true from it on. */
function firstTrue(lo: bigint, hi: bigint, pred: (x: bigint) => boolean): bigint {
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if (pred(mid)) hi = mid;
    else lo = mid + 1n;
  }
  return lo;
}

/** Fills one side: better-priced orders fully, ties at p pro rata with remainder to lowest ids. */
function fillSide(
  book: EffectiveOrder[],
  quantity: (o: EffectiveOrder) => bigint,
  isBetter: (o: EffectiveOrder) => boolean,
  isTied: (o: EffectiveOrder) => boolean,
  residualWh: bigint | undefined,
): bigint[] {
  const tiedWh = book.reduce((sum, o) => (isTied(o) ? sum + quantity(o) : sum), 0n);
  const fills = book.map((o) => {
    if (quantity(o) === 0n) return 0n;
    if (isBetter(o)) return quantity(o);
    if (!isTied(o)) return 0n;
    return residualWh === undefined ? quantity(o) : (quantity(o) * residualWh) / tiedWh;
  });
  if (residualWh !== undefined) {
    let remainder = residualWh - book.reduce((sum, o, i) => (isTied(o) ? sum + (fills[i] ?? 0n) : sum), 0n);
    for (let i = 0; i < book.length && remainder > 0n; i++) {
      const o = book[i] as EffectiveOrder;
      if (isTied(o) && quantity(o) !== 0n) {
        fills[i] = (fills[i] ?? 0n) + 1n;
        remainder -= 1n;
      }
    }
  }
  return fills;
}

/**
 * Clears one interval as a uniform-price double auction (the rule is in docs/architecture.md and
 * `ClearingVerifier.sol`): the price is the midpoint of the interval of equilibrium prices inside
 * [feed-in, retail], every order priced better than it is filled, ties on the long side are rationed
 * pro rata. Pure and deterministic: positions may arrive in any order. O(n log n): sorting the book
 * dominates; the equilibrium bounds are binary searches over the price band, each step a binary
 * search over the sorted curves.
 * @example
 * const tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 300_000n };
 * const seller = { meterId: 1, exportWh: 1000n, importWh: 0n, balanceMicro: 0n,
 *   order: { askMicroPerKwh: 100_000n, maxSellWh: 10_000n, bidMicroPerKwh: 0n, maxBuyWh: 0n } };
 * const buyer = { meterId: 2, exportWh: 0n, importWh: 600n, balanceMicro: 10_000_000n,
 *   order: { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 250_000n, maxBuyWh: 10_000n } };
 * clearInterval([buyer, seller], tariffs).priceMicroPerKwh // 100_000n: supply is long, price falls to the ask
 */
export function clearInterval(positions: readonly MeterPosition[], tariffs: Tariffs): Clearing {
  const { feedInMicroPerKwh: feedIn, retailMicroPerKwh: retail } = tariffs;
  if (feedIn <= 0n || feedIn > retail) throw new RangeError(`invalid tariffs: feed-in ${feedIn}, retail ${retail}`);
  const sorted = [...positions].sort((a, b) => a.meterId - b.meterId);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.meterId === sorted[i - 1]?.meterId) throw new RangeError(`meter ${sorted[i]?.meterId} appears twice`);
  }
  const book = sorted.map((p) => effectiveOrder(p, tariffs));
  const curveAt = curves(book);

  // Lowest price where demand strictly above it fits in supply at or below it; highest price where
  // supply strictly below it fits in demand at or above it. Both predicates are monotone in x.
  const low = firstTrue(feedIn, retail, (x) => {
    const c = curveAt(x);
    return c.demandAbove <= c.supplyAtOrBelow;
  });
  const high =
    firstTrue(feedIn, retail + 1n, (x) => {
      if (x > retail) return true;
      const c = curveAt(x);
      return c.supplyBelow > c.demandAtOrAbove;
    }) - 1n;
  const price = (low + high) / 2n;

  const at = curveAt(price);
  const volume = min(at.supplyAtOrBelow, at.demandAtOrAbove);
  const sellersRationed = at.supplyAtOrBelow > volume;
  const buyersRationed = !sellersRationed && at.demandAtOrAbove > volume;

  const sold = fillSide(
    book,
    (o) => o.offerWh,
    (o) => o.askMicroPerKwh < price,
    (o) => o.askMicroPerKwh === price,
    sellersRationed ? volume - at.supplyBelow : undefined,
  );
  const bought = fillSide(
    book,
    (o) => o.demandWh,
    (o) => o.bidMicroPerKwh > price,
    (o) => o.bidMicroPerKwh === price,
    buyersRationed ? volume - at.demandAbove : undefined,
  );
  return {
    priceLowMicroPerKwh: low,
    priceHighMicroPerKwh: high,
    priceMicroPerKwh: price,
    fills: book.map((o, i) => ({ meterId: o.meterId, soldWh: sold[i] ?? 0n, boughtWh: bought[i] ?? 0n })),
    tradedWh: volume,
  };
}
