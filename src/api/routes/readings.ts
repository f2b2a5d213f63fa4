import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { notFound } from "../errors.ts";
import { addressOut, dec, decimalSchema, errorBodySchema, uintParam } from "../schemas.ts";

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

type TradeDetailRow = {
  interval: bigint;
  idx: number;
  kind: string;
  agreement_id: bigint | null;
  seller: string;
  seller_meter_id: number;
  buyer: string;
  buyer_meter_id: number;
  energy_wh: bigint;
  seller_price_micro_per_kwh: bigint;
  buyer_price_micro_per_kwh: bigint;
  seller_received_micro: bigint;
  buyer_paid_micro: bigint;
  token_id: bigint;
  tx_hash: string;
};

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
          200: z.object({
            interval: decimalSchema,
            idx: z.number(),
            kind: z.string().describe("auction or bilateral"),
            agreementId: decimalSchema.nullable(),
            seller: addressOut,
            sellerMeterId: z.number(),
            buyer: addressOut,
            buyerMeterId: z.number(),
            energyWh: decimalSchema,
            sellerPriceMicroPerKwh: decimalSchema,
            buyerPriceMicroPerKwh: decimalSchema,
            sellerReceivedMicro: decimalSchema,
            buyerPaidMicro: decimalSchema,
            tokenId: decimalSchema,
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
        const [trade] = await db.query<TradeDetailRow>(
          `select t.*, i.tx_hash from trades t join intervals i on i.interval = t.interval where t.interval = $1 and t.idx = $2`,
          [interval, idx],
        );
        if (!trade) throw notFound("trade", `interval ${interval} has no trade ${idx} (or is not settled or indexed yet)`);
        const readings = await db.query<ReadingRow>(
          `select ${READING_COLUMNS} from readings where interval = $1 and meter_id = any($2::int4[])`,
          [interval, [trade.seller_meter_id, trade.buyer_meter_id]],
        );
        const of = (meterId: number) => {
          const found = readings.find((r) => Number(r.meter_id) === Number(meterId));
          return found ? readingJson(found) : null;
        };
        return {
          interval: dec(trade.interval),
          idx: Number(trade.idx),
          kind: trade.kind,
          agreementId: trade.agreement_id === null ? null : dec(trade.agreement_id),
          seller: trade.seller,
          sellerMeterId: Number(trade.seller_meter_id),
          buyer: trade.buyer,
          buyerMeterId: Number(trade.buyer_meter_id),
          energyWh: dec(trade.energy_wh),
          sellerPriceMicroPerKwh: dec(trade.seller_price_micro_per_kwh),
          buyerPriceMicroPerKwh: dec(trade.buyer_price_micro_per_kwh),
          sellerReceivedMicro: dec(trade.seller_received_micro),
          buyerPaidMicro: dec(trade.buyer_paid_micro),
          tokenId: dec(trade.token_id),
          txHash: trade.tx_hash,
          domain,
          sellerReading: of(trade.seller_meter_id),
          buyerReading: of(trade.buyer_meter_id),
        };
      });
    },
  );
}
