import type { Tariffs } from "./clearing.ts";
import { costMicro, shareBasisPoints } from "./money.ts";

/** What one settled interval moved, as the market reports it. */
export type IntervalFlows = {
  priceMicroPerKwh: bigint;
  tradedWh: bigint;
  exportWh: bigint;
  importWh: bigint;
};

/** A community's results over some intervals, against the grid-only baseline. */
export type CommunityKpis = {
  intervals: number;
  tradedWh: bigint;
  exportWh: bigint;
  importWh: bigint;
  /** Share of metered import met by neighbours, in basis points. */
  localShareOfDemandBps: bigint;
  /** Share of metered export sold to neighbours, in basis points. */
  localShareOfSupplyBps: bigint;
  /** What buyers paid less than at retail, in smallest money units. */
  buyersSavedMicro: bigint;
  /** What sellers earned more than at feed-in, in smallest money units. */
  sellersGainedMicro: bigint;
};

/**
 * Sums intervals and compares them with the grid-only baseline, where every exported Wh is sold at
 * feed-in and every imported Wh bought at retail. A locally traded Wh saves its buyer (retail − price)
 * and earns its seller (price − feed-in). Payments round per trade on chain, so these totals can
 * differ from the ledger by less than one smallest unit per trade.
 * @example communityKpis([{ priceMicroPerKwh: 200_000n, tradedWh: 1000n, exportWh: 1500n, importWh: 2000n }],
 *   { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 320_000n })
 * // { intervals: 1, tradedWh: 1000n, …, localShareOfDemandBps: 5000n, buyersSavedMicro: 120_000n, sellersGainedMicro: 120_000n }
 */
export function communityKpis(flows: readonly IntervalFlows[], tariffs: Tariffs): CommunityKpis {
  let tradedWh = 0n;
  let exportWh = 0n;
  let importWh = 0n;
  let buyersSavedMicro = 0n;
  let sellersGainedMicro = 0n;
  for (const f of flows) {
    tradedWh += f.tradedWh;
    exportWh += f.exportWh;
    importWh += f.importWh;
    buyersSavedMicro += costMicro(f.tradedWh, tariffs.retailMicroPerKwh - f.priceMicroPerKwh);
    sellersGainedMicro += costMicro(f.tradedWh, f.priceMicroPerKwh - tariffs.feedInMicroPerKwh);
  }
  return {
    intervals: flows.length,
    tradedWh,
    exportWh,
    importWh,
    localShareOfDemandBps: shareBasisPoints(tradedWh, importWh),
    localShareOfSupplyBps: shareBasisPoints(tradedWh, exportWh),
    buyersSavedMicro,
    sellersGainedMicro,
  };
}

/**
 * A household's money on the market against the grid-only baseline: its net cost (paid − earned) and
 * what it saved (the grid-only bill — import at retail minus export at feed-in — minus the net cost).
 * @example savingsAgainstGridOnly({ gridOnlyBillMicro: 300n, paidMicro: 200n, earnedMicro: 50n }) // { netCostMicro: 150n, savingsMicro: 150n }
 */
export function savingsAgainstGridOnly(m: { gridOnlyBillMicro: bigint; paidMicro: bigint; earnedMicro: bigint }): {
  netCostMicro: bigint;
  savingsMicro: bigint;
} {
  const netCostMicro = m.paidMicro - m.earnedMicro;
  return { netCostMicro, savingsMicro: m.gridOnlyBillMicro - netCostMicro };
}
