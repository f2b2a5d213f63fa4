import { z } from "zod";
import type { CurveStep } from "../../core/curves.ts";
import { type BookDelivery, type BookMeter, boundLimit, rebuildIntervalBook } from "../../core/intervalBook.ts";
import { UNLIMITED_WH, type ZoneLimits } from "../../core/zonalClearing.ts";
import type { ApiContext, ZodApp } from "../context.ts";
import { notFound } from "../errors.ts";
import { dec, decimalSchema, errorBodySchema, uintParam } from "../schemas.ts";

const stepSchema = z.object({
  priceMicroPerKwh: decimalSchema,
  fromWh: decimalSchema.describe("cumulative Wh before this step"),
  toWh: decimalSchema.describe("cumulative Wh after this step"),
});
const curvesSchema = z.object({
  supply: z.array(stepSchema).describe("asks by limit, ascending"),
  demand: z.array(stepSchema).describe("bids by limit, descending"),
});

const bookOrderSchema = z.object({
  account: z.string(),
  meterId: z.number(),
  zone: z.number(),
  side: z.enum(["ask", "bid"]),
  limitMicroPerKwh: decimalSchema.describe(
    "the effective limit: an ask below feed-in counts at feed-in, a bid above retail at retail",
  ),
  quantityWh: decimalSchema.describe(
    "ask: export (after bilateral deliveries) up to the sell cap; bid: import up to the buy cap and what escrow pays",
  ),
  filledWh: decimalSchema.describe("what the auction sold or bought of it"),
});

const bookZoneSchema = z.object({
  zone: z.number(),
  households: z.number().describe("meters with a reading in the interval"),
  priceMicroPerKwh: decimalSchema,
  netExportWh: decimalSchema.describe("to the other zones through the grid; negative: import"),
  capacityBound: z.boolean(),
  boundLimit: z.enum(["import", "export"]).nullable().describe("which cap held the zone apart from the hub"),
  importCapWh: decimalSchema.describe("in force at the settlement; 2^64−1: unlimited"),
  exportCapWh: decimalSchema,
  feeMicroPerKwh: decimalSchema,
  soldLocalWh: decimalSchema.describe("sold to neighbours by the zone's meters (auction and bilateral)"),
  boughtLocalWh: decimalSchema,
  toGridWh: decimalSchema.describe("unsold export, to the grid at feed-in"),
  fromGridWh: decimalSchema.describe("unmet import, from the grid at retail"),
  curves: curvesSchema,
});

export const intervalBookSchema = z.object({
  interval: decimalSchema,
  startsAt: decimalSchema,
  feedInMicroPerKwh: decimalSchema,
  retailMicroPerKwh: decimalSchema,
  priceMicroPerKwh: decimalSchema.describe("the hub price"),
  tradedWh: decimalSchema.describe("matched by the auction"),
  bilateralWh: decimalSchema.describe("delivered by agreements before the auction (not in the book)"),
  reproduced: z.boolean().describe("clearing this book with the keeper's code gives exactly the settled prices and fills"),
  orders: z.array(bookOrderSchema),
  curves: curvesSchema,
  zones: z.array(bookZoneSchema),
});

const steps = (s: readonly CurveStep[]) =>
  s.map((x) => ({ priceMicroPerKwh: dec(x.priceMicroPerKwh), fromWh: dec(x.fromWh), toWh: dec(x.toWh) }));

/** Rows of the settlement's meters with their owner's order and escrow just before it. */
type MeterRow = {
  meter_id: number;
  owner: string;
  zone: number;
  export_wh: bigint;
  import_wh: bigint;
  sold_local_wh: bigint;
  bought_local_wh: bigint;
  sold_grid_wh: bigint;
  bought_grid_wh: bigint;
  ask_micro_per_kwh: bigint | null;
  max_sell_wh: bigint | null;
  bid_micro_per_kwh: bigint | null;
  max_buy_wh: bigint | null;
  escrow_micro: bigint | null;
  settled_micro: bigint | null;
};

