import {
  type Abi,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  decodeFunctionData,
  encodeFunctionData,
  type Hex,
  type PrivateKeyAccount,
} from "viem";
import { type Delivery, type DueAgreement, executeAgreements } from "../core/bilateral.ts";
import type { StandingOrder, Tariffs } from "../core/clearing.ts";
import type { ZonalPosition, ZoneLimits } from "../core/zonalClearing.ts";
import type { SignedReading } from "../metering/reading.ts";
import type { ChainClient, TxRequest } from "./chainClient.ts";
import type { Deployment } from "./deploy.ts";
import { PeerGridError } from "./errors.ts";
import { bilateralAgreementsAbi, communityRegistryAbi, energyMarketAbi } from "./generated/contracts.ts";
import { bookHead, type MeterInfo, type RecordedReading } from "./settlementData.ts";

type Writable = "nonpayable" | "payable";

/**
 * A typed contract call as a transaction request.
 * @example callTx(operator, deployment.registry, communityRegistryAbi, "registerParticipant", [account, 1])
 */
export function callTx<const abi extends Abi, name extends ContractFunctionName<abi, Writable>>(
  account: PrivateKeyAccount,
  address: Address,
  abi: abi,
  functionName: name,
  args: ContractFunctionArgs<abi, Writable, name>,
): TxRequest {
  return {
    account,
    to: address,
    data: encodeFunctionData({ abi, functionName, args } as never),
    abi,
    action: functionName,
  };
}

/** The market's grid tariffs as they are on chain now. */
export async function readTariffs(chain: ChainClient, deployment: Deployment): Promise<Tariffs> {
  const [feedInMicroPerKwh, retailMicroPerKwh] = await chain.public.readContract({
    address: deployment.market,
    abi: energyMarketAbi,
    functionName: "tariffs",
  });
  return { feedInMicroPerKwh, retailMicroPerKwh };
}

export async function readNextIntervalToSettle(chain: ChainClient, deployment: Deployment): Promise<bigint> {
  return chain.public.readContract({ address: deployment.market, abi: energyMarketAbi, functionName: "nextIntervalToSettle" });
}

/** A signed reading as `submitReadings` takes it (the interval is given once per batch). */
export function contractReading({ meter, exportWh, importWh, r, vs }: SignedReading) {
  return { meter, exportWh, importWh, r, vs };
}

/**
 * The first block from `low` on with a timestamp of at least `timestamp` (the head if none). The block
 * sought is usually among the last few (an interval that just ended), so the search gallops back from the
 * head, doubling its step, and then bisects: a handful of requests on a year-long chain, not seventeen.
 */
export async function firstBlockAtOrAfter(chain: ChainClient, timestamp: bigint, low: bigint): Promise<bigint> {
  const at = async (blockNumber: bigint) => (await chain.public.getBlock({ blockNumber })).timestamp;
  let high = await chain.public.getBlockNumber();
  for (let step = 1n; low < high; step *= 2n) {
    const probe = high - step > low ? high - step : low;
    if ((await at(probe)) < timestamp) {
      low = probe + 1n;
      break;
    }
    high = probe;
  }
  while (low < high) {
    const middle = (low + high) / 2n;
    if ((await at(middle)) >= timestamp) high = middle;
    else low = middle + 1n;
  }
  return low;
}

/** An interval's readings book: the running hash, how many readings, the highest meter id. */
export type IntervalBook = { head: Hex; count: number; lastMeterId: number };

export async function readBook(chain: ChainClient, deployment: Deployment, interval: bigint): Promise<IntervalBook> {
  return chain.public.readContract({
    address: deployment.market,
    abi: energyMarketAbi,
    functionName: "bookOf",
    args: [interval],
  });
}

/**
 * The whole input of an interval's clearing: its recorded readings and, for each, the position the
 * engine clears (the reading with its owner's standing order and escrow, minus what the bilateral
 * agreements due in the interval took before the auction), the zones' limits and those deliveries.
 * @example const { readings, positions } = await readClearingInput(chain, deployment, 123n)
 */
export async function readClearingInput(
  chain: ChainClient,
  deployment: Deployment,
  interval: bigint,
): Promise<{
  readings: RecordedReading[];
  positions: ZonalPosition[];
  zoneLimits: Map<number, ZoneLimits>;
  deliveries: Delivery[];
}> {
  const readings = await readRecordedReadings(chain, deployment, interval);
  const [accounts, zoneLimits, due] = await Promise.all([
    readAccounts(
      chain,
      deployment,
      readings.map((r) => r.owner),
    ),
    readZoneLimits(chain, deployment, [...new Set(readings.map((r) => r.zone))]),
    readDueAgreements(chain, deployment, interval),
  ]);
  const book = readings.map((r, i) => ({
    meterId: r.meterId,
    zone: r.zone,
    exportWh: r.exportWh,
    importWh: r.importWh,
    ...(accounts[i] as AccountState),
  }));
  const { deliveries, positions } = executeAgreements(book, due);
  return { readings, positions, zoneLimits, deliveries };
}

/** The bilateral agreements due in `interval`, in execution order, with their parties' current meters. */
export async function readDueAgreements(chain: ChainClient, deployment: Deployment, interval: bigint): Promise<DueAgreement[]> {
  const due = await chain.public.readContract({
    address: deployment.agreements,
    abi: bilateralAgreementsAbi,
    functionName: "dueAt",
    args: [interval],
  });
  if (due.length === 0) return [];
  const parties = [...new Set(due.flatMap((d) => [d.seller, d.buyer]))];
  const participants = await Promise.all(
    parties.map((account) =>
      chain.public.readContract({
        address: deployment.registry,
        abi: communityRegistryAbi,
        functionName: "participant",
        args: [account],
      }),
    ),
  );
  const meterOf = new Map(parties.map((account, k) => [account, participants[k]?.meterId || undefined]));
  return due.map((d) => ({
    id: d.id,
    sellerMeterId: meterOf.get(d.seller),
    buyerMeterId: meterOf.get(d.buyer),
    maxWhPerInterval: BigInt(d.maxWhPerInterval),
    priceMicroPerKwh: BigInt(d.priceMicroPerKwh),
  }));
}

