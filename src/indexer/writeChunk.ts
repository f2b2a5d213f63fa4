import { type Address, decodeFunctionData, type Hex } from "viem";
import type { Deployment } from "../chain/deploy.ts";
import { PeerGridError } from "../chain/errors.ts";
import { energyMarketAbi } from "../chain/generated/contracts.ts";
import type { Sql } from "../store/db.ts";
import type { Chunk, DecodedLog } from "./fetchChunk.ts";
import { decodeEntry, type SettledDelivery, type SettledEntry, settlementRecord } from "./settlementRecord.ts";
import { type Column, insertRows } from "./sqlRows.ts";

/** What a committed chunk changed, for live updates (the API's server-sent events). */
export type IndexerEvent =
  /** The index now reaches `number` (sent once per committed chunk, after its other events). */
  | { type: "block"; number: bigint; hash: Hex; timestamp: bigint }
  /** An interval was settled in block `blockNumber`; `trades` counts the auction's trades, as `intervals.trades`. */
  | {
      type: "interval";
      interval: bigint;
      blockNumber: bigint;
      priceMicroPerKwh: bigint;
      tradedWh: bigint;
      bilateralWh: bigint;
      meters: number;
      trades: number;
    }
  /** Something of `account` changed: participant record, meter, standing order, escrow, or an agreement. */
  | { type: "account"; account: Address; blockNumber: bigint }
  /** A reorganisation: every row above `ancestor` was dropped (the blocks after it are then indexed again). */
  | { type: "reorg"; ancestor: bigint; droppedFrom: bigint };

const lower = (a: unknown) => String(a).toLowerCase();
const jsonArgs = (args: Record<string, unknown>) => JSON.stringify(args, (_, v) => (typeof v === "bigint" ? v.toString() : v));

type Terms = {
  seller: string;
  buyer: string;
  maxWhPerInterval: bigint;
  priceMicroPerKwh: bigint;
  startInterval: bigint;
  endInterval: bigint;
  noticeIntervals: bigint;
};

