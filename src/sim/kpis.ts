/**
 * The simulator's KPIs: per-household totals and the community's figures against the grid-only baseline,
 * from what each settled interval did. Pure integer arithmetic; no chain, no I/O.
 */
import { savingsAgainstGridOnly } from "../core/kpi.ts";
import { shareBasisPoints, WH_PER_KWH } from "../core/money.ts";
import type { CommunitySummary, HouseholdSummary, IntervalSummary } from "./result.ts";

/** What one settlement did to one household (see settlementRecord's MeterIntervalRecord), with its physical flows. */
export type HouseholdInterval = {
  productionWh: bigint;
  consumptionWh: bigint;
  exportWh: bigint;
  importWh: bigint;
  soldLocalWh: bigint;
  boughtLocalWh: bigint;
  soldGridWh: bigint;
  boughtGridWh: bigint;
  paidMicro: bigint;
  earnedMicro: bigint;
  gridOnlyBillMicro: bigint;
};

/** A household's running totals; `addInterval` adds to it. */
export type HouseholdTotals = HouseholdInterval & { peakImportWh: bigint; peakExportWh: bigint };

/** The descriptive fields of a household summary (everything that is not a total). */
export type HouseholdMeta = Pick<HouseholdSummary, "index" | "name" | "zone" | "strategy" | "pvKwp" | "batteryKwh" | "hasEv">;

/**
 * Empty totals.
 * @example const totals = emptyTotals(); totals.importWh // 0n
 */
export function emptyTotals(): HouseholdTotals {
  return {
    productionWh: 0n,
    consumptionWh: 0n,
    exportWh: 0n,
    importWh: 0n,
    soldLocalWh: 0n,
    boughtLocalWh: 0n,
    soldGridWh: 0n,
    boughtGridWh: 0n,
    paidMicro: 0n,
    earnedMicro: 0n,
    gridOnlyBillMicro: 0n,
    peakImportWh: 0n,
    peakExportWh: 0n,
  };
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);

/**
 * Adds one interval to a household's totals (in place) and keeps its peaks.
 * @example addInterval(totals, record)
 */
export function addInterval(totals: HouseholdTotals, r: HouseholdInterval): void {
  totals.productionWh += r.productionWh;
  totals.consumptionWh += r.consumptionWh;
  totals.exportWh += r.exportWh;
  totals.importWh += r.importWh;
  totals.soldLocalWh += r.soldLocalWh;
  totals.boughtLocalWh += r.boughtLocalWh;
  totals.soldGridWh += r.soldGridWh;
  totals.boughtGridWh += r.boughtGridWh;
  totals.paidMicro += r.paidMicro;
  totals.earnedMicro += r.earnedMicro;
  totals.gridOnlyBillMicro += r.gridOnlyBillMicro;
  totals.peakImportWh = max(totals.peakImportWh, r.importWh);
  totals.peakExportWh = max(totals.peakExportWh, r.exportWh);
}

/** part / whole in basis points, or null when there is no whole. */
function share(part: bigint, whole: bigint): bigint | null {
  return whole > 0n ? shareBasisPoints(part, whole) : null;
}

/** Mean power in W of `energyWh` over one interval. */
function watts(energyWh: bigint, intervalSeconds: bigint): bigint {
  return (energyWh * 3600n) / intervalSeconds;
}

/**
 * A household's summary from its totals.
 * @example householdSummary(meta, totals, 900n).savingsMicro
 */
export function householdSummary(meta: HouseholdMeta, t: HouseholdTotals, intervalSeconds: bigint): HouseholdSummary {
  const { netCostMicro, savingsMicro } = savingsAgainstGridOnly(t);
  return {
    ...meta,
    productionWh: t.productionWh,
    consumptionWh: t.consumptionWh,
    exportWh: t.exportWh,
    importWh: t.importWh,
    soldLocalWh: t.soldLocalWh,
    boughtLocalWh: t.boughtLocalWh,
    soldGridWh: t.soldGridWh,
    boughtGridWh: t.boughtGridWh,
    paidMicro: t.paidMicro,
    earnedMicro: t.earnedMicro,
    netCostMicro,
    gridOnlyBillMicro: t.gridOnlyBillMicro,
    savingsMicro,
    selfConsumptionBps: share(max(t.productionWh - t.exportWh, 0n), t.productionWh),
    selfSufficiencyBps: share(max(t.consumptionWh - t.importWh, 0n), t.consumptionWh),
    peakImportW: watts(t.peakImportWh, intervalSeconds),
    peakExportW: watts(t.peakExportWh, intervalSeconds),
  };
}

