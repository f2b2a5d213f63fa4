import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { CURSOR_END, nextBeforeSchema, pageOf, pairCursorParam, pairCursorText } from "../cursor.ts";
import { forbidden, notFound } from "../errors.ts";
import { csvLine, monthOf } from "../months.ts";
import { type Identity, isOperator, requireSelfOrOperator, requireSession } from "../roles.ts";
import { TRADE_JSON_SQL, type TradeJson } from "../rows.ts";
import { addressOut, addressSchema, dec, decimalSchema, decOrNull, errorBodySchema, limitSchema, uintParam } from "../schemas.ts";
import { tradeSchema } from "../schemasRows.ts";
import { monthlyStatement, STATEMENT_CSV_HEADER, statementCsvFields, totalsJson } from "../statements.ts";

const privateRoute = { security: [{ bearer: [] }] };

const totalsSchema = z.object({
  intervals: z.number(),
  exportWh: decimalSchema,
  importWh: decimalSchema,
  soldLocalWh: decimalSchema,
  boughtLocalWh: decimalSchema,
  soldGridWh: decimalSchema,
  boughtGridWh: decimalSchema,
  earnedMicro: decimalSchema,
  paidMicro: decimalSchema,
  netCostMicro: decimalSchema.describe("paid − earned"),
  gridOnlyBillMicro: decimalSchema.describe("import at retail − export at feed-in, interval by interval"),
  savingsMicro: decimalSchema.describe("gridOnlyBill − netCost"),
});
const statementQuery = z.object({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "expected YYYY-MM")
    .optional()
    .describe("YYYY-MM; default: the current month"),
  tz: z.string().max(64).default("UTC").describe("IANA time zone the month and its days are cut in (default UTC)"),
});

const agreementSchema = z.object({
  id: decimalSchema,
  status: z.enum(["proposed", "active", "ended", "cancelled"]),
  lastEvent: z.string(),
  seller: addressOut,
  buyer: addressOut,
  maxWhPerInterval: decimalSchema,
  priceMicroPerKwh: decimalSchema,
  startInterval: decimalSchema,
  endInterval: decimalSchema,
  noticeIntervals: decimalSchema,
  proposer: addressOut.nullable(),
  events: z.array(z.object({ event: z.string(), by: addressOut.nullable(), blockNumber: decimalSchema })),
});

/** Trades strictly before the cursor ($2 interval, $3 idx) in (interval, idx) order. */
const BEFORE_TRADE = "(interval < $2 or (interval = $2 and idx < $3))";

const deliverySchema = z.object({
  interval: decimalSchema,
  index: z.number().describe("the trade's index in its interval (/api/intervals/:interval/trades/:idx)"),
  startsAt: decimalSchema.nullable().describe("unix seconds"),
  energyWh: decimalSchema,
  priceMicroPerKwh: decimalSchema,
  moneyMicro: decimalSchema.describe("paid by the buyer to the seller"),
  txHash: z.string().nullable().describe("the interval's settlement transaction"),
  blockNumber: decimalSchema,
});
type DeliveryRow = {
  interval: bigint;
  idx: number;
  energy_wh: bigint;
  buyer_price_micro_per_kwh: bigint;
  buyer_paid_micro: bigint;
  block_number: bigint;
  starts_at: bigint | null;
  tx_hash: string | null;
};

type AgreementRow = {
  id: bigint;
  event: string;
  seller: string;
  buyer: string;
  max_wh_per_interval: bigint;
  price_micro_per_kwh: bigint;
  start_interval: bigint;
  end_interval: bigint;
  notice_intervals: bigint;
  by_account: string | null;
  block_number: bigint;
  log_index: number;
};

