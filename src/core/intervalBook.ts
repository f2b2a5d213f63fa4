// An interval's book rebuilt from what the index recorded, cleared again with the keeper's own code, and
// compared with what was settled. Pure: the caller reads the rows; nothing here knows SQL or HTTP.
import type { StandingOrder, Tariffs } from "./clearing.ts";
import { effectiveOrder } from "./clearing.ts";
import { bookCurves, type CurveOrder, type Curves } from "./curves.ts";
import { clearZonal, type ZonalClearing, type ZoneLimits } from "./zonalClearing.ts";

/** One meter of an interval as the index has it: its reading, its owner's order and escrow before the settlement. */
export type BookMeter = {
  meterId: number;
  account: string;
  zone: number;
  exportWh: bigint;
  importWh: bigint;
  order: StandingOrder;
  /** The owner's escrow just before the settlement (negative: grid debt). */
  balanceMicro: bigint;
};

/** A bilateral delivery of the interval (executed before the auction). */
export type BookDelivery = { sellerMeterId: number; buyerMeterId: number; energyWh: bigint; costMicro: bigint };

/** What the settlement recorded: the hub's and each zone's price, and each meter's auction fill. */
export type SettledBook = {
  hubPriceMicroPerKwh: bigint;
  zonePrices: ReadonlyMap<number, bigint>;
  /** Auction only (bilateral deliveries taken out), by meter id. */
  fills: ReadonlyMap<number, { soldWh: bigint; boughtWh: bigint }>;
};

/** One effective order of the book: a seller's offer or a buyer's demand, with what the auction filled. */
export type BookOrder = CurveOrder & { meterId: number; account: string; zone: number; filledWh: bigint };

/** Which of a zone's limits held its flow to the other zones: its import cap, its export cap, or none. */
export type BoundLimit = "import" | "export" | null;

export type IntervalBook = {
  /** Sellers' asks and buyers' bids, in increasing meter id, asks before bids. */
  orders: BookOrder[];
  /** The whole community's curves, and each zone's. */
  curves: Curves;
  zoneCurves: Map<number, Curves>;
  /** The book cleared again with the keeper's code. */
  clearing: ZonalClearing;
  /** Whether that clearing gives exactly the settled prices and fills. */
  reproduced: boolean;
};

/**
 * The limit that held a zone apart from the hub, read from the prices as the clearing defines "bound": a
 * zone priced below the hub price could not export all it would at the hub price (its export cap held); one
 * priced above the hub price plus its import fee could not import all it would (its import cap held).
 * @example boundLimit(95_000n, 100_000n, 0n) // "export"
 */
export function boundLimit(zonePriceMicroPerKwh: bigint, hubPriceMicroPerKwh: bigint, feeMicroPerKwh: bigint): BoundLimit {
  if (zonePriceMicroPerKwh < hubPriceMicroPerKwh) return "export";
  if (zonePriceMicroPerKwh > hubPriceMicroPerKwh + feeMicroPerKwh) return "import";
  return null;
}

/**
 * Rebuilds an interval's book: each meter's reading minus what bilateral agreements delivered (and what
 * they cost the buyer), its owner's standing order with the market's rules applied (`effectiveOrder`:
 * caps, escrow, the tariff band), then clears it with `clearZonal`, the keeper's code, and compares with
 * the settlement. `reproduced` false means the index lacks something the contract saw (e.g. an escrow
 * change it has not indexed): the book is then shown as rebuilt, with that warning.
 * @example const book = rebuildIntervalBook(meters, deliveries, tariffs, limits, settled); book.reproduced // true
 */
export function rebuildIntervalBook(
  meters: readonly BookMeter[],
  deliveries: readonly BookDelivery[],
  tariffs: Tariffs,
  limits: ReadonlyMap<number, ZoneLimits>,
  settled: SettledBook,
): IntervalBook {
  const positions = new Map(meters.map((m) => [m.meterId, { ...m }]));
  for (const d of deliveries) {
    const seller = positions.get(d.sellerMeterId);
    const buyer = positions.get(d.buyerMeterId);
    if (!seller || !buyer)
      throw new RangeError(`a delivery between meters ${d.sellerMeterId} and ${d.buyerMeterId} has no reading`);
    seller.exportWh -= d.energyWh;
    buyer.importWh -= d.energyWh;
    buyer.balanceMicro -= d.costMicro;
  }
  const sorted = [...positions.values()].sort((a, b) => a.meterId - b.meterId);
  const clearing = clearZonal(sorted, tariffs, limits);
  const fillOf = new Map(clearing.fills.map((f) => [f.meterId, f]));
  const asks: BookOrder[] = [];
  const bids: BookOrder[] = [];
  for (const p of sorted) {
    const e = effectiveOrder(p, tariffs);
    const fill = fillOf.get(p.meterId);
    const base = { meterId: p.meterId, account: p.account, zone: p.zone };
    if (e.offerWh > 0n)
      asks.push({
        ...base,
        side: "ask",
        limitMicroPerKwh: e.askMicroPerKwh,
        quantityWh: e.offerWh,
        filledWh: fill?.soldWh ?? 0n,
      });
    if (e.demandWh > 0n)
      bids.push({
        ...base,
        side: "bid",
        limitMicroPerKwh: e.bidMicroPerKwh,
        quantityWh: e.demandWh,
        filledWh: fill?.boughtWh ?? 0n,
      });
  }
  const orders = [...asks, ...bids];
  const zoneCurves = new Map<number, Curves>();
  for (const zone of new Set(sorted.map((p) => p.zone))) {
    zoneCurves.set(zone, bookCurves(orders.filter((o) => o.zone === zone)));
  }
  const reproduced =
    clearing.hubPriceMicroPerKwh === settled.hubPriceMicroPerKwh &&
    clearing.zones.length === settled.zonePrices.size &&
    clearing.zones.every((z) => settled.zonePrices.get(z.zone) === z.priceMicroPerKwh) &&
    clearing.fills.length === settled.fills.size &&
    clearing.fills.every((f) => {
      const s = settled.fills.get(f.meterId);
      return s !== undefined && s.soldWh === f.soldWh && s.boughtWh === f.boughtWh;
    });
  return { orders, curves: bookCurves(orders), zoneCurves, clearing, reproduced };
}
