import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { startAnvil } from "./anvil.ts";
import { type ChainClient, createChainClient, replayJournal } from "./chainClient.ts";
import { PeerGridError } from "./errors.ts";
import { openBlockJournal } from "./journal.ts";
import { readJsonFile, writeJsonFileAtomic } from "./jsonFile.ts";

export const EMBEDDED_CHAIN_ID = 31337;

type ChainFile = { chainId: number; genesisTimestamp: string };

/**
 * Opens the embedded chain kept in `dataDir`: starts anvil, replays the block journal into it (the
 * chain as it was acknowledged before any stop or crash) and returns a client that journals every
 * new block. The genesis timestamp is fixed on first use, so replays rebuild the same chain.
 * @example const { chain, close } = await openEmbeddedChain(".peergrid", 1_781_500_000n)
 */
export async function openEmbeddedChain(
  dataDir: string,
  genesisTimestamp: bigint,
): Promise<{ chain: ChainClient; close(): Promise<void> }> {
  mkdirSync(dataDir, { recursive: true });
  const chainFile = join(dataDir, "chain.json");
  let config = readJsonFile<ChainFile>(chainFile);
  if (!config) {
    if (existsSync(join(dataDir, "blocks.jsonl"))) {
      throw new PeerGridError(`${dataDir} has a block journal but no chain.json`, {
        hint: "the data directory is damaged; move it away and start again",
      });
    }
    config = { chainId: EMBEDDED_CHAIN_ID, genesisTimestamp: genesisTimestamp.toString() };
    writeJsonFileAtomic(chainFile, config);
  }
  const journal = openBlockJournal(join(dataDir, "blocks.jsonl"));
  const node = await startAnvil({ chainId: config.chainId, genesisTimestamp: BigInt(config.genesisTimestamp) });
  try {
    await replayJournal(node.rpcUrl, journal.blocks);
    const chain = await createChainClient({ rpcUrl: node.rpcUrl, journal });
    return {
      chain,
      async close() {
        journal.close();
        await node.stop();
      },
    };
  } catch (error) {
    journal.close();
    await node.stop();
    throw error;
  }
}
