import { type PrivateKeyAccount, parseEventLogs } from "viem";
import type { ChainClient } from "../chain/chainClient.ts";
import type { Deployment } from "../chain/deploy.ts";
import { PeerGridError } from "../chain/errors.ts";
import { communityRegistryAbi, energyMarketAbi } from "../chain/generated/contracts.ts";
import { callTx, readIntervalPositions, readNextIntervalToSettle, readTariffs } from "../chain/market.ts";
import { clearInterval } from "../core/clearing.ts";
import { intervalBounds } from "../core/interval.ts";
import { type SignedReading, verifyReading } from "../metering/reading.ts";

/** Supplies the signed readings of an interval (meters, a gateway's queue, a simulation). */
export type ReadingSource = (interval: bigint) => Promise<SignedReading[]>;

/** What happened in one interval, as the chain recorded it. */
export type IntervalReport = {
  interval: bigint;
  startsAt: bigint;
  meters: number;
  priceMicroPerKwh: bigint;
  tradedWh: bigint;
  exportWh: bigint;
  importWh: bigint;
  toGridWh: bigint;
  fromGridWh: bigint;
  trades: bigint;
  readingsGas: bigint;
  settlementGas: bigint;
  /** Readings refused off chain (bad signature, unknown or inactive meter, meter newer than the interval). */
  rejectedReadings: number;
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
  log?: (message: string) => void;
};

/**
 * The keeper closes intervals on time. Every step can be repeated after a crash: readings already
 * on chain are not sent again, and an interval already settled is only reported.
 * @example const keeper = createKeeper({ chain, deployment, gateway, settler, readings }); await keeper.closeInterval(await keeper.nextInterval());
 */
export function createKeeper(options: KeeperOptions): Keeper {
  const { chain, deployment, gateway, settler } = options;
  const batchSize = options.batchSize ?? 100;
  const log = options.log ?? (() => {});
  const domain = { chainId: chain.chainId, verifyingContract: deployment.market };
  const timing = { intervalSeconds: deployment.intervalSeconds, readingWindowSeconds: deployment.readingWindowSeconds };

  // A signer's meter id never changes once registered, so it is asked for once.
  const meterIds = new Map<string, number>();
  async function meterIdOf(signer: `0x${string}`): Promise<number> {
    const known = meterIds.get(signer);
    if (known) return known;
    const id = await chain.public.readContract({
      address: deployment.registry,
      abi: communityRegistryAbi,
      functionName: "meterIdOf",
      args: [signer],
    });
    if (id !== 0) meterIds.set(signer, id);
    return id;
  }

  async function submitReadings(interval: bigint, closesAt: bigint) {
    const all = await options.readings(interval);
    const verified: SignedReading[] = [];
    let rejected = 0;
    for (const reading of all) {
      if (reading.interval === interval && (await verifyReading(domain, reading))) verified.push(reading);
      else {
        rejected++;
        log(`refused a reading for meter ${reading.meter}, interval ${reading.interval}: bad signature or wrong interval`);
      }
    }
    const recorded = new Set((await readIntervalPositions(chain, deployment, interval)).map((p) => p.meterId));
    const startsAt = interval * deployment.intervalSeconds;
    const meterIds = await Promise.all(verified.map((r) => meterIdOf(r.meter)));
    const meters = await Promise.all(
      meterIds.map((id) =>
        id === 0 || recorded.has(id)
          ? undefined
          : chain.public.readContract({
              address: deployment.registry,
              abi: communityRegistryAbi,
              functionName: "meter",
              args: [id],
            }),
      ),
    );
    const missing: SignedReading[] = [];
    for (const [i, reading] of verified.entries()) {
      const meterId = meterIds[i] as number;
      const meter = meters[i];
      if (recorded.has(meterId)) continue;
      // One refused reading would revert its whole batch: leave out, and report, what the contract refuses.
      const refusal = !meter
        ? "unknown meter"
        : !meter.active
          ? "meter deactivated"
          : BigInt(meter.registeredAt) > startsAt
            ? "meter registered after the interval started"
            : undefined;
      if (refusal) {
        rejected++;
        log(`refused a reading for meter ${reading.meter}, interval ${interval}: ${refusal}`);
      } else {
        missing.push(reading);
      }
    }
    if (missing.length === 0) return { gas: 0n, rejected };
    if ((await chain.now()) >= closesAt) {
      log(`interval ${interval}: reading window closed before ${missing.length} readings were sent; settling without them`);
      return { gas: 0n, rejected };
    }
    const txs = [];
    for (let i = 0; i < missing.length; i += batchSize) {
      txs.push(callTx(gateway, deployment.market, energyMarketAbi, "submitReadings", [missing.slice(i, i + batchSize)]));
    }
    try {
      const receipts = await chain.send(txs);
      return { gas: receipts.reduce((sum, r) => sum + r.gasUsed, 0n), rejected };
    } catch (error) {
      // On a live chain the window can close between our check and inclusion; the interval is then
      // settled without these readings, exactly as if they had arrived late.
      if ((await chain.now()) < closesAt) throw error;
      log(`interval ${interval}: reading window closed while ${missing.length} readings were in flight; settling without them`);
      return { gas: 0n, rejected };
    }
  }

  async function closeInterval(interval: bigint): Promise<IntervalReport> {
    const { startsAt, endsAt, closesAt } = intervalBounds(interval, timing);
    await chain.advanceTo(endsAt);
    const next = await readNextIntervalToSettle(chain, deployment);
    if (interval !== next) {
      throw new PeerGridError(`cannot close interval ${interval}: the next interval to settle is ${next}`, {
        hint: "intervals settle in order; ask keeper.nextInterval() which one is due",
      });
    }

    const readings = await submitReadings(interval, closesAt);
    await chain.advanceTo(closesAt);
    const [positions, tariffs] = await Promise.all([
      readIntervalPositions(chain, deployment, interval),
      readTariffs(chain, deployment),
    ]);
    const clearing = clearInterval(positions, tariffs);
    const [receipt] = await chain.send([
      callTx(settler, deployment.market, energyMarketAbi, "settleInterval", [
        interval,
        {
          priceLowMicroPerKwh: clearing.priceLowMicroPerKwh,
          priceHighMicroPerKwh: clearing.priceHighMicroPerKwh,
          priceMicroPerKwh: clearing.priceMicroPerKwh,
          fills: clearing.fills,
        },
      ]),
    ]);
    if (!receipt) throw new Error("no receipt for settleInterval");
    const [settled] = parseEventLogs({ abi: energyMarketAbi, eventName: "IntervalSettled", logs: receipt.logs });
    if (!settled) throw new Error(`settleInterval for ${interval} emitted no IntervalSettled event`);
    return {
      interval,
      startsAt,
      meters: positions.length,
      priceMicroPerKwh: settled.args.priceMicroPerKwh,
      tradedWh: settled.args.tradedWh,
      exportWh: positions.reduce((s, p) => s + p.exportWh, 0n),
      importWh: positions.reduce((s, p) => s + p.importWh, 0n),
      toGridWh: settled.args.toGridWh,
      fromGridWh: settled.args.fromGridWh,
      trades: settled.args.trades,
      readingsGas: readings.gas,
      settlementGas: receipt.gasUsed,
      rejectedReadings: readings.rejected,
    };
  }

  return { closeInterval, nextInterval: () => readNextIntervalToSettle(chain, deployment) };
}
