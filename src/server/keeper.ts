import { type PrivateKeyAccount, parseEventLogs } from "viem";
import type { ChainClient, TxRequest } from "../chain/chainClient.ts";
import type { Deployment } from "../chain/deploy.ts";
import { PeerGridError } from "../chain/errors.ts";
import { energyMarketAbi } from "../chain/generated/contracts.ts";
import {
  callTx,
  contractReading,
  type RegistryMeter,
  readBook,
  readClearingInput,
  readMeters,
  readNextIntervalToSettle,
  readTariffs,
} from "../chain/market.ts";
import { type EnergyClaim, energyClaims, settlementArgs } from "../chain/settlementData.ts";
import type { Delivery } from "../core/bilateral.ts";
import type { Fill } from "../core/clearing.ts";
import { intervalBounds } from "../core/interval.ts";
import { clearZonal, type ZoneResult } from "../core/zonalClearing.ts";
import type { SettledEntry } from "../indexer/settlementRecord.ts";
import { type SignedReading, verifyReading } from "../metering/reading.ts";

/**
 * Gas limits for the keeper's two large transactions, so the node does not run them once beforehand
 * just to measure them (for readings, a thousand signature recoveries: a tenth of a 1,000-household close).
 * Measured (bench, forge snapshot): readings ~80k + 8.6k a reading, settlement ~200k + 11.1k a meter; the
 * bounds leave 40 % and more. A transaction that still runs out is sent again with its gas measured, which
 * also explains any real failure.
 */
export function readingsGasLimit(readings: number): bigint {
  return 150_000n + 12_000n * BigInt(readings);
}

/** See readingsGasLimit; agreements and zones cost extra per delivery and per zone. */
export function settlementGasLimit(meters: number, deliveries: number, zones: number): bigint {
  return 400_000n + 16_000n * BigInt(meters) + 80_000n * BigInt(deliveries) + 60_000n * BigInt(zones);
}

/** Sends with the bound; when the transaction reverts on chain, once more with its gas measured. */
async function sendBounded(chain: ChainClient, tx: TxRequest, gas: bigint, at: bigint, log: (message: string) => void) {
  try {
    return await chain.send([{ ...tx, gas }], { at });
  } catch (error) {
    if (!(error instanceof PeerGridError && error.retryable)) throw error;
    log(`${tx.action} reverted with a gas limit of ${gas}; sending it again with its gas measured`);
    return chain.send([tx], { at });
  }
}

/** Supplies the signed readings of an interval (meters, a gateway's queue, a simulation). */
export type ReadingSource = (interval: bigint) => SignedReading[] | Promise<SignedReading[]>;

/** What happened in one interval, as the chain recorded it. */
export type IntervalReport = {
  interval: bigint;
  startsAt: bigint;
  meters: number;
  /** The hub price: every zone's price when no zone limit binds. */
  priceMicroPerKwh: bigint;
  /** Each zone with meters: its net export and price, and whether a limit split it from the hub. */
  zones: ZoneResult[];
  /** What buyers paid beyond what sellers got (import fees and congestion rent), to the grid account. */
  gridFeesMicro: bigint;
  tradedWh: bigint;
  exportWh: bigint;
  importWh: bigint;
  toGridWh: bigint;
  fromGridWh: bigint;
  trades: bigint;
  /** What each bilateral agreement due in the interval delivered, before the auction. */
  deliveries: Delivery[];
  /** Root of the energy tokens the interval issued (see EnergyMarket.claimEnergy). */
  energyRoot: `0x${string}`;
  /** The leaves under `energyRoot`, in order: what each recipient can claim. */
  claims: EnergyClaim[];
  readingsGas: bigint;
  /** The largest readings transaction (each must fit a block). */
  maxReadingsTxGas: bigint;
  settlementGas: bigint;
  /** Readings refused off chain (bad signature, unknown or inactive meter, meter newer than the interval). */
  rejectedReadings: number;
  /** Every settled meter: its reading as recorded and its auction fill, in increasing meter id. */
  settled: SettledEntry[];
};

export type Keeper = {
  /** Submits the interval's readings, waits for its window to close, clears and settles it. */
  closeInterval(interval: bigint): Promise<IntervalReport>;
  nextInterval(): Promise<bigint>;
};

