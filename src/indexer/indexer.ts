import { type Hex, numberToHex } from "viem";
import type { ChainClient } from "../chain/chainClient.ts";
import type { Deployment } from "../chain/deploy.ts";
import { PeerGridError } from "../chain/errors.ts";
import type { Db, Sql } from "../store/db.ts";
import { contractsOf, fetchChunk, mapLimit } from "./fetchChunk.ts";
import { indexedTables } from "./schema.ts";
import { type IndexerEvent, writeChunk } from "./writeChunk.ts";

export type { IndexerEvent } from "./writeChunk.ts";

export type IndexerOptions = {
  db: Db;
  chain: ChainClient;
  deployment: Deployment;
  /**
   * Index only blocks at least this deep below the head (default 0): a reorganisation of the top
   * `confirmations` blocks is then never seen, because they are not indexed yet. A deeper one is still
   * detected (the cursor block's hash changes) and rolled back. On a real network pick the depth after
   * which blocks practically never change (or its finality); 0 is right for the embedded chain, which only
   * ever reorganises when told to (evm_revert).
   */
  confirmations?: number;
  /**
   * Most blocks per chunk (default 2,000): one getLogs and one transaction each. Chunks start at 16 blocks
   * and adapt to ~2,000 logs each within this bound.
   */
  chunkBlocks?: number;
  /** RPC requests in flight at once while reading a chunk (default 16). */
  concurrency?: number;
  log?: (message: string) => void;
  /** Waits `ms` or until `signal` aborts (injected clock; default setTimeout). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
};

export type SyncResult = { fromBlock: bigint; toBlock: bigint; logs: number };

export type Indexer = {
  /** Indexes from the cursor + 1 to head − confirmations, chunk by chunk; each chunk commits with its cursor. */
  syncOnce(): Promise<SyncResult>;
  /**
   * syncOnce in a loop, `pollMs` apart when caught up, until `signal` aborts. Node and store errors are logged
   * and retried; a non-retryable PeerGridError (another deployment's index, say) ends it by rejecting.
   */
  follow(options: { signal: AbortSignal; pollMs?: number }): Promise<void>;
  /** Calls `listener` with what each committed chunk changed; returns the unsubscribe function. */
  subscribe(listener: (event: IndexerEvent) => void): () => void;
  /** The last indexed block (undefined before the first chunk). */
  cursor(): Promise<Cursor | undefined>;
};

export type Cursor = { number: bigint; hash: Hex };

const CURSOR_KEY = "cursor";
/** The first chunk of a sync spans this many blocks (at most chunkBlocks); later ones adapt to the logs found. */
const FIRST_CHUNK_BLOCKS = 16n;
/** Logs per chunk the chunk size aims at: enough per transaction to amortise it, little enough to overlap reads and writes. */
const TARGET_LOGS_PER_CHUNK = 2_000n;
const MARKET_KEY = "market";

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

async function readCursor(sql: Sql): Promise<Cursor | undefined> {
  const [row] = await sql.query<{ value: string }>("select value from indexer_state where key = $1", [CURSOR_KEY]);
  if (!row) return undefined;
  const [number, hash] = row.value.split(":");
  return { number: BigInt(number as string), hash: hash as Hex };
}

async function writeCursor(sql: Sql, previous: Cursor | undefined, next: Cursor): Promise<void> {
  const value = `${next.number}:${next.hash}`;
  const updated = previous
    ? await sql.query("update indexer_state set value = $1 where key = $2 and value = $3 returning key", [
        value,
        CURSOR_KEY,
        `${previous.number}:${previous.hash}`,
      ])
    : await sql.query("insert into indexer_state (key, value) values ($2, $1) on conflict (key) do nothing returning key", [
        value,
        CURSOR_KEY,
      ]);
  if (updated.length !== 1) {
    throw new PeerGridError("the index's cursor moved under this indexer", {
      hint: "run one indexer per store; this one retries from the new cursor",
      retryable: true,
    });
  }
}

