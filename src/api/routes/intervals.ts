import { z } from "zod";
import { savingsAgainstGridOnly } from "../../core/kpi.ts";
import { shareBasisPoints } from "../../core/money.ts";
import type { ApiContext, ZodApp } from "../context.ts";
import { pageOf } from "../cursor.ts";
import { notFound } from "../errors.ts";
import { csvLine } from "../months.ts";
import { requireRole } from "../roles.ts";
import {
  INTERVAL_JSON_SQL,
  type IntervalJson,
  TRADE_CSV_HEADER,
  TRADE_JSON_SQL,
  type TradeJson,
  type TradeRow,
  tradeCsvFields,
} from "../rows.ts";
import { dec, decimalSchema, errorBodySchema, limitSchema, timeParam, uintParam } from "../schemas.ts";
import { intervalSchema, tradeSchema } from "../schemasRows.ts";
import { registerBookRoute } from "./book.ts";

const zoneSchema = z.object({
  zone: z.number(),
  netExportWh: decimalSchema.describe("sold − bought by the zone's meters; negative: import"),
  priceMicroPerKwh: decimalSchema,
  capacityBound: z.boolean(),
});

const MAX_INTERVAL = 2n ** 62n;

/** [from, to) in unix seconds → the intervals that start in it. */
export function intervalRange(intervalSeconds: bigint, from?: bigint, to?: bigint): { first: bigint; end: bigint } {
  const ceil = (t: bigint) => (t + intervalSeconds - 1n) / intervalSeconds;
  return { first: from === undefined ? 0n : ceil(from), end: to === undefined ? MAX_INTERVAL : ceil(to) };
}