const cols = {
  chain_blocks: [
    ["number", "int8"],
    ["hash", "text"],
    ["parent_hash", "text"],
    ["timestamp", "int8"],
    ["block_number", "int8"],
  ],
  chain_transactions: [
    ["hash", "text"],
    ["block_number", "int8"],
    ["tx_index", "int4"],
    ["from_address", "text"],
    ["to_address", "text"],
    ["contract", "text"],
    ["function_name", "text"],
    ["status", "text"],
    ["gas_used", "int8"],
  ],
  chain_events: [
    ["block_number", "int8"],
    ["log_index", "int4"],
    ["tx_hash", "text"],
    ["contract", "text"],
    ["name", "text"],
    ["args", "jsonb"],
  ],
  participant_log: [
    ["account", "text"],
    ["zone", "int4"],
    ["active", "bool"],
    ["block_number", "int8"],
    ["log_index", "int4"],
  ],
  meters: [
    ["meter_id", "int4"],
    ["signer", "text"],
    ["owner", "text"],
    ["zone", "int4"],
    ["source", "int4"],
    ["registered_at", "int8"],
    ["deactivated_block", "int8"],
    ["block_number", "int8"],
  ],
  meter_status_log: [
    ["meter_id", "int4"],
    ["active", "bool"],
    ["block_number", "int8"],
    ["log_index", "int4"],
  ],
  standing_order_log: [
    ["account", "text"],
    ["ask_micro_per_kwh", "int8"],
    ["max_sell_wh", "int8"],
    ["bid_micro_per_kwh", "int8"],
    ["max_buy_wh", "int8"],
    ["block_number", "int8"],
    ["log_index", "int4"],
  ],
  escrow_log: [
    ["account", "text"],
    ["kind", "text"],
    ["amount_micro", "numeric"],
    ["debt_repaid_micro", "numeric"],
    ["payer", "text"],
    ["tx_hash", "text"],
    ["block_number", "int8"],
    ["log_index", "int4"],
  ],
  tariff_log: [
    ["feed_in_micro_per_kwh", "int8"],
    ["retail_micro_per_kwh", "int8"],
    ["block_number", "int8"],
    ["log_index", "int4"],
  ],
  zone_limit_log: [
    ["zone", "int4"],
    ["import_cap_wh", "numeric"],
    ["export_cap_wh", "numeric"],
    ["fee_micro_per_kwh", "int8"],
    ["block_number", "int8"],
    ["log_index", "int4"],
  ],
  agreement_log: [
    ["id", "int8"],
    ["event", "text"],
    ["seller", "text"],
    ["buyer", "text"],
    ["max_wh_per_interval", "int8"],
    ["price_micro_per_kwh", "int8"],
    ["start_interval", "int8"],
    ["end_interval", "int8"],
    ["notice_intervals", "int8"],
    ["by_account", "text"],
    ["block_number", "int8"],
    ["log_index", "int4"],
  ],
  intervals: [
    ["interval", "int8"],
    ["starts_at", "int8"],
    ["settled_at", "int8"],
    ["tx_hash", "text"],
    ["price_micro_per_kwh", "int8"],
    ["feed_in_micro_per_kwh", "int8"],
    ["retail_micro_per_kwh", "int8"],
    ["meters", "int4"],
    ["export_wh", "int8"],
    ["import_wh", "int8"],
    ["traded_wh", "int8"],
    ["bilateral_wh", "int8"],
    ["to_grid_wh", "int8"],
    ["from_grid_wh", "int8"],
    ["trades", "int4"],
    ["grid_fees_micro", "numeric"],
    ["energy_root", "text"],
    ["settlement_gas", "int8"],
    ["block_number", "int8"],
  ],
  zone_results: [
    ["interval", "int8"],
    ["zone", "int4"],
    ["net_export_wh", "int8"],
    ["price_micro_per_kwh", "int8"],
    ["capacity_bound", "bool"],
    ["block_number", "int8"],
  ],
  meter_intervals: [
    ["interval", "int8"],
    ["meter_id", "int4"],
    ["owner", "text"],
    ["zone", "int4"],
    ["source", "int4"],
    ["export_wh", "int8"],
    ["import_wh", "int8"],
    ["sold_local_wh", "int8"],
    ["bought_local_wh", "int8"],
    ["sold_grid_wh", "int8"],
    ["bought_grid_wh", "int8"],
    ["earned_micro", "numeric"],
    ["paid_micro", "numeric"],
    ["grid_only_bill_micro", "numeric"],
    ["block_number", "int8"],
  ],
  trades: [
    ["interval", "int8"],
    ["idx", "int4"],
    ["kind", "text"],
    ["agreement_id", "int8"],
    ["seller", "text"],
    ["seller_meter_id", "int4"],
    ["buyer", "text"],
    ["buyer_meter_id", "int4"],
    ["energy_wh", "int8"],
    ["seller_price_micro_per_kwh", "int8"],
    ["buyer_price_micro_per_kwh", "int8"],
    ["seller_received_micro", "numeric"],
    ["buyer_paid_micro", "numeric"],
    ["token_id", "numeric"],
    ["block_number", "int8"],
  ],
  readings: [
    ["interval", "int8"],
    ["meter_id", "int4"],
    ["signer", "text"],
    ["owner", "text"],
    ["zone", "int4"],
    ["source", "int4"],
    ["export_wh", "numeric"],
    ["import_wh", "numeric"],
    ["r", "text"],
    ["vs", "text"],
    ["tx_hash", "text"],
    ["block_number", "int8"],
  ],
} satisfies Record<string, readonly Column[]>;

type Table = keyof typeof cols;

/**
 * Writes everything `chunk` holds into the index through `sql` (the chunk's transaction): the raw blocks,
 * transactions and events, and the tables derived from them. State a log needs from earlier chunks (a
 * participant's zone, an agreement's terms, the tariffs in force) is read from the index first, and then
 * followed through the chunk's logs in order. Returns the events to publish once the transaction commits.
 */
