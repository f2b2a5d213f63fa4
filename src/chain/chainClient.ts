import {
  type Abi,
  type Address,
  createPublicClient,
  type Hex,
  http,
  type PrivateKeyAccount,
  type PublicClient,
  type TransactionReceipt,
} from "viem";
import { PeerGridError, toPeerGridError } from "./errors.ts";
import type { BlockJournal, JournalBlock } from "./journal.ts";

/** anvil's pool holds at most ~1,000 pending transactions per sender; larger sends go in several blocks. */
const MAX_TXS_PER_SEND = 500;

/** One transaction to send: already encoded, with the ABI used to explain a revert. */
export type TxRequest = {
  account: PrivateKeyAccount;
  to?: Address;
  data?: Hex;
  value?: bigint;
  abi: Abi;
  /** Names the action in errors, e.g. "submitReadings". */
  action: string;
};

export type ChainClient = {
  readonly public: PublicClient;
  readonly chainId: number;
  readonly rpcUrl: string;
  /** True for the embedded node, whose blocks this client mines and journals. */
  readonly embedded: boolean;
  /** Timestamp of the latest block: the chain's clock, which the contracts use. */
  now(): Promise<bigint>;
  /** Moves the chain's clock to at least `timestamp`: mines an empty block (embedded) or waits (external). */
  advanceTo(timestamp: bigint): Promise<void>;
  /**
   * Sends independent transactions together and returns their receipts. Every one is estimated first,
   * so a transaction the contract would refuse throws a decoded error and nothing is sent. More than
   * 500, or more than a block's gas, go in groups, each estimated, sent and mined before the next.
   */
  send(txs: readonly TxRequest[]): Promise<TransactionReceipt[]>;
};

export type CreateChainClientOptions = {
  rpcUrl: string;
  /** For the embedded node: the journal that makes mined blocks durable. */
  journal?: BlockJournal;
  /** Poll interval when waiting for an external node's blocks. */
  pollingIntervalMs?: number;
  /** Called after each journalled block (the embedded chain uses it to write checkpoints). */
  afterBlock?: (blockNumber: number) => Promise<void>;
};

/**
 * Connects to a JSON-RPC node. With a journal, the node is PeerGrid's embedded anvil: this client mines
 * each block itself at the chain's current time and appends it to the journal before returning, so
 * whatever it returned survives a kill -9. Without one it talks to any EVM node and waits for receipts.
 * @example const chain = await createChainClient({ rpcUrl: "http://127.0.0.1:8545" });
 */
