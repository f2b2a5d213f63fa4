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

/** The tariff band: every price the clearing evaluates lies in [feedIn, retail]. */
type Band = { feedIn: bigint; retail: bigint };

/** The book's sellers ("ask": offers at asks) or buyers ("bid": demands at bids). */
type Side = "ask" | "bid";

const quantityOf = (o: EffectiveOrder, side: Side) => (side === "ask" ? o.offerWh : o.demandWh);

const limitOf = (o: EffectiveOrder, side: Side) => (side === "ask" ? o.askMicroPerKwh : o.bidMicroPerKwh);

/**
 * Whether an order is on a side's curve: a non-zero quantity at a limit inside the band. An ask above
 * retail or a bid below feed-in counts at no price of the band (nor fills), so leaving it out changes
 * nothing and keeps every limit on a curve within the band.
 */
function onCurve(o: EffectiveOrder, side: Side, band: Band): boolean {
  const limit = limitOf(o, side);
  return quantityOf(o, side) !== 0n && limit >= band.feedIn && limit <= band.retail;
}

/**
 * One side's curve: its orders (see `onCurve`) grouped by limit: `levels` distinct limits,
 * `priceAt(k)` the k-th lowest, `whUpTo(k)` the Wh of the orders at the k lowest.
 */
type Ladder = { levels: number; priceAt: (k: number) => bigint; whUpTo: (k: number) => bigint };

