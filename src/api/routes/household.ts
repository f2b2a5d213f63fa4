import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { requireSelf, requireSelfOrOperator } from "../roles.ts";
import { addressOut, addressSchema, dec, decimalSchema, errorBodySchema, timeParam } from "../schemas.ts";
import { intervalRange } from "./intervals.ts";

const privateRoute = { security: [{ bearer: [] }] };

const profileSchema = z.object({
  account: addressOut,
  displayName: z.string().nullable().describe("null: never set"),
  showOnLeaderboard: z.boolean().describe("false until the household opts in"),
  updatedAt: decimalSchema.nullable().describe("unix seconds (server clock) of the last change; null: never set"),
});

type ProfileRow = { account: string; display_name: string; show_on_leaderboard: boolean; updated_at: bigint };

/** A household's own data for the dashboard: per-interval history, wallet parameters for relayed writes, profile. */
export function registerHouseholdRoutes(app: ZodApp, ctx: ApiContext) {
  const { db, deployment, chain } = ctx.deps;
  const params = z.object({ address: addressSchema });

  app.get(
    "/api/accounts/:address/intervals",
    {
      schema: {
        tags: ["accounts"],
        summary: "A household's settled intervals, newest first: its meter's energy, local and grid trade, money",
        description:
          "One row per settled interval and meter of the account, for the intervals starting in [from, to). " +
          "gridOnlyBillMicro: import at retail − export at feed-in.",
        ...privateRoute,
        params,
        querystring: z.object({
          from: timeParam.optional(),
          to: timeParam.optional(),
          limit: z.coerce.number().int().min(1).max(2000).default(96).describe("rows (1–2000, default 96)"),
        }),
        response: {
          200: z.object({
            account: addressOut,
            intervals: z.array(
              z.object({
                interval: decimalSchema,
                startsAt: decimalSchema.describe("unix seconds"),
                meterId: z.number(),
                exportWh: decimalSchema,
                importWh: decimalSchema,
                soldLocalWh: decimalSchema,
                boughtLocalWh: decimalSchema,
                soldGridWh: decimalSchema,
                boughtGridWh: decimalSchema,
                earnedMicro: decimalSchema,
                paidMicro: decimalSchema,
                gridOnlyBillMicro: decimalSchema,
              }),
            ),
          }),
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
        const { from, to, limit } = request.query;
        const { first, end } = intervalRange(deployment.intervalSeconds, from, to);
        const rows = await db.query<{
          interval: bigint;
          meter_id: number;
          export_wh: bigint;
          import_wh: bigint;
          sold_local_wh: bigint;
          bought_local_wh: bigint;
          sold_grid_wh: bigint;
          bought_grid_wh: bigint;
          earned_micro: bigint;
          paid_micro: bigint;
          grid_only_bill_micro: bigint;
        }>(
          `select interval, meter_id, export_wh, import_wh, sold_local_wh, bought_local_wh, sold_grid_wh, bought_grid_wh,
             earned_micro, paid_micro, grid_only_bill_micro
           from meter_intervals where owner = $1 and interval >= $2 and interval < $3
           order by interval desc, meter_id limit $4`,
          [address, first, end, limit],
        );
        return {
          account: address,
          intervals: rows.map((r) => ({
            interval: dec(r.interval),
            startsAt: dec(BigInt(r.interval) * deployment.intervalSeconds),
            meterId: Number(r.meter_id),
            exportWh: dec(r.export_wh),
            importWh: dec(r.import_wh),
            soldLocalWh: dec(r.sold_local_wh),
            boughtLocalWh: dec(r.bought_local_wh),
            soldGridWh: dec(r.sold_grid_wh),
            boughtGridWh: dec(r.bought_grid_wh),
            earnedMicro: dec(r.earned_micro),
            paidMicro: dec(r.paid_micro),
            gridOnlyBillMicro: dec(r.grid_only_bill_micro),
          })),
        };
      });
    },
  );

  app.get(
    "/api/accounts/:address/tx-params",
    {
      schema: {
        tags: ["accounts"],
        summary: "What a wallet without an RPC of its own needs to sign a legacy transaction for the write endpoints",
        description:
          "The account's pending nonce and the node's gas price. Sign `{ type: legacy, chainId, nonce, gasPrice, gas, to, data }` " +
          "and send it as `{ signedTransaction }` to the write endpoint. Signed in as the account itself only.",
        ...privateRoute,
        params,
        response: {
          200: z.object({
            chainId: z.number(),
            nonce: decimalSchema.describe("pending"),
            gasPrice: decimalSchema.describe("wei"),
          }),
          401: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { address } = request.params;
      requireSelf(await ctx.identify(request), address);
      const [nonce, gasPrice] = await Promise.all([
        chain.public.getTransactionCount({ address, blockTag: "pending" }),
        chain.public.getGasPrice(),
      ]);
      return { chainId: chain.chainId, nonce: dec(nonce), gasPrice: dec(gasPrice) };
    },
  );

  const readProfile = async (address: string) => {
    const [row] = await db.query<ProfileRow>(
      "select account, display_name, show_on_leaderboard, updated_at from profiles where account = $1",
      [address],
    );
    return row
      ? {
          account: address,
          displayName: row.display_name,
          showOnLeaderboard: row.show_on_leaderboard,
          updatedAt: dec(row.updated_at),
        }
      : { account: address, displayName: null, showOnLeaderboard: false, updatedAt: null };
  };
  app.get(
    "/api/accounts/:address/profile",
    {
      schema: {
        tags: ["accounts"],
        summary: "A household's profile: display name and leaderboard choice (self or operator)",
        description: "Answers the defaults (displayName null, showOnLeaderboard false) for an account that never set one.",
        ...privateRoute,
        params,
        response: { 200: profileSchema, 401: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request) => {
      const { address } = request.params;
      requireSelfOrOperator(await ctx.identify(request), address);
      return readProfile(address);
    },
  );
  app.put(
    "/api/accounts/:address/profile",
    {
      schema: {
        tags: ["accounts"],
        summary: "Sets one's own profile (stored off chain): display name and whether the leaderboard shows it",
        ...privateRoute,
        params,
        body: z.object({
          displayName: z
            .string()
            .trim()
            .min(1, "must not be empty")
            .max(40, "at most 40 characters")
            .describe("1–40 characters after trimming"),
          showOnLeaderboard: z.boolean(),
        }),
        response: { 200: profileSchema, 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request) => {
      const { address } = request.params;
      requireSelf(await ctx.identify(request), address);
      const { displayName, showOnLeaderboard } = request.body;
      const now = (ctx.deps.authNow ?? ctx.deps.now)();
      await db.query(
        `insert into profiles (account, display_name, show_on_leaderboard, updated_at) values ($1, $2, $3, $4)
         on conflict (account) do update set display_name = excluded.display_name,
           show_on_leaderboard = excluded.show_on_leaderboard, updated_at = excluded.updated_at`,
        [address, displayName, showOnLeaderboard, now],
      );
      return readProfile(address);
    },
  );
}