/** The limits settlement applies to each of `zones` (unlimited and free where never set). */
export async function readZoneLimits(
  chain: ChainClient,
  deployment: Deployment,
  zones: readonly number[],
): Promise<Map<number, ZoneLimits>> {
  const limits = await Promise.all(
    zones.map((zone) =>
      chain.public.readContract({ address: deployment.market, abi: energyMarketAbi, functionName: "zoneLimitsOf", args: [zone] }),
    ),
  );
  return new Map(
    zones.map((zone, k) => {
      const l = limits[k] as { importCapWh: bigint; exportCapWh: bigint; feeMicroPerKwh: number };
      return [zone, { importCapWh: l.importCapWh, exportCapWh: l.exportCapWh, feeMicroPerKwh: BigInt(l.feeMicroPerKwh) }];
    }),
  );
}

/** A registry meter record; `owner` is the zero address when the signer is unknown. */
export type RegistryMeter = MeterInfo & { active: boolean; registeredAt: number };

/** The registry's records of `signers`, in one call. */
export async function readMeters(
  chain: ChainClient,
  deployment: Deployment,
  signers: readonly Address[],
): Promise<RegistryMeter[]> {
  if (signers.length === 0) return [];
  const meters = await chain.public.readContract({
    address: deployment.registry,
    abi: communityRegistryAbi,
    functionName: "metersOf",
    args: [signers],
  });
  return meters.map((m) => ({ ...m }));
}

/** An account's escrow (negative: grid debt) and standing order. */
export type AccountState = { balanceMicro: bigint; order: StandingOrder };

/** The market accounts of `owners`, in one call. */
export async function readAccounts(
  chain: ChainClient,
  deployment: Deployment,
  owners: readonly Address[],
): Promise<AccountState[]> {
  if (owners.length === 0) return [];
  const accounts = await chain.public.readContract({
    address: deployment.market,
    abi: energyMarketAbi,
    functionName: "accountsOf",
    args: [owners],
  });
  return accounts.map((a) => ({
    balanceMicro: a.balanceMicro,
    order: {
      askMicroPerKwh: BigInt(a.askMicroPerKwh),
      maxSellWh: BigInt(a.maxSellWh),
      bidMicroPerKwh: BigInt(a.bidMicroPerKwh),
      maxBuyWh: BigInt(a.maxBuyWh),
    },
  }));
}

/**
 * The readings recorded in `interval`'s book, rebuilt from the chain: each `ReadingsRecorded` event
 * points at a `submitReadings` transaction whose calldata holds the signed readings; replaying the
 * contract's rule (a reading is new when its meter id is above the book's last) gives the book, whose
 * hash and count are checked against the contract's. The readings themselves are never stored on chain.
 * @example const readings = await readRecordedReadings(chain, deployment, 123n)
 */
export async function readRecordedReadings(
  chain: ChainClient,
  deployment: Deployment,
  interval: bigint,
): Promise<RecordedReading[]> {
  // Readings are accepted only once the interval has ended, so their events cannot be older.
  const endsAt = (interval + 1n) * deployment.intervalSeconds;
  const fromBlock = await firstBlockAtOrAfter(chain, endsAt, deployment.deployedAtBlock);
  const [book, logs] = await Promise.all([
    readBook(chain, deployment, interval),
    chain.public.getContractEvents({
      address: deployment.market,
      abi: energyMarketAbi,
      eventName: "ReadingsRecorded",
      args: { interval },
      fromBlock,
    }),
  ]);
  const batches = await Promise.all(
    logs.map(async (log) => {
      const tx = await chain.public.getTransaction({ hash: log.transactionHash as Hex });
      const call = decodeFunctionData({ abi: energyMarketAbi, data: tx.input });
      if (call.functionName !== "submitReadings" || tx.to?.toLowerCase() !== deployment.market.toLowerCase()) {
        throw new PeerGridError(`readings of interval ${interval} were recorded by a call PeerGrid cannot read`, {
          details: `transaction ${log.transactionHash}`,
          hint: "gateways must call EnergyMarket.submitReadings directly",
        });
      }
      return call.args[1];
    }),
  );
  const signers = [...new Set(batches.flat().map((r) => r.meter))];
  const meters = new Map((await readMeters(chain, deployment, signers)).map((m, i) => [signers[i] as Address, m]));
  const readings: RecordedReading[] = [];
  let last = 0;
  for (const batch of batches) {
    for (const r of batch) {
      const m = meters.get(r.meter) as RegistryMeter;
      if (m.meterId <= last) continue;
      readings.push({
        owner: m.owner,
        meterId: m.meterId,
        zone: m.zone,
        source: m.source,
        exportWh: r.exportWh,
        importWh: r.importWh,
      });
      last = m.meterId;
    }
  }
  if (readings.length !== book.count || bookHead(readings) !== book.head) {
    throw new PeerGridError(`the readings found for interval ${interval} do not match its book on chain`, {
      details: `found ${readings.length}, the book counts ${book.count}`,
      hint: "the node may be missing logs; retry, or reindex from a full node",
      retryable: true,
    });
  }
  return readings;
}