const compare = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** Number of a ladder's levels priced below x (inclusive: at or below x). */
function countBelow(ladder: Ladder, x: bigint, inclusive: boolean): number {
  let lo = 0;
  let hi = ladder.levels;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const p = ladder.priceAt(mid);
    if (inclusive ? p <= x : p < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One side's orders (book indices) in ascending order of limit, with keys that ascend with the limits, equal where they are. */
type ByLimit = { order: Int32Array; keys: Uint32Array };

/** Radix-sort digits of 11 bits: three passes cover 32 bits, and a pass's 2048 counters stay cheap for tiny books. */
const DIGIT_BITS = 11;
const DIGIT_MASK = (1 << DIGIT_BITS) - 1;

/** One stable counting-sort pass by the digit at `shift`: `from` scattered into `to`, keys and orders together. */
function radixPass(from: ByLimit, to: ByLimit, shift: number): void {
  const next = new Int32Array(DIGIT_MASK + 2);
  for (let k = 0; k < from.keys.length; k++) {
    const d = (((from.keys[k] as number) >>> shift) & DIGIT_MASK) + 1;
    next[d] = (next[d] as number) + 1;
  }
  for (let d = 1; d <= DIGIT_MASK; d++) next[d] = (next[d] as number) + (next[d - 1] as number);
  for (let k = 0; k < from.keys.length; k++) {
    const key = from.keys[k] as number;
    const d = (key >>> shift) & DIGIT_MASK;
    const at = next[d] as number;
    to.keys[at] = key;
    to.order[at] = from.order[k] as number;
    next[d] = at + 1;
  }
}

/**
 * Sorts one side's orders on its curve by limit. Trick: the limits lie in the band, and the contract
 * keeps retail within 32 bits, so the limits themselves serve as Uint32 keys for an LSD radix sort: a
 * few linear passes, no comparator calls and no bigint comparisons, where sorting bigint tuples with a
 * comparator cost most of the clearing. Wider tariffs take a comparator sort, with ranks as keys.
 */
function sortByLimit(book: readonly EffectiveOrder[], side: Side, band: Band): ByLimit {
  const all = new Int32Array(book.length);
  let count = 0;
  for (let i = 0; i < book.length; i++) if (onCurve(book[i] as EffectiveOrder, side, band)) all[count++] = i;
  const members = all.subarray(0, count);
  let sorted: ByLimit = { order: members, keys: new Uint32Array(count) };
  const limit = (i: number) => limitOf(book[i] as EffectiveOrder, side);
  if (band.retail >= 2n ** 32n) {
    const { order, keys } = sorted;
    order.sort((i, j) => compare(limit(i), limit(j)));
    for (let k = 1; k < order.length; k++) {
      keys[k] = (keys[k - 1] as number) + (limit(order[k] as number) === limit(order[k - 1] as number) ? 0 : 1);
    }
    return sorted;
  }
  for (let k = 0; k < count; k++) sorted.keys[k] = Number(limit(members[k] as number));
  let spare: ByLimit = { order: new Int32Array(count), keys: new Uint32Array(count) };
  const bits = band.retail.toString(2).length;
  for (let shift = 0; shift < bits; shift += DIGIT_BITS) {
    radixPass(sorted, spare, shift);
    [sorted, spare] = [spare, sorted];
  }
  return sorted;
}

/**
 * Cumulative Wh per level, `level[i]` being order i's index among the distinct limits (-1: not on
 * this side). Trick: the sums are done in Numbers, which allocate nothing where every bigint `+`
 * allocates, and are provably exact: while the magnitudes of the integers summed add up to less than
 * 2^53, every partial sum, in any grouping, is an integer below 2^53 and so exact; and a magnitude sum
 * that reaches 2^53 comes out at 2^53 or more (rounding is monotone), so one check on it decides.
 * Beyond that (no real book: 2^53 Wh is 9 TWh), the sums are redone in bigint.
 */
function cumulativeWh(book: readonly EffectiveOrder[], side: Side, level: Int32Array, levels: number): (k: number) => bigint {
  const sums = new Float64Array(levels + 1);
  let magnitude = 0;
  for (let i = 0; i < book.length; i++) {
    const k = (level[i] as number) + 1;
    if (k === 0) continue;
    const wh = Number(quantityOf(book[i] as EffectiveOrder, side));
    sums[k] = (sums[k] as number) + wh;
    magnitude += Math.abs(wh);
  }
  for (let k = 1; k <= levels; k++) sums[k] = (sums[k] as number) + (sums[k - 1] as number);
  if (magnitude <= Number.MAX_SAFE_INTEGER) return (k) => BigInt(sums[k] as number);

  const exact = new Array<bigint>(levels + 1).fill(0n);
  for (let i = 0; i < book.length; i++) {
    const k = (level[i] as number) + 1;
    if (k !== 0) exact[k] = (exact[k] as bigint) + quantityOf(book[i] as EffectiveOrder, side);
  }
  for (let k = 1; k <= levels; k++) exact[k] = (exact[k] as bigint) + (exact[k - 1] as bigint);
  return (k) => exact[k] as bigint;
}

/**
 * Groups one side of the book by limit. Sorting the limits is the O(n log n) part of clearing (linear
 * with the radix sort). Each level keeps one of its orders, whose limit is read only when a binary
 * search asks for it: O(log n) of them per search, instead of a bigint array of every distinct limit.
 */
function ladder(book: readonly EffectiveOrder[], side: Side, band: Band): Ladder {
  const { order, keys } = sortByLimit(book, side, band);
  const firstOfLevel = new Int32Array(order.length);
  const level = new Int32Array(book.length).fill(-1);
  let levels = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    if (k === 0 || keys[k] !== keys[k - 1]) firstOfLevel[levels++] = i;
    level[i] = levels - 1;
  }
  return {
    levels,
    priceAt: (k) => limitOf(book[firstOfLevel[k] as number] as EffectiveOrder, side),
    whUpTo: cumulativeWh(book, side, level, levels),
  };
}

/** Supply and demand at x: four binary searches over the distinct limits. */
function curveAt(asks: Ladder, bids: Ladder, x: bigint): Curve {
  const demandTotal = bids.whUpTo(bids.levels);
  return {
    supplyBelow: asks.whUpTo(countBelow(asks, x, false)),
    supplyAtOrBelow: asks.whUpTo(countBelow(asks, x, true)),
    demandAbove: demandTotal - bids.whUpTo(countBelow(bids, x, true)),
    demandAtOrAbove: demandTotal - bids.whUpTo(countBelow(bids, x, false)),
  };
}

/** First of a ladder's levels whose price satisfies pred (`levels` if none), for pred false up to some price, then true. */
function firstTrue(ladder: Ladder, pred: (x: bigint) => boolean): number {
  let lo = 0;
  let hi = ladder.levels;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pred(ladder.priceAt(mid))) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/*
 * Equilibrium bounds. Both conditions are monotone in the price, and the curves only step at limits,
 * so each bound is an end of the band or a limit inside it (docs/architecture.md): a binary search
 * over each side's distinct limits (all inside the band, see `onCurve`) finds it, in place of one over
 * every price of the band with a binary search per step.
 */

/** Least price of the band where pred holds, for pred false up to some price, then true (at retail at the latest). */
function leastWhere(band: Band, sides: readonly Ladder[], pred: (x: bigint) => boolean): bigint {
  let least = pred(band.feedIn) ? band.feedIn : band.retail;
  for (const ladder of sides) {
    const i = firstTrue(ladder, pred);
    if (i < ladder.levels && ladder.priceAt(i) < least) least = ladder.priceAt(i);
  }
  return least;
}

/** Greatest price of the band where pred holds, for pred true (at feed-in at least) up to some price, then false. */
function greatestWhere(band: Band, sides: readonly Ladder[], pred: (x: bigint) => boolean): bigint {
  let greatest = pred(band.retail) ? band.retail : band.feedIn;
  for (const ladder of sides) {
    const i = firstTrue(ladder, (x) => !pred(x)) - 1;
    if (i >= 0 && ladder.priceAt(i) > greatest) greatest = ladder.priceAt(i);
  }
  return greatest;
}

/** How the orders tied at the price on the long side share what remains: pro rata, remainder to lowest ids. */
type Rationing = { residualWh: bigint; tiedWh: bigint; tied: number[]; sharedWh: bigint };

const rationing = (residualWh: bigint, tiedWh: bigint): Rationing => ({ residualWh, tiedWh, tied: [], sharedWh: 0n });

/**
 * Fill of order i with `quantityWh` whose limit stands `standing` against the price (-1 better, 0 at
 * it, 1 worse): all when better, or when tied on a side that is not rationed; its pro-rata share,
 * rounded down, when tied on the rationed side (noted in `r`); none when worse.
 */
function fillOf(quantityWh: bigint, standing: number, i: number, r: Rationing | undefined): bigint {
  if (quantityWh === 0n || standing > 0) return 0n;
  if (standing < 0 || r === undefined) return quantityWh;
  const share = (quantityWh * r.residualWh) / r.tiedWh;
  r.tied.push(i);
  r.sharedWh += share;
  return share;
}

/** The orders that get one more Wh of what rounding down left: the lowest ids (the rest is under one Wh per tied order). */
function leftOverTo(r: Rationing | undefined): number[] {
  return r === undefined ? [] : r.tied.slice(0, Number(r.residualWh - r.sharedWh));
}

/** Refuses tariffs no clearing price can lie between: feed-in must be positive and not above retail. */
export function checkTariffs(tariffs: Tariffs): void {
  const { feedInMicroPerKwh: feedIn, retailMicroPerKwh: retail } = tariffs;
  if (feedIn <= 0n || feedIn > retail) throw new RangeError(`invalid tariffs: feed-in ${feedIn}, retail ${retail}`);
}

/** Positions in increasing meter id (the order the contract settles them in); refuses a meter twice. */
export function byMeterId<P extends { meterId: number }>(positions: readonly P[]): P[] {
  const sorted = [...positions].sort((a, b) => a.meterId - b.meterId);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.meterId === sorted[i - 1]?.meterId) throw new RangeError(`meter ${sorted[i]?.meterId} appears twice`);
  }
  return sorted;
}

