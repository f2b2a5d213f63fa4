/** A trade: seller and buyer as indexes into the fills, and the energy that changed hands. */
export type TradePair = { seller: number; buyer: number; energyWh: bigint };

/**
 * Pairs what sellers sold with what buyers bought, both walked in fill order (increasing meter id): the
 * first seller's energy goes to the first buyer until one of them is exhausted, and so on. This is how
 * the market contract books payments and energy tokens, so at most (sellers + buyers - 1) pairs exist.
 * @example pairTrades([{ soldWh: 5n, boughtWh: 0n }, { soldWh: 0n, boughtWh: 3n }, { soldWh: 0n, boughtWh: 2n }])
 * // [{ seller: 0, buyer: 1, energyWh: 3n }, { seller: 0, buyer: 2, energyWh: 2n }]
 */
export function pairTrades(fills: readonly { soldWh: bigint; boughtWh: bigint }[]): TradePair[] {
  const pairs: TradePair[] = [];
  const n = fills.length;
  let s = 0;
  let b = 0;
  let leftSold = n === 0 ? 0n : (fills[0]?.soldWh ?? 0n);
  let leftBought = n === 0 ? 0n : (fills[0]?.boughtWh ?? 0n);
  for (;;) {
    while (leftSold === 0n && ++s < n) leftSold = fills[s]?.soldWh ?? 0n;
    while (leftBought === 0n && ++b < n) leftBought = fills[b]?.boughtWh ?? 0n;
    if (s >= n || b >= n) return pairs;
    const energyWh = leftSold < leftBought ? leftSold : leftBought;
    pairs.push({ seller: s, buyer: b, energyWh });
    leftSold -= energyWh;
    leftBought -= energyWh;
  }
}