export async function writeChunk(sql: Sql, deployment: Deployment, chunk: Chunk): Promise<IndexerEvent[]> {
  const rows: Record<Table, unknown[][]> = Object.fromEntries(Object.keys(cols).map((t) => [t, []])) as never;
  const events: IndexerEvent[] = [];
  const accounts = new Map<string, bigint>();
  const touch = (account: unknown, blockNumber: bigint) => accounts.set(lower(account), blockNumber);
  const logs = chunk.logs;

  const state = await readState(sql, logs);
  const meterRows = new Map<number, unknown[]>();
  /** Meters registered in earlier chunks whose state changed: the block of the deactivation in force, null when reactivated. */
  const deactivations = new Map<number, bigint | null>();
  const settlements = new Map<Hex, DecodedLog[]>();
  const recorded: DecodedLog[] = [];

  for (const log of logs) {
    const a = log.args;
    const at = [log.blockNumber, log.logIndex] as const;
    const tx = chunk.transactions.get(log.txHash);
    rows.chain_events.push([log.blockNumber, log.logIndex, log.txHash, log.contract, log.name, jsonArgs(a)]);
    switch (`${log.contract}.${log.name}`) {
      case "registry.ParticipantRegistered":
        state.zones.set(lower(a.account), Number(a.zone));
        rows.participant_log.push([lower(a.account), a.zone, true, ...at]);
        touch(a.account, log.blockNumber);
        break;
      case "registry.ParticipantStatusChanged": {
        const zone = state.zones.get(lower(a.account));
        if (zone === undefined) throw new PeerGridError(`status change of ${a.account}, who was never registered`);
        rows.participant_log.push([lower(a.account), zone, a.active, ...at]);
        touch(a.account, log.blockNumber);
        break;
      }
      case "registry.MeterRegistered": {
        const timestamp = chunk.blocks.get(log.blockNumber)?.timestamp;
        const row = [a.meterId, lower(a.signer), lower(a.owner), a.zone, a.source, timestamp, null, log.blockNumber];
        meterRows.set(Number(a.meterId), row);
        touch(a.owner, log.blockNumber);
        break;
      }
      case "registry.MeterDeactivated":
      case "registry.MeterReactivated": {
        const reactivated = log.name === "MeterReactivated";
        const deactivatedBlock = reactivated ? null : log.blockNumber;
        const row = meterRows.get(Number(a.meterId));
        if (row) row[6] = deactivatedBlock;
        else deactivations.set(Number(a.meterId), deactivatedBlock);
        rows.meter_status_log.push([a.meterId, reactivated, ...at]);
        break;
      }
      case "market.StandingOrderSet":
        rows.standing_order_log.push([lower(a.account), a.askMicroPerKwh, a.maxSellWh, a.bidMicroPerKwh, a.maxBuyWh, ...at]);
        touch(a.account, log.blockNumber);
        break;
      case "market.Deposited":
        rows.escrow_log.push([lower(a.account), "deposit", a.amount, a.debtRepaid, lower(a.payer), log.txHash, ...at]);
        touch(a.account, log.blockNumber);
        break;
      case "market.Withdrawn":
        rows.escrow_log.push([lower(a.account), "withdrawal", a.amount, 0n, null, log.txHash, ...at]);
        touch(a.account, log.blockNumber);
        break;
      case "market.TariffsChanged":
        state.tariffs = { feedIn: a.feedInMicroPerKwh as bigint, retail: a.retailMicroPerKwh as bigint };
        rows.tariff_log.push([a.feedInMicroPerKwh, a.retailMicroPerKwh, ...at]);
        break;
      case "market.ZoneLimitsSet":
        rows.zone_limit_log.push([a.zone, a.importCapWh, a.exportCapWh, a.feeMicroPerKwh, ...at]);
        break;
      case "agreements.AgreementProposed": {
        const t = a.terms as Terms;
        const terms = { ...t, seller: lower(t.seller), buyer: lower(t.buyer), noticeIntervals: BigInt(t.noticeIntervals) };
        state.terms.set(a.id as bigint, terms);
        rows.agreement_log.push(agreementRow(a.id as bigint, "proposed", terms, tx?.from, at));
        touch(t.seller, log.blockNumber);
        touch(t.buyer, log.blockNumber);
        break;
      }
      case "agreements.AgreementAccepted":
      case "agreements.AgreementCancelled": {
        const id = a.id as bigint;
        const before = state.terms.get(id);
        if (!before) throw new PeerGridError(`agreement ${id} changed before it was proposed`);
        const accepted = log.name === "AgreementAccepted";
        const terms: Terms = accepted
          ? { ...before, startInterval: a.startInterval as bigint, endInterval: a.endInterval as bigint }
          : { ...before, endInterval: a.endInterval as bigint };
        state.terms.set(id, terms);
        const by = accepted ? tx?.from : a.by;
        rows.agreement_log.push(agreementRow(id, accepted ? "accepted" : "cancelled", terms, by, at));
        touch(terms.seller, log.blockNumber);
        touch(terms.buyer, log.blockNumber);
        break;
      }
      case "market.ReadingsRecorded":
        recorded.push(log);
        break;
      case "market.ZoneCleared":
      case "market.AgreementDelivered":
        settlements.set(log.txHash, [...(settlements.get(log.txHash) ?? []), log]);
        break;
      case "market.IntervalSettled": {
        const related = settlements.get(log.txHash) ?? [];
        settlements.delete(log.txHash);
        const settled = settlementRows(deployment, chunk, log, related, state);
        for (const table of ["intervals", "zone_results", "meter_intervals", "trades"] as const) {
          rows[table].push(...settled.rows[table]);
        }
        events.push(settled.event);
        break;
      }
    }
  }

  if (recorded.length > 0) rows.readings.push(...(await readingRows(sql, chunk, recorded, meterRows)));

  for (const block of [...chunk.blocks.values(), chunk.last]) {
    if (rows.chain_blocks.some((r) => r[0] === block.number)) continue;
    rows.chain_blocks.push([block.number, block.hash, block.parentHash, block.timestamp, block.number]);
  }
  for (const t of chunk.transactions.values()) {
    rows.chain_transactions.push([
      t.hash,
      t.blockNumber,
      t.txIndex,
      lower(t.from),
      t.to ? lower(t.to) : null,
      t.contract ?? null,
      t.functionName ?? null,
      t.status,
      t.gasUsed,
    ]);
  }
  rows.meters.push(...meterRows.values());

  for (const table of Object.keys(cols) as Table[]) {
    if (rows[table].length > 0) await insertRows(sql, table, cols[table], rows[table]);
  }
  if (deactivations.size > 0) {
    await sql.query(
      `update meters m set deactivated_block = u.block from unnest($1::int4[], $2::int8[]) as u(meter_id, block)
       where m.meter_id = u.meter_id`,
      [[...deactivations.keys()], [...deactivations.values()].map((block) => block?.toString() ?? null)],
    );
  }
  for (const [account, blockNumber] of accounts) events.push({ type: "account", account: account as Address, blockNumber });
  events.push({ type: "block", number: chunk.last.number, hash: chunk.last.hash, timestamp: chunk.last.timestamp });
  return events;
}

