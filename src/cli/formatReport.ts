import type { CommunityKpis } from "../core/kpi.ts";
import { formatFixed, shareBasisPoints } from "../core/money.ts";
import type { IntervalReport } from "../server/keeper.ts";
import { centralEuropeanUtcOffsetMinutes, localDateTime } from "../sim/localTime.ts";

const two = (n: number) => String(n).padStart(2, "0");

/** "2026-06-15 09:00 +02:00" for a unix time, in the demo's Central European time. */
export function formatLocalTime(unixSeconds: bigint): string {
  const offset = centralEuropeanUtcOffsetMinutes(Number(unixSeconds));
  const t = localDateTime(Number(unixSeconds), offset);
  const hh = Math.floor(t.secondOfDay / 3600);
  const mm = Math.floor((t.secondOfDay % 3600) / 60);
  return `${t.year}-${two(t.month)}-${two(t.day)} ${two(hh)}:${two(mm)} ${offset >= 0 ? "+" : "-"}${two(Math.abs(offset) / 60)}:00`;
}

const kwh = (wh: bigint) => formatFixed(wh, 3, 3).padStart(8);

/**
 * One line per interval: when, clearing price, traded energy, local share of demand, grid flows.
 * @example formatIntervalLine(report) // "2026-06-15 09:00 +02:00  #1978640  price 0.1234/kWh  traded  12.345 kWh ..."
 */
export function formatIntervalLine(r: IntervalReport): string {
  const localShare = shareBasisPoints(r.tradedWh, r.importWh);
  return [
    formatLocalTime(r.startsAt),
    `#${r.interval}`,
    `price ${formatFixed(r.priceMicroPerKwh, 6, 4)}/kWh`,
    `traded ${kwh(r.tradedWh)} kWh`,
    `local ${formatFixed(localShare, 2, 1).padStart(5)}% of demand`,
    `to grid ${kwh(r.toGridWh)} kWh`,
    `from grid ${kwh(r.fromGridWh)} kWh`,
    `trades ${String(r.trades).padStart(3)}`,
    `gas ${formatFixed(r.readingsGas + r.settlementGas, 3, 0)}k`,
  ].join("  ");
}

/**
 * The run's summary against the grid-only baseline.
 * @example formatSummary(kpis) // "8 intervals: traded 3.026 kWh, 100.0% of demand met locally, ..."
 */
export function formatSummary(k: CommunityKpis): string {
  return (
    `${k.intervals} intervals: traded ${formatFixed(k.tradedWh, 3, 3)} kWh locally, ` +
    `${formatFixed(k.localShareOfDemandBps, 2, 1)}% of demand and ${formatFixed(k.localShareOfSupplyBps, 2, 1)}% of surplus; ` +
    `against the grid alone, buyers saved ${formatFixed(k.buyersSavedMicro, 6, 4)} credits and sellers earned ` +
    `${formatFixed(k.sellersGainedMicro, 6, 4)} more`
  );
}
