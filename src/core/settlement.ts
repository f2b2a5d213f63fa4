/** A trade: seller and buyer as indexes into the fills, and the energy that changed hands. */
export type TradePair = { seller: number; buyer: number; energyWh: bigint };

/** What pairing needs of a fill: the energy sold and bought, and the meter's grid zone (default 0). */
export type PairableFill = { soldWh: bigint; boughtWh: bigint; zone?: number };

/**
 * Pairs what sellers sold with what buyers bought, exactly as the market contract books payments and
 * energy tokens: inside each zone first (increasing zone id; sellers and buyers walked in fill order,
 * i.e. increasing meter id: the first seller's energy goes to the first buyer until one of them is
 * exhausted, and so on), then what exporting zones have left with what importing zones still need, in
 * the same (zone, meter id) order. Every pair exhausts a seller or a buyer, so there are fewer than
 * 2 × fills pairs; with a single zone, at most sellers + buyers − 1.
 * @example pairTrades([{ soldWh: 5n, boughtWh: 0n }, { soldWh: 0n, boughtWh: 3n }, { soldWh: 0n, boughtWh: 2n }])
 * // [{ seller: 0, buyer: 1, energyWh: 3n }, { seller: 0, buyer: 2, energyWh: 2n }]
 */
export function pairTrades(fills: readonly PairableFill[]): TradePair[] {
  // Fill indexes grouped by zone; a stable sort keeps meter-id order inside each zone.
  const order = fills.map((_, i) => i).sort((a, b) => (fills[a]?.zone ?? 0) - (fills[b]?.zone ?? 0));
  const soldLeft = fills.map((f) => f.soldWh);
  const boughtLeft = fills.map((f) => f.boughtWh);
  const pairs: TradePair[] = [];
  for (let start = 0; start < order.length; ) {
    const zone = fills[order[start] as number]?.zone ?? 0;
    let end = start;
    while (end < order.length && (fills[order[end] as number]?.zone ?? 0) === zone) end++;
    walk(order.slice(start, end), soldLeft, boughtLeft, pairs);
    start = end;
  }
  walk(order, soldLeft, boughtLeft, pairs);
  return pairs;
}

/** The two-pointer walk over `order`, taking each pair's energy off what is left. */
function walk(order: readonly number[], soldLeft: bigint[], boughtLeft: bigint[], pairs: TradePair[]): void {
  let s = 0;
  let b = 0;
  for (;;) {
    while (s < order.length && soldLeft[order[s] as number] === 0n) s++;
    while (b < order.length && boughtLeft[order[b] as number] === 0n) b++;
    if (s >= order.length || b >= order.length) return;
    const seller = order[s] as number;
    const buyer = order[b] as number;
    const sold = soldLeft[seller] as bigint;
    const bought = boughtLeft[buyer] as bigint;
    const energyWh = sold < bought ? sold : bought;
    pairs.push({ seller, buyer, energyWh });
    soldLeft[seller] = sold - energyWh;
    boughtLeft[buyer] = bought - energyWh;
  }
}