type MeterOfSigner = { meterId: number; owner: string; zone: number; source: number };

/**
 * The readings the `ReadingsRecorded` logs of a chunk recorded, from their `submitReadings` calldata, as
 * the contract records them: per interval, in log order, a reading counts when its meter id is above the
 * book's last (the largest meter id indexed for that interval so far). Each meter is the registry's for the
 * signer, registered in an earlier chunk (the meters table) or this one (`meterRows`). The count and last
 * meter id of every log are checked against what was rebuilt.
 */
async function readingRows(
  sql: Sql,
  chunk: Chunk,
  logs: readonly DecodedLog[],
  meterRows: ReadonlyMap<number, unknown[]>,
): Promise<unknown[][]> {
  const batches = logs.map((log) => {
    const tx = chunk.transactions.get(log.txHash);
    if (!tx) throw new Error(`readings of block ${log.blockNumber}: transaction ${log.txHash} missing from the chunk`);
    const call =
      tx.contract === "market" && tx.input !== "0x" ? decodeFunctionData({ abi: energyMarketAbi, data: tx.input }) : undefined;
    if (call?.functionName !== "submitReadings") {
      throw new PeerGridError(`readings of interval ${log.args.interval} were recorded by a call PeerGrid cannot read`, {
        details: `transaction ${tx.hash}`,
        hint: "gateways must call EnergyMarket.submitReadings directly",
      });
    }
    return { log, interval: call.args[0], readings: call.args[1] };
  });
  const intervals = [...new Set(batches.map((b) => b.interval.toString()))];
  const signers = [...new Set(batches.flatMap((b) => b.readings.map((r) => lower(r.meter))))];
  const [lasts, known] = await Promise.all([
    sql.query<{ interval: bigint; last: number }>(
      "select interval, max(meter_id) as last from readings where interval = any($1::int8[]) group by interval",
      [intervals],
    ),
    sql.query<{ meter_id: number; signer: string; owner: string; zone: number; source: number }>(
      "select meter_id, signer, owner, zone, source from meters where signer = any($1::text[])",
      [signers],
    ),
  ]);
  const last = new Map(lasts.map((l) => [BigInt(l.interval), Number(l.last)]));
  const meters = new Map<string, MeterOfSigner>(
    known.map((m) => [m.signer, { meterId: Number(m.meter_id), owner: m.owner, zone: Number(m.zone), source: Number(m.source) }]),
  );
  for (const row of meterRows.values()) {
    meters.set(String(row[1]), { meterId: Number(row[0]), owner: String(row[2]), zone: Number(row[3]), source: Number(row[4]) });
  }
  const rows: unknown[][] = [];
  for (const { log, interval, readings } of batches) {
    let added = 0;
    let lastId = last.get(interval) ?? 0;
    for (const r of readings) {
      const meter = meters.get(lower(r.meter));
      if (!meter) throw new PeerGridError(`a reading of interval ${interval} names meter ${r.meter}, which was never registered`);
      if (meter.meterId <= lastId) continue;
      rows.push([
        interval,
        meter.meterId,
        lower(r.meter),
        meter.owner,
        meter.zone,
        meter.source,
        r.exportWh,
        r.importWh,
        lower(r.r),
        lower(r.vs),
        log.txHash,
        log.blockNumber,
      ]);
      lastId = meter.meterId;
      added++;
    }
    last.set(interval, lastId);
    if (added !== Number(log.args.recorded) || lastId !== Number(log.args.lastMeterId)) {
      throw new PeerGridError(`the readings rebuilt for interval ${interval} do not match what the chain recorded`, {
        details: `transaction ${log.txHash}: rebuilt ${added} up to meter ${lastId}, the log says ${log.args.recorded} up to ${log.args.lastMeterId}`,
        hint: "the index may be missing a chunk; run peergrid reindex",
      });
    }
  }
  return rows;
}

