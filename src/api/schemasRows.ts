import { z } from "zod";
import { addressOut, decimalSchema } from "./schemas.ts";

export const intervalSchema = z.object({
  interval: decimalSchema,
  startsAt: decimalSchema.describe("unix seconds"),
  settledAt: decimalSchema.describe("unix seconds (block time of the settlement)"),
  txHash: z.string(),
  priceMicroPerKwh: decimalSchema.describe("hub clearing price"),
  feedInMicroPerKwh: decimalSchema,
  retailMicroPerKwh: decimalSchema,
  meters: z.number(),
  exportWh: decimalSchema,
  importWh: decimalSchema,
  tradedWh: decimalSchema.describe("traded in the auction"),
  bilateralWh: decimalSchema.describe("delivered by bilateral agreements"),
  toGridWh: decimalSchema,
  fromGridWh: decimalSchema,
  trades: z.number(),
  gridFeesMicro: decimalSchema,
  energyRoot: z.string(),
  settlementGas: decimalSchema,
  blockNumber: decimalSchema,
});

export const tradeSchema = z.object({
  interval: decimalSchema,
  index: z.number(),
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
  blockNumber: decimalSchema,
});
