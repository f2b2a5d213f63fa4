import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Abi, type Address, decodeFunctionData, type Hex, parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bilateralAgreementsAbi,
  communityCreditAbi,
  communityRegistryAbi,
  energyMarketAbi,
  energyTokenAbi,
} from "../chain/generated/contracts.ts";
import { callTx, contractReading, readAccounts, readMeters, readRecordedReadings } from "../chain/market.ts";
import { type OpenCommunity, openCommunity } from "../cli/openCommunity.ts";
import { communityOptions } from "../cli/options.ts";
import { demoReadings } from "../demo/demoCommunity.ts";
import { verifyReading } from "../metering/reading.ts";
import { createKeeper } from "../server/keeper.ts";
import type { Db, Sql } from "../store/db.ts";
import { type TestDb, testStores } from "../store/testDb.ts";
import { createIndexer, type IndexerEvent, reindex } from "./indexer.ts";
import { indexedTables, indexerSchemas } from "./schema.ts";

let dir: string;
let c: OpenCommunity;

const keeper = () =>
  createKeeper({
    chain: c.chain,
    deployment: c.deployment,
    gateway: c.community.gateway,
    settler: c.community.keeper,
    readings: (i) =>
      demoReadings(c.community, { chainId: c.chain.chainId, verifyingContract: c.deployment.market }, c.timeline, i),
  });
const settleNext = async () => {
  const k = keeper();
  return k.closeInterval(await k.nextInterval());
};
const households = () => c.community.households;
const rpc = (method: string, params: unknown[] = []) => c.chain.public.request({ method, params } as never) as Promise<unknown>;

/** A standing order change of `h` that its escrow still covers: its ask moved by `deltaMicro`. */
async function moveAsk(h: (typeof c.community.households)[number], deltaMicro: bigint) {
  const [account] = await readAccounts(c.chain, c.deployment, [h.account.address]);
  if (!account) throw new Error("no account");
  const order = { ...account.order, askMicroPerKwh: account.order.askMicroPerKwh + deltaMicro };
  await c.chain.send([callTx(h.account, c.deployment.market, energyMarketAbi, "setStandingOrder", [order])]);
  return order;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-indexer-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "8", start: "2026-06-15T18:30:00+02:00" }, {}), true);
  await settleNext();
  // Zone 2 pays a fee on what it imports from zone 1: zone prices split when it imports.
  const noCap = 2n ** 64n - 1n;
  await c.chain.send([
    callTx(c.community.grid, c.deployment.market, energyMarketAbi, "setZoneLimits", [
      2,
      { importCapWh: noCap, exportCapWh: noCap, feeMicroPerKwh: 5_000 },
    ]),
  ]);
  await settleNext();
  // A bilateral agreement between a PV household and one without PV in the same zone, from the next interval.
  const seller = households().find((h) => h.profile.pvKwp > 0);
  const buyer = households().find((h) => h.profile.pvKwp === 0 && h.zone === seller?.zone);
  if (!seller || !buyer) throw new Error("no PV and no-PV household in one zone");
  const start = await keeper().nextInterval();
  const terms = {
    seller: seller.account.address,
    buyer: buyer.account.address,
    maxWhPerInterval: 400,
    priceMicroPerKwh: 150_001,
    startInterval: start,
    endInterval: start + 50n,
    noticeIntervals: 1,
  };
  const [proposed] = await c.chain.send([
    callTx(buyer.account, c.deployment.agreements, bilateralAgreementsAbi, "propose", [terms]),
  ]);
  const [event] = parseEventLogs({ abi: bilateralAgreementsAbi, eventName: "AgreementProposed", logs: proposed?.logs ?? [] });
  await c.chain.send([
    callTx(seller.account, c.deployment.agreements, bilateralAgreementsAbi, "accept", [event?.args.id as bigint]),
  ]);
  // Another household changes its order, one withdraws, and the last one's meter is deactivated.
  const others = households().filter((h) => h !== seller && h !== buyer);
  await moveAsk(others[0] as (typeof others)[number], 1_000n);
  await c.chain.send([
    callTx((others[1] as (typeof others)[number]).account, c.deployment.market, energyMarketAbi, "withdraw", [1_234n]),
  ]);
  const last = others[others.length - 1] as (typeof others)[number];
  const meterId = await c.chain.public.readContract({
    address: c.deployment.registry,
    abi: communityRegistryAbi,
    functionName: "meterIdOf",
    args: [last.meter.address],
  });
  await c.chain.send([callTx(c.community.operator, c.deployment.registry, communityRegistryAbi, "deactivateMeter", [meterId])]);
  for (let i = 0; i < 4; i++) await settleNext();
}, 120_000);

afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const json = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v));

/** Every indexed table, rows in a fixed order. */
async function dump(db: Sql): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of indexedTables) out[table] = (await db.query(`select * from ${table}`)).map(json).sort();
  return out;
}

/** A store whose transactions fail at the first statement matching `pattern`: a crash in the middle of a chunk. */
function crashingAt(db: Db, pattern: RegExp): Db {
  return {
    ...db,
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          query: async (text, params) => {
            if (pattern.test(text)) throw new Error("simulated crash");
            return tx.query(text, params);
          },
        }),
      ),
  };
}

describe.each(testStores())("indexer on %s against the embedded chain", (_kind, open) => {
  let db: TestDb;
  const stores: TestDb[] = [];
  const published: IndexerEvent[] = [];
  const fresh = async () => {
    const store = await open(indexerSchemas);
    stores.push(store);
    return store;
  };
  const indexerOn = (store: Db) => createIndexer({ db: store, chain: c.chain, deployment: c.deployment, chunkBlocks: 7 });

  beforeAll(async () => {
    db = await fresh();
  });
  afterAll(async () => {
    for (const store of stores) await store.dispose();
  });

  it("indexes every settled interval with trades and meters that add up to what the chain recorded", async () => {
    const indexer = indexerOn(db);
    indexer.subscribe((e) => published.push(e));
    const result = await indexer.syncOnce();
    expect(result.fromBlock).toBe(c.deployment.deployedAtBlock);
    expect(result.toBlock).toBe(await c.chain.public.getBlockNumber());

    const settled = await c.chain.public.getContractEvents({
      address: c.deployment.market,
      abi: energyMarketAbi,
      eventName: "IntervalSettled",
      fromBlock: c.deployment.deployedAtBlock,
    });
    expect(settled.length).toBeGreaterThanOrEqual(6);
    const intervals = await db.query<Record<string, bigint | string | number>>("select * from intervals order by interval");
    expect(
      intervals.map((r) => [r.interval, r.price_micro_per_kwh, r.traded_wh, r.to_grid_wh, r.from_grid_wh, r.tx_hash]),
    ).toEqual(
      settled.map((l) => [
        l.args.interval,
        l.args.priceMicroPerKwh,
        l.args.tradedWh,
        l.args.toGridWh,
        l.args.fromGridWh,
        l.transactionHash,
      ]),
    );
    expect(published.filter((e) => e.type === "interval").map((e) => e.type === "interval" && e.interval)).toEqual(
      settled.map((l) => l.args.interval),
    );
    expect(published.at(-1)).toMatchObject({ type: "block", number: result.toBlock });

    let bilateralWh = 0n;
    for (const interval of intervals) {
      const trades = await db.query<Record<string, bigint | string | null>>("select * from trades where interval = $1", [
        interval.interval,
      ]);
      const meters = await db.query<Record<string, bigint | string>>("select * from meter_intervals where interval = $1", [
        interval.interval,
      ]);
      const sum = (rows: Record<string, unknown>[], key: string) => rows.reduce((s, r) => s + (r[key] as bigint), 0n);
      const auction = trades.filter((t) => t.kind === "auction");
      const bilateral = trades.filter((t) => t.kind === "bilateral");
      expect(sum(auction, "energy_wh")).toBe(interval.traded_wh);
      expect(sum(bilateral, "energy_wh")).toBe(interval.bilateral_wh);
      expect(BigInt(auction.length)).toBe(BigInt(interval.trades as number));
      expect(sum(auction, "buyer_paid_micro") - sum(auction, "seller_received_micro")).toBe(interval.grid_fees_micro);
      expect(BigInt(meters.length)).toBe(BigInt(interval.meters as number));
      for (const m of meters) {
        expect((m.sold_local_wh as bigint) + (m.sold_grid_wh as bigint)).toBe(m.export_wh);
        expect((m.bought_local_wh as bigint) + (m.bought_grid_wh as bigint)).toBe(m.import_wh);
      }
      expect(sum(meters, "sold_grid_wh")).toBe(interval.to_grid_wh);
      expect(sum(meters, "bought_grid_wh")).toBe(interval.from_grid_wh);
      expect(sum(meters, "sold_local_wh")).toBe((interval.traded_wh as bigint) + (interval.bilateral_wh as bigint));
      expect(sum(meters, "export_wh")).toBe(interval.export_wh);
      bilateralWh += interval.bilateral_wh as bigint;
    }
    expect(bilateralWh).toBeGreaterThan(0n);
    // The community's evening covers every path of money: feed-in, retail, import fees between zones.
    const [totals] = await db.query<Record<string, bigint>>(
      "select sum(to_grid_wh) as to_grid, sum(from_grid_wh) as from_grid, sum(grid_fees_micro) as fees from intervals",
    );
    expect(totals?.to_grid).toBeGreaterThan(0n);
    expect(totals?.from_grid).toBeGreaterThan(0n);
    expect(totals?.fees).toBeGreaterThan(0n);
    expect(await db.query("select zone, fee_micro_per_kwh from zone_limit_log")).toEqual([
      { zone: 2, fee_micro_per_kwh: 5_000n },
    ]);
    const delivered = await c.chain.public.getContractEvents({
      address: c.deployment.market,
      abi: energyMarketAbi,
      eventName: "AgreementDelivered",
      fromBlock: c.deployment.deployedAtBlock,
    });
    expect(delivered.reduce((s, l) => s + (l.args.energyWh ?? 0n), 0n)).toBe(bilateralWh);
    expect(
      (await db.query<{ event: string }>("select event from agreement_log order by block_number")).map((r) => r.event),
    ).toEqual(["proposed", "accepted"]);
  });

  it("records registry, order and escrow state as the chain has it, and each household's balance to the unit", async () => {
    const owners = households().map((h) => h.account.address.toLowerCase() as Address);
    const accounts = await readAccounts(c.chain, c.deployment, owners);
    const escrow = await db.query<{ account: string; net: bigint }>(
      `select account, sum(case when kind = 'deposit' then amount_micro else -amount_micro end) as net from escrow_log group by account`,
    );
    const settled = await db.query<{ owner: string; net: bigint }>(
      "select owner, sum(earned_micro - paid_micro) as net from meter_intervals group by owner",
    );
    expect(escrow.length).toBeGreaterThan(owners.length); // the grid account deposits too
    expect((await db.query("select 1 from escrow_log where kind = 'withdrawal'")).length).toBe(1);
    for (const [i, owner] of owners.entries()) {
      const deposits = escrow.find((r) => r.account === owner)?.net ?? 0n;
      const trading = settled.find((r) => r.owner === owner)?.net ?? 0n;
      // A deposit adds its whole amount to the household's balance, also when part of it repays grid debt.
      expect(deposits + trading).toBe(accounts[i]?.balanceMicro);
    }
    const orders = await db.query<Record<string, bigint | string>>(
      `select distinct on (account) * from standing_order_log order by account, block_number desc, log_index desc`,
    );
    for (const [i, owner] of owners.entries()) {
      const o = orders.find((r) => r.account === owner);
      expect([o?.ask_micro_per_kwh, o?.max_sell_wh, o?.bid_micro_per_kwh, o?.max_buy_wh]).toEqual([
        accounts[i]?.order.askMicroPerKwh,
        accounts[i]?.order.maxSellWh,
        accounts[i]?.order.bidMicroPerKwh,
        accounts[i]?.order.maxBuyWh,
      ]);
    }
    const [deactivation] = await c.chain.public.getContractEvents({
      address: c.deployment.registry,
      abi: communityRegistryAbi,
      eventName: "MeterDeactivated",
      fromBlock: c.deployment.deployedAtBlock,
    });
    const meters = await db.query<{ meter_id: number; deactivated_block: bigint | null }>(
      "select meter_id, deactivated_block from meters order by meter_id",
    );
    expect(meters).toHaveLength(households().length);
    expect(meters.filter((m) => m.deactivated_block !== null)).toEqual([
      { meter_id: deactivation?.args.meterId, deactivated_block: deactivation?.blockNumber },
    ]);
    expect(await db.query("select zone, active from participant_log where account = $1", [owners[0]])).toEqual([
      { zone: households()[0]?.zone, active: true },
    ]);
    const tariffs = await db.query("select feed_in_micro_per_kwh, retail_micro_per_kwh, block_number from tariff_log");
    expect(tariffs).toEqual([
      { feed_in_micro_per_kwh: 80_000n, retail_micro_per_kwh: 320_000n, block_number: c.deployment.deployedAtBlock },
    ]);
    // Every transaction's function, whether told by its logs or decoded from its calldata, is the one it called.
    const txs = await db.query<{ hash: Hex; contract: string | null; function_name: string | null }>(
      "select hash, contract, function_name from chain_transactions",
    );
    const abis: Record<string, Abi> = {
      registry: communityRegistryAbi,
      market: energyMarketAbi,
      agreements: bilateralAgreementsAbi,
      settlementToken: communityCreditAbi,
      energyToken: energyTokenAbi,
    };
    for (const tx of txs) {
      const sent = await c.chain.public.getTransaction({ hash: tx.hash });
      const called = sent.to
        ? decodeFunctionData({ abi: abis[tx.contract ?? ""] as Abi, data: sent.input }).functionName
        : "constructor";
      expect([tx.hash, tx.function_name]).toEqual([tx.hash, called]);
    }
    expect(new Set(txs.map((t) => t.function_name))).toEqual(
      new Set([
        "constructor",
        "grantRole",
        "setMarket",
        "registerParticipant",
        "registerMeter",
        "approve",
        "depositFor",
        "setStandingOrder",
        "submitReadings",
        "settleInterval",
        "setZoneLimits",
        "propose",
        "accept",
        "withdraw",
        "deactivateMeter",
        ...(txs.some((t) => t.function_name === "mint") ? ["mint"] : []),
      ]),
    );
  });

  it("indexes the signed readings each book recorded, as the chain rebuilds them, skipping those sent twice", async () => {
    // One interval's readings arrive in three overlapping transactions: the second repeats two of the first's.
    const k = keeper();
    const interval = await k.nextInterval();
    const domain = { chainId: c.chain.chainId, verifyingContract: c.deployment.market };
    await c.chain.advanceTo((interval + 1n) * c.deployment.intervalSeconds);
    const signed = demoReadings(c.community, domain, c.timeline, interval);
    const meters = await readMeters(
      c.chain,
      c.deployment,
      signed.map((r) => r.meter),
    );
    const active = signed
      .map((r, i) => ({ r, m: meters[i] }))
      .filter((x) => x.m?.active)
      .sort((x, y) => (x.m?.meterId ?? 0) - (y.m?.meterId ?? 0))
      .map((x) => contractReading(x.r));
    expect(active.length).toBeGreaterThanOrEqual(5);
    const submit = (batch: typeof active) =>
      c.chain.send([callTx(c.community.gateway, c.deployment.market, energyMarketAbi, "submitReadings", [interval, batch])]);
    await submit(active.slice(0, 3));
    await submit(active.slice(1, 5));
    await k.closeInterval(interval);
    await indexerOn(db).syncOnce();

    const txs = await db.query<{ tx_hash: string }>("select distinct tx_hash from readings where interval = $1", [interval]);
    expect(txs.length).toBe(3);
    const settledIntervals = (await db.query<{ interval: bigint }>("select interval from intervals order by interval")).map(
      (r) => r.interval,
    );
    expect(settledIntervals).toContain(interval);
    for (const i of settledIntervals) {
      const rows = await db.query<Record<string, bigint | string | number>>(
        "select * from readings where interval = $1 order by meter_id",
        [i],
      );
      const onChain = await readRecordedReadings(c.chain, c.deployment, i);
      expect(rows.map((r) => [r.meter_id, r.owner, r.zone, r.source, r.export_wh, r.import_wh])).toEqual(
        onChain.map((r) => [r.meterId, r.owner.toLowerCase(), r.zone, r.source, r.exportWh, r.importWh]),
      );
      // Each row is the meter's own signed reading, which checks out under the market's domain.
      for (const r of rows) {
        const reading = {
          meter: r.signer as Address,
          interval: i,
          exportWh: r.export_wh as bigint,
          importWh: r.import_wh as bigint,
          r: r.r as Hex,
          vs: r.vs as Hex,
        };
        expect(verifyReading(domain, reading)).toBe(true);
        expect(verifyReading(domain, { ...reading, exportWh: reading.exportWh + 1n })).toBe(false);
      }
      // The settlement's per-meter energy is the readings'.
      const settledMeters = await db.query<{ meter_id: number; export_wh: bigint; import_wh: bigint }>(
        "select meter_id, export_wh, import_wh from meter_intervals where interval = $1 order by meter_id",
        [i],
      );
      expect(settledMeters).toEqual(rows.map((r) => ({ meter_id: r.meter_id, export_wh: r.export_wh, import_wh: r.import_wh })));
    }
  });

  it("is idempotent, resumes from its cursor in a new instance, and a crash inside a chunk leaves the previous cursor", async () => {
    const before = await dump(db);
    expect((await indexerOn(db).syncOnce()).logs).toBe(0);
    expect(await dump(db)).toEqual(before);

    await settleNext();
    const cursor = await indexerOn(db).cursor();
    await expect(indexerOn(crashingAt(db, /insert into meter_intervals/)).syncOnce()).rejects.toThrow("simulated crash");
    expect(await indexerOn(db).cursor()).toEqual(cursor);
    expect(await dump(db)).toEqual(before);

    const resumed = await indexerOn(db).syncOnce();
    expect(resumed.fromBlock).toBe((cursor?.number ?? 0n) + 1n);
    expect(resumed.logs).toBeGreaterThan(0);
    expect((await db.query("select 1 from intervals")).length).toBe((before.intervals?.length ?? 0) + 1);

    // Two indexers on one store at once: one writes the chunk, the other fails on the moved cursor (nothing twice).
    await settleNext();
    const both = await Promise.allSettled([indexerOn(db).syncOnce(), indexerOn(db).syncOnce()]);
    expect(both.some((r) => r.status === "fulfilled")).toBe(true);
    for (const r of both) if (r.status === "rejected") expect(String(r.reason)).toMatch(/cursor moved/);
    expect((await db.query("select 1 from intervals")).length).toBe((before.intervals?.length ?? 0) + 2);
  });

  it("follows the chain until aborted, publishing each settled interval once it is committed", async () => {
    const indexer = indexerOn(db);
    const controller = new AbortController();
    const seen = new Promise<IndexerEvent>((resolve) => indexer.subscribe((e) => e.type === "interval" && resolve(e)));
    const following = indexer.follow({ signal: controller.signal, pollMs: 20 });
    const report = await settleNext();
    const event = await seen;
    controller.abort();
    await following;
    expect(event).toMatchObject({
      type: "interval",
      interval: report.interval,
      priceMicroPerKwh: report.priceMicroPerKwh,
      tradedWh: report.tradedWh,
      meters: report.meters,
    });
    const [row] = await db.query("select traded_wh from intervals where interval = $1", [report.interval]);
    expect(row).toEqual({ traded_wh: report.tradedWh });
  });

  it("reindexes into exactly the rows incremental indexing wrote", async () => {
    await settleNext();
    await indexerOn(db).syncOnce();
    const other = await fresh();
    await reindex({ db: other, chain: c.chain, deployment: c.deployment });
    const incremental = await dump(db);
    // Every table takes part, the signed readings too.
    expect(indexedTables.filter((t) => (incremental[t]?.length ?? 0) === 0)).toEqual([]);
    expect(await dump(other)).toEqual(incremental);
    // Reindexing a store that holds an index empties it first.
    const again = await reindex({ db, chain: c.chain, deployment: c.deployment, chunkBlocks: 3 });
    expect(again.fromBlock).toBe(c.deployment.deployedAtBlock);
    expect(await dump(db)).toEqual(await dump(other));
  });

  it("rolls back the rows of blocks a reorganisation dropped and indexes the new ones", async () => {
    const indexer = indexerOn(db);
    const reorgs: IndexerEvent[] = [];
    indexer.subscribe((e) => e.type === "reorg" && reorgs.push(e));
    await indexer.syncOnce();
    const snapshot = await rpc("evm_snapshot");
    const [h0, h1] = households();
    if (!h0 || !h1) throw new Error("need two households");
    await moveAsk(h0, 7n);
    const dropped = await settleNext();
    await indexer.syncOnce();
    const orderRows = () =>
      db.query<{ account: string }>("select account from standing_order_log order by block_number desc, log_index desc limit 1");
    expect((await orderRows())[0]?.account).toBe(h0.account.address.toLowerCase());
    const droppedTx = (
      await db.query<{ tx_hash: string }>("select tx_hash from intervals where interval = $1", [dropped.interval])
    )[0];

    expect(await rpc("evm_revert", [snapshot])).toBe(true);
    await moveAsk(h1, 11n);
    const replaced = await settleNext();
    expect(replaced.interval).toBe(dropped.interval);
    await indexer.syncOnce();
    expect(reorgs).toHaveLength(1);
    expect((await orderRows())[0]?.account).toBe(h1.account.address.toLowerCase());
    const [row] = await db.query<{ tx_hash: string }>("select tx_hash from intervals where interval = $1", [dropped.interval]);
    expect(row?.tx_hash).not.toBe(droppedTx?.tx_hash);
    const [onChain] = await c.chain.public.getContractEvents({
      address: c.deployment.market,
      abi: energyMarketAbi,
      eventName: "IntervalSettled",
      args: { interval: dropped.interval },
      fromBlock: c.deployment.deployedAtBlock,
    });
    expect(row?.tx_hash).toBe(onChain?.transactionHash);
    // Nothing of the dropped blocks is left: the index equals one built from scratch on the new chain.
    const other = await fresh();
    await reindex({ db: other, chain: c.chain, deployment: c.deployment });
    expect(await dump(db)).toEqual(await dump(other));
  });
});
