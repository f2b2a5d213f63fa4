import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { CURSOR_END, nextBeforeSchema, pageOf, pairCursorParam, pairCursorText } from "../cursor.ts";
import { addressOut, dec, decimalSchema, decOrNull, errorBodySchema, limitSchema, txHashSchema } from "../schemas.ts";

const tariffsSchema = z.object({
  feedInMicroPerKwh: decimalSchema,
  retailMicroPerKwh: decimalSchema,
  blockNumber: decimalSchema.describe("block of the change"),
});
const tariffChangeSchema = z.object({
  feedInMicroPerKwh: decimalSchema,
  retailMicroPerKwh: decimalSchema,
  blockNumber: decimalSchema.describe("block of the change"),
  logIndex: z.number(),
  at: decimalSchema.nullable().describe("unix seconds of the change's block"),
  by: addressOut.nullable().describe("who sent the transaction (the grid operator, or the deployer for the first tariffs)"),
  txHash: txHashSchema,
});
type TariffChangeRow = {
  feed_in_micro_per_kwh: bigint;
  retail_micro_per_kwh: bigint;
  block_number: bigint;
  log_index: number;
  timestamp: bigint | null;
  from_address: string | null;
  tx_hash: string;
};
const zoneSchema = z.object({
  zone: z.number(),
  importCapWh: decimalSchema.describe("18446744073709551615 (2^64 − 1): unlimited"),
  exportCapWh: decimalSchema,
  feeMicroPerKwh: decimalSchema,
  blockNumber: decimalSchema,
});

/** The grid operator's settings as recorded on chain: tariffs and zone limits (public). */
export function registerGridRoutes(app: ZodApp, ctx: ApiContext) {
  const { db } = ctx.deps;
  app.get(
    "/api/tariffs",
    {
      schema: {
        tags: ["grid"],
        summary: "The grid tariffs: the current ones (null before any change was indexed) and their history, newest first",
        response: { 200: z.object({ current: tariffsSchema.nullable(), history: z.array(tariffsSchema) }) },
      },
    },
    async () =>
      ctx.fromIndex("tariffs", async () => {
        const rows = await db.query<{ feed_in_micro_per_kwh: bigint; retail_micro_per_kwh: bigint; block_number: bigint }>(
          "select * from tariff_log order by block_number desc, log_index desc limit 100",
        );
        const history = rows.map((r) => ({
          feedInMicroPerKwh: dec(r.feed_in_micro_per_kwh),
          retailMicroPerKwh: dec(r.retail_micro_per_kwh),
          blockNumber: dec(r.block_number),
        }));
        return { current: history[0] ?? null, history };
      }),
  );
  app.get(
    "/api/tariffs/history",
    {
      schema: {
        tags: ["grid"],
        summary: "Every tariff change, newest first: block, time, sender, feed-in and retail tariff",
        description: "A page at a time: pass the answer's `nextBefore` (`block:logIndex`) as `before` for the next (older) page.",
        querystring: z.object({
          before: pairCursorParam.optional().describe("paging: changes before block:logIndex (a page's nextBefore)"),
          limit: limitSchema,
        }),
        response: { 200: z.object({ changes: z.array(tariffChangeSchema), nextBefore: nextBeforeSchema }), 400: errorBodySchema },
      },
    },
    async (request) =>
      ctx.fromIndex(request.url, async () => {
        const { before, limit } = request.query;
        const [block, logIndex] = before ?? CURSOR_END;
        const rows = await db.query<TariffChangeRow>(
          `select t.feed_in_micro_per_kwh, t.retail_micro_per_kwh, t.block_number, t.log_index, b.timestamp, x.from_address, e.tx_hash
           from tariff_log t
           join chain_events e on e.block_number = t.block_number and e.log_index = t.log_index
           left join chain_blocks b on b.number = t.block_number
           left join chain_transactions x on x.hash = e.tx_hash
           where (t.block_number, t.log_index) < ($1::int8, $2::int4)
           order by t.block_number desc, t.log_index desc limit $3`,
          [block, logIndex, limit + 1],
        );
        const page = pageOf(rows, limit, (r) => pairCursorText(r.block_number, r.log_index));
        return {
          changes: page.rows.map((r) => ({
            feedInMicroPerKwh: dec(r.feed_in_micro_per_kwh),
            retailMicroPerKwh: dec(r.retail_micro_per_kwh),
            blockNumber: dec(r.block_number),
            logIndex: r.log_index,
            at: decOrNull(r.timestamp),
            by: r.from_address,
            txHash: r.tx_hash,
          })),
          nextBefore: page.nextBefore,
        };
      }),
  );
  app.get(
    "/api/zones",
    {
      schema: {
        tags: ["grid"],
        summary: "Each configured zone's current limits (a zone never configured is unlimited and free)",
        response: { 200: z.object({ zones: z.array(zoneSchema) }) },
      },
    },
    async () =>
      ctx.fromIndex("zones", async () => {
        const rows = await db.query<{
          zone: number;
          import_cap_wh: bigint;
          export_cap_wh: bigint;
          fee_micro_per_kwh: bigint;
          block_number: bigint;
        }>("select distinct on (zone) * from zone_limit_log order by zone, block_number desc, log_index desc");
        return {
          zones: rows.map((r) => ({
            zone: r.zone,
            importCapWh: dec(r.import_cap_wh),
            exportCapWh: dec(r.export_cap_wh),
            feeMicroPerKwh: dec(r.fee_micro_per_kwh),
            blockNumber: dec(r.block_number),
          })),
        };
      }),
  );
}
