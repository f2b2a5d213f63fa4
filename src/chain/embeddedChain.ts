import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { createPublicClient, type Hex, http } from "viem";
import { DEFAULT_BLOCK_GAS_LIMIT, type EmbeddedNode, startAnvil } from "./anvil.ts";
import { type ChainClient, createChainClient, replayJournal } from "./chainClient.ts";
import { PeerGridError } from "./errors.ts";
import { openBlockJournal } from "./journal.ts";
import { readJsonFile, writeJsonFileAtomic, writeTextFileAtomic } from "./jsonFile.ts";

export const EMBEDDED_CHAIN_ID = 31337;

/** A checkpoint of the node's state is written every this many blocks, and on a clean stop. */
export const CHECKPOINT_EVERY_BLOCKS = 500;

/** What fixes the chain a replay rebuilds. Chains from before `blockGasLimit` was recorded use the default. */
type ChainFile = { chainId: number; genesisTimestamp: string; blockGasLimit?: string; hardfork?: string };

/**
 * The EVM rules of a new embedded chain: the contracts are compiled for Cancun. Under Prague (anvil's
 * default) every block also writes the EIP-2935 block-hash history, and anvil 1.7 rebuilds that growing
 * storage's trie per block: mining slows from ~0.4 ms to ~11 ms a block over the first 8,191 blocks.
 * Chains created before keep their rules (no `hardfork` in chain.json: anvil's default).
 */
export const EMBEDDED_HARDFORK = "cancun";

export type EmbeddedChainOptions = {
  /** A checkpoint every this many blocks (default CHECKPOINT_EVERY_BLOCKS). */
  checkpointEveryBlocks?: number;
  /**
   * False: no checkpoints at all, the journal alone rebuilds the chain. A dump holds the whole history, so
   * over a simulated year (140,000 blocks) checkpoints would cost more than the simulation.
   */
  checkpoints?: boolean;
  /** Keep only recent blocks in the node's memory (see startAnvil): for simulations, not for a served chain. */
  recentHistoryOnly?: boolean;
  /** False: the block journal is not fsync'd (see openBlockJournal): for simulations, not for a served chain. */
  syncJournal?: boolean;
  /**
   * Block gas limit of a new chain (default DEFAULT_BLOCK_GAS_LIMIT); an existing chain keeps its own.
   * Internal: the bench raises it to measure settlements larger than any real block.
   */
  blockGasLimit?: bigint;
};

export type EmbeddedChain = {
  chain: ChainClient;
  /** How the chain was rebuilt: from a checkpoint plus the journal after it, or the journal alone. */
  restoredFrom: "checkpoint" | "journal";
  /** Journalled blocks re-executed at start. */
  replayedBlocks: number;
  /** Writes a checkpoint if blocks were mined since opening, then stops the node. */
  close(): Promise<void>;
};