/**
 * The indexer: reads every PeerGrid log from the chain into the store, chunk by chunk, each chunk in one
 * transaction together with the cursor (so a crash anywhere re-does at most one chunk, never counts
 * twice), rolls back what a reorganisation dropped, and tells subscribers what changed.
 * @example const indexer = createIndexer({ db, chain, deployment }); await indexer.syncOnce();
 */
export function createIndexer(options: IndexerOptions): Indexer {
  const { db, chain, deployment } = options;
  const confirmations = BigInt(options.confirmations ?? 0);
  const chunkBlocks = BigInt(options.chunkBlocks ?? 2_000);
  const concurrency = options.concurrency ?? 16;
  const log = options.log ?? (() => {});
  const sleep = options.sleep ?? defaultSleep;
  const contracts = contractsOf(deployment);
  const receiptsSupport = { blockReceipts: true };
  const listeners = new Set<(event: IndexerEvent) => void>();
  let running: Promise<unknown> = Promise.resolve();

  const publish = (events: readonly IndexerEvent[]) => {
    for (const event of events) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          log(`indexer: a subscriber failed: ${(error as Error).message}`);
        }
      }
    }
  };

  /** The chain's hash at `number`; undefined above the head (the chain got shorter). Node errors propagate. */
  const hashAt = async (number: bigint): Promise<Hex | undefined> => {
    const block = (await chain.public.request({
      method: "eth_getBlockByNumber",
      params: [numberToHex(number), false],
    } as never)) as { hash: Hex } | null;
    return block?.hash ?? undefined;
  };

  async function checkMarket(): Promise<void> {
    const market = deployment.market.toLowerCase();
    const [row] = await db.query<{ value: string }>("select value from indexer_state where key = $1", [MARKET_KEY]);
    if (row && row.value !== market) {
      throw new PeerGridError(`this index holds the market at ${row.value}, not ${market}`, {
        hint: "use another database (or schema) per deployment, or reindex",
      });
    }
    if (!row)
      await db.query("insert into indexer_state (key, value) values ($1, $2) on conflict do nothing", [MARKET_KEY, market]);
  }

  /** The cursor, after rolling back whatever a reorganisation dropped above it. */
  async function verifiedCursor(): Promise<Cursor | undefined> {
    const cursor = await readCursor(db);
    if (!cursor || (await hashAt(cursor.number)) === cursor.hash) return cursor;
    const ancestor = await commonAncestor(cursor);
    log(`indexer: reorganisation below block ${cursor.number}; rolling back to block ${ancestor.number}`);
    await db.transaction(async (tx) => {
      await writeCursor(tx, cursor, ancestor);
      for (const table of indexedTables) await tx.query(`delete from ${table} where block_number > $1`, [ancestor.number]);
      await tx.query("update meters set deactivated_block = null where deactivated_block > $1", [ancestor.number]);
      // A meter deactivated and reactivated again: its state in force at the ancestor is its latest status row left.
      await tx.query(
        `update meters m set deactivated_block = case when s.active then null else s.block_number end
         from (select distinct on (meter_id) meter_id, active, block_number from meter_status_log
               order by meter_id, block_number desc, log_index desc) s
         where s.meter_id = m.meter_id`,
      );
    });
    publish([{ type: "reorg", ancestor: ancestor.number, droppedFrom: ancestor.number + 1n }]);
    return ancestor;
  }

  /** The newest stored block still on the chain (walking back over chain_blocks), or the block before deployment. */
  async function commonAncestor(cursor: Cursor): Promise<Cursor> {
    let below = cursor.number + 1n;
    for (;;) {
      const stored = await db.query<{ number: bigint; hash: Hex }>(
        "select number, hash from chain_blocks where number < $1 order by number desc limit 64",
        [below],
      );
      if (stored.length === 0) break;
      const hashes = await mapLimit(stored, concurrency, (b) => hashAt(BigInt(b.number)));
      const found = stored.find((b, i) => hashes[i] === b.hash);
      if (found) return { number: BigInt(found.number), hash: found.hash };
      below = BigInt((stored[stored.length - 1] as { number: bigint }).number);
    }
    const before = deployment.deployedAtBlock - 1n;
    const hash = await hashAt(before);
    if (!hash) throw new PeerGridError(`block ${before}, before the deployment, is not on the chain`, { retryable: true });
    return { number: before, hash };
  }

  async function sync(): Promise<SyncResult> {
    await checkMarket();
    let cursor = await verifiedCursor();
    const head = await chain.public.getBlockNumber();
    const target = head - confirmations;
    const start = cursor ? cursor.number + 1n : deployment.deployedAtBlock;
    let logs = 0;
    // Chunks start small and grow (or shrink) towards TARGET_LOGS_PER_CHUNK logs, up to chunkBlocks blocks;
    // the next chunk is read from the node while the current one is written.
    let size = chunkBlocks < FIRST_CHUNK_BLOCKS ? chunkBlocks : FIRST_CHUNK_BLOCKS;
    const read = (from: bigint, parentHash: Hex | undefined) => {
      if (from > target) return undefined;
      const to = from + size - 1n < target ? from + size - 1n : target;
      const reading = fetchChunk(chain, contracts, from, to, parentHash, concurrency, receiptsSupport);
      reading.catch(() => {}); // awaited below, unless writing the chunk before it fails first
      return reading;
    };
    for (let pending = read(start, cursor?.hash); pending; ) {
      const chunk = await pending;
      const found = BigInt(chunk.logs.length);
      if (found < TARGET_LOGS_PER_CHUNK / 2n) size = size * 2n < chunkBlocks ? size * 2n : chunkBlocks;
      else if (found > TARGET_LOGS_PER_CHUNK * 2n && size > 1n) size /= 2n;
      pending = read(chunk.toBlock + 1n, chunk.last.hash);
      const previous = cursor;
      const events = await db.transaction(async (tx) => {
        // The cursor first: its row lock makes a second indexer on the same store wait, then fail, not write twice.
        await writeCursor(tx, previous, { number: chunk.last.number, hash: chunk.last.hash });
        // chain_blocks keeps the blocks with logs and the cursor's: the previous cursor's goes unless it had logs.
        if (previous) {
          await tx.query(
            "delete from chain_blocks where number = $1 and not exists (select 1 from chain_events where block_number = $1)",
            [previous.number],
          );
        }
        return writeChunk(tx, deployment, chunk);
      });
      cursor = { number: chunk.last.number, hash: chunk.last.hash };
      logs += chunk.logs.length;
      publish(events);
    }
    return { fromBlock: start, toBlock: target < start ? start - 1n : target, logs };
  }

  function syncOnce(): Promise<SyncResult> {
    const run = running.then(sync, sync);
    running = run.catch(() => {});
    return run;
  }

  async function follow({ signal, pollMs = 1_000 }: { signal: AbortSignal; pollMs?: number }): Promise<void> {
    while (!signal.aborted) {
      try {
        const result = await syncOnce();
        if (result.toBlock >= result.fromBlock) continue;
      } catch (error) {
        // What retrying cannot fix (another deployment's index, a settlement PeerGrid cannot read) stops it.
        if (error instanceof PeerGridError && !error.retryable) throw error;
        log(`indexer: ${(error as Error).message.split("\n")[0]}; retrying in ${pollMs} ms`);
      }
      await sleep(pollMs, signal);
    }
  }

  return {
    syncOnce,
    follow,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    cursor: () => readCursor(db),
  };
}

/**
 * Empties every indexed table and the cursor in one transaction, then indexes again from the deployment
 * block. What `peergrid reindex` runs; also the way to rebuild after a reorganisation deeper than the
 * rows kept in chain_blocks or after a change to how rows are derived.
 * @example const { logs } = await reindex({ db, chain, deployment, log: console.log })
 */
export async function reindex(options: {
  db: Db;
  chain: ChainClient;
  deployment: Deployment;
  log?: (message: string) => void;
  chunkBlocks?: number;
}): Promise<SyncResult> {
  const { db } = options;
  await db.transaction(async (tx) => {
    await tx.query(`truncate ${indexedTables.join(", ")}`);
    await tx.query("delete from indexer_state");
  });
  options.log?.(`reindex: indexing again from block ${options.deployment.deployedAtBlock}`);
  return createIndexer(options).syncOnce();
}
