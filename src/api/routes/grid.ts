import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { dec, decimalSchema } from "../schemas.ts";

const tariffsSchema = z.object({
  feedInMicroPerKwh: decimalSchema,
  retailMicroPerKwh: decimalSchema,
  blockNumber: decimalSchema.describe("block of the change"),
});
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