/** The block number a checkpoint holds, if the file is a readable anvil state dump. */
function checkpointBlock(path: string): number | undefined {
  try {
    const state = JSON.parse(readFileSync(path, "utf8")) as { block?: { number?: string } };
    const number = Number(state.block?.number);
    return Number.isInteger(number) && number > 0 ? number : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens the embedded chain kept in `dataDir`: starts anvil and rebuilds the acknowledged chain from
 * the newest usable checkpoint plus the block journal after it (or from the journal alone when there
 * is no checkpoint or it is damaged). The returned client journals every new block and writes a new
 * checkpoint every CHECKPOINT_EVERY_BLOCKS blocks and on close. The genesis timestamp and block gas
 * limit are fixed on first use, so a replay rebuilds the same chain.
 * @example const { chain, close } = await openEmbeddedChain(".peergrid/chain", 1_781_500_000n)
 */
export async function openEmbeddedChain(
  dataDir: string,
  genesisTimestamp: bigint,
  log: (message: string) => void = () => {},
  options: EmbeddedChainOptions = {},
): Promise<EmbeddedChain> {
  const checkpointEveryBlocks = options.checkpointEveryBlocks ?? CHECKPOINT_EVERY_BLOCKS;
  const checkpoints = options.checkpoints ?? true;
  mkdirSync(dataDir, { recursive: true });
  const chainFile = join(dataDir, "chain.json");
  const checkpointFile = join(dataDir, "checkpoint.json");
  let config = readJsonFile<ChainFile>(chainFile);
  if (!config) {
    if (existsSync(join(dataDir, "blocks.jsonl"))) {
      throw new PeerGridError(`${dataDir} has a block journal but no chain.json`, {
        hint: "the data directory is damaged; move it away and start again",
      });
    }
    config = {
      chainId: EMBEDDED_CHAIN_ID,
      genesisTimestamp: genesisTimestamp.toString(),
      blockGasLimit: (options.blockGasLimit ?? DEFAULT_BLOCK_GAS_LIMIT).toString(),
      hardfork: EMBEDDED_HARDFORK,
    };
    writeJsonFileAtomic(chainFile, config);
  }
  const blockGasLimit = BigInt(config.blockGasLimit ?? DEFAULT_BLOCK_GAS_LIMIT);
  if (options.blockGasLimit !== undefined && options.blockGasLimit !== blockGasLimit) {
    log(`the chain in ${dataDir} keeps its block gas limit of ${blockGasLimit}`);
  }
  const journal = openBlockJournal(join(dataDir, "blocks.jsonl"), { sync: options.syncJournal });
  const head = journal.lastNumber;
  const start = (loadState?: string) =>
    startAnvil({
      chainId: config.chainId,
      genesisTimestamp: BigInt(config.genesisTimestamp),
      blockGasLimit,
      loadState,
      hardfork: config.hardfork,
      recentHistoryOnly: options.recentHistoryOnly,
    });

  // Rebuild: from the checkpoint when it is readable, covered by the journal and agrees with it.
  const checkpoint = checkpointBlock(checkpointFile);
  let node: EmbeddedNode | undefined;
  if (checkpoint !== undefined && checkpoint <= head) {
    node = await start(checkpointFile).catch(() => undefined);
    const client = node && createPublicClient({ transport: http(node.rpcUrl), cacheTime: 0 });
    const loaded = await client?.getBlock({ blockTag: "latest" }).catch(() => undefined);
    const expected = journal.blocks[checkpoint - 1];
    if (
      client &&
      loaded &&
      expected &&
      loaded.number === BigInt(checkpoint) &&
      (!expected.hash || expected.hash === loaded.hash)
    ) {
      // anvil restarts its clock from the wall clock after loading; put it back on the chain's time.
      await client.request({ method: "evm_setTime", params: [Number(loaded.timestamp)] } as never);
    } else {
      log(`checkpoint ${checkpointFile} does not match the journal; replaying the whole journal`);
      await node?.stop();
      node = undefined;
    }
  } else if (existsSync(checkpointFile) && checkpoint === undefined) {
    log(`checkpoint ${checkpointFile} is unreadable; replaying the whole journal`);
  }
  node ??= await start();
  try {
    const rpc = createPublicClient({ transport: http(node.rpcUrl), cacheTime: 0 });
    const from = Number(await rpc.getBlockNumber());
    const replay = journal.blocks.filter((b) => b.number > from);
    await replayJournal(node.rpcUrl, replay, head);

    const writeCheckpoint = async () => {
      // A plain fetch: a dump outgrows viem's 10 MB limit on a response within a day of blocks.
      const response = await fetch(node.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_dumpState", params: [] }),
      });
      const dump = ((await response.json()) as { result: Hex }).result;
      const state = JSON.parse(gunzipSync(Buffer.from(dump.slice(2), "hex")).toString("utf8")) as {
        transactions?: { info?: { traces?: unknown[] } }[];
      };
      // Execution traces are three quarters of a dump and nothing reads them; receipts and logs stay.
      for (const tx of state.transactions ?? []) if (tx.info) tx.info.traces = [];
      writeTextFileAtomic(checkpointFile, JSON.stringify(state));
    };
    const chain = await createChainClient({
      rpcUrl: node.rpcUrl,
      journal,
      afterBlock: async (n) => {
        if (checkpoints && n % checkpointEveryBlocks === 0) await writeCheckpoint();
      },
    });
    return {
      chain,
      restoredFrom: from > 0 ? "checkpoint" : "journal",
      replayedBlocks: replay.length,
      async close() {
        try {
          // Only when this session mined blocks: a read-only session (status) leaves the directory alone.
          // A checkpoint is a shortcut, never the truth: if the node is already gone (a Ctrl-C reaches
          // anvil too), the journal alone rebuilds the chain next time.
          if (checkpoints && journal.lastNumber > head) await writeCheckpoint().catch(() => {});
        } finally {
          journal.close();
          await node.stop();
        }
      },
    };
  } catch (error) {
    journal.close();
    await node.stop();
    throw error;
  }
}