/**
 * `GET /api/intervals/:interval/book`: the orders that took part in a settled interval's auction, rebuilt
 * from the index (the settled meters' readings, their owners' standing orders and escrow as they stood at the
 * settlement's event, the zone limits then in force, the bilateral deliveries) and cleared again with the
 * keeper's code to check it against the settlement.
 */
export function registerBookRoute(app: ZodApp, ctx: ApiContext) {
  const { db } = ctx.deps;
  app.get(
    "/api/intervals/:interval/book",
    {
      schema: {
        tags: ["intervals"],
        summary: "A settled interval's effective orders, supply and demand curves, and volumes by zone",
        params: z.object({ interval: uintParam }),
        response: { 200: intervalBookSchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const { interval } = request.params;
        const [head] = await db.query<{
          starts_at: bigint;
          price_micro_per_kwh: bigint;
          feed_in_micro_per_kwh: bigint;
          retail_micro_per_kwh: bigint;
          traded_wh: bigint;
          bilateral_wh: bigint;
          block_number: bigint;
          log_index: number | null;
        }>(
          `select i.starts_at, i.price_micro_per_kwh, i.feed_in_micro_per_kwh, i.retail_micro_per_kwh, i.traded_wh,
             i.bilateral_wh, i.block_number,
             (select min(e.log_index) from chain_events e where e.tx_hash = i.tx_hash and e.name = 'IntervalSettled') as log_index
           from intervals i where i.interval = $1`,
          [interval],
        );
        if (!head) throw notFound("interval", `interval ${interval} is not settled (or not indexed yet)`);
        // State "at the settlement": everything the chain recorded before the settlement's own event.
        const before = [head.block_number, head.log_index ?? 2 ** 31 - 1];
        const beforeSql = "(block_number < $2 or (block_number = $2 and log_index < $3))";
        const [meters, deliveries, limitRows, zoneRows] = await Promise.all([
          db.query<MeterRow>(
            `select m.meter_id, m.owner, m.zone, m.export_wh, m.import_wh, m.sold_local_wh, m.bought_local_wh,
               m.sold_grid_wh, m.bought_grid_wh, o.ask_micro_per_kwh, o.max_sell_wh, o.bid_micro_per_kwh, o.max_buy_wh,
               (select sum(case when kind like 'withdraw%' then -amount_micro else amount_micro end) from escrow_log
                 where account = m.owner and ${beforeSql}) as escrow_micro,
               (select sum(earned_micro - paid_micro) from meter_intervals p where p.owner = m.owner and p.interval < $1)
                 as settled_micro
             from meter_intervals m left join lateral (
               select * from standing_order_log where account = m.owner and ${beforeSql}
               order by block_number desc, log_index desc limit 1) o on true
             where m.interval = $1 order by m.meter_id`,
            [interval, ...before],
          ),
          db.query<{ seller_meter_id: number; buyer_meter_id: number; energy_wh: bigint; buyer_paid_micro: bigint }>(
            "select seller_meter_id, buyer_meter_id, energy_wh, buyer_paid_micro from trades where interval = $1 and kind = 'bilateral' order by idx",
            [interval],
          ),
          db.query<{ zone: number; import_cap_wh: bigint; export_cap_wh: bigint; fee_micro_per_kwh: bigint }>(
            `select distinct on (zone) zone, import_cap_wh, export_cap_wh, fee_micro_per_kwh from zone_limit_log
             where block_number < $1 or (block_number = $1 and log_index < $2) order by zone, block_number desc, log_index desc`,
            before,
          ),
          db.query<{ zone: number; net_export_wh: bigint; price_micro_per_kwh: bigint; capacity_bound: boolean }>(
            "select zone, net_export_wh, price_micro_per_kwh, capacity_bound from zone_results where interval = $1 order by zone",
            [interval],
          ),
        ]);
        const limits = new Map<number, ZoneLimits>(
          limitRows.map((l) => [
            l.zone,
            { importCapWh: l.import_cap_wh, exportCapWh: l.export_cap_wh, feeMicroPerKwh: l.fee_micro_per_kwh },
          ]),
        );
        const bookMeters: BookMeter[] = meters.map((m) => ({
          meterId: m.meter_id,
          account: m.owner,
          zone: m.zone,
          exportWh: m.export_wh,
          importWh: m.import_wh,
          order: {
            askMicroPerKwh: m.ask_micro_per_kwh ?? 0n,
            maxSellWh: m.max_sell_wh ?? 0n,
            bidMicroPerKwh: m.bid_micro_per_kwh ?? 0n,
            maxBuyWh: m.max_buy_wh ?? 0n,
          },
          balanceMicro: (m.escrow_micro ?? 0n) + (m.settled_micro ?? 0n),
        }));
        const delivered: BookDelivery[] = deliveries.map((d) => ({
          sellerMeterId: d.seller_meter_id,
          buyerMeterId: d.buyer_meter_id,
          energyWh: d.energy_wh,
          costMicro: d.buyer_paid_micro,
        }));
        // The settlement's auction fills: local trades minus what agreements delivered.
        const fills = new Map(meters.map((m) => [m.meter_id, { soldWh: m.sold_local_wh, boughtWh: m.bought_local_wh }]));
        for (const d of delivered) {
          const s = fills.get(d.sellerMeterId);
          const b = fills.get(d.buyerMeterId);
          if (s) s.soldWh -= d.energyWh;
          if (b) b.boughtWh -= d.energyWh;
        }
        const book = rebuildIntervalBook(
          bookMeters,
          delivered,
          { feedInMicroPerKwh: head.feed_in_micro_per_kwh, retailMicroPerKwh: head.retail_micro_per_kwh },
          limits,
          {
            hubPriceMicroPerKwh: head.price_micro_per_kwh,
            zonePrices: new Map(zoneRows.map((z) => [z.zone, z.price_micro_per_kwh])),
            fills,
          },
        );
        const zones = zoneRows.map((z) => {
          const inZone = meters.filter((m) => m.zone === z.zone);
          const total = (f: (m: MeterRow) => bigint) => inZone.reduce((s, m) => s + f(m), 0n);
          const l = limits.get(z.zone) ?? { importCapWh: UNLIMITED_WH, exportCapWh: UNLIMITED_WH, feeMicroPerKwh: 0n };
          const curves = book.zoneCurves.get(z.zone) ?? { supply: [], demand: [] };
          return {
            zone: z.zone,
            households: inZone.length,
            priceMicroPerKwh: dec(z.price_micro_per_kwh),
            netExportWh: dec(z.net_export_wh),
            capacityBound: z.capacity_bound,
            boundLimit: z.capacity_bound ? boundLimit(z.price_micro_per_kwh, head.price_micro_per_kwh, l.feeMicroPerKwh) : null,
            importCapWh: dec(l.importCapWh),
            exportCapWh: dec(l.exportCapWh),
            feeMicroPerKwh: dec(l.feeMicroPerKwh),
            soldLocalWh: dec(total((m) => m.sold_local_wh)),
            boughtLocalWh: dec(total((m) => m.bought_local_wh)),
            toGridWh: dec(total((m) => m.sold_grid_wh)),
            fromGridWh: dec(total((m) => m.bought_grid_wh)),
            curves: { supply: steps(curves.supply), demand: steps(curves.demand) },
          };
        });
        return {
          interval: dec(interval),
          startsAt: dec(head.starts_at),
          feedInMicroPerKwh: dec(head.feed_in_micro_per_kwh),
          retailMicroPerKwh: dec(head.retail_micro_per_kwh),
          priceMicroPerKwh: dec(head.price_micro_per_kwh),
          tradedWh: dec(head.traded_wh),
          bilateralWh: dec(head.bilateral_wh),
          reproduced: book.reproduced,
          orders: book.orders.map((o) => ({
            account: o.account,
            meterId: o.meterId,
            zone: o.zone,
            side: o.side,
            limitMicroPerKwh: dec(o.limitMicroPerKwh),
            quantityWh: dec(o.quantityWh),
            filledWh: dec(o.filledWh),
          })),
          curves: { supply: steps(book.curves.supply), demand: steps(book.curves.demand) },
          zones,
        };
      });
    },
  );
}