function agreementRow(id: bigint, event: string, t: Terms, by: unknown, at: readonly [bigint, number]): unknown[] {
  const byAccount = by === undefined || by === null ? null : lower(by);
  return [
    id,
    event,
    t.seller,
    t.buyer,
    t.maxWhPerInterval,
    t.priceMicroPerKwh,
    t.startInterval,
    t.endInterval,
    t.noticeIntervals,
    byAccount,
    ...at,
  ];
}

type State = {
  zones: Map<string, number>;
  terms: Map<bigint, Terms>;
  tariffs: { feedIn: bigint; retail: bigint } | undefined;
};

/** What the chunk's logs need from earlier chunks: latest zones, agreement terms and tariffs. */
async function readState(sql: Sql, logs: readonly DecodedLog[]): Promise<State> {
  const statusAccounts = [
    ...new Set(logs.filter((l) => l.name === "ParticipantStatusChanged").map((l) => lower(l.args.account))),
  ];
  const agreementIds = [
    ...new Set(
      logs
        .filter((l) => ["AgreementAccepted", "AgreementCancelled", "AgreementDelivered"].includes(l.name))
        .map((l) => String(l.args.id)),
    ),
  ];
  const [zones, terms, tariffs] = await Promise.all([
    statusAccounts.length === 0
      ? []
      : sql.query<{ account: string; zone: number }>(
          `select distinct on (account) account, zone from participant_log where account = any($1::text[])
           order by account, block_number desc, log_index desc`,
          [statusAccounts],
        ),
    agreementIds.length === 0
      ? []
      : sql.query<{
          id: bigint;
          seller: string;
          buyer: string;
          max_wh_per_interval: bigint;
          price_micro_per_kwh: bigint;
          start_interval: bigint;
          end_interval: bigint;
          notice_intervals: bigint;
        }>(
          `select distinct on (id) id, seller, buyer, max_wh_per_interval, price_micro_per_kwh, start_interval, end_interval,
             notice_intervals from agreement_log where id = any($1::int8[]) order by id, block_number desc, log_index desc`,
          [agreementIds],
        ),
    sql.query<{ feed_in_micro_per_kwh: bigint; retail_micro_per_kwh: bigint }>(
      "select feed_in_micro_per_kwh, retail_micro_per_kwh from tariff_log order by block_number desc, log_index desc limit 1",
    ),
  ]);
  const [latest] = tariffs;
  return {
    zones: new Map(zones.map((z) => [z.account, Number(z.zone)])),
    terms: new Map(
      terms.map((t) => [
        BigInt(t.id),
        {
          seller: t.seller,
          buyer: t.buyer,
          maxWhPerInterval: BigInt(t.max_wh_per_interval),
          priceMicroPerKwh: BigInt(t.price_micro_per_kwh),
          startInterval: BigInt(t.start_interval),
          endInterval: BigInt(t.end_interval),
          noticeIntervals: BigInt(t.notice_intervals),
        },
      ]),
    ),
    tariffs: latest ? { feedIn: BigInt(latest.feed_in_micro_per_kwh), retail: BigInt(latest.retail_micro_per_kwh) } : undefined,
  };
}