/**
 * Gini coefficient in basis points: Σᵢ Σⱼ |xᵢ − xⱼ| / (2 n² mean), computed exactly on the sorted values
 * as Σₖ xₖ (2k − n + 1) / (n Σx). Null when the sum is not positive (the coefficient is then undefined).
 * Negative values are allowed; the coefficient can then exceed 10,000.
 * @example giniBps([1n, 1n, 1n]) // 0n
 * @example giniBps([0n, 0n, 0n, 4n]) // 7500n
 */
export function giniBps(values: readonly bigint[]): bigint | null {
  const n = BigInt(values.length);
  const sum = values.reduce((s, v) => s + v, 0n);
  if (n === 0n || sum <= 0n) return null;
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let weighted = 0n;
  for (const [k, x] of sorted.entries()) weighted += x * (2n * BigInt(k) - n + 1n);
  return (weighted * 10_000n) / (n * sum);
}

/**
 * The community's KPIs from the household summaries and the settled intervals.
 * @example communitySummary(households, intervals, { intervalSeconds: 900n, gridIntensityGPerKwh: 380n }).selfSufficiencyBps
 */
export function communitySummary(
  households: readonly HouseholdSummary[],
  intervals: readonly IntervalSummary[],
  options: { intervalSeconds: bigint; gridIntensityGPerKwh: bigint },
): CommunitySummary {
  const sum = (f: (i: IntervalSummary) => bigint) => intervals.reduce((s, i) => s + f(i), 0n);
  const productionWh = sum((i) => i.productionWh);
  const consumptionWh = sum((i) => i.consumptionWh);
  const exportWh = sum((i) => i.exportWh);
  const importWh = sum((i) => i.importWh);
  const tradedWh = sum((i) => i.tradedWh);
  const toGridWh = sum((i) => i.toGridWh);
  const fromGridWh = sum((i) => i.fromGridWh);
  const gas = sum((i) => i.gas);
  const traded = intervals.filter((i) => i.tradedWh > 0n);
  const prices = traded.map((i) => i.priceMicroPerKwh);
  const netCostMicro = households.reduce((s, h) => s + h.netCostMicro, 0n);
  const gridOnlyBillMicro = households.reduce((s, h) => s + h.gridOnlyBillMicro, 0n);
  const savingsMicro = gridOnlyBillMicro - netCostMicro;
  const notFromGridWh = max(consumptionWh - fromGridWh, 0n);
  const perKwh = (amount: bigint, energyWh: bigint) => (energyWh > 0n ? (amount * WH_PER_KWH) / energyWh : null);
  return {
    households: households.length,
    intervals: intervals.length,
    productionWh,
    consumptionWh,
    exportWh,
    importWh,
    tradedWh,
    toGridWh,
    fromGridWh,
    selfConsumptionBps: share(max(productionWh - toGridWh, 0n), productionWh),
    selfSufficiencyBps: share(notFromGridWh, consumptionWh),
    localShareOfDemandBps: share(tradedWh, importWh),
    localShareOfSupplyBps: share(tradedWh, exportWh),
    peakImportW: watts(
      intervals.reduce((m, i) => max(m, i.fromGridWh), 0n),
      options.intervalSeconds,
    ),
    peakExportW: watts(
      intervals.reduce((m, i) => max(m, i.toGridWh), 0n),
      options.intervalSeconds,
    ),
    minPriceMicroPerKwh: prices.length ? prices.reduce((m, p) => (p < m ? p : m)) : null,
    meanPriceMicroPerKwh: tradedWh > 0n ? traded.reduce((s, i) => s + i.priceMicroPerKwh * i.tradedWh, 0n) / tradedWh : null,
    maxPriceMicroPerKwh: prices.length ? prices.reduce((m, p) => (p > m ? p : m)) : null,
    netCostMicro,
    gridOnlyBillMicro,
    savingsMicro,
    savingsBps: share(savingsMicro, gridOnlyBillMicro),
    savingsGiniBps: giniBps(households.map((h) => h.savingsMicro)),
    gridIntensityGPerKwh: options.gridIntensityGPerKwh,
    co2AvoidedGrams: (notFromGridWh * options.gridIntensityGPerKwh) / WH_PER_KWH,
    gas,
    gasPerSettledKwh: perKwh(gas, exportWh + importWh),
    gasPerTradedKwh: perKwh(gas, tradedWh),
  };
}
