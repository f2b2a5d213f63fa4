import { z } from "zod";
import { energyMarketAbi } from "../../chain/generated/contracts.ts";
import { savingsAgainstGridOnly } from "../../core/kpi.ts";
import type { ApiContext, ZodApp } from "../context.ts";
import { ApiError } from "../errors.ts";
import { cachedMonthBounds, monthOf } from "../months.ts";
import { dec, decimalSchema, errorBodySchema } from "../schemas.ts";

/** `tz` if the runtime knows it as an IANA time zone, else 400 invalid_time_zone. */
function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return tz;
  } catch {
    throw new ApiError(400, "invalid_time_zone", `"${tz}" is not an IANA time zone`);
  }
}

/** Community-wide views for the dashboard: the savings leaderboard and the keeper's progress (public). */
export function registerCommunityRoutes(app: ZodApp, ctx: ApiContext) {
  const { db, deployment, chain } = ctx.deps;

  app.get(
    "/api/leaderboard",
    {
      schema: {
        tags: ["community"],
        summary: "Households ranked by their savings against grid-only over a month",
        description:
          "Savings as on the statements: gridOnlyBill − (paid − earned), over the settled intervals starting in the month (cut in " +
          "`tz`, UTC by default). `name` is the household's display name when it opted in (PUT /api/accounts/:address/profile), " +
          'else "Household #<rank>"; addresses are never shown.',
        querystring: z.object({
          month: z
            .string()
            .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "expected YYYY-MM")
            .optional()
            .describe("YYYY-MM; default: the current month"),
          tz: z.string().max(64).default("UTC").describe("IANA time zone the month is cut in (default UTC)"),
        }),
        response: {
          200: z.object({
            month: z.string(),
            entries: z.array(
              z.object({
                rank: z.number().describe("1 = most saved; ties share no rank (ordered by savings, then local energy)"),
                name: z.string(),
                savingsMicro: decimalSchema,
                tradedLocalWh: decimalSchema.describe("sold + bought locally (auction and bilateral)"),
              }),
            ),
          }),
          400: errorBodySchema,
        },
      },
    },
    async (request) => {
      const tz = checkTimeZone(request.query.tz);
      const month = request.query.month ?? monthOf(ctx.deps.now(), tz);
      const { from, to } = cachedMonthBounds(month, tz);
      const ceil = (t: bigint) => (t + deployment.intervalSeconds - 1n) / deployment.intervalSeconds;
      const sums = await db.query<{
        owner: string;
        grid_only_bill_micro: bigint;
        paid_micro: bigint;
        earned_micro: bigint;
        traded_local_wh: bigint;
        display_name: string | null;
        show_on_leaderboard: boolean | null;
      }>(
        `select m.*, p.display_name, p.show_on_leaderboard from (
           select owner, sum(grid_only_bill_micro) as grid_only_bill_micro, sum(paid_micro) as paid_micro,
             sum(earned_micro) as earned_micro, sum(sold_local_wh + bought_local_wh) as traded_local_wh
           from meter_intervals where interval >= $1 and interval < $2 group by owner) m
         left join profiles p on p.account = m.owner`,
        [ceil(from), ceil(to)],
      );
      // Ranked by savings, then local energy, then address (never shown), as the statements compute savings.
      const rows = sums
        .map((r) => ({
          ...r,
          savings: savingsAgainstGridOnly({
            gridOnlyBillMicro: r.grid_only_bill_micro,
            paidMicro: r.paid_micro,
            earnedMicro: r.earned_micro,
          }).savingsMicro,
        }))
        .sort((x, y) =>
          x.savings !== y.savings
            ? y.savings > x.savings
              ? 1
              : -1
            : x.traded_local_wh !== y.traded_local_wh
              ? y.traded_local_wh > x.traded_local_wh
                ? 1
                : -1
              : x.owner < y.owner
                ? -1
                : 1,
        );
      return {
        month,
        entries: rows.map((r, i) => ({
          rank: i + 1,
          name: r.show_on_leaderboard && r.display_name ? r.display_name : `Household #${i + 1}`,
          savingsMicro: dec(r.savings),
          tradedLocalWh: dec(r.traded_local_wh),
        })),
      };
    },
  );

  app.get(
    "/api/keeper",
    {
      schema: {
        tags: ["status"],
        summary: "The keeper's progress: which interval settles next, how far settlement lags the chain's clock, what waits",
        description:
          "lagIntervals: intervals whose reading window has closed by chain time (so they could be settled) but are not settled. " +
          "gatewayReadingsWaiting: readings the gateway holds for intervals not settled yet.",
        response: {
          200: z.object({
            chainTime: decimalSchema.describe("unix seconds, the market's clock"),
            nextIntervalToSettle: decimalSchema,
            lastSettledInterval: decimalSchema.nullable().describe("as indexed"),
            lastSettledAt: decimalSchema.nullable().describe("unix seconds (block time of its settlement)"),
            lagIntervals: decimalSchema,
            indexedBlock: decimalSchema,
            headBlock: decimalSchema,
            gatewayReadingsWaiting: decimalSchema,
          }),
        },
      },
    },
    async () => {
      const chainTime = ctx.deps.now();
      const next = await chain.public.readContract({
        address: deployment.market,
        abi: energyMarketAbi,
        functionName: "nextIntervalToSettle",
      });
      const [[last], [waiting], status] = await Promise.all([
        db.query<{ interval: bigint; settled_at: bigint }>(
          "select interval, settled_at from intervals order by interval desc limit 1",
        ),
        db.query<{ n: bigint }>("select count(*) as n from gateway_readings where interval >= $1", [next]),
        ctx.deps.indexerStatus(),
      ]);
      // Interval i can settle once (i + 1) · intervalSeconds + readingWindowSeconds ≤ chainTime.
      const open = chainTime - deployment.readingWindowSeconds;
      const closable = open < 0n ? 0n : open / deployment.intervalSeconds;
      return {
        chainTime: dec(chainTime),
        nextIntervalToSettle: dec(next),
        lastSettledInterval: last ? dec(last.interval) : null,
        lastSettledAt: last ? dec(last.settled_at) : null,
        lagIntervals: dec(closable > next ? closable - next : 0n),
        indexedBlock: dec(status.indexedBlock),
        headBlock: dec(status.headBlock),
        gatewayReadingsWaiting: dec(BigInt(waiting?.n ?? 0n)),
      };
    },
  );
}
