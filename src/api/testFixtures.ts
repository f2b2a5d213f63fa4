import type { Db, Sql } from "../store/db.ts";

/** Rows of one table: column names and values (bigint for int8/numeric). */
type Rows = { table: string; columns: readonly string[]; values: unknown[][] };

/** Inserts rows in multi-row statements of at most `batch` rows. */
export async function insertRows(db: Sql, { table, columns, values }: Rows, batch = 500): Promise<void> {
  for (let i = 0; i < values.length; i += batch) {
    const chunk = values.slice(i, i + batch);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(", ")})`);
    await db.query(`insert into ${table} (${columns.join(", ")}) values ${tuples.join(", ")}`, params);
  }
}

/** The columns of a `trades` row, in the order the fixtures give them. */
export const TRADE_COLUMNS = [
  "interval",
  "idx",
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
];

/** The columns of an `agreement_log` row, in the order the fixtures give them. */
export const AGREEMENT_LOG_COLUMNS = [
  "id",
  "event",
  "seller",
  "buyer",
  "max_wh_per_interval",
  "price_micro_per_kwh",
  "start_interval",
  "end_interval",
  "notice_intervals",
  "by_account",
  "block_number",
  "log_index",
];

export type FixtureOptions = {
  /** Household accounts (lower-case); every fourth (index % 4 === 0) has no PV. */
  households: readonly string[];
  firstInterval: bigint;
  intervals: number;
  intervalSeconds: bigint;
  feedInMicroPerKwh?: bigint;
  retailMicroPerKwh?: bigint;
};

export type FixtureMeterInterval = {
  interval: bigint;
  owner: string;
  meterId: number;
  exportWh: bigint;
  importWh: bigint;
  soldLocalWh: bigint;
  boughtLocalWh: bigint;
  soldGridWh: bigint;
  boughtGridWh: bigint;
  earnedMicro: bigint;
  paidMicro: bigint;
  gridOnlyBillMicro: bigint;
};

export type Fixture = {
  meterIntervals: FixtureMeterInterval[];
  trades: { interval: bigint; seller: string; buyer: string; energyWh: bigint; priceMicroPerKwh: bigint }[];
  intervals: { interval: bigint; priceMicroPerKwh: bigint; exportWh: bigint; importWh: bigint; tradedWh: bigint }[];
  /** Net of deposits and withdrawals per account. */
  deposits: Map<string, bigint>;
  feedInMicroPerKwh: bigint;
  retailMicroPerKwh: bigint;
};

const cost = (wh: bigint, price: bigint) => (wh * price) / 1000n;
const hex = (n: bigint | number, bytes: number) => `0x${n.toString(16).padStart(bytes * 2, "0")}`;

/**
 * A realistic index: the households registered (zones 1 and 2) with one meter each, a deposit and a
 * standing order, then `intervals` settled intervals with a daylight PV curve, auction trades from
 * each PV household to a no-PV one, the rest with the grid; blocks, transactions and events for the
 * explorer, and one bilateral agreement. Every value is derived from the interval and household index.
 * @example const fixture = await insertIndexFixture(db, { households, firstInterval: 1_979_000n, intervals: 96, intervalSeconds: 900n })
 */
export async function insertIndexFixture(db: Db, o: FixtureOptions): Promise<Fixture> {
  const feedIn = o.feedInMicroPerKwh ?? 80_000n;
  const retail = o.retailMicroPerKwh ?? 320_000n;
  const hs = o.households.map((a) => a.toLowerCase());
  const buyers = hs.filter((_, i) => i % 4 === 0);
  let block = 100n;
  const blocks: unknown[][] = [];
  const txs: unknown[][] = [];
  const events: unknown[][] = [];
  const tx = (from: string, to: string, contract: string, fn: string, ts: bigint, event?: [string, unknown]) => {
    const number = block++;
    const hash = hex(number * 7919n, 32);
    blocks.push([number, hex(number, 32), hex(number - 1n, 32), ts, number]);
    txs.push([hash, number, 0, from, to, contract, fn, "success", 50_000n]);
    if (event) events.push([number, 0, hash, contract, event[0], JSON.stringify(event[1])]);
    return { hash, number };
  };
  const registry = "0x00000000000000000000000000000000000000aa";
  const market = "0x00000000000000000000000000000000000000bb";
  const operator = "0x00000000000000000000000000000000000000cc";
  const t0 = o.firstInterval * o.intervalSeconds - 3600n;

  const participants: unknown[][] = [];
  const meters: unknown[][] = [];
  const orders: unknown[][] = [];
  const escrow: unknown[][] = [];
  const deposits = new Map<string, bigint>();
  hs.forEach((account, i) => {
    const zone = 1 + (i % 2);
    const reg = tx(operator, registry, "registry", "registerParticipant", t0, ["ParticipantRegistered", { account, zone }]);
    participants.push([account, zone, true, reg.number, 0]);
    const signer = hex(BigInt(i + 1) * 0x1000001n, 20);
    const m = tx(operator, registry, "registry", "registerMeter", t0, [
      "MeterRegistered",
      { meterId: String(i + 1), signer, owner: account },
    ]);
    meters.push([i + 1, signer, account, zone, i % 4 === 0 ? 4 : 1, t0, null, m.number]);
    const amount = 50_000_000n + BigInt(i) * 1000n;
    const dep = tx(operator, market, "market", "depositFor", t0, ["Deposited", { account, amount: String(amount) }]);
    escrow.push([account, "deposit", amount, 0n, operator, dep.hash, dep.number, 0]);
    if (i === 0) {
      const w = tx(account, market, "market", "withdraw", t0, ["Withdrawn", { account, amount: "1000000" }]);
      escrow.push([account, "withdrawal", 1_000_000n, 0n, null, w.hash, w.number, 0]);
    }
    deposits.set(account, i === 0 ? amount - 1_000_000n : amount);
    const so = tx(account, market, "market", "setStandingOrder", t0);
    orders.push([account, i % 4 === 0 ? 0n : 100_000n + BigInt(i), i % 4 === 0 ? 0n : 50_000n, 250_000n, 5_000n, so.number, 0]);
  });

  const agreementRows: unknown[][] = [];
  const [seller, buyer] = [hs[1], hs[0]];
  if (seller && buyer) {
    const p = tx(seller, market, "agreements", "propose", t0);
    agreementRows.push([
      1n,
      "proposed",
      seller,
      buyer,
      1000n,
      120_000n,
      o.firstInterval,
      o.firstInterval + 100_000n,
      4n,
      seller,
      p.number,
      0,
    ]);
    const a = tx(buyer, market, "agreements", "accept", t0);
    agreementRows.push([
      1n,
      "accepted",
      seller,
      buyer,
      1000n,
      120_000n,
      o.firstInterval,
      o.firstInterval + 100_000n,
      4n,
      buyer,
      a.number,
      0,
    ]);
  }

  const fixture: Fixture = {
    meterIntervals: [],
    trades: [],
    intervals: [],
    deposits,
    feedInMicroPerKwh: feedIn,
    retailMicroPerKwh: retail,
  };
  const intervalRows: unknown[][] = [];
  const zoneRows: unknown[][] = [];
  const miRows: unknown[][] = [];
  const tradeRows: unknown[][] = [];
  for (let k = 0; k < o.intervals; k++) {
    const interval = o.firstInterval + BigInt(k);
    const startsAt = interval * o.intervalSeconds;
    const hour = Number((startsAt % 86_400n) / 3600n);
    const sun = hour >= 6 && hour < 20 ? Math.sin(((hour - 6) / 14) * Math.PI) : 0;
    const price = 150_000n + BigInt((k * 7919) % 100_000);
    const settle = tx(operator, market, "market", "settleInterval", startsAt + o.intervalSeconds + 60n, [
      "IntervalSettled",
      { interval: String(interval), priceMicroPerKwh: String(price) },
    ]);
    const exportOf = hs.map((_, i) => (i % 4 === 0 ? 0n : BigInt(Math.floor(sun * (200 + ((i * 37) % 300))))));
    const importOf = hs.map((_, i) => BigInt(80 + ((i * 53 + k * 11) % 220)));
    const soldLocal = hs.map(() => 0n);
    const boughtLocal = hs.map(() => 0n);
    let idx = 0;
    hs.forEach((seller, i) => {
      const energy = (exportOf[i] as bigint) / 2n;
      if (energy === 0n || buyers.length === 0) return;
      const b = (i + k) % buyers.length;
      const buyer = buyers[b] as string;
      const j = hs.indexOf(buyer);
      soldLocal[i] = (soldLocal[i] as bigint) + energy;
      boughtLocal[j] = (boughtLocal[j] as bigint) + energy;
      const value = cost(energy, price);
      tradeRows.push([
        interval,
        idx++,
        "auction",
        null,
        seller,
        i + 1,
        buyer,
        j + 1,
        energy,
        price,
        price,
        value,
        value,
        BigInt(i + 1),
        settle.number,
      ]);
      fixture.trades.push({ interval, seller, buyer, energyWh: energy, priceMicroPerKwh: price });
    });
    let exportWh = 0n;
    let importWh = 0n;
    let traded = 0n;
    hs.forEach((owner, i) => {
      const imp = (importOf[i] as bigint) > (boughtLocal[i] as bigint) ? (importOf[i] as bigint) : (boughtLocal[i] as bigint);
      const exp = exportOf[i] as bigint;
      const soldGrid = exp - (soldLocal[i] as bigint);
      const boughtGrid = imp - (boughtLocal[i] as bigint);
      const earned = cost(soldLocal[i] as bigint, price) + cost(soldGrid, feedIn);
      const paid = cost(boughtLocal[i] as bigint, price) + cost(boughtGrid, retail);
      const bill = cost(imp, retail) - cost(exp, feedIn);
      miRows.push([
        interval,
        i + 1,
        owner,
        1 + (i % 2),
        i % 4 === 0 ? 4 : 1,
        exp,
        imp,
        soldLocal[i],
        boughtLocal[i],
        soldGrid,
        boughtGrid,
        earned,
        paid,
        bill,
        settle.number,
      ]);
      fixture.meterIntervals.push({
        interval,
        owner,
        meterId: i + 1,
        exportWh: exp,
        importWh: imp,
        soldLocalWh: soldLocal[i] as bigint,
        boughtLocalWh: boughtLocal[i] as bigint,
        soldGridWh: soldGrid,
        boughtGridWh: boughtGrid,
        earnedMicro: earned,
        paidMicro: paid,
        gridOnlyBillMicro: bill,
      });
      exportWh += exp;
      importWh += imp;
      traded += soldLocal[i] as bigint;
    });
    intervalRows.push([
      interval,
      startsAt,
      startsAt + o.intervalSeconds + 60n,
      settle.hash,
      price,
      feedIn,
      retail,
      hs.length,
      exportWh,
      importWh,
      traded,
      0n,
      exportWh - traded,
      importWh - traded,
      idx,
      0n,
      hex(interval, 32),
      1_000_000n,
      settle.number,
    ]);
    for (const zone of [1, 2]) zoneRows.push([interval, zone, 0n, price, false, settle.number]);
    fixture.intervals.push({ interval, priceMicroPerKwh: price, exportWh, importWh, tradedWh: traded });
  }

  await db.transaction(async (t) => {
    await insertRows(t, {
      table: "chain_blocks",
      columns: ["number", "hash", "parent_hash", "timestamp", "block_number"],
      values: blocks,
    });
    await insertRows(t, {
      table: "chain_transactions",
      columns: [
        "hash",
        "block_number",
        "tx_index",
        "from_address",
        "to_address",
        "contract",
        "function_name",
        "status",
        "gas_used",
      ],
      values: txs,
    });
    await insertRows(t, {
      table: "chain_events",
      columns: ["block_number", "log_index", "tx_hash", "contract", "name", "args"],
      values: events,
    });
    await insertRows(t, {
      table: "participant_log",
      columns: ["account", "zone", "active", "block_number", "log_index"],
      values: participants,
    });
    await insertRows(t, {
      table: "meters",
      columns: ["meter_id", "signer", "owner", "zone", "source", "registered_at", "deactivated_block", "block_number"],
      values: meters,
    });
    await insertRows(t, {
      table: "standing_order_log",
      columns: ["account", "ask_micro_per_kwh", "max_sell_wh", "bid_micro_per_kwh", "max_buy_wh", "block_number", "log_index"],
      values: orders,
    });
    await insertRows(t, {
      table: "escrow_log",
      columns: ["account", "kind", "amount_micro", "debt_repaid_micro", "payer", "tx_hash", "block_number", "log_index"],
      values: escrow,
    });
    await insertRows(t, {
      table: "intervals",
      columns: [
        "interval",
        "starts_at",
        "settled_at",
        "tx_hash",
        "price_micro_per_kwh",
        "feed_in_micro_per_kwh",
        "retail_micro_per_kwh",
        "meters",
        "export_wh",
        "import_wh",
        "traded_wh",
        "bilateral_wh",
        "to_grid_wh",
        "from_grid_wh",
        "trades",
        "grid_fees_micro",
        "energy_root",
        "settlement_gas",
        "block_number",
      ],
      values: intervalRows,
    });
    await insertRows(t, {
      table: "zone_results",
      columns: ["interval", "zone", "net_export_wh", "price_micro_per_kwh", "capacity_bound", "block_number"],
      values: zoneRows,
    });
    await insertRows(t, {
      table: "meter_intervals",
      columns: [
        "interval",
        "meter_id",
        "owner",
        "zone",
        "source",
        "export_wh",
        "import_wh",
        "sold_local_wh",
        "bought_local_wh",
        "sold_grid_wh",
        "bought_grid_wh",
        "earned_micro",
        "paid_micro",
        "grid_only_bill_micro",
        "block_number",
      ],
      values: miRows,
    });
    await insertRows(t, {
      table: "trades",
      columns: TRADE_COLUMNS,
      values: tradeRows,
    });
    await insertRows(t, {
      table: "agreement_log",
      columns: AGREEMENT_LOG_COLUMNS,
      values: agreementRows,
    });
  });
  return fixture;
}