export type KeeperOptions = {
  chain: ChainClient;
  deployment: Deployment;
  gateway: PrivateKeyAccount;
  settler: PrivateKeyAccount;
  readings: ReadingSource;
  /** Readings per transaction. */
  batchSize?: number;
  /**
   * How long after the interval's end the keeper takes its readings from `readings` (default 0: at once,
   * for sources that have them all at the end). A gateway receiving from real meters needs most of the
   * reading window; what it accepts after this moment would never reach the chain, so it must stop
   * accepting before (the gateway's `windowMarginSeconds`).
   */
  readingDelaySeconds?: bigint;
  /**
   * Whether the chain's clock must reach the interval's end (plus readingDelaySeconds) before `readings` is
   * asked (default true): a gateway accepts a meter's reading only once the interval has ended on chain. A
   * source that computes its readings (a simulation) sets false.
   */
  clockBeforeReadings?: boolean;
  /**
   * Whether `readings` returns only readings whose signatures it has checked against the market's domain
   * (default false: the keeper checks each one, and leaves out a forged one rather than lose its batch).
   * The gateway checks every reading as it arrives and a simulation signs its own, so they set true and the
   * keeper does not recover every signature a second time. A wrong claim costs the batch: the contract
   * refuses a forged reading and with it the transaction.
   */
  verifiedReadings?: boolean;
  log?: (message: string) => void;
};

/**
 * The keeper closes intervals on time: it checks the interval's signed readings off chain, sends them in
 * increasing meter id, rebuilds the interval's book from the chain once the window closes, clears it and
 * settles it. Every step can be repeated after a crash: readings already on chain are not sent again,
 * and an interval already settled is refused by the contract.
 * @example const keeper = createKeeper({ chain, deployment, gateway, settler, readings }); await keeper.closeInterval(await keeper.nextInterval());
 */
