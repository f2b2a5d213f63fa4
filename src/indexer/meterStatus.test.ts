import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { communityRegistryAbi } from "../chain/generated/contracts.ts";
import { callTx } from "../chain/market.ts";
import { type OpenCommunity, openCommunity } from "../cli/openCommunity.ts";
import { communityOptions } from "../cli/options.ts";
import type { Sql } from "../store/db.ts";
import { type TestDb, testStores } from "../store/testDb.ts";
import { createIndexer, reindex } from "./indexer.ts";
import { indexedTables, indexerSchema, indexerSchemas, meterStatusSchema, readingsSchema } from "./schema.ts";

let dir: string;
let c: OpenCommunity;
const rpc = (method: string, params: unknown[] = []) => c.chain.public.request({ method, params } as never) as Promise<unknown>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-meter-status-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "3", start: "2026-06-15T12:00:00+02:00" }, {}), true);
}, 120_000);

afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const meterIdOf = (i: number) =>
  c.chain.public.readContract({
    address: c.deployment.registry,
    abi: communityRegistryAbi,
    functionName: "meterIdOf",
    args: [c.community.households[i]?.meter.address as `0x${string}`],
  });
/** Sends the operator's registry calls, one block each; returns their block numbers. */
const operatorCalls = async (calls: ["deactivateMeter" | "reactivateMeter", number][]) => {
  const blocks: bigint[] = [];
  for (const [fn, id] of calls) {
    const [receipt] = await c.chain.send([callTx(c.community.operator, c.deployment.registry, communityRegistryAbi, fn, [id])]);
    blocks.push(receipt?.blockNumber as bigint);
  }
  return blocks;
};
const chainActive = async (id: number) =>
  (
    await c.chain.public.readContract({
      address: c.deployment.registry,
      abi: communityRegistryAbi,
      functionName: "meter",
      args: [id],
    })
  ).active;
const meterRow = async (db: Sql, id: number) =>
  (await db.query<{ deactivated_block: bigint | null }>("select deactivated_block from meters where meter_id = $1", [id]))[0];
/** A meter's status rows from block `from` on: each store's run makes its own calls on the one chain. */
const statusRows = (db: Sql, id: number, from: bigint) =>
  db.query<{ active: boolean; block_number: bigint }>(
    "select active, block_number from meter_status_log where meter_id = $1 and block_number >= $2 order by block_number, log_index",
    [id, from],
  );

const json = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
async function dump(db: Sql): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of indexedTables) out[table] = (await db.query(`select * from ${table}`)).map(json).sort();
  return out;
}

describe.each(testStores())("meter reactivation in the index on %s", (_kind, open) => {
  const stores: TestDb[] = [];
  const fresh = async () => {
    const store = await open(indexerSchemas);
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    for (const store of stores) await store.dispose();
  });

  it("follows deactivations and reactivations across chunks and inside one, as the registry has them", async () => {
    const db = await fresh();
    const indexer = createIndexer({ db, chain: c.chain, deployment: c.deployment, chunkBlocks: 2 });
    const a = await meterIdOf(0);
    const b = await meterIdOf(1);
    await indexer.syncOnce();
    const [offA] = await operatorCalls([["deactivateMeter", a]]);
    await indexer.syncOnce();
    expect(await meterRow(db, a)).toEqual({ deactivated_block: offA });
    const [onA] = await operatorCalls([["reactivateMeter", a]]);
    await indexer.syncOnce();
    expect(await chainActive(a)).toBe(true);
    expect(await meterRow(db, a)).toEqual({ deactivated_block: null });
    expect(await statusRows(db, a, offA as bigint)).toEqual([
      { active: false, block_number: offA },
      { active: true, block_number: onA },
    ]);
    const [tx] = await db.query<{ function_name: string }>(
      "select function_name from chain_transactions where block_number = $1",
      [onA],
    );
    expect(tx?.function_name).toBe("reactivateMeter");

    // Paused, back and paused again between two syncs (a chunk of 2 blocks holds two of them): the last counts.
    const [firstB, , offB] = await operatorCalls([
      ["deactivateMeter", b],
      ["reactivateMeter", b],
      ["deactivateMeter", b],
    ]);
    await indexer.syncOnce();
    expect(await chainActive(b)).toBe(false);
    expect(await meterRow(db, b)).toEqual({ deactivated_block: offB });
    expect((await statusRows(db, b, firstB as bigint)).map((r) => r.active)).toEqual([false, true, false]);

    // A new index in one chunk has the same rows.
    const other = await fresh();
    await createIndexer({ db: other, chain: c.chain, deployment: c.deployment, chunkBlocks: 10_000 }).syncOnce();
    expect(await dump(other)).toEqual(await dump(db));
    await operatorCalls([["reactivateMeter", b]]);
  });

  it("rolls a dropped reactivation back to the deactivation before it", async () => {
    const db = await fresh();
    const indexer = createIndexer({ db, chain: c.chain, deployment: c.deployment });
    const id = await meterIdOf(2);
    const [off] = await operatorCalls([["deactivateMeter", id]]);
    await indexer.syncOnce();
    const snapshot = await rpc("evm_snapshot");
    await operatorCalls([["reactivateMeter", id]]);
    await indexer.syncOnce();
    expect(await meterRow(db, id)).toEqual({ deactivated_block: null });

    expect(await rpc("evm_revert", [snapshot])).toBe(true);
    // The new chain is longer than the dropped one, so the indexer sees it moved.
    await rpc("anvil_mine", ["0x3"]);
    await indexer.syncOnce();
    expect(await chainActive(id)).toBe(false);
    expect(await meterRow(db, id)).toEqual({ deactivated_block: off });
    expect((await statusRows(db, id, off as bigint)).map((r) => r.active)).toEqual([false]);
    const other = await fresh();
    await reindex({ db: other, chain: c.chain, deployment: c.deployment });
    expect(await dump(db)).toEqual(await dump(other));
    await operatorCalls([["reactivateMeter", id]]);
  });

  it("fills the status log of an index made before it from the indexed MeterDeactivated events", async () => {
    const db = await fresh();
    await createIndexer({ db, chain: c.chain, deployment: c.deployment }).syncOnce();
    const old = await open([indexerSchema, readingsSchema]);
    stores.push(old);
    const events = await db.query<Record<string, unknown>>("select * from chain_events order by block_number, log_index");
    for (const e of events) {
      await old.query(
        "insert into chain_events (block_number, log_index, tx_hash, contract, name, args) values ($1, $2, $3, $4, $5, $6)",
        [e.block_number, e.log_index, e.tx_hash, e.contract, e.name, JSON.stringify(e.args)],
      );
    }
    for (const statement of meterStatusSchema.sql.split(/;\s*\n/).filter((s) => s.trim())) await old.query(statement);
    const backfilled = await old.query("select * from meter_status_log order by block_number, log_index");
    const deactivations = await db.query("select * from meter_status_log where not active order by block_number, log_index");
    expect(deactivations.length).toBeGreaterThanOrEqual(3);
    expect(backfilled).toEqual(deactivations);
  });
});
