import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { notFound } from "../errors.ts";
import { TRADE_JSON_SQL, type TradeJson } from "../rows.ts";
import { addressOut, dec, decimalSchema, errorBodySchema, uintParam } from "../schemas.ts";
import { tradeSchema } from "../schemasRows.ts";

/** The EIP-712 domain meters sign readings under: `("PeerGrid", "1", chainId, market)`. */
export const readingDomainSchema = z
  .object({
    name: z.literal("PeerGrid"),
    version: z.literal("1"),
    chainId: z.number(),
    verifyingContract: addressOut.describe("the EnergyMarket"),
  })
  .describe("EIP-712 domain of Reading(address meter,uint64 interval,uint64 exportWh,uint64 importWh)");

/** A signed reading as the book recorded it: the meter's EIP-712 signature (EIP-2098 compact r, vs) over it. */
export const signedReadingSchema = z.object({
  meterId: z.number(),
  meter: addressOut.describe("the meter's signing address (the EIP-712 `meter` field)"),
  owner: addressOut,
  zone: z.number(),
  exportWh: decimalSchema,
  importWh: decimalSchema,
  r: z.string().describe("0x, 32 bytes"),
  vs: z.string().describe("0x, 32 bytes: EIP-2098 compact s with the parity bit"),
  txHash: z.string().describe("the submitReadings transaction that recorded it"),
});

export type ReadingRow = {
  interval: bigint;
  meter_id: number;
  signer: string;
  owner: string;
  zone: number;
  export_wh: bigint;
  import_wh: bigint;
  r: string;
  vs: string;
  tx_hash: string;
};

export const readingJson = (r: ReadingRow): z.output<typeof signedReadingSchema> => ({
  meterId: Number(r.meter_id),
  meter: r.signer,
  owner: r.owner,
  zone: Number(r.zone),
  exportWh: dec(r.export_wh),
  importWh: dec(r.import_wh),
  r: r.r,
  vs: r.vs,
  txHash: r.tx_hash,
});

const READING_COLUMNS = "interval, meter_id, signer, owner, zone, export_wh, import_wh, r, vs, tx_hash";

/** The signed readings each interval's book recorded, and one trade with the two readings it came from (public). */
export function registerReadingRoutes(app: ZodApp, ctx: ApiContext) {
  const { db, deployment, chain } = ctx.deps;
  const domain = {
    name: "PeerGrid" as const,
    version: "1" as const,
    chainId: chain.chainId,
    verifyingContract: deployment.market.toLowerCase(),
  };
  app.get(
    "/api/intervals/:interval/readings",
    {
      schema: {
        tags: ["intervals"],
        summary: "The signed meter readings an interval's book recorded, by meter id, with the domain to verify them",
        description:
          "Rebuilt from the submitReadings calldata (the chain keeps only the book's hash). Each reading verifies as EIP-712 " +
          "`Reading(meter, interval, exportWh, importWh)` under `domain`, signed by `meter`. Empty while nothing is recorded.",
        params: z.object({ interval: uintParam }),
        response: {
          200: z.object({ interval: decimalSchema, domain: readingDomainSchema, readings: z.array(signedReadingSchema) }),
        },
      },
    },
    async (request) => {
      const { interval } = request.params;
      return ctx.fromIndex(request.url, async () => {
        const rows = await db.query<ReadingRow>(`select ${READING_COLUMNS} from readings where interval = $1 order by meter_id`, [
          interval,
        ]);
        return { interval: dec(interval), domain, readings: rows.map(readingJson) };
      });
    },
  );
  app.get(
    "/api/intervals/:interval/trades/:idx",
    {
      schema: {
        tags: ["intervals"],
        summary: "One trade with the seller's and the buyer's signed readings it was settled from",
        params: z.object({ interval: uintParam, idx: z.coerce.number().int().min(0).max(2_147_483_647) }),
        response: {
          200: tradeSchema.omit({ index: true, blockNumber: true }).extend({
            idx: z.number(),
            txHash: z.string().describe("the settleInterval transaction"),
            domain: readingDomainSchema,
            sellerReading: signedReadingSchema.nullable(),
            buyerReading: signedReadingSchema.nullable(),
          }),
          400: errorBodySchema,
          404: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { interval, idx } = request.params;
      return ctx.fromIndex(request.url, async () => {
        const [row] = await db.query<{ trade: TradeJson; tx_hash: string }>(
          `select ${TRADE_JSON_SQL} as trade, (select tx_hash from intervals where interval = $1) as tx_hash
             from trades where interval = $1 and idx = $2`,
          [interval, idx],
        );
        if (!row) throw notFound("trade", `interval ${interval} has no trade ${idx} (or is not settled or indexed yet)`);
        const { index, blockNumber: _, ...trade } = row.trade;
        const readings = await db.query<ReadingRow>(
          `select ${READING_COLUMNS} from readings where interval = $1 and meter_id = any($2::int4[])`,
          [interval, [trade.sellerMeterId, trade.buyerMeterId]],
        );
        const of = (meterId: number) => {
          const found = readings.find((r) => Number(r.meter_id) === meterId);
          return found ? readingJson(found) : null;
        };
        return {
          ...trade,
          idx: index,
          txHash: row.tx_hash,
          domain,
          sellerReading: of(trade.sellerMeterId),
          buyerReading: of(trade.buyerMeterId),
        };
      });
    },
  );
}