/** Agreements' current state from their log rows (ordered oldest first, grouped by id). */
function agreementsFrom(rows: readonly AgreementRow[], currentInterval: bigint) {
  const byId = new Map<bigint, AgreementRow[]>();
  for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  return [...byId.values()].map((log) => {
    const last = log[log.length - 1] as AgreementRow;
    const accepted = log.some((r) => r.event.toLowerCase().startsWith("accept"));
    const event = last.event.toLowerCase();
    const status = event.startsWith("propos")
      ? "proposed"
      : !accepted
        ? "cancelled"
        : last.end_interval <= currentInterval
          ? "ended"
          : "active";
    return {
      id: dec(last.id),
      status: status as "proposed" | "active" | "ended" | "cancelled",
      lastEvent: last.event,
      seller: last.seller,
      buyer: last.buyer,
      maxWhPerInterval: dec(last.max_wh_per_interval),
      priceMicroPerKwh: dec(last.price_micro_per_kwh),
      startInterval: dec(last.start_interval),
      endInterval: dec(last.end_interval),
      noticeIntervals: dec(last.notice_intervals),
      proposer: log[0]?.by_account ?? null,
      events: log.map((r) => ({ event: r.event, by: r.by_account, blockNumber: dec(r.block_number) })),
    };
  });
}