/**
 * Clears one interval as a uniform-price double auction (the rule is in docs/architecture.md and
 * `ClearingVerifier.sol`): the price is the midpoint of the interval of equilibrium prices inside
 * [feed-in, retail], every order priced better than it is filled, ties on the long side are rationed
 * pro rata. Pure and deterministic: positions may arrive in any order. O(n log n): sorting the book
 * by meter id and each side by limit; the equilibrium bounds are binary searches over the distinct
 * limits; the fills are one more pass.
 * @example
 * const tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 300_000n };
 * const seller = { meterId: 1, exportWh: 1000n, importWh: 0n, balanceMicro: 0n,
 *   order: { askMicroPerKwh: 100_000n, maxSellWh: 10_000n, bidMicroPerKwh: 0n, maxBuyWh: 0n } };
 * const buyer = { meterId: 2, exportWh: 0n, importWh: 600n, balanceMicro: 10_000_000n,
 *   order: { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 250_000n, maxBuyWh: 10_000n } };
 * clearInterval([buyer, seller], tariffs).priceMicroPerKwh // 100_000n: supply is long, price falls to the ask
 */
export function clearInterval(positions: readonly MeterPosition[], tariffs: Tariffs): Clearing {
  checkTariffs(tariffs);
  const { feedInMicroPerKwh: feedIn, retailMicroPerKwh: retail } = tariffs;
  const sorted = byMeterId(positions);
  const book = sorted.map((p) => effectiveOrder(p, tariffs));
  const band: Band = { feedIn, retail };
  const asks = ladder(book, "ask", band);
  const bids = ladder(book, "bid", band);

  // Lowest price where demand strictly above it fits in supply at or below it; highest price where
  // supply strictly below it fits in demand at or above it.
  const low = leastWhere(band, [asks, bids], (x) => {
    const c = curveAt(asks, bids, x);
    return c.demandAbove <= c.supplyAtOrBelow;
  });
  const high = greatestWhere(band, [asks, bids], (x) => {
    const c = curveAt(asks, bids, x);
    return c.supplyBelow <= c.demandAtOrAbove;
  });
  const price = (low + high) / 2n;

  const at = curveAt(asks, bids, price);
  const volume = min(at.supplyAtOrBelow, at.demandAtOrAbove);
  const sellers =
    at.supplyAtOrBelow > volume ? rationing(volume - at.supplyBelow, at.supplyAtOrBelow - at.supplyBelow) : undefined;
  const buyers =
    !sellers && at.demandAtOrAbove > volume ? rationing(volume - at.demandAbove, at.demandAtOrAbove - at.demandAbove) : undefined;

  const fills = new Array<Fill>(book.length);
  for (let i = 0; i < book.length; i++) {
    const o = book[i] as EffectiveOrder;
    fills[i] = {
      meterId: o.meterId,
      soldWh: fillOf(o.offerWh, compare(o.askMicroPerKwh, price), i, sellers),
      boughtWh: fillOf(o.demandWh, compare(price, o.bidMicroPerKwh), i, buyers),
    };
  }
  for (const i of leftOverTo(sellers)) (fills[i] as Fill).soldWh += 1n;
  for (const i of leftOverTo(buyers)) (fills[i] as Fill).boughtWh += 1n;
  return { priceLowMicroPerKwh: low, priceHighMicroPerKwh: high, priceMicroPerKwh: price, fills, tradedWh: volume };
}
