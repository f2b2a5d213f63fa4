import type { z } from "zod";
import type { intervalSchema, tradeSchema } from "./schemasRows.ts";

/**
 * SQL that builds a row's JSON form in the store: one JSON value per query instead of a value per column
 * to parse, which makes list endpoints ~3× faster on the embedded store. Integers go out as decimal
 * strings (`::text`), as the response schemas (schemasRows.ts) say.
 */
const jsonObject = (fields: readonly (readonly [key: string, sql: string])[]) =>
  `json_build_object(${fields.map(([k, v]) => `'${k}', ${v}`).join(", ")})`;

/** An `intervals` row (alias-free column names) as IntervalJson. */
export const INTERVAL_JSON_SQL = jsonObject([
  ["interval", "interval::text"],
  ["startsAt", "starts_at::text"],
  ["settledAt", "settled_at::text"],
  ["txHash", "tx_hash"],
  ["priceMicroPerKwh", "price_micro_per_kwh::text"],
  ["feedInMicroPerKwh", "feed_in_micro_per_kwh::text"],
  ["retailMicroPerKwh", "retail_micro_per_kwh::text"],
  ["meters", "meters"],
  ["exportWh", "export_wh::text"],
  ["importWh", "import_wh::text"],
  ["tradedWh", "traded_wh::text"],
  ["bilateralWh", "bilateral_wh::text"],
  ["toGridWh", "to_grid_wh::text"],
  ["fromGridWh", "from_grid_wh::text"],
  ["trades", "trades"],
  ["gridFeesMicro", "grid_fees_micro::text"],
  ["energyRoot", "energy_root"],
  ["settlementGas", "settlement_gas::text"],
  ["blockNumber", "block_number::text"],
]);

/** A `trades` row as TradeJson. */
export const TRADE_JSON_SQL = jsonObject([
  ["interval", "interval::text"],
  ["index", "idx"],
  ["kind", "kind"],
  ["agreementId", "agreement_id::text"],
  ["seller", "seller"],
  ["sellerMeterId", "seller_meter_id"],
  ["buyer", "buyer"],
  ["buyerMeterId", "buyer_meter_id"],
  ["energyWh", "energy_wh::text"],
  ["sellerPriceMicroPerKwh", "seller_price_micro_per_kwh::text"],
  ["buyerPriceMicroPerKwh", "buyer_price_micro_per_kwh::text"],
  ["sellerReceivedMicro", "seller_received_micro::text"],
  ["buyerPaidMicro", "buyer_paid_micro::text"],
  ["tokenId", "token_id::text"],
  ["blockNumber", "block_number::text"],
]);

export type IntervalJson = z.output<typeof intervalSchema>;
export type TradeJson = z.output<typeof tradeSchema>;

/** A `trades` row as the store returns it (int8/numeric as bigint): the CSV export's input. */
export type TradeRow = {
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
  block_number: bigint;
};

export const TRADE_CSV_HEADER = [
  "interval",
  "index",
  "kind",
  "agreement_id",
  "seller",
  "seller_meter_id",
  "buyer",
  "buyer_meter_id",
  "energy_wh",
  "seller_price_micro_per_kwh",
  "buyer_price_micro_per_kwh",
  "seller_received_micro",
  "buyer_paid_micro",
  "token_id",
  "block_number",
] as const;

export const tradeCsvFields = (r: TradeRow) => [
  r.interval,
  r.idx,
  r.kind,
  r.agreement_id,
  r.seller,
  r.seller_meter_id,
  r.buyer,
  r.buyer_meter_id,
  r.energy_wh,
  r.seller_price_micro_per_kwh,
  r.buyer_price_micro_per_kwh,
  r.seller_received_micro,
  r.buyer_paid_micro,
  r.token_id,
  r.block_number,
];
