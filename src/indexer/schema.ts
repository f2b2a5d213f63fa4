import type { Migration } from "../store/db.ts";

/**
 * The index: what the chain recorded, in SQL. Every row carries the `block_number` it came from, so a
 * reorganisation rolls back with one `delete … where block_number > $ancestor` per table
 * (`indexedTables`), and state that changes over time (participants, standing orders, tariffs, zone
 * limits, agreements) is kept as a log whose latest row per key is the current state. Addresses are
 * lower-case 0x hex; energy in Wh and money in the settlement token's smallest unit, as int8/numeric.
 * Everything here can be rebuilt from the chain (`peergrid reindex`).
 */
export const indexerSchema: Migration = {
  name: "001_index",
  sql: `
create table indexer_state (key text primary key, value text not null);

create table chain_blocks (
  number int8 primary key, hash text not null, parent_hash text not null, timestamp int8 not null, block_number int8 not null);

create table chain_transactions (
  hash text primary key, block_number int8 not null, tx_index int not null, from_address text not null,
  to_address text, contract text, function_name text, status text not null, gas_used int8 not null);
create index chain_transactions_block on chain_transactions (block_number, tx_index);
create index chain_transactions_from on chain_transactions (from_address, block_number);

create table chain_events (
  block_number int8 not null, log_index int not null, tx_hash text not null, contract text not null,
  name text not null, args jsonb not null, primary key (block_number, log_index));
create index chain_events_name on chain_events (name, block_number);
create index chain_events_tx on chain_events (tx_hash);

create table participant_log (
  account text not null, zone int not null, active boolean not null, block_number int8 not null, log_index int not null,
  primary key (account, block_number, log_index));

create table meters (
  meter_id int primary key, signer text not null unique, owner text not null, zone int not null, source int not null,
  registered_at int8 not null, deactivated_block int8, block_number int8 not null);
create index meters_owner on meters (owner);

create table standing_order_log (
  account text not null, ask_micro_per_kwh int8 not null, max_sell_wh int8 not null, bid_micro_per_kwh int8 not null,
  max_buy_wh int8 not null, block_number int8 not null, log_index int not null, primary key (account, block_number, log_index));

create table escrow_log (
  account text not null, kind text not null, amount_micro numeric(78, 0) not null, debt_repaid_micro numeric(78, 0) not null,
  payer text, tx_hash text not null, block_number int8 not null, log_index int not null, primary key (block_number, log_index));
create index escrow_log_account on escrow_log (account, block_number);

create table tariff_log (
  feed_in_micro_per_kwh int8 not null, retail_micro_per_kwh int8 not null, block_number int8 not null, log_index int not null,
  primary key (block_number, log_index));

create table zone_limit_log (
  zone int not null, import_cap_wh numeric(20, 0) not null, export_cap_wh numeric(20, 0) not null, fee_micro_per_kwh int8 not null,
  block_number int8 not null, log_index int not null, primary key (zone, block_number, log_index));

create table agreement_log (
  id int8 not null, event text not null, seller text not null, buyer text not null, max_wh_per_interval int8 not null,
  price_micro_per_kwh int8 not null, start_interval int8 not null, end_interval int8 not null, notice_intervals int8 not null,
  by_account text, block_number int8 not null, log_index int not null, primary key (id, block_number, log_index));

create table intervals (
  interval int8 primary key, starts_at int8 not null, settled_at int8 not null, tx_hash text not null,
  price_micro_per_kwh int8 not null, feed_in_micro_per_kwh int8 not null, retail_micro_per_kwh int8 not null,
  meters int not null, export_wh int8 not null, import_wh int8 not null, traded_wh int8 not null, bilateral_wh int8 not null,
  to_grid_wh int8 not null, from_grid_wh int8 not null, trades int not null, grid_fees_micro numeric(78, 0) not null,
  energy_root text not null, settlement_gas int8 not null, block_number int8 not null);

create table zone_results (
  interval int8 not null, zone int not null, net_export_wh int8 not null, price_micro_per_kwh int8 not null,
  capacity_bound boolean not null, block_number int8 not null, primary key (interval, zone));

create table meter_intervals (
  interval int8 not null, meter_id int not null, owner text not null, zone int not null, source int not null,
  export_wh int8 not null, import_wh int8 not null,
  sold_local_wh int8 not null, bought_local_wh int8 not null, sold_grid_wh int8 not null, bought_grid_wh int8 not null,
  earned_micro numeric(78, 0) not null, paid_micro numeric(78, 0) not null, grid_only_bill_micro numeric(78, 0) not null,
  block_number int8 not null, primary key (interval, meter_id));
create index meter_intervals_owner on meter_intervals (owner, interval);

create table trades (
  interval int8 not null, idx int not null, kind text not null, agreement_id int8,
  seller text not null, seller_meter_id int not null, buyer text not null, buyer_meter_id int not null,
  energy_wh int8 not null, seller_price_micro_per_kwh int8 not null, buyer_price_micro_per_kwh int8 not null,
  seller_received_micro numeric(78, 0) not null, buyer_paid_micro numeric(78, 0) not null, token_id numeric(78, 0) not null,
  block_number int8 not null, primary key (interval, idx));
create index trades_seller on trades (seller, interval);
create index trades_buyer on trades (buyer, interval);
`,
};

/**
 * The signed readings each interval's book recorded, rebuilt from the `submitReadings` calldata as the
 * contract records them (a reading counts when its meter id is above the book's last): what a settlement's
 * entries came from, with the EIP-712 signature (compact r, vs) anyone can check again. uint64 energy is
 * numeric(20) (int8 stops at 2^63−1). Meter id, owner, zone and source are the registry's for the signer.
 */
export const readingsSchema: Migration = {
  name: "002_readings",
  sql: `
create table readings (
  interval int8 not null, meter_id int not null, signer text not null, owner text not null, zone int not null, source int not null,
  export_wh numeric(20, 0) not null, import_wh numeric(20, 0) not null, r text not null, vs text not null,
  tx_hash text not null, block_number int8 not null, primary key (interval, meter_id));
create index readings_block on readings (block_number);
`,
};

/**
 * Each meter's deactivations and reactivations (`MeterDeactivated`, `MeterReactivated`), as a log whose latest
 * row per meter is its state: `meters.deactivated_block` is the deactivation in force (null while active), and
 * a rollback recomputes it from what stays of this log. Existing indexes are filled from their decoded
 * `MeterDeactivated` events (registries before reactivation existed never emitted `MeterReactivated`).
 */
export const meterStatusSchema: Migration = {
  name: "003_meter_status",
  sql: `
create table meter_status_log (
  meter_id int not null, active boolean not null, block_number int8 not null, log_index int not null,
  primary key (meter_id, block_number, log_index));
insert into meter_status_log (meter_id, active, block_number, log_index)
  select (args->>'meterId')::int, false, block_number, log_index from chain_events
  where contract = 'registry' and name = 'MeterDeactivated';
`,
};

/** The index's migrations, in order. */
export const indexerSchemas: readonly Migration[] = [indexerSchema, readingsSchema, meterStatusSchema];

/** Every table a rollback to a block trims (all but `indexer_state`). */
export const indexedTables = [
  "chain_blocks",
  "chain_transactions",
  "chain_events",
  "participant_log",
  "meters",
  "standing_order_log",
  "escrow_log",
  "tariff_log",
  "zone_limit_log",
  "agreement_log",
  "intervals",
  "zone_results",
  "meter_intervals",
  "trades",
  "readings",
  "meter_status_log",
] as const;
