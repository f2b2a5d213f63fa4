/**
 * Runs a scenario on the real chain: an embedded node, the PeerGrid contracts, the production keeper and
 * clearing. Every interval the households' meters sign what the models (or measured profiles) say they
 * exported and imported, the keeper submits, clears and settles, and the settlement's record gives each
 * household's energy and money. At the end every household's escrow on chain is checked against what the
 * simulator booked, to the smallest unit.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, formatEther, maxUint256, type PrivateKeyAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_DEV_KEY } from "../chain/anvil.ts";
import type { ChainClient, TxRequest } from "../chain/chainClient.ts";
import { type Deployment, deployPeerGrid } from "../chain/deploy.ts";
import { openEmbeddedChain } from "../chain/embeddedChain.ts";
import { PeerGridError } from "../chain/errors.ts";
import { communityCreditAbi, energyMarketAbi } from "../chain/generated/contracts.ts";
import { localAccount } from "../chain/localAccount.ts";
import { callTx, readAccounts, readMeters } from "../chain/market.ts";
import type { StandingOrder, Tariffs } from "../core/clearing.ts";
import { UNLIMITED_WH } from "../core/zonalClearing.ts";
import { type DemoCommunity, demoPrivateKey } from "../demo/demoCommunity.ts";
import { fundDemoAccounts, onboardDemoCommunity } from "../demo/onboardDemoCommunity.ts";
import { settlementRecord } from "../indexer/settlementRecord.ts";
import { type MeterKey, meterKey, type SignedReading, signReading } from "../metering/reading.ts";
import { createKeeper, readingsGasLimit, settlementGasLimit } from "../server/keeper.ts";
import { type AgentOutcome, initialOrder, reprice, sameOrder } from "./agents.ts";
import { batteryStep } from "./battery.ts";
import { evIntervalWh } from "./ev.ts";
import { addInterval, communitySummary, emptyTotals, type HouseholdTotals, householdSummary } from "./kpis.ts";
import { localDateTime } from "./localTime.ts";
import { householdIntervalWh } from "./meterReading.ts";
import type { MeasuredProfile } from "./profileCsv.ts";
import type { IntervalSummary, SimulationResult } from "./result.ts";
import { scenarioRunBounds } from "./scenario.ts";
import type { LoadedScenario } from "./scenarioFile.ts";
import { resolveHouseholds, type SimHousehold } from "./simHouseholds.ts";
import { formatLocal, utcOffsetMinutesIn } from "./timeZone.ts";

export type SimulateOptions = {
  /** Where the embedded chains are kept; default a temporary directory, removed at the end. */
  dataDir?: string;
  /**
   * Intervals run on one chain before the run moves to a new one (default CHAIN_DAYS' worth). The result
   * does not depend on it (test); only the speed does.
   */
  intervalsPerChain?: number;
  /** Called after every settled interval. */
  onProgress?: (progress: { done: number; total: number }) => void;
  /** Stops the run before its next interval (Ctrl-C); the chain is closed and a temporary directory removed. */
  signal?: AbortSignal;
  log?: (message: string) => void;
};

function checkNotAborted(signal: AbortSignal | undefined, done: number, total: number) {
  if (signal?.aborted) {
    throw new PeerGridError(`the simulation was interrupted after ${done} of ${total} intervals; nothing was written`);
  }
}

/**
 * Days of intervals on one chain. anvil 1.7 rehashes all of a chain's storage for every block, and the
 * market keeps three words per interval, so a block costs more the longer a chain runs (2 ms at the start,
 * ~40 ms after a year of one interval's words). A new chain every week, onboarded with the households'
 * orders and escrow, keeps every block as cheap as the first week's.
 */
export const CHAIN_DAYS = 7;

/** The grid account's opening escrow: it pays feed-in before retail payments come back. */
const GRID_DEPOSIT_MICRO = 1_000_000_000_000n;

const zeroOutcome = (): AgentOutcome => ({
  soldLocalWh: 0n,
  soldGridWh: 0n,
  boughtLocalWh: 0n,
  boughtGridWh: 0n,
  zoneTradedWh: 0n,
});