/** Private household data (self or operator): account, trades, statements; agreements (parties or operator). */
export function registerAccountRoutes(app: ZodApp, ctx: ApiContext) {
  const { db, deployment } = ctx.deps;
  const params = z.object({ address: addressSchema });

  app.get(
    "/api/accounts/:address",
    {
      schema: {
        tags: ["accounts"],
        summary: "A household's escrow balance (from deposits, withdrawals and settlements), standing order and recent history",
        ...privateRoute,
        params,
        querystring: z.object({ limit: limitSchema }),
        response: {
          200: z.object({
            address: addressOut,
            participant: z.object({ zone: z.number(), active: z.boolean() }).nullable(),
            balanceMicro: decimalSchema.describe("escrow as the index sees it; negative: grid debt"),
            standingOrder: z
              .object({
                askMicroPerKwh: decimalSchema,
                maxSellWh: decimalSchema,
                bidMicroPerKwh: decimalSchema,
                maxBuyWh: decimalSchema,
                blockNumber: decimalSchema,
              })
              .nullable(),
            history: z.array(
              z.object({
                kind: z.string().describe("deposit, withdraw … (escrow) or settlement (one interval's net)"),
                interval: decimalSchema.nullable(),
                amountMicro: decimalSchema.describe("signed change of the balance"),
                balanceMicro: decimalSchema.describe("balance after this entry"),
                txHash: z.string().nullable(),
                blockNumber: decimalSchema,
              }),
            ),
          }),
          401: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { address } = request.params;
      requireSelfOrOperator(await ctx.identify(request), address);
      return ctx.fromIndex(request.url, async () => {
        const limit = request.query.limit;
        const [[totals], [order], escrow, settled] = await Promise.all([
          db.query<{ zone: number | null; active: boolean | null; escrow: bigint | null; settled: bigint | null }>(
            `select p.zone, p.active,
             (select sum(case when kind like 'withdraw%' then -amount_micro else amount_micro end) from escrow_log where account = $1) as escrow,
             (select sum(earned_micro - paid_micro) from meter_intervals where owner = $1) as settled
           from (select 1) one left join lateral (
             select zone, active from participant_log where account = $1 order by block_number desc, log_index desc limit 1) p on true`,
            [address],
          ),
          db.query<Record<string, bigint>>(
            "select * from standing_order_log where account = $1 order by block_number desc, log_index desc limit 1",
            [address],
          ),
          db.query<{ kind: string; amount_micro: bigint; tx_hash: string; block_number: bigint; log_index: number }>(
            `select kind, amount_micro, tx_hash, block_number, log_index from escrow_log where account = $1
           order by block_number desc, log_index desc limit $2`,
            [address, limit],
          ),
          db.query<{ interval: bigint; net: bigint; block_number: bigint }>(
            `select interval, sum(earned_micro - paid_micro) as net, max(block_number) as block_number from meter_intervals
           where owner = $1 group by interval order by interval desc limit $2`,
            [address, limit],
          ),
        ]);
        const balance = (totals?.escrow ?? 0n) + (totals?.settled ?? 0n);
        const entries = [
          ...escrow.map((e) => ({
            kind: e.kind,
            interval: null,
            amount: e.kind.startsWith("withdraw") ? -e.amount_micro : e.amount_micro,
            txHash: e.tx_hash as string | null,
            block: e.block_number,
            order: e.log_index,
          })),
          ...settled.map((s) => ({
            kind: "settlement",
            interval: dec(s.interval),
            amount: s.net,
            txHash: null,
            block: s.block_number,
            order: -1,
          })),
        ]
          .sort((x, y) => (x.block === y.block ? y.order - x.order : x.block < y.block ? 1 : -1))
          .slice(0, limit);
        let after = balance;
        const history = entries.map((e) => {
          const entry = {
            kind: e.kind,
            interval: e.interval,
            amountMicro: dec(e.amount),
            balanceMicro: dec(after),
            txHash: e.txHash,
            blockNumber: dec(e.block),
          };
          after -= e.amount;
          return entry;
        });
        return {
          address,
          participant: totals?.zone != null ? { zone: totals.zone, active: totals.active === true } : null,
          balanceMicro: dec(balance),
          standingOrder: order
            ? {
                askMicroPerKwh: dec(order.ask_micro_per_kwh ?? 0n),
                maxSellWh: dec(order.max_sell_wh ?? 0n),
                bidMicroPerKwh: dec(order.bid_micro_per_kwh ?? 0n),
                maxBuyWh: dec(order.max_buy_wh ?? 0n),
                blockNumber: dec(order.block_number ?? 0n),
              }
            : null,
          history,
        };
      });
    },
  );

  app.get(
    "/api/accounts/:address/trades",
    {
      schema: {
        tags: ["accounts"],
        summary: "A household's own trades (as seller or buyer), newest first",
        ...privateRoute,
        params,
        querystring: z.object({
          before: pairCursorParam
            .optional()
            .describe("paging: trades before interval:index (a page's nextBefore), or before an interval (N)"),
          limit: limitSchema,
        }),
        response: {
          200: z.object({ trades: z.array(tradeSchema), nextBefore: nextBeforeSchema }),
          400: errorBodySchema,
          401: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { address } = request.params;
      requireSelfOrOperator(await ctx.identify(request), address);
      return ctx.fromIndex(request.url, async () => {
        const { before, limit } = request.query;
        const [interval, idx] = before ?? CURSOR_END;
        // A household can trade several times in one interval: the cursor is (interval, idx), both compared.
        const [found] = await db.query<{ trades: TradeJson[] }>(
          `select coalesce(json_agg(${TRADE_JSON_SQL} order by interval desc, idx desc), '[]') as trades from (
             (select * from trades where seller = $1 and ${BEFORE_TRADE} order by interval desc, idx desc limit $4)
             union
             (select * from trades where buyer = $1 and ${BEFORE_TRADE} order by interval desc, idx desc limit $4)
             order by interval desc, idx desc limit $4) t`,
          [address, interval, idx, limit + 1],
        );
        const page = pageOf(found?.trades ?? [], limit, (t) => pairCursorText(t.interval, t.index));
        return { trades: page.rows, nextBefore: page.nextBefore };
      });
    },
  );

  const statementOf = async (request: { params: { address: `0x${string}` }; query: z.output<typeof statementQuery> }) => {
    const { tz } = request.query;
    const month = request.query.month ?? monthOf(ctx.deps.now(), tz);
    const { address } = request.params;
    return ctx.fromIndex(`statement ${address} ${month} ${tz}`, () =>
      monthlyStatement(db, deployment.intervalSeconds, address, month, tz),
    );
  };
  app.get(
    "/api/accounts/:address/statements",
    {
      schema: {
        tags: ["accounts"],
        summary: "A household's monthly statement: energy bought and sold (local, grid), money, savings against grid-only",
        description:
          "The month's settled intervals (those starting in the month, cut in `tz`, UTC by default), in total and per local day.",
        ...privateRoute,
        params,
        querystring: statementQuery,
        response: {
          200: z.object({
            account: addressOut,
            month: z.string(),
            timeZone: z.string(),
            from: decimalSchema.describe("unix seconds, first second of the month in the time zone"),
            to: decimalSchema.describe("unix seconds, first second of the next month"),
            totals: totalsSchema,
            days: z.array(totalsSchema.extend({ date: z.string() })),
          }),
          400: errorBodySchema,
          401: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      requireSelfOrOperator(await ctx.identify(request), request.params.address);
      const s = await statementOf(request);
      return {
        account: s.account,
        month: s.month,
        timeZone: s.timeZone,
        from: dec(s.from),
        to: dec(s.to),
        totals: totalsJson(s.totals),
        days: s.days.map((d) => ({ date: d.date, ...totalsJson(d) })),
      };
    },
  );
  app.get(
    "/api/accounts/:address/statements.csv",
    {
      schema: {
        tags: ["accounts", "export"],
        summary: "The monthly statement as CSV: one line per local day and a total line",
        ...privateRoute,
        params,
        querystring: statementQuery,
        produces: ["text/csv"],
        response: { 200: z.string().describe("CSV"), 401: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request, reply) => {
      requireSelfOrOperator(await ctx.identify(request), request.params.address);
      const s = await statementOf(request);
      const csv =
        csvLine(STATEMENT_CSV_HEADER) +
        s.days.map((d) => csvLine(statementCsvFields(d.date, d))).join("") +
        csvLine(statementCsvFields("total", s.totals));
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="statement-${s.account}-${s.month}.csv"`)
        .send(csv);
    },
  );

  const currentInterval = () => ctx.deps.now() / deployment.intervalSeconds;
  app.get(
    "/api/agreements",
    {
      schema: {
        tags: ["agreements"],
        summary: "Bilateral agreements with their current state: one's own (households) or all (operators)",
        description: "Newest (highest id) first, a page at a time: pass the answer's `nextBefore` as `before` for the next page.",
        ...privateRoute,
        querystring: z.object({
          account: addressSchema.optional().describe("a party; households may only give themselves"),
          before: uintParam.optional().describe("paging: agreements with a lower id (a page's nextBefore)"),
          limit: limitSchema,
        }),
        response: {
          200: z.object({ agreements: z.array(agreementSchema), nextBefore: nextBeforeSchema }),
          400: errorBodySchema,
          401: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const who = requireSession(await ctx.identify(request));
      const { before, limit } = request.query;
      let account = request.query.account;
      if (!isOperator(who)) {
        if (account && account !== who.address) throw forbidden("households see only their own agreements");
        account = who.address;
      }
      // One more id than the page holds tells whether another page follows.
      const rows = await db.query<AgreementRow>(
        `select * from agreement_log where id in (
           select distinct id from agreement_log where ($1::text is null or seller = $1 or buyer = $1) and id < $2
           order by id desc limit $3)
         order by id, block_number, log_index`,
        [account ?? null, before ?? CURSOR_END[0], limit + 1],
      );
      const page = pageOf(agreementsFrom(rows, currentInterval()).reverse(), limit, (a) => a.id);
      return { agreements: page.rows, nextBefore: page.nextBefore };
    },
  );
  app.get(
    "/api/agreements/:id",
    {
      schema: {
        tags: ["agreements"],
        summary: "One agreement (its parties and operators only)",
        ...privateRoute,
        params: z.object({ id: uintParam }),
        response: { 200: agreementSchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => agreementFor(requireSession(await ctx.identify(request)), request.params.id),
  );
  app.get(
    "/api/agreements/:id/deliveries",
    {
      schema: {
        tags: ["agreements"],
        summary: "What one agreement delivered, interval by interval (newest first), with its totals (parties and operators)",
        description:
          "One row per `bilateral` trade of the agreement (at most one per interval). `totals` count all of them, not the page; " +
          "pass the answer's `nextBefore` as `before` for the next page.",
        ...privateRoute,
        params: z.object({ id: uintParam }),
        querystring: z.object({
          before: pairCursorParam.optional().describe("paging: deliveries before interval:index (a page's nextBefore)"),
          limit: limitSchema,
        }),
        response: {
          200: z.object({
            agreementId: decimalSchema,
            totals: z.object({
              intervals: decimalSchema.describe("intervals it delivered in"),
              energyWh: decimalSchema,
              moneyMicro: decimalSchema.describe("paid by the buyer to the seller"),
            }),
            deliveries: z.array(deliverySchema),
            nextBefore: nextBeforeSchema,
          }),
          400: errorBodySchema,
          401: errorBodySchema,
          403: errorBodySchema,
          404: errorBodySchema,
        },
      },
    },
    async (request) => {
      const agreement = await agreementFor(requireSession(await ctx.identify(request)), request.params.id);
      const { before, limit } = request.query;
      const [interval, idx] = before ?? CURSOR_END;
      return ctx.fromIndex(request.url, async () => {
        // Every delivery's seller is the agreement's seller: the filter lets the store use trades_seller.
        const args = [agreement.seller, request.params.id];
        const [rows, [totals]] = await Promise.all([
          db.query<DeliveryRow>(
            `select t.interval, t.idx, t.energy_wh, t.buyer_price_micro_per_kwh, t.buyer_paid_micro, t.block_number, i.starts_at, i.tx_hash
             from trades t left join intervals i on i.interval = t.interval
             where t.seller = $1 and t.agreement_id = $2 and (t.interval < $3 or (t.interval = $3 and t.idx < $4))
             order by t.interval desc, t.idx desc limit $5`,
            [...args, interval, idx, limit + 1],
          ),
          db.query<{ intervals: bigint; energy_wh: bigint | null; money_micro: bigint | null }>(
            `select count(distinct interval) as intervals, sum(energy_wh) as energy_wh, sum(buyer_paid_micro) as money_micro
             from trades where seller = $1 and agreement_id = $2`,
            args,
          ),
        ]);
        const page = pageOf(rows, limit, (r) => pairCursorText(r.interval, r.idx));
        return {
          agreementId: agreement.id,
          totals: {
            intervals: dec(totals?.intervals ?? 0n),
            energyWh: dec(totals?.energy_wh ?? 0n),
            moneyMicro: dec(totals?.money_micro ?? 0n),
          },
          deliveries: page.rows.map((r) => ({
            interval: dec(r.interval),
            index: r.idx,
            startsAt: decOrNull(r.starts_at),
            energyWh: dec(r.energy_wh),
            priceMicroPerKwh: dec(r.buyer_price_micro_per_kwh),
            moneyMicro: dec(r.buyer_paid_micro),
            txHash: r.tx_hash,
            blockNumber: dec(r.block_number),
          })),
          nextBefore: page.nextBefore,
        };
      });
    },
  );

  /** The agreement `id` if `who` may see it (a party or an operator), else 404 / 403. */
  async function agreementFor(who: Identity, id: bigint) {
    const rows = await db.query<AgreementRow>("select * from agreement_log where id = $1 order by block_number, log_index", [id]);
    const [agreement] = agreementsFrom(rows, currentInterval());
    if (!agreement) throw notFound("agreement", `no agreement ${id}`);
    if (!isOperator(who) && who.address !== agreement.seller && who.address !== agreement.buyer) {
      throw forbidden("only the agreement's parties and operators may see it");
    }
    return agreement;
  }
}