export function createKeeper(options: KeeperOptions): Keeper {
  const { chain, deployment, gateway, settler } = options;
  const batchSize = options.batchSize ?? 1000;
  const log = options.log ?? (() => {});
  const domain = { chainId: chain.chainId, verifyingContract: deployment.market };
  const timing = { intervalSeconds: deployment.intervalSeconds, readingWindowSeconds: deployment.readingWindowSeconds };

  async function submitReadings(interval: bigint, readFrom: bigint, closesAt: bigint) {
    const all = await options.readings(interval);
    const verified: SignedReading[] = [];
    let rejected = 0;
    const refuse = (reading: SignedReading, why: string) => {
      rejected++;
      log(`refused a reading for meter ${reading.meter}, interval ${reading.interval}: ${why}`);
    };
    for (const reading of all) {
      if (reading.interval !== interval) refuse(reading, `it is for interval ${reading.interval}`);
      else if (options.verifiedReadings || verifyReading(domain, reading)) verified.push(reading);
      else refuse(reading, "bad signature");
    }
    const meters = await readMeters(
      chain,
      deployment,
      verified.map((r) => r.meter),
    );
    const startsAt = interval * deployment.intervalSeconds;
    // One refused reading would revert its whole batch: leave out, and report, what the contract refuses.
    const byMeterId = new Map<number, SignedReading>();
    for (const [i, reading] of verified.entries()) {
      const meter = meters[i] as RegistryMeter;
      const refusal =
        meter.meterId === 0
          ? "unknown meter"
          : !meter.active
            ? "meter deactivated"
            : BigInt(meter.registeredAt) > startsAt
              ? "meter registered after the interval started"
              : byMeterId.has(meter.meterId)
                ? "a second reading for the same meter"
                : undefined;
      if (refusal) refuse(reading, refusal);
      else byMeterId.set(meter.meterId, reading);
    }
    const book = await readBook(chain, deployment, interval);
    // The contract takes an interval's readings in increasing meter id; those at or below the book's last
    // meter id were sent before (or arrived too late to be placed).
    const missing = [...byMeterId.entries()]
      .filter(([meterId]) => meterId > book.lastMeterId)
      .sort(([a], [b]) => a - b)
      .map(([, reading]) => contractReading(reading));
    if (missing.length === 0) return { gas: 0n, maxGas: 0n, rejected };
    if ((await chain.now()) >= closesAt) {
      log(`interval ${interval}: reading window closed before ${missing.length} readings were sent; settling without them`);
      return { gas: 0n, maxGas: 0n, rejected };
    }
    try {
      const receipts = [];
      for (let i = 0; i < missing.length; i += batchSize) {
        const batch = missing.slice(i, i + batchSize);
        const tx = callTx(gateway, deployment.market, energyMarketAbi, "submitReadings", [interval, batch]);
        receipts.push(...(await sendBounded(chain, tx, readingsGasLimit(batch.length), readFrom, log)));
      }
      return {
        gas: receipts.reduce((sum, r) => sum + r.gasUsed, 0n),
        maxGas: receipts.reduce((max, r) => (r.gasUsed > max ? r.gasUsed : max), 0n),
        rejected,
      };
    } catch (error) {
      // On a live chain the window can close between our check and inclusion; the interval is then
      // settled without these readings, exactly as if they had arrived late.
      if ((await chain.now()) < closesAt) throw error;
      log(`interval ${interval}: reading window closed while ${missing.length} readings were in flight; settling without them`);
      return { gas: 0n, maxGas: 0n, rejected };
    }
  }

  async function closeInterval(interval: bigint): Promise<IntervalReport> {
    const { startsAt, endsAt, closesAt } = intervalBounds(interval, timing);
    const next = await readNextIntervalToSettle(chain, deployment);
    if (interval !== next) {
      throw new PeerGridError(`cannot close interval ${interval}: the next interval to settle is ${next}`, {
        hint: "intervals settle in order; ask keeper.nextInterval() which one is due",
      });
    }

    const readFrom = endsAt + (options.readingDelaySeconds ?? 0n);
    // Otherwise the readings' block is the first at that time, and the settlement's at the window's close:
    // on the embedded node no block is mined only to move the clock.
    if (options.clockBeforeReadings ?? true) await chain.advanceTo(readFrom);
    const readings = await submitReadings(interval, readFrom, closesAt);
    // Other gateways may add readings until the window closes; on the embedded node only this keeper does.
    if (!chain.embedded) await chain.advanceTo(closesAt);
    const [{ readings: recorded, positions, zoneLimits, deliveries }, tariffs, gridAccount] = await Promise.all([
      readClearingInput(chain, deployment, interval),
      readTariffs(chain, deployment),
      chain.public.readContract({ address: deployment.market, abi: energyMarketAbi, functionName: "gridAccount" }),
    ]);
    const clearing = clearZonal(positions, tariffs, zoneLimits);
    const [receipt] = await sendBounded(
      chain,
      callTx(settler, deployment.market, energyMarketAbi, "settleInterval", settlementArgs(interval, clearing, recorded)),
      settlementGasLimit(recorded.length, deliveries.length, clearing.zones.length),
      closesAt,
      log,
    );
    if (!receipt) throw new Error("no receipt for settleInterval");
    const [settled] = parseEventLogs({ abi: energyMarketAbi, eventName: "IntervalSettled", logs: receipt.logs });
    if (!settled) throw new Error(`settleInterval for ${interval} emitted no IntervalSettled event`);
    return {
      interval,
      startsAt,
      meters: recorded.length,
      priceMicroPerKwh: settled.args.priceMicroPerKwh,
      zones: clearing.zones,
      gridFeesMicro: settled.args.gridFeesMicro,
      tradedWh: settled.args.tradedWh,
      exportWh: recorded.reduce((s, r) => s + r.exportWh, 0n),
      importWh: recorded.reduce((s, r) => s + r.importWh, 0n),
      toGridWh: settled.args.toGridWh,
      fromGridWh: settled.args.fromGridWh,
      trades: settled.args.trades,
      energyRoot: settled.args.energyRoot,
      deliveries,
      claims: energyClaims(interval, recorded, clearing, gridAccount, deliveries),
      readingsGas: readings.gas,
      maxReadingsTxGas: readings.maxGas,
      settlementGas: receipt.gasUsed,
      rejectedReadings: readings.rejected,
      // settlementArgs checked that fill i is reading i's meter.
      settled: recorded.map((r, i) => {
        const { soldWh, boughtWh } = clearing.fills[i] as Fill;
        return { ...r, soldWh, boughtWh };
      }),
    };
  }

  return { closeInterval, nextInterval: () => readNextIntervalToSettle(chain, deployment) };
}
