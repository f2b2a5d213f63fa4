import {
  type Abi,
  type Address,
  createPublicClient,
  formatEther,
  type Hex,
  http,
  type PrivateKeyAccount,
  type PublicClient,
  parseTransaction,
  recoverTransactionAddress,
  type TransactionReceipt,
  type TransactionSerializedGeneric,
  toHex,
} from "viem";
import { PeerGridError, toPeerGridError } from "./errors.ts";
import type { BlockJournal, JournalBlock } from "./journal.ts";
import { keccak256Hex } from "./keccak.ts";
import { batchingHttp } from "./rpcTransport.ts";

/**
 * How long a request to the embedded node may take. viem's default of 10 s is too short there: estimating
 * a 5,000-household interval's transactions executes ~50–100M gas several times, and mining or replaying
 * its block executes it again, on the same cores as everything else. External nodes keep viem's default.
 */
const EMBEDDED_REQUEST_TIMEOUT_MS = 300_000;

/** anvil's pool holds at most ~1,000 pending transactions per sender; larger sends go in several blocks. */
const MAX_TXS_PER_SEND = 500;

/** A signed transaction of a group: its sender, action (for errors), raw form, hash, and what its sender must hold to be mined. */
type SignedTx = { from: Address; action: string; abi: Abi; raw: Hex; hash: Hex; cost: bigint };

/**
 * The error for transactions anvil left out of every block: which sender could not pay for one, if any;
 * else only how many were left out (nothing known makes anvil refuse a paid transaction that fits).
 */
function leftOutError(
  left: readonly SignedTx[],
  sent: number,
  unpaid: { tx: SignedTx; balance: bigint } | undefined,
): PeerGridError {
  const message = `${left.length} of ${sent} transactions were left out of the block`;
  if (!unpaid) return new PeerGridError(message, { details: `first left out: ${left[0]?.action}` });
  const { tx, balance } = unpaid;
  return new PeerGridError(`${message}: ${tx.from} cannot pay for ${tx.action}`, {
    details: `it holds ${formatEther(balance)} ETH; the transaction needs ${formatEther(tx.cost)} (gas × price + value)`,
    hint: "give the account more gas money (the demo tops its accounts up at start)",
  });
}

/** One transaction to send: already encoded, with the ABI used to explain a revert. */
export type TxRequest = {
  account: PrivateKeyAccount;
  to?: Address;
  data?: Hex;
  value?: bigint;
  abi: Abi;
  /** Names the action in errors, e.g. "submitReadings". */
  action: string;
  /**
   * A gas limit the caller knows to be enough. The transaction is then not executed beforehand: it is
   * mined as it is, and if the limit was too low or the call fails it reverts on chain (the send throws).
   */
  gas?: bigint;
};

