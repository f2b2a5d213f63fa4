import { savingsAgainstGridOnly } from "../core/kpi.ts";
import type { Sql } from "../store/db.ts";
import { ApiError } from "./errors.ts";
import { cachedMonthBounds } from "./months.ts";

/** One household's energy and money over some intervals. */
export type StatementTotals = {
  intervals: number;
  exportWh: bigint;
  importWh: bigint;
  soldLocalWh: bigint;
  boughtLocalWh: bigint;
  soldGridWh: bigint;
  boughtGridWh: bigint;
  earnedMicro: bigint;
  paidMicro: bigint;
  /** paid − earned: what the household's energy cost it on the market (negative: it earned). */
  netCostMicro: bigint;
  /** What the same metered energy would have cost with the grid alone (import at retail − export at feed-in). */
  gridOnlyBillMicro: bigint;
  /** gridOnlyBill − netCost. */
  savingsMicro: bigint;
};

export type MonthlyStatement = {
  account: string;
  month: string;
  timeZone: string;
  from: bigint;
  to: bigint;
  totals: StatementTotals;
  days: ({ date: string } & StatementTotals)[];
};

type DayRow = {
  date: string;
  intervals: number;
  export_wh: bigint;
  import_wh: bigint;
  sold_local_wh: bigint;
  bought_local_wh: bigint;
  sold_grid_wh: bigint;
  bought_grid_wh: bigint;
  earned_micro: bigint;
  paid_micro: bigint;
  grid_only_bill_micro: bigint;
};

const empty = (): StatementTotals => ({
  intervals: 0,
  exportWh: 0n,
  importWh: 0n,
  soldLocalWh: 0n,
  boughtLocalWh: 0n,
  soldGridWh: 0n,
  boughtGridWh: 0n,
  earnedMicro: 0n,
  paidMicro: 0n,
  netCostMicro: 0n,
  gridOnlyBillMicro: 0n,
  savingsMicro: 0n,
});

function add(t: StatementTotals, r: DayRow) {
  t.intervals += r.intervals;
  t.exportWh += r.export_wh;
  t.importWh += r.import_wh;
  t.soldLocalWh += r.sold_local_wh;
  t.boughtLocalWh += r.bought_local_wh;
  t.soldGridWh += r.sold_grid_wh;
  t.boughtGridWh += r.bought_grid_wh;
  t.earnedMicro += r.earned_micro;
  t.paidMicro += r.paid_micro;
  t.gridOnlyBillMicro += r.grid_only_bill_micro;
  Object.assign(t, savingsAgainstGridOnly(t));
}

/**
 * `account`'s statement for `month` (YYYY-MM) in time zone `tz`: the settled intervals that start in
 * the month, summed per local day and in total. Every meter the account owned counts.
 * @example await monthlyStatement(db, 900n, "0xab…", "2026-06", "Europe/Berlin")
 */
export async function monthlyStatement(
  db: Sql,
  intervalSeconds: bigint,
  account: string,
  month: string,
  tz: string,
): Promise<MonthlyStatement> {
  const { from, to } = cachedMonthBounds(month, tz);
  const ceil = (t: bigint) => (t + intervalSeconds - 1n) / intervalSeconds;
  // Summed per local day in the store: a month is ~3,000 rows per meter, a statement at most 31.
  let rows: DayRow[];
  try {
    rows = await db.query<DayRow>(
      `select to_char(to_timestamp(interval * $4) at time zone $5, 'YYYY-MM-DD') as date, count(*)::int as intervals,
         sum(export_wh) as export_wh, sum(import_wh) as import_wh, sum(sold_local_wh) as sold_local_wh,
         sum(bought_local_wh) as bought_local_wh, sum(sold_grid_wh) as sold_grid_wh, sum(bought_grid_wh) as bought_grid_wh,
         sum(earned_micro) as earned_micro, sum(paid_micro) as paid_micro, sum(grid_only_bill_micro) as grid_only_bill_micro
       from meter_intervals where owner = $1 and interval >= $2 and interval < $3 group by 1 order by 1`,
      [account, ceil(from), ceil(to), intervalSeconds, tz],
    );
  } catch (error) {
    if (/time zone/i.test((error as Error).message)) {
      throw new ApiError(400, "invalid_time_zone", `the store does not know the time zone "${tz}"`);
    }
    throw error;
  }
  const totals = empty();
  const days = rows.map((r) => {
    const day = empty();
    add(day, r);
    add(totals, r);
    return { date: r.date, ...day };
  });
  return { account, month, timeZone: tz, from, to, totals, days };
}

export const totalsJson = (t: StatementTotals) => ({
  intervals: t.intervals,
  exportWh: t.exportWh.toString(),
  importWh: t.importWh.toString(),
  soldLocalWh: t.soldLocalWh.toString(),
  boughtLocalWh: t.boughtLocalWh.toString(),
  soldGridWh: t.soldGridWh.toString(),
  boughtGridWh: t.boughtGridWh.toString(),
  earnedMicro: t.earnedMicro.toString(),
  paidMicro: t.paidMicro.toString(),
  netCostMicro: t.netCostMicro.toString(),
  gridOnlyBillMicro: t.gridOnlyBillMicro.toString(),
  savingsMicro: t.savingsMicro.toString(),
});

export const STATEMENT_CSV_HEADER = [
  "date",
  "intervals",
  "export_wh",
  "import_wh",
  "sold_local_wh",
  "bought_local_wh",
  "sold_grid_wh",
  "bought_grid_wh",
  "earned_micro",
  "paid_micro",
  "net_cost_micro",
  "grid_only_bill_micro",
  "savings_micro",
] as const;

export const statementCsvFields = (date: string, t: StatementTotals) => [
  date,
  t.intervals,
  t.exportWh,
  t.importWh,
  t.soldLocalWh,
  t.boughtLocalWh,
  t.soldGridWh,
  t.boughtGridWh,
  t.earnedMicro,
  t.paidMicro,
  t.netCostMicro,
  t.gridOnlyBillMicro,
  t.savingsMicro,
];
