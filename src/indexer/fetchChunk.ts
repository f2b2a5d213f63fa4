import {
  type Abi,
  type AbiEvent,
  type Address,
  decodeAbiParameters,
  type Hex,
  hexToBigInt,
  numberToHex,
  toEventSelector,
  toFunctionSelector,
} from "viem";
import type { ChainClient } from "../chain/chainClient.ts";
import type { Deployment } from "../chain/deploy.ts";
import { PeerGridError } from "../chain/errors.ts";
import {
  bilateralAgreementsAbi,
  communityCreditAbi,
  communityRegistryAbi,
  energyMarketAbi,
  energyTokenAbi,
} from "../chain/generated/contracts.ts";

/** The PeerGrid contracts whose logs are indexed, by the name `chain_events.contract` records. */
export type ContractName = "registry" | "market" | "agreements" | "settlementToken" | "energyToken";

const abis: Record<ContractName, Abi> = {
  registry: communityRegistryAbi,
  market: energyMarketAbi,
  agreements: bilateralAgreementsAbi,
  settlementToken: communityCreditAbi,
  energyToken: energyTokenAbi,
};

/** A log decoded with its contract's ABI; `name` is "unknown" (and `args` empty) when the ABI lacks it. */
export type DecodedLog = {
  blockNumber: bigint;
  blockHash: Hex;
  logIndex: number;
  txHash: Hex;
  txIndex: number;
  contract: ContractName;
  name: string;
  args: Record<string, unknown>;
};

/** A block that holds PeerGrid logs (or is the chunk's last): what chain_blocks keeps. */
export type ChunkBlock = { number: bigint; hash: Hex; parentHash: Hex; timestamp: bigint };

/** A transaction that emitted PeerGrid logs, with what chain_transactions keeps; `input` is fetched only when needed ("0x" otherwise). */
export type ChunkTransaction = {
  hash: Hex;
  blockNumber: bigint;
  txIndex: number;
  from: Address;
  to: Address | null;
  contract: ContractName | undefined;
  functionName: string | undefined;
  status: "success" | "reverted";
  gasUsed: bigint;
  input: Hex;
};

export type Chunk = {
  fromBlock: bigint;
  toBlock: bigint;
  /** The chunk's last block: the next cursor. */
  last: ChunkBlock;
  logs: DecodedLog[];
  /** Blocks with logs, by number. */
  blocks: Map<bigint, ChunkBlock>;
  transactions: Map<Hex, ChunkTransaction>;
};

type Contracts = {
  addresses: Address[];
  byAddress: Map<string, { name: ContractName; events: Map<Hex, AbiEvent>; functions: Map<Hex, string> }>;
};