export type SendOptions = {
  /**
   * Include the transactions no earlier than this time (unix seconds): the embedded node mines their block
   * at it, saving a block that only moves the clock when every transaction carries its gas limit; an
   * external node is waited for.
   */
  at?: bigint;
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
   * Sends independent transactions together and returns their receipts. Every one without a `gas` bound
   * is executed first, so a transaction the contract would refuse throws a decoded error and nothing is sent. More than
   * 500, or more than a block's gas, go in groups, each estimated, sent and mined before the next. On the
   * embedded node a group is mined, block after journalled block, until all of it is in; a transaction its
   * sender cannot pay for fails the send, naming the sender.
   */
  send(txs: readonly TxRequest[], options?: SendOptions): Promise<TransactionReceipt[]>;
  /**
   * Relays a transaction signed elsewhere (a user's wallet) and returns its receipt. It is simulated
   * first: a call the contract would refuse throws the decoded error (from `abi`) and nothing is sent.
   */
  sendRaw(raw: Hex, abi: Abi, action: string): Promise<TransactionReceipt>;
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
  const timeout = options.journal ? EMBEDDED_REQUEST_TIMEOUT_MS : undefined;
  const client = createPublicClient({
    // The embedded node gets JSON-RPC batches: the requests a step makes at once (a group's executions,
    // sends and receipts, hundreds of them in a large community) travel as one HTTP request.
    transport: options.journal
      ? batchingHttp(options.rpcUrl, EMBEDDED_REQUEST_TIMEOUT_MS)
      : http(options.rpcUrl, { retryCount: 2, timeout }),
    pollingInterval,
    cacheTime: 0,
  });
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

  /**
   * Mines one block at `timestamp` with whatever is in the pool and journals it: its transactions as
   * the block holds them, in its order, so a replay rebuilds exactly this block. `known` holds the raw
   * form of the transactions just sent; anything else is fetched from the node. Returns the block's hashes.
   */
  async function mine(timestamp: bigint, known: ReadonlyMap<Hex, Hex> = new Map()): Promise<readonly Hex[]> {
    if (!journal) throw new Error("mine() needs the embedded node");
    const before = await client.getBlockNumber();
    await rpc("evm_mine", [{ timestamp: Number(timestamp) }]);
    const block = await client.getBlock({ blockTag: "latest" });
    if (block.number !== before + 1n) {
      throw new PeerGridError(`expected block ${before + 1n}, the node is at ${block.number}`);
    }
    const raws = await Promise.all(
      block.transactions.map(async (hash) => known.get(hash) ?? ((await rpc("eth_getRawTransactionByHash", [hash])) as Hex)),
    );
    journal.append({ number: Number(block.number), timestamp: timestamp.toString(), hash: block.hash, txs: raws });
    await options.afterBlock?.(Number(block.number));
    return block.transactions;
  }

  /**
   * Mines blocks until every transaction sent is in one. anvil leaves out of a block what its sender
   * cannot pay for (gas × price + value above the balance) or what no longer fits; a transaction left out
   * stays in the pool, where the next block may take it. Each block is journalled as it is mined. When a
   * left-out transaction cannot be paid for, or a block takes none of them, waiting cannot help: the pool
   * is emptied (else the leftovers would slip into a later, unrelated block) and the step fails.
   */
  async function mineUntilIncluded(sent: readonly SignedTx[], at = 0n): Promise<void> {
    const known = new Map(sent.map((s) => [s.hash, s.raw]));
    const latest = await now();
    const timestamp = latest > at ? latest : at;
    let waiting = sent;
    while (waiting.length > 0) {
      const included = new Set(await mine(timestamp, known));
      const left = waiting.filter((s) => !included.has(s.hash));
      if (left.length === 0) return;
      const unpaid = await firstUnpaid(left);
      if (unpaid || left.length === waiting.length) {
        await rpc("anvil_dropAllTransactions", []);
        throw leftOutError(left, sent.length, unpaid);
      }
      waiting = left;
    }
  }

  /** The first left-out transaction whose sender's balance cannot cover its gas and value, with that balance. */
  async function firstUnpaid(left: readonly SignedTx[]): Promise<{ tx: SignedTx; balance: bigint } | undefined> {
    const senders = [...new Set(left.map((s) => s.from))];
    const balances = new Map(await Promise.all(senders.map(async (a) => [a, await client.getBalance({ address: a })] as const)));
    for (const tx of left) {
      const balance = balances.get(tx.from) ?? 0n;
      if (balance < tx.cost) return { tx, balance };
    }
    return undefined;
  }

  /**
   * On the embedded node this client mines; two sends at once (the keeper's and a relayed wallet's, say)
   * would mine each other's transactions and miscount. Sends and clock moves therefore run one at a time.
   */
  let queue: Promise<unknown> = Promise.resolve();
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    if (!journal) return fn();
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  }

  async function sendRaw(raw: Hex, abi: Abi, action: string): Promise<TransactionReceipt> {
    const tx = parseTransaction(raw as TransactionSerializedGeneric);
    let from: Address;
    try {
      from = await recoverTransactionAddress({ serializedTransaction: raw as never });
    } catch (error) {
      throw new PeerGridError(`${action}: the transaction's signature cannot be read`, { cause: error });
    }
    if (tx.chainId !== undefined && tx.chainId !== chainId) {
      throw new PeerGridError(`${action}: the transaction is signed for chain ${tx.chainId}, this is chain ${chainId}`);
    }
    try {
      await client.call({ account: from, to: tx.to ?? undefined, data: tx.data, value: tx.value });
    } catch (error) {
      throw toPeerGridError(error, abi, action);
    }
    return serial(async () => {
      let hash: Hex;
      try {
        hash = await client.sendRawTransaction({ serializedTransaction: raw });
      } catch (error) {
        throw toPeerGridError(error, abi, action);
      }
      if (journal) await mineUntilIncluded([{ from, action, abi, raw, hash, cost: 0n }]);
      return journal ? client.getTransactionReceipt({ hash }) : client.waitForTransactionReceipt({ hash, timeout: 120_000 });
    });
  }

  async function send(txs: readonly TxRequest[], options: SendOptions = {}): Promise<TransactionReceipt[]> {
    const { at } = options;
    if (at !== undefined && !journal) await advanceTo(at);
    return serial(async () => {
      // A transaction executed beforehand runs on the latest block: the clock must be there first.
      if (at !== undefined && journal && txs.some((tx) => tx.gas === undefined) && (await now()) < at) await mine(at);
      return sendAll(txs, at);
    });
  }

  async function sendAll(txs: readonly TxRequest[], at?: bigint): Promise<TransactionReceipt[]> {
    const receipts: TransactionReceipt[] = [];
    for (let i = 0; i < txs.length; i += MAX_TXS_PER_SEND)
      receipts.push(...(await sendGroup(txs.slice(i, i + MAX_TXS_PER_SEND), at)));
    return receipts;
  }

  async function sendGroup(txs: readonly TxRequest[], at?: bigint): Promise<TransactionReceipt[]> {
    if (txs.length === 0) return [];
    const [gasPrice, { gasLimit }] = await Promise.all([client.getGasPrice(), client.getBlock({ blockTag: "latest" })]);
    const gases = await Promise.all(
      txs.map(async (tx) => {
        // A margin for state that changes before inclusion and for refunds (at most a fifth of the gas
        // used), but never above a block: such a transaction could not be mined at all, while the
        // execution proved it runs within the block's gas.
        const gas = tx.gas ?? ((await gasUsedBy(tx)) * 13n) / 10n + 20_000n;
        return gas < gasLimit ? gas : gasLimit;
      }),
    );
    // A group must fit one block: split it when the gas it may use exceeds the block's limit.
    if (txs.length > 1 && gases.reduce((sum, g) => sum + g, 0n) > gasLimit) {
      const half = Math.ceil(txs.length / 2);
      return [...(await sendGroup(txs.slice(0, half), at)), ...(await sendGroup(txs.slice(half), at))];
    }
    const signed = await signAll(txs, gases, gasPrice);
    const submit = async ({ raw, abi, action }: SignedTx) => {
      try {
        await client.sendRawTransaction({ serializedTransaction: raw });
      } catch (error) {
        throw toPeerGridError(error, abi, action);
      }
    };
    // The embedded node takes a sender's later nonces ahead of earlier ones (it holds them until the gap
    // fills), so a group goes in one batch; an external node gets them one by one, in nonce order.
    if (journal) {
      const refused = (await Promise.allSettled(signed.map(submit))).find((r) => r.status === "rejected");
      if (refused) {
        // What the node did take must not slip into a later, unrelated block.
        await rpc("anvil_dropAllTransactions", []);
        throw refused.reason;
      }
    } else for (const tx of signed) await submit(tx);
    if (journal) await mineUntilIncluded(signed, at);
    const receipts = await Promise.all(
      signed.map(({ hash }) =>
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

  /**
   * The gas a transaction uses on the latest state. eth_createAccessList executes it once, where
   * eth_estimateGas searches for the limit and executes it ten times or more (1.1 of the 1.5 s an interval
   * of 1,000 households took to close). A node without it, or a transaction that fails, goes to
   * eth_estimateGas, whose error carries the revert data that names the contract's error.
   */
  async function gasUsedBy(tx: TxRequest): Promise<bigint> {
    try {
      const result = (await rpc("eth_createAccessList", [
        { from: tx.account.address, to: tx.to, data: tx.data, value: toHex(tx.value ?? 0n) },
        "latest",
      ])) as { gasUsed?: Hex; error?: string };
      if (!result.error && result.gasUsed) return BigInt(result.gasUsed);
    } catch {
      // Fall through: estimateGas explains the failure.
    }
    try {
      return await client.estimateGas({ account: tx.account.address, to: tx.to, data: tx.data, value: tx.value });
    } catch (error) {
      throw toPeerGridError(error, tx.abi, tx.action);
    }
  }

  /** Signs a group as legacy transactions, numbering each sender's nonces on from its pending count. */
  async function signAll(txs: readonly TxRequest[], gases: readonly bigint[], gasPrice: bigint): Promise<SignedTx[]> {
    const senders = [...new Set(txs.map((tx) => tx.account.address))];
    const counts = await Promise.all(senders.map((address) => client.getTransactionCount({ address, blockTag: "pending" })));
    const nonces = new Map(senders.map((address, i) => [address, counts[i] as number]));
    const signed: SignedTx[] = [];
    for (const [i, request] of txs.entries()) {
      const address = request.account.address;
      const nonce = nonces.get(address) as number;
      nonces.set(address, nonce + 1);
      const gas = gases[i] as bigint;
      const value = request.value ?? 0n;
      const raw = await request.account.signTransaction({
        type: "legacy",
        chainId,
        nonce,
        gas,
        gasPrice,
        to: request.to ?? null,
        data: request.data,
        value,
      });
      signed.push({
        from: address,
        action: request.action,
        abi: request.abi,
        raw,
        hash: keccak256Hex(raw),
        cost: gas * gasPrice + value,
      });
    }
    return signed;
  }

  async function advanceTo(timestamp: bigint): Promise<void> {
    if (journal) {
      await serial(async () => {
        if ((await now()) < timestamp) await mine(timestamp);
      });
      return;
    }
    while ((await now()) < timestamp) await new Promise((r) => setTimeout(r, pollingInterval));
  }

  return { public: client, chainId, rpcUrl: options.rpcUrl, embedded: journal !== undefined, now, advanceTo, send, sendRaw };
}

/**
 * Replays journalled blocks into an embedded node, block by block with their original timestamps,
 * rebuilding the chain that was acknowledged before a stop or crash.
 * @example await replayJournal(rpcUrl, journal.blocks.filter((b) => b.number > checkpointBlock))
 */
export async function replayJournal(rpcUrl: string, blocks: readonly JournalBlock[], expectedHead: number) {
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: EMBEDDED_REQUEST_TIMEOUT_MS }), cacheTime: 0 });
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