export async function createChainClient(options: CreateChainClientOptions): Promise<ChainClient> {
  const pollingInterval = options.pollingIntervalMs ?? 250;
  const client = createPublicClient({ transport: http(options.rpcUrl, { retryCount: 2 }), pollingInterval, cacheTime: 0 });
  let chainId: number;
  try {
    chainId = await client.getChainId();
  } catch (error) {
    throw new PeerGridError(`cannot reach the chain at ${options.rpcUrl}`, {
      cause: error,
      hint: "check --rpc-url / PEERGRID_RPC_URL, or omit it to use the embedded chain",
      retryable: true,
    });
  }
  const journal = options.journal;
  const rpc = (method: string, params: unknown[]) => client.request({ method, params } as never) as Promise<unknown>;

  async function now(): Promise<bigint> {
    return (await client.getBlock({ blockTag: "latest" })).timestamp;
  }

  /** Mines one block at `timestamp` with whatever is in the pool and journals it. */
  async function mine(timestamp: bigint, raws: Hex[]): Promise<void> {
    if (!journal) throw new Error("mine() needs the embedded node");
    const before = await client.getBlockNumber();
    await rpc("evm_mine", [{ timestamp: Number(timestamp) }]);
    const block = await client.getBlock({ blockTag: "latest" });
    if (block.number !== before + 1n) {
      throw new PeerGridError(`expected block ${before + 1n}, the node is at ${block.number}`);
    }
    if (block.transactions.length !== raws.length) {
      throw new PeerGridError(`block ${block.number} holds ${block.transactions.length} of ${raws.length} transactions`);
    }
    journal.append({ number: Number(block.number), timestamp: timestamp.toString(), hash: block.hash, txs: raws });
    await options.afterBlock?.(Number(block.number));
  }

  async function send(txs: readonly TxRequest[]): Promise<TransactionReceipt[]> {
    const receipts: TransactionReceipt[] = [];
    for (let i = 0; i < txs.length; i += MAX_TXS_PER_SEND)
      receipts.push(...(await sendGroup(txs.slice(i, i + MAX_TXS_PER_SEND))));
    return receipts;
  }

  async function sendGroup(txs: readonly TxRequest[]): Promise<TransactionReceipt[]> {
    if (txs.length === 0) return [];
    const gasPrice = await client.getGasPrice();
    const gases = await Promise.all(
      txs.map(async (tx) => {
        try {
          const estimate = await client.estimateGas({ account: tx.account.address, to: tx.to, data: tx.data, value: tx.value });
          return (estimate * 12n) / 10n + 20_000n;
        } catch (error) {
          throw toPeerGridError(error, tx.abi, tx.action);
        }
      }),
    );
    // A group must fit one block: split it when the gas it may use exceeds the block's limit.
    const { gasLimit } = await client.getBlock({ blockTag: "latest" });
    if (txs.length > 1 && gases.reduce((sum, g) => sum + g, 0n) > gasLimit) {
      const half = Math.ceil(txs.length / 2);
      return [...(await sendGroup(txs.slice(0, half))), ...(await sendGroup(txs.slice(half)))];
    }
    const nonces = new Map<Address, number>();
    const raws: Hex[] = [];
    for (const [i, tx] of txs.entries()) {
      const address = tx.account.address;
      const nonce = nonces.get(address) ?? (await client.getTransactionCount({ address, blockTag: "pending" }));
      nonces.set(address, nonce + 1);
      raws.push(
        await tx.account.signTransaction({
          type: "legacy",
          chainId,
          nonce,
          gas: gases[i] as bigint,
          gasPrice,
          to: tx.to ?? null,
          data: tx.data,
          value: tx.value ?? 0n,
        }),
      );
    }
    const hashes: Hex[] = [];
    for (const [i, raw] of raws.entries()) {
      try {
        hashes.push(await client.sendRawTransaction({ serializedTransaction: raw }));
      } catch (error) {
        throw toPeerGridError(error, (txs[i] as TxRequest).abi, (txs[i] as TxRequest).action);
      }
    }
    if (journal) await mine(await now(), raws);
    const receipts = await Promise.all(
      hashes.map((hash) =>
        journal ? client.getTransactionReceipt({ hash }) : client.waitForTransactionReceipt({ hash, timeout: 120_000 }),
      ),
    );
    for (const [i, receipt] of receipts.entries()) {
      if (receipt.status !== "success") {
        throw new PeerGridError(`${(txs[i] as TxRequest).action} reverted in block ${receipt.blockNumber}`, {
          details: `transaction ${receipt.transactionHash}`,
          hint: "the chain changed between estimate and inclusion; retry",
          retryable: true,
        });
      }
    }
    return receipts;
  }

  async function advanceTo(timestamp: bigint): Promise<void> {
    if (journal) {
      if ((await now()) < timestamp) await mine(timestamp, []);
      return;
    }
    while ((await now()) < timestamp) await new Promise((r) => setTimeout(r, pollingInterval));
  }

  return { public: client, chainId, rpcUrl: options.rpcUrl, embedded: journal !== undefined, now, advanceTo, send };
}

/**
 * Replays journalled blocks into an embedded node, block by block with their original timestamps,
 * rebuilding the chain that was acknowledged before a stop or crash.
 * @example await replayJournal(rpcUrl, journal.blocks.filter((b) => b.number > checkpointBlock))
 */
export async function replayJournal(rpcUrl: string, blocks: readonly JournalBlock[], expectedHead: number) {
  const client = createPublicClient({ transport: http(rpcUrl), cacheTime: 0 });
  for (const block of blocks) {
    for (const raw of block.txs) await client.sendRawTransaction({ serializedTransaction: raw });
    await client.request({ method: "evm_mine", params: [{ timestamp: Number(block.timestamp) }] } as never);
  }
  const head = await client.getBlockNumber();
  if (head !== BigInt(expectedHead)) {
    throw new PeerGridError(`replaying the block journal ended at block ${head}, expected ${expectedHead}`, {
      hint: "the data directory is damaged; move it away and start again",
    });
  }
}