/** The address → ABI tables a deployment's logs and calls are decoded with. */
export function contractsOf(deployment: Deployment): Contracts {
  const byAddress: Contracts["byAddress"] = new Map();
  for (const name of Object.keys(abis) as ContractName[]) {
    const abi = abis[name];
    const events = new Map<Hex, AbiEvent>();
    const functions = new Map<Hex, string>();
    for (const item of abi) {
      if (item.type === "event") events.set(toEventSelector(item), item);
      if (item.type === "function") functions.set(toFunctionSelector(item), item.name);
    }
    byAddress.set(deployment[name].toLowerCase(), { name, events, functions });
  }
  return { addresses: (Object.keys(abis) as ContractName[]).map((name) => deployment[name]), byAddress };
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

type RawLog = {
  address: Address;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: Hex;
  logIndex: Hex;
};
type RawHeader = { number: Hex; hash: Hex; parentHash: Hex; timestamp: Hex };
type RawReceipt = {
  transactionHash: Hex;
  transactionIndex: Hex;
  from: Address;
  to: Address | null;
  contractAddress: Address | null;
  status: Hex;
  gasUsed: Hex;
};

/**
 * The function a transaction to a PeerGrid contract called, told by the first log that contract emitted in
 * it, for the events only one function emits. Other transactions (and every settlement and readings
 * submission, whose calldata is needed anyway) are fetched to decode their calldata.
 */
const functionOfEvent: Record<string, string> = {
  "registry.ParticipantRegistered": "registerParticipant",
  "registry.ParticipantStatusChanged": "setParticipantActive",
  "registry.MeterRegistered": "registerMeter",
  "registry.MeterDeactivated": "deactivateMeter",
  "registry.MeterReactivated": "reactivateMeter",
  "registry.RoleGranted": "grantRole",
  "market.ReadingsRecorded": "submitReadings",
  "market.StandingOrderSet": "setStandingOrder",
  "market.Deposited": "depositFor",
  "market.Withdrawn": "withdraw",
  "market.EnergyClaimed": "claimEnergy",
  "market.TariffsChanged": "setTariffs",
  "market.ZoneLimitsSet": "setZoneLimits",
  "market.GridAccountChanged": "setGridAccount",
  "agreements.AgreementProposed": "propose",
  "agreements.AgreementAccepted": "accept",
  "agreements.AgreementCancelled": "cancel",
  "agreements.MarketSet": "setMarket",
  "settlementToken.Approval": "approve",
  "settlementToken.RoleGranted": "grantRole",
  "energyToken.RoleGranted": "grantRole",
};

const rpc = <T>(chain: ChainClient, method: string, params: unknown[]) =>
  chain.public.request({ method, params } as never) as Promise<T>;

/**
 * Fetches and decodes blocks `fromBlock`..`toBlock`: one eth_getLogs over every PeerGrid contract; then,
 * for each block holding logs only, its header and receipts (in parallel); the calldata of the settlement
 * and readings transactions and of the few whose function their logs do not tell; and the first and last blocks'
 * headers. Throws a retryable error when the chain changed while the chunk was being read, or when
 * `fromBlock` does not follow `parentHash` (the indexed chain's last block).
 */
export async function fetchChunk(
  chain: ChainClient,
  contracts: Contracts,
  fromBlock: bigint,
  toBlock: bigint,
  parentHash: Hex | undefined,
  concurrency: number,
  receiptsSupport: { blockReceipts: boolean },
): Promise<Chunk> {
  const [firstHeader, lastHeader, rawLogs] = await Promise.all([
    rpc<RawHeader | null>(chain, "eth_getBlockByNumber", [numberToHex(fromBlock), false]),
    rpc<RawHeader | null>(chain, "eth_getBlockByNumber", [numberToHex(toBlock), false]),
    rpc<RawLog[]>(chain, "eth_getLogs", [
      { address: contracts.addresses, fromBlock: numberToHex(fromBlock), toBlock: numberToHex(toBlock) },
    ]),
  ]);
  const changed = (details: string) =>
    new PeerGridError(`the chain changed while blocks ${fromBlock}–${toBlock} were being read`, {
      details,
      hint: "a reorganisation is under way; the next sync rolls back what it dropped and retries",
      retryable: true,
    });
  if (!firstHeader || !lastHeader) throw changed(`block ${firstHeader ? toBlock : fromBlock} is gone`);
  if (parentHash !== undefined && firstHeader.parentHash !== parentHash) throw changed(`block ${fromBlock} has a new parent`);

  const logs = rawLogs.map((log) => decodeLog(contracts, log));
  const numbers = [...new Set(logs.map((l) => l.blockNumber))];
  const fetched = await mapLimit(numbers, concurrency, async (n) => {
    const [header, receipts] = await Promise.all([
      rpc<RawHeader | null>(chain, "eth_getBlockByNumber", [numberToHex(n), false]),
      blockReceipts(chain, n, receiptsSupport),
    ]);
    if (!header) throw changed(`block ${n} is gone`);
    return { header, receipts };
  });
  const blocks = new Map<bigint, ChunkBlock>();
  const receiptOf = new Map<Hex, RawReceipt>();
  for (const { header, receipts } of fetched) {
    const block = toBlock_(header);
    blocks.set(block.number, block);
    for (const r of receipts ?? []) receiptOf.set(r.transactionHash, r);
  }
  // Each transaction's logs, in order; a receipt for each (one by one where the node has no block receipts).
  const logsOf = new Map<Hex, DecodedLog[]>();
  for (const log of logs) logsOf.set(log.txHash, [...(logsOf.get(log.txHash) ?? []), log]);
  const missing = [...logsOf.keys()].filter((hash) => !receiptOf.has(hash));
  const fallback = await mapLimit(missing, concurrency, (hash) =>
    rpc<RawReceipt | null>(chain, "eth_getTransactionReceipt", [hash]),
  );
  for (const r of fallback) if (r) receiptOf.set(r.transactionHash, r);

  const transactions = new Map<Hex, ChunkTransaction>();
  const needInput: ChunkTransaction[] = [];
  for (const [hash, txLogs] of logsOf) {
    const receipt = receiptOf.get(hash);
    if (!receipt) throw changed(`transaction ${hash} has no receipt`);
    const target = (receipt.to ?? receipt.contractAddress)?.toLowerCase();
    const contract = target === undefined ? undefined : contracts.byAddress.get(target);
    const own = txLogs.find((l) => l.contract === contract?.name);
    // Settlements and recorded readings are rebuilt from their calldata, so theirs is always fetched.
    const needsCalldata = txLogs.some(
      (l) => l.contract === "market" && (l.name === "IntervalSettled" || l.name === "ReadingsRecorded"),
    );
    const tx: ChunkTransaction = {
      hash,
      blockNumber: (txLogs[0] as DecodedLog).blockNumber,
      txIndex: Number(hexToBigInt(receipt.transactionIndex)),
      from: receipt.from,
      to: receipt.to ?? null,
      contract: contract?.name,
      functionName:
        receipt.to === null ? "constructor" : own && !needsCalldata ? functionOfEvent[`${own.contract}.${own.name}`] : undefined,
      status: hexToBigInt(receipt.status) === 1n ? "success" : "reverted",
      gasUsed: hexToBigInt(receipt.gasUsed),
      input: "0x",
    };
    transactions.set(hash, tx);
    if (tx.functionName === undefined && contract) needInput.push(tx);
  }
  const inputs = await mapLimit(needInput, concurrency, (tx) =>
    rpc<{ input: Hex } | null>(chain, "eth_getTransactionByHash", [tx.hash]),
  );
  for (const [i, tx] of needInput.entries()) {
    const input = inputs[i]?.input;
    if (!input) throw changed(`transaction ${tx.hash} is gone`);
    const contract = contracts.byAddress.get((tx.to ?? "").toLowerCase());
    tx.input = input;
    tx.functionName = contract?.functions.get(input.slice(0, 10) as Hex);
  }
  for (const log of logs) {
    if (blocks.get(log.blockNumber)?.hash !== log.blockHash) throw changed(`log ${log.logIndex} of block ${log.blockNumber}`);
  }
  const last = toBlock_(lastHeader);
  if ((blocks.get(toBlock) ?? last).hash !== last.hash) throw changed(`block ${toBlock} was replaced`);
  return { fromBlock, toBlock, last, logs, blocks, transactions };
}

const toBlock_ = (h: RawHeader): ChunkBlock => ({
  number: hexToBigInt(h.number),
  hash: h.hash,
  parentHash: h.parentHash,
  timestamp: hexToBigInt(h.timestamp),
});

async function blockReceipts(
  chain: ChainClient,
  blockNumber: bigint,
  support: { blockReceipts: boolean },
): Promise<RawReceipt[] | undefined> {
  if (!support.blockReceipts) return undefined;
  try {
    return (await rpc<RawReceipt[] | null>(chain, "eth_getBlockReceipts", [numberToHex(blockNumber)])) ?? undefined;
  } catch {
    support.blockReceipts = false;
    return undefined;
  }
}

const isDynamic = (type: string) => type === "string" || type === "bytes" || type.endsWith("]") || type.startsWith("tuple");

/**
 * An event's arguments by name: indexed ones from the topics (a dynamic one stays its topic, the hash of the
 * value), the others from the data. decodeEventLog's result, without re-hashing the event's signature per log.
 */
function decodeArgs(event: AbiEvent, topics: readonly Hex[], data: Hex): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  const indexed = event.inputs.filter((input) => input.indexed);
  for (const [k, input] of indexed.entries()) {
    const topic = topics[k + 1];
    if (topic === undefined) throw new Error(`${event.name}: topic ${k + 1} missing`);
    args[input.name ?? String(k)] = isDynamic(input.type) ? topic : decodeAbiParameters([input], topic)[0];
  }
  const rest = event.inputs.filter((input) => !input.indexed);
  const values = rest.length === 0 ? [] : decodeAbiParameters(rest, data);
  for (const [k, input] of rest.entries()) args[input.name ?? String(indexed.length + k)] = values[k];
  return args;
}

function decodeLog(contracts: Contracts, log: RawLog): DecodedLog {
  const contract = contracts.byAddress.get(log.address.toLowerCase());
  if (!contract) throw new Error(`log from unexpected address ${log.address}`);
  const base = {
    blockNumber: hexToBigInt(log.blockNumber),
    blockHash: log.blockHash,
    logIndex: Number(hexToBigInt(log.logIndex)),
    txHash: log.transactionHash,
    txIndex: Number(hexToBigInt(log.transactionIndex)),
    contract: contract.name,
  };
  const event = log.topics[0] ? contract.events.get(log.topics[0]) : undefined;
  if (!event) return { ...base, name: "unknown", args: { topics: log.topics, data: log.data } };
  return { ...base, name: event.name, args: decodeArgs(event, log.topics, log.data) };
}