/** The rows of one IntervalSettled: the interval, its zones, each meter's result and every trade. */
function settlementRows(
  deployment: Deployment,
  chunk: Chunk,
  log: DecodedLog,
  related: readonly DecodedLog[],
  state: State,
): { rows: Record<"intervals" | "zone_results" | "meter_intervals" | "trades", unknown[][]>; event: IndexerEvent } {
  const a = log.args;
  const interval = a.interval as bigint;
  const tx = chunk.transactions.get(log.txHash);
  const block = chunk.blocks.get(log.blockNumber);
  if (!tx || !block) throw new Error(`settlement of interval ${interval}: transaction or block missing from the chunk`);
  const call = decodeFunctionData({ abi: energyMarketAbi, data: tx.input });
  if (call.functionName !== "settleInterval" || tx.contract !== "market") {
    throw new PeerGridError(`interval ${interval} was settled by a call PeerGrid cannot read`, {
      details: `transaction ${tx.hash}`,
      hint: "settlements must call EnergyMarket.settleInterval directly",
    });
  }
  if (!state.tariffs) throw new PeerGridError(`interval ${interval} was settled before any TariffsChanged was indexed`);
  const entries: SettledEntry[] = call.args[3].map(decodeEntry);
  const zones = related.filter((l) => l.name === "ZoneCleared");
  const deliveries: SettledDelivery[] = related
    .filter((l) => l.name === "AgreementDelivered")
    .map((l) => {
      const id = l.args.id as bigint;
      const terms = state.terms.get(id);
      if (!terms) throw new PeerGridError(`agreement ${id} delivered in interval ${interval} but was never proposed`);
      return {
        agreementId: id,
        seller: terms.seller as Address,
        buyer: terms.buyer as Address,
        priceMicroPerKwh: terms.priceMicroPerKwh,
        energyWh: l.args.energyWh as bigint,
        costMicro: l.args.costMicro as bigint,
      };
    });
  const record = settlementRecord({
    interval,
    entries,
    zonePriceMicroPerKwh: new Map(zones.map((z) => [Number(z.args.zone), z.args.priceMicroPerKwh as bigint])),
    deliveries,
    feedInMicroPerKwh: state.tariffs.feedIn,
    retailMicroPerKwh: state.tariffs.retail,
  });
  const n = log.blockNumber;
  return {
    rows: {
      intervals: [
        [
          interval,
          interval * deployment.intervalSeconds,
          block.timestamp,
          tx.hash,
          a.priceMicroPerKwh,
          state.tariffs.feedIn,
          state.tariffs.retail,
          entries.length,
          record.exportWh,
          record.importWh,
          a.tradedWh,
          record.bilateralWh,
          a.toGridWh,
          a.fromGridWh,
          a.trades,
          a.gridFeesMicro,
          a.energyRoot,
          tx.gasUsed,
          n,
        ],
      ],
      zone_results: zones.map((z) => [
        interval,
        z.args.zone,
        z.args.netExportWh,
        z.args.priceMicroPerKwh,
        z.args.capacityBound,
        n,
      ]),
      meter_intervals: record.meters.map((m) => [
        interval,
        m.meterId,
        m.owner.toLowerCase(),
        m.zone,
        m.source,
        m.exportWh,
        m.importWh,
        m.soldLocalWh,
        m.boughtLocalWh,
        m.soldGridWh,
        m.boughtGridWh,
        m.earnedMicro,
        m.paidMicro,
        m.gridOnlyBillMicro,
        n,
      ]),
      trades: record.trades.map((t) => [
        interval,
        t.idx,
        t.kind,
        t.agreementId ?? null,
        t.seller.toLowerCase(),
        t.sellerMeterId,
        t.buyer.toLowerCase(),
        t.buyerMeterId,
        t.energyWh,
        t.sellerPriceMicroPerKwh,
        t.buyerPriceMicroPerKwh,
        t.sellerReceivedMicro,
        t.buyerPaidMicro,
        t.tokenId,
        n,
      ]),
    },
    event: {
      type: "interval",
      interval,
      blockNumber: n,
      priceMicroPerKwh: a.priceMicroPerKwh as bigint,
      tradedWh: a.tradedWh as bigint,
      bilateralWh: record.bilateralWh,
      meters: entries.length,
      trades: Number(a.trades),
    },
  };
}