/** Settled intervals, their zones, trades and book (book.ts), community KPIs, and the operator's trade export. */
export function registerIntervalRoutes(app: ZodApp, ctx: ApiContext) {
  const { db, deployment } = ctx.deps;
  app.get(
    "/api/intervals",
    {
      schema: {
        tags: ["intervals"],
        summary: "Settled intervals, newest first: clearing price and volumes",
        querystring: z.object({ before: uintParam.optional().describe("paging: intervals before this one"), limit: limitSchema }),
        response: { 200: z.object({ intervals: z.array(intervalSchema), nextBefore: decimalSchema.nullable() }) },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const { before, limit } = request.query;
        const [page] = await db.query<{ rows: IntervalJson[] }>(
          `select coalesce(json_agg(${INTERVAL_JSON_SQL} order by interval desc), '[]') as rows
           from (select * from intervals where interval < $1 order by interval desc limit $2) i`,
          [before ?? MAX_INTERVAL, limit + 1],
        );
        const { rows, nextBefore } = pageOf(page?.rows ?? [], limit, (row) => row.interval);
        return { intervals: rows, nextBefore };
      });
    },
  );
  app.get(
    "/api/intervals/:interval",
    {
      schema: {
        tags: ["intervals"],
        summary: "One settled interval with its zones' results",
        params: z.object({ interval: uintParam }),
        response: { 200: intervalSchema.extend({ zones: z.array(zoneSchema) }), 404: errorBodySchema },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const { interval } = request.params;
        const [[row], zones] = await Promise.all([
          db.query<{ row: IntervalJson }>(`select ${INTERVAL_JSON_SQL} as row from intervals where interval = $1`, [interval]),
          db.query<{ zone: number; net_export_wh: bigint; price_micro_per_kwh: bigint; capacity_bound: boolean }>(
            "select zone, net_export_wh, price_micro_per_kwh, capacity_bound from zone_results where interval = $1 order by zone",
            [interval],
          ),
        ]);
        if (!row) throw notFound("interval", `interval ${interval} is not settled (or not indexed yet)`);
        return {
          ...row.row,
          zones: zones.map((z) => ({
            zone: z.zone,
            netExportWh: dec(z.net_export_wh),
            priceMicroPerKwh: dec(z.price_micro_per_kwh),
            capacityBound: z.capacity_bound,
          })),
        };
      });
    },
  );
  app.get(
    "/api/intervals/:interval/trades",
    {
      schema: {
        tags: ["intervals"],
        summary: "The trades of one settled interval (public, as on chain)",
        params: z.object({ interval: uintParam }),
        response: { 200: z.object({ trades: z.array(tradeSchema) }) },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const [found] = await db.query<{ trades: TradeJson[] }>(
          `select coalesce(json_agg(${TRADE_JSON_SQL} order by idx), '[]') as trades from trades where interval = $1`,
          [request.params.interval],
        );
        return { trades: found?.trades ?? [] };
      });
    },
  );
  registerBookRoute(app, ctx);
  const kpiSchema = z.object({
    from: decimalSchema.describe("first interval counted"),
    to: decimalSchema.nullable().describe("first interval not counted (null: up to the latest)"),
    intervals: decimalSchema,
    exportWh: decimalSchema,
    importWh: decimalSchema,
    tradedWh: decimalSchema.describe("auction"),
    bilateralWh: decimalSchema,
    toGridWh: decimalSchema,
    fromGridWh: decimalSchema,
    localShareOfDemandBps: decimalSchema.describe("(traded + bilateral) / import, basis points"),
    localShareOfSupplyBps: decimalSchema.describe("(traded + bilateral) / export, basis points"),
    meanPriceMicroPerKwh: decimalSchema.nullable().describe("mean of the intervals' clearing prices"),
    tradeWeightedPriceMicroPerKwh: decimalSchema.nullable(),
    minPriceMicroPerKwh: decimalSchema.nullable(),
    maxPriceMicroPerKwh: decimalSchema.nullable(),
    buyersSavedMicro: decimalSchema.describe("auction trades: (retail − price) × energy"),
    sellersGainedMicro: decimalSchema.describe("auction trades: (price − feed-in) × energy"),
    gridOnlyBillMicro: decimalSchema.describe("what every household together would have paid the grid alone"),
    netCostMicro: decimalSchema.describe("what they paid minus what they earned"),
    savingsMicro: decimalSchema.describe("gridOnlyBill − netCost"),
  });
  app.get(
    "/api/kpis",
    {
      schema: {
        tags: ["intervals"],
        summary: "Community KPIs over the intervals starting in [from, to)",
        querystring: z.object({ from: timeParam.optional(), to: timeParam.optional() }),
        response: { 200: kpiSchema },
      },
    },
    async (request) => {
      const { first, end } = intervalRange(deployment.intervalSeconds, request.query.from, request.query.to);
      return ctx.fromIndex(`kpis ${first} ${end}`, () => kpis(first, end));
    },
  );
  async function kpis(first: bigint, end: bigint) {
    type Sums = Record<string, bigint | null>;
    const [[a], [b]] = await Promise.all([
      db.query<Sums>(
        `select count(*) as n, coalesce(sum(export_wh), 0) as export_wh, coalesce(sum(import_wh), 0) as import_wh,
             coalesce(sum(traded_wh), 0) as traded_wh, coalesce(sum(bilateral_wh), 0) as bilateral_wh,
             coalesce(sum(to_grid_wh), 0) as to_grid_wh, coalesce(sum(from_grid_wh), 0) as from_grid_wh,
             coalesce(sum(price_micro_per_kwh), 0) as price_sum, min(price_micro_per_kwh) as price_min,
             max(price_micro_per_kwh) as price_max, coalesce(sum(traded_wh::numeric * price_micro_per_kwh), 0) as traded_value,
             coalesce(sum(div(traded_wh::numeric * (retail_micro_per_kwh - price_micro_per_kwh), 1000)), 0) as buyers_saved,
             coalesce(sum(div(traded_wh::numeric * (price_micro_per_kwh - feed_in_micro_per_kwh), 1000)), 0) as sellers_gained
           from intervals where interval >= $1 and interval < $2`,
        [first, end],
      ),
      db.query<Sums>(
        `select coalesce(sum(grid_only_bill_micro), 0) as bill, coalesce(sum(paid_micro), 0) as paid,
             coalesce(sum(earned_micro), 0) as earned from meter_intervals where interval >= $1 and interval < $2`,
        [first, end],
      ),
    ]);
    const v = (row: Sums | undefined, key: string) => BigInt(row?.[key] ?? 0n);
    const n = v(a, "n");
    const traded = v(a, "traded_wh");
    const local = traded + v(a, "bilateral_wh");
    const money = savingsAgainstGridOnly({
      gridOnlyBillMicro: v(b, "bill"),
      paidMicro: v(b, "paid"),
      earnedMicro: v(b, "earned"),
    });
    return {
      from: dec(first),
      to: end === MAX_INTERVAL ? null : dec(end),
      intervals: dec(n),
      exportWh: dec(v(a, "export_wh")),
      importWh: dec(v(a, "import_wh")),
      tradedWh: dec(traded),
      bilateralWh: dec(v(a, "bilateral_wh")),
      toGridWh: dec(v(a, "to_grid_wh")),
      fromGridWh: dec(v(a, "from_grid_wh")),
      localShareOfDemandBps: dec(shareBasisPoints(local, v(a, "import_wh"))),
      localShareOfSupplyBps: dec(shareBasisPoints(local, v(a, "export_wh"))),
      meanPriceMicroPerKwh: n === 0n ? null : dec(v(a, "price_sum") / n),
      tradeWeightedPriceMicroPerKwh: traded === 0n ? null : dec(v(a, "traded_value") / traded),
      minPriceMicroPerKwh: a?.price_min == null ? null : dec(a.price_min),
      maxPriceMicroPerKwh: a?.price_max == null ? null : dec(a.price_max),
      buyersSavedMicro: dec(v(a, "buyers_saved")),
      sellersGainedMicro: dec(v(a, "sellers_gained")),
      gridOnlyBillMicro: dec(v(b, "bill")),
      netCostMicro: dec(money.netCostMicro),
      savingsMicro: dec(money.savingsMicro),
    };
  }
  app.get(
    "/api/export/trades.csv",
    {
      schema: {
        tags: ["export"],
        summary: "Every trade of the intervals starting in [from, to), as CSV (operators only)",
        security: [{ bearer: [] }],
        querystring: z.object({ from: timeParam.optional(), to: timeParam.optional() }),
        produces: ["text/csv"],
        response: { 200: z.string().describe("CSV, one trade per line"), 401: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request, reply) => {
      requireRole(await ctx.identify(request), "operator");
      const { first, end } = intervalRange(deployment.intervalSeconds, request.query.from, request.query.to);
      const rows = await db.query<TradeRow>(
        "select * from trades where interval >= $1 and interval < $2 order by interval, idx",
        [first, end],
      );
      const csv = csvLine(TRADE_CSV_HEADER) + rows.map((r) => csvLine(tradeCsvFields(r))).join("");
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="trades-${first}-${end === MAX_INTERVAL ? "latest" : end}.csv"`)
        .send(csv);
    },
  );
}