/**
 * Simulates the scenario and returns its result; the same scenario gives the same result, byte for byte.
 * @example const result = await simulate(await loadScenario("scenarios/quartierstrom.yaml"))
 */
export async function simulate(loaded: LoadedScenario, options: SimulateOptions = {}): Promise<SimulationResult> {
  const { scenario } = loaded;
  const log = options.log ?? (() => {});
  const bounds = scenarioRunBounds(scenario);
  const intervalSeconds = BigInt(bounds.intervalSeconds);
  if (bounds.startsAt % bounds.intervalSeconds !== 0) {
    throw new PeerGridError(
      `the scenario starts at ${new Date(bounds.startsAt * 1000).toISOString()}, not on a ${bounds.intervalSeconds / 60}-minute interval boundary`,
      { hint: "choose an interval length that divides the time zone's offset from UTC" },
    );
  }
  const tariffs: Tariffs = {
    feedInMicroPerKwh: scenario.tariffs.feedInMicroPerKwh,
    retailMicroPerKwh: scenario.tariffs.retailMicroPerKwh,
  };
  const households = resolveHouseholds(scenario, bounds.intervalSeconds);
  const key = (label: string) => localAccount(demoPrivateKey(scenario.seed, label));
  const orders: StandingOrder[] = households.map((h) =>
    initialOrder(h.meta.strategy, tariffs, scenario.agents, scenario.seed, h.meta.index),
  );
  const accounts = {
    operator: key("operator"),
    gateway: key("gateway"),
    keeper: key("keeper"),
    grid: key("grid"),
    households: households.map((_, i) => key(`household:${i}`)),
    meters: households.map((_, i) => meterKey(demoPrivateKey(scenario.seed, `meter:${i}`))),
  };
  const owners = accounts.households.map((a) => a.address);
  // What each household paid into its escrow, and the escrow the simulation booked for it.
  const deposited = households.map(() => scenario.depositMicro);
  const totals: HouseholdTotals[] = households.map(() => emptyTotals());
  const escrow = (i: number) => {
    const t = totals[i] as HouseholdTotals;
    return (deposited[i] as bigint) + t.earnedMicro - t.paidMicro;
  };

  checkNotAborted(options.signal, 0, bounds.intervals);
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), "peergrid-sim-"));
  const firstInterval = BigInt(bounds.startsAt) / intervalSeconds;
  const perChain = options.intervalsPerChain ?? Math.ceil((CHAIN_DAYS * 86_400) / bounds.intervalSeconds);
  const chains = Math.ceil(bounds.intervals / perChain);
  // The readings the run signed, by interval, for the keeper to take.
  const pending = new Map<bigint, SignedReading[]>();

  /**
   * A new chain for the intervals from `from` on: the contracts deployed and the households onboarded with
   * their standing orders and escrow as the previous chain left them.
   */
  async function openChain(from: number) {
    const community: DemoCommunity = {
      seed: scenario.seed,
      ...accounts,
      gridDepositMicro: GRID_DEPOSIT_MICRO,
      households: households.map((h, i) => ({
        profile: h.profile,
        account: accounts.households[i] as PrivateKeyAccount,
        meter: accounts.meters[i] as MeterKey,
        zone: h.meta.zone,
        order: orders[i] as StandingOrder,
        depositMicro: escrow(i),
      })),
    };
    const startsAt = BigInt(bounds.startsAt + from * bounds.intervalSeconds);
    const chainDir = join(
      dir,
      chains === 1 ? "chain" : `chain-${String(from / perChain + 1).padStart(String(chains).length, "0")}`,
    );
    // A day before its first interval: onboarding takes blocks, each a second later than the one before.
    const embedded = await openEmbeddedChain(chainDir, startsAt - 86_400n, log, {
      checkpoints: false,
      recentHistoryOnly: true,
      syncJournal: false,
    });
    try {
      const { chain } = embedded;
      const funder = privateKeyToAccount(ANVIL_DEV_KEY);
      await fundDemoAccounts(chain, funder, community);
      await fundRun(chain, funder, community, Math.min(perChain, bounds.intervals - from), scenario.zones.length);
      const deployment = await deployPeerGrid(chain, {
        operator: community.operator,
        gridAccount: community.grid.address,
        gateway: community.gateway.address,
        intervalSeconds,
        readingWindowSeconds: intervalSeconds / 3n,
        firstInterval: startsAt / intervalSeconds,
        tariffs,
      });
      await setZones(chain, deployment, community, scenario);
      await onboardDemoCommunity(chain, deployment, community);
      const meterIds = (
        await readMeters(
          chain,
          deployment,
          accounts.meters.map((m) => m.address),
        )
      ).map((m) => m.meterId);
      const keeper = createKeeper({
        chain,
        deployment,
        gateway: accounts.gateway,
        settler: accounts.keeper,
        readings: (i) => pending.get(i) ?? [],
        clockBeforeReadings: false,
        // The run signs its own readings.
        verifiedReadings: true,
        log,
      });
      return { embedded, chain, deployment, keeper, householdOfMeter: new Map(meterIds.map((id, i) => [id, i])) };
    } catch (error) {
      await embedded.close();
      throw error;
    }
  }

  type OpenChain = Awaited<ReturnType<typeof openChain>>;
  const readingDomain = (c: OpenChain) => ({ chainId: c.chain.chainId, verifyingContract: c.deployment.market });

  /**
   * Interval k's production and consumption of every home, and the readings of the meters without a
   * battery, signed. It yields to the event loop every few homes, so that it runs while the keeper waits
   * for the node instead of delaying it.
   */
  async function prepare(k: number, c: OpenChain): Promise<{ home: HomeEnergy[]; signed: (SignedReading | undefined)[] }> {
    const interval = firstInterval + BigInt(k);
    const startsAt = bounds.startsAt + k * bounds.intervalSeconds;
    const secondOfDay = localDateTime(startsAt, utcOffsetMinutesIn(scenario.location.timeZone, startsAt)).secondOfDay;
    const domain = readingDomain(c);
    const home: HomeEnergy[] = [];
    const signed: (SignedReading | undefined)[] = [];
    for (const [i, h] of households.entries()) {
      if (i % PREPARE_SLICE === PREPARE_SLICE - 1) await new Promise((resolve) => setImmediate(resolve));
      const energy = homeEnergy(h, loaded.profiles.get(i), startsAt, secondOfDay, bounds.intervalSeconds);
      home.push(energy);
      const { exportWh, importWh } = metered(energy);
      signed.push(h.battery ? undefined : signReading(accounts.meters[i] as MeterKey, domain, { interval, exportWh, importWh }));
    }
    return { home, signed };
  }

  let open: OpenChain | undefined;
  let ahead: ReturnType<typeof prepare> | undefined;
  try {
    const stored = households.map(() => 0n);
    const outcomes = households.map(zeroOutcome);
    const lastZonePrice = new Map<number, bigint>();
    const intervals: IntervalSummary[] = [];
    let orderGas = 0n;
    let period = 0;
    const { repriceEveryIntervals } = scenario.agents;

    for (let k = 0; k < bounds.intervals; k++) {
      checkNotAborted(options.signal, k, bounds.intervals);
      if (k % perChain === 0) {
        if (open) {
          await checkEscrow(open.chain, open.deployment, owners, deposited, totals);
          await open.embedded.close();
          open = undefined;
        }
        open = await openChain(k);
      }
      const current = open as OpenChain;
      const { chain, deployment, keeper, householdOfMeter } = current;
      const interval = firstInterval + BigInt(k);
      const startsAt = bounds.startsAt + k * bounds.intervalSeconds;
      const { home, signed } = await (ahead ?? prepare(k, current));
      ahead = undefined;
      // A battery's step depends on the last clearing: those meters sign once it is known.
      const physical = households.map((h, i): MeteredEnergy => {
        const energy = home[i] as HomeEnergy;
        if (!h.battery) return metered(energy);
        const step = batteryStep(h.battery, stored[i] as bigint, energy, {
          lastPriceMicroPerKwh: lastZonePrice.get(h.meta.zone),
          ...tariffs,
        });
        stored[i] = step.storedWh;
        return { ...energy, exportWh: step.exportWh, importWh: step.importWh };
      });
      const readings = accounts.meters.map((meter, i) => {
        const { exportWh, importWh } = physical[i] as MeteredEnergy;
        return signed[i] ?? signReading(meter, readingDomain(current), { interval, exportWh, importWh });
      });
      pending.set(interval, readings);
      const closing = keeper.closeInterval(interval);
      // The next interval's homes and battery-less meters are computed and signed while the chain works
      // on this one (on the same chain only: a new chain has a new domain).
      if (k + 1 < bounds.intervals && (k + 1) % perChain !== 0) {
        ahead = prepare(k + 1, current);
        ahead.catch(() => {}); // a failed close ends the run first
      }
      const report = await closing;
      pending.delete(interval);
      if (report.rejectedReadings > 0 || report.meters !== households.length) {
        throw new PeerGridError(`interval ${interval}: ${report.meters} of ${households.length} readings were settled`, {
          details: `${report.rejectedReadings} refused; see the log`,
        });
      }
      const record = settlementRecord({
        interval,
        entries: report.settled,
        zonePriceMicroPerKwh: new Map(report.zones.map((z) => [z.zone, z.priceMicroPerKwh])),
        deliveries: [],
        ...tariffs,
      });
      const zoneTraded = new Map<number, bigint>();
      for (const m of record.meters) zoneTraded.set(m.zone, (zoneTraded.get(m.zone) ?? 0n) + m.boughtLocalWh);
      for (const m of record.meters) {
        const i = householdOfMeter.get(m.meterId);
        if (i === undefined) throw new Error(`interval ${interval}: meter ${m.meterId} is no household's`);
        const p = physical[i] as MeteredEnergy;
        addInterval(totals[i] as HouseholdTotals, { ...m, productionWh: p.productionWh, consumptionWh: p.consumptionWh });
        const o = outcomes[i] as AgentOutcome;
        o.soldLocalWh += m.soldLocalWh;
        o.soldGridWh += m.soldGridWh;
        o.boughtLocalWh += m.boughtLocalWh;
        o.boughtGridWh += m.boughtGridWh;
        o.zoneTradedWh += zoneTraded.get(m.zone) ?? 0n;
      }
      for (const z of report.zones) lastZonePrice.set(z.zone, z.priceMicroPerKwh);
      intervals.push({
        interval,
        startsAt: BigInt(startsAt),
        localTime: formatLocal(startsAt, scenario.location.timeZone),
        priceMicroPerKwh: report.priceMicroPerKwh,
        productionWh: physical.reduce((s, p) => s + p.productionWh, 0n),
        consumptionWh: physical.reduce((s, p) => s + p.consumptionWh, 0n),
        exportWh: report.exportWh,
        importWh: report.importWh,
        tradedWh: report.tradedWh,
        toGridWh: report.toGridWh,
        fromGridWh: report.fromGridWh,
        batteryStoredWh: stored.reduce((s, w) => s + w, 0n),
        trades: Number(report.trades),
        gas: report.readingsGas + report.settlementGas + orderGas,
        boundZones: report.zones.filter((z) => z.capacityBound).map((z) => z.zone),
      });
      orderGas = 0n;

      if ((k + 1) % repriceEveryIntervals === 0 && k + 1 < bounds.intervals) {
        period++;
        orderGas += await topUp(chain, deployment, accounts.operator, owners, deposited, scenario.depositMicro);
        const changes: TxRequest[] = [];
        for (const [i, account] of accounts.households.entries()) {
          const { strategy } = (households[i] as SimHousehold).meta;
          const last = orders[i] as StandingOrder;
          const next = reprice(strategy, last, outcomes[i], tariffs, scenario.agents, scenario.seed, i, period);
          outcomes[i] = zeroOutcome();
          if (sameOrder(next, last)) continue;
          orders[i] = next;
          changes.push({
            ...callTx(account, deployment.market, energyMarketAbi, "setStandingOrder", [next]),
            gas: STANDING_ORDER_GAS,
          });
        }
        const receipts = await chain.send(changes);
        orderGas += receipts.reduce((s, r) => s + r.gasUsed, 0n);
      }
      options.onProgress?.({ done: k + 1, total: bounds.intervals });
    }

    if (open) await checkEscrow(open.chain, open.deployment, owners, deposited, totals);
    const summaries = households.map((h, i) => householdSummary(h.meta, totals[i] as HouseholdTotals, intervalSeconds));
    return {
      scenario: {
        name: scenario.name,
        seed: scenario.seed,
        timeZone: scenario.location.timeZone,
        startsAt: BigInt(bounds.startsAt),
        endsAt: BigInt(bounds.endsAt),
        intervalSeconds,
        retailMicroPerKwh: tariffs.retailMicroPerKwh,
        feedInMicroPerKwh: tariffs.feedInMicroPerKwh,
      },
      community: communitySummary(summaries, intervals, {
        intervalSeconds,
        gridIntensityGPerKwh: scenario.gridIntensityGPerKwh,
      }),
      households: summaries,
      intervals,
    };
  } finally {
    await open?.embedded.close();
    if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Homes prepared between two turns of the event loop (see prepare): ~0.25 ms of work. */
const PREPARE_SLICE = 4;

type HomeEnergy = { productionWh: bigint; consumptionWh: bigint };
type MeteredEnergy = HomeEnergy & { exportWh: bigint; importWh: bigint };

/** What a home produced and consumed in an interval: the measured profile, or the models plus its car. */
function homeEnergy(
  h: SimHousehold,
  measured: MeasuredProfile | undefined,
  startsAt: number,
  secondOfDay: number,
  intervalSeconds: number,
): HomeEnergy {
  const base = measured?.get(startsAt) ?? householdIntervalWh(h.profile, startsAt, intervalSeconds);
  const car = h.ev ? evIntervalWh(h.ev, secondOfDay, intervalSeconds) : 0n;
  return { productionWh: base.productionWh, consumptionWh: base.consumptionWh + car };
}

/** A home's meter without a battery nets production against consumption. */
function metered(home: HomeEnergy): MeteredEnergy {
  const net = home.productionWh - home.consumptionWh;
  return { ...home, exportWh: net > 0n ? net : 0n, importWh: net < 0n ? -net : 0n };
}

/**
 * Gas money for the whole run: every interval the gateway pays for the readings and the keeper for the
 * settlement, at the gas limits the keeper sends them with; twice that, for a gas price that moves. A
 * year of 100 households needs ~250 ETH of the embedded node's 10,000.
 */
async function fundRun(
  chain: ChainClient,
  funder: PrivateKeyAccount,
  community: DemoCommunity,
  intervals: number,
  zones: number,
) {
  const n = community.households.length;
  const gasPrice = await chain.public.getGasPrice();
  const needs = [
    { account: community.gateway.address, amount: 2n * BigInt(intervals) * readingsGasLimit(n) * gasPrice },
    { account: community.keeper.address, amount: 2n * BigInt(intervals) * settlementGasLimit(n, 0, zones) * gasPrice },
  ];
  const balances = await Promise.all(needs.map((x) => chain.public.getBalance({ address: x.account })));
  const missing = needs.map((x, i) => ({ ...x, amount: x.amount - (balances[i] as bigint) })).filter((x) => x.amount > 0n);
  const total = missing.reduce((sum, x) => sum + x.amount, 0n);
  const available = await chain.public.getBalance({ address: funder.address });
  if (total > available) {
    throw new PeerGridError(
      `the run needs ${formatEther(total)} ETH of gas money; the embedded node's funder holds ${formatEther(available)}`,
      {
        hint: "simulate fewer households or a shorter period per run",
      },
    );
  }
  await chain.send(
    missing.map((x) => ({ account: funder, to: x.account, value: x.amount, abi: [], action: `fund ${x.account}` })),
  );
}

/** The grid operator sets each zone's capacities and fee (a zone without either stays unlimited and free). */
async function setZones(
  chain: ChainClient,
  deployment: Deployment,
  community: DemoCommunity,
  scenario: LoadedScenario["scenario"],
) {
  const txs = scenario.zones
    .map((z) => ({
      zone: z.id,
      importCapWh: z.importCapWh ?? UNLIMITED_WH,
      exportCapWh: z.exportCapWh ?? UNLIMITED_WH,
      feeMicroPerKwh: z.feeMicroPerKwh ?? scenario.tariffs.gridFeeMicroPerKwh,
    }))
    .filter((z) => z.importCapWh !== UNLIMITED_WH || z.exportCapWh !== UNLIMITED_WH || z.feeMicroPerKwh !== 0n)
    .map((z) =>
      callTx(community.grid, deployment.market, energyMarketAbi, "setZoneLimits", [
        z.zone,
        { importCapWh: z.importCapWh, exportCapWh: z.exportCapWh, feeMicroPerKwh: Number(z.feeMicroPerKwh) },
      ]),
    );
  await chain.send(txs);
}

/**
 * Households pay their grid bills from escrow like a standing payment: one below half its opening deposit
 * is topped up to it (the operator mints and deposits), so every household can keep buying locally.
 * Returns the gas spent.
 */
/**
 * A gas limit setStandingOrder stays under (it uses ~30,000 to ~55,000: the registry's participant, one
 * storage word, an event). Given, the agents' order changes are not executed beforehand, which halves the
 * node's work for them; one that reverts fails the run, naming it.
 */
const STANDING_ORDER_GAS = 100_000n;

async function topUp(
  chain: ChainClient,
  deployment: Deployment,
  operator: DemoCommunity["operator"],
  owners: readonly Address[],
  deposited: bigint[],
  depositMicro: bigint,
): Promise<bigint> {
  const accounts = await readAccounts(chain, deployment, owners);
  const due = accounts
    .map((a, i) => ({ i, amount: depositMicro - a.balanceMicro }))
    .filter(({ i, amount }) => (accounts[i] as { balanceMicro: bigint }).balanceMicro * 2n < depositMicro && amount > 0n);
  if (due.length === 0) return 0n;
  const total = due.reduce((s, d) => s + d.amount, 0n);
  const receipts = await chain.send([
    callTx(operator, deployment.settlementToken, communityCreditAbi, "mint", [operator.address, total]),
    callTx(operator, deployment.settlementToken, communityCreditAbi, "approve", [deployment.market, maxUint256]),
  ]);
  receipts.push(
    ...(await chain.send(
      due.map((d) => callTx(operator, deployment.market, energyMarketAbi, "depositFor", [owners[d.i] as Address, d.amount])),
    )),
  );
  for (const d of due) deposited[d.i] = (deposited[d.i] as bigint) + d.amount;
  return receipts.reduce((s, r) => s + r.gasUsed, 0n);
}

/** Every household's escrow on chain must equal its deposits plus what it earned minus what it paid. */
async function checkEscrow(
  chain: ChainClient,
  deployment: Deployment,
  owners: readonly Address[],
  deposited: readonly bigint[],
  totals: readonly HouseholdTotals[],
) {
  const accounts = await readAccounts(chain, deployment, owners);
  for (const [i, a] of accounts.entries()) {
    const t = totals[i] as HouseholdTotals;
    const expected = (deposited[i] as bigint) + t.earnedMicro - t.paidMicro;
    if (a.balanceMicro !== expected) {
      throw new PeerGridError(`household ${i}'s escrow on chain is ${a.balanceMicro}, the simulation booked ${expected}`, {
        hint: "the settlement record and the contract disagree: this is a bug, please report it with the scenario",
      });
    }
  }
}
