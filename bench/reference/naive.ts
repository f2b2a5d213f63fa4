// The reference design for the benchmark: the same market written the straightforward way
// (NaiveEnergyMarket.sol: each reading, order, trade and grid settlement a transaction), run on the same
// demo community as PeerGrid, so PeerGrid's gain is a measured ratio. Benchmark code, not part of PeerGrid.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import {
  type Abi,
  type Address,
  createPublicClient,
  encodeDeployData,
  encodeFunctionData,
  type Hex,
  http,
  type PrivateKeyAccount,
  type PublicClient,
  parseEther,
  parseEventLogs,
  type TransactionReceipt,
  TransactionReceiptNotFoundError,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { compilerSettings, resolveImport, rootDir } from "../../scripts/compileContracts.ts";
import { ANVIL_DEV_KEY, startAnvil } from "../../src/chain/anvil.ts";
import { PeerGridError, toPeerGridError } from "../../src/chain/errors.ts";
import { communityDefaults } from "../../src/cli/options.ts";
import { clearInterval, effectiveOrder, type MeterPosition } from "../../src/core/clearing.ts";
import { pairTrades } from "../../src/core/settlement.ts";
import { createDemoCommunity, type DemoCommunity, demoTariffs } from "../../src/demo/demoCommunity.ts";
import { readingTypes } from "../../src/metering/reading.ts";
import { householdIntervalWh } from "../../src/sim/meterReading.ts";

const SOURCE = "bench/reference/NaiveEnergyMarket.sol";
const CHAIN_ID = 31337;
const INTERVAL_SECONDS = 900n;
/** Every transaction gets this gas limit instead of an estimate: a limit does not change gasUsed. */
const GAS_LIMIT = 1_000_000n;
/** Transactions sent before waiting for their receipts (anvil's pool holds ~1,000 per sender). */
const TXS_PER_ROUND = 500;
const RECEIPT_TIMEOUT_MS = 120_000;

export type NaiveMarketContract = { abi: Abi; bytecode: Hex };

/**
 * Compiles NaiveEnergyMarket.sol with solc-js and PeerGrid's compiler settings (about 10 s).
 * @example const contract = compileNaiveMarket(); await measureNaiveMarket({ households: 10, intervals: 2, contract });
 */
export function compileNaiveMarket(): NaiveMarketContract {
  const solc = createRequire(import.meta.url)("solc") as { compile(input: string, callbacks: object): string };
  const input = {
    language: "Solidity",
    sources: { [SOURCE]: { content: readFileSync(join(rootDir, SOURCE), "utf8") } },
    settings: { ...compilerSettings, outputSelection: { [SOURCE]: { NaiveEnergyMarket: ["abi", "evm.bytecode.object"] } } },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: resolveImport })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  const compiled = output.contracts?.[SOURCE]?.NaiveEnergyMarket;
  if (errors.length > 0 || !compiled) {
    throw new PeerGridError(`compiling ${SOURCE} failed`, { details: errors.map((e) => e.formattedMessage).join("\n") });
  }
  return { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
}

/** A deployed naive market on its own anvil, with the demo community registered, funded and credited. */
export type NaiveMarket = {
  client: PublicClient;
  address: Address;
  abi: Abi;
  admin: PrivateKeyAccount;
  community: DemoCommunity;
  /** Unix seconds the first interval's energy is simulated from; interval k is firstInterval + k. */
  startAt: bigint;
  firstInterval: bigint;
  /** Next nonce of every account that sends transactions. */
  nonces: Map<Address, number>;
  stop(): Promise<void>;
};

export type NaiveMarketOptions = {
  households: number;
  seed?: string;
  /** Simulated start, unix seconds; PeerGrid's default (2026-06-15 09:00 +02:00) when omitted. */
  startAt?: bigint;
  /** A compiled contract to reuse (see compileNaiveMarket); compiled when omitted. */
  contract?: NaiveMarketContract;
};

/** One contract call to send as a transaction. */
type Call = { account: PrivateKeyAccount; functionName: string; args: readonly unknown[] };

/**
 * Sends calls as signed transactions with explicit nonces, up to TXS_PER_ROUND before waiting for their
 * receipts, and returns the receipts in call order. A reverted transaction throws, decoded when possible.
 */
async function sendCalls(market: NaiveMarket, calls: readonly Call[]): Promise<TransactionReceipt[]> {
  const { client, abi } = market;
  const receipts: TransactionReceipt[] = [];
  for (let start = 0; start < calls.length; start += TXS_PER_ROUND) {
    const round = calls.slice(start, start + TXS_PER_ROUND);
    // Twice the current price, so a base fee rising during the round cannot leave a transaction pending.
    const gasPrice = 2n * (await client.getGasPrice());
    const requests = round.map(({ account, functionName, args }) => {
      const nonce = market.nonces.get(account.address) ?? 0;
      market.nonces.set(account.address, nonce + 1);
      return { account, nonce, data: encodeFunctionData({ abi, functionName, args }) };
    });
    const raws = await Promise.all(
      requests.map(({ account, nonce, data }) =>
        account.signTransaction({ type: "legacy", chainId: CHAIN_ID, nonce, gas: GAS_LIMIT, gasPrice, to: market.address, data }),
      ),
    );
    const hashes = await Promise.all(raws.map((raw) => client.sendRawTransaction({ serializedTransaction: raw })));
    const mined = await waitForReceipts(client, hashes);
    for (const [i, receipt] of mined.entries()) {
      if (receipt.status !== "success") throw await explainRevert(market, round[i] as Call, requests[i]?.data as Hex, receipt);
    }
    receipts.push(...mined);
  }
  return receipts;
}

/** Polls for the receipts of `hashes` (anvil automines them as they arrive). */
async function waitForReceipts(client: PublicClient, hashes: readonly Hex[]): Promise<TransactionReceipt[]> {
  const receipts: (TransactionReceipt | undefined)[] = hashes.map(() => undefined);
  const deadline = Date.now() + RECEIPT_TIMEOUT_MS;
  for (;;) {
    const missing = hashes.flatMap((hash, i) => (receipts[i] ? [] : [{ hash, i }]));
    if (missing.length === 0) return receipts as TransactionReceipt[];
    if (Date.now() > deadline) throw new PeerGridError(`${missing.length} transactions were not mined within 120 s`);
    const found = await Promise.all(
      missing.map(({ hash }) =>
        client.getTransactionReceipt({ hash }).catch((error: unknown) => {
          if (error instanceof TransactionReceiptNotFoundError) return undefined;
          throw error;
        }),
      ),
    );
    for (const [k, receipt] of found.entries()) receipts[(missing[k] as { i: number }).i] = receipt;
    if (found.some((r) => r === undefined)) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Replays a reverted call on the state before its block, to report the contract's error. */
async function explainRevert(market: NaiveMarket, call: Call, data: Hex, receipt: TransactionReceipt): Promise<PeerGridError> {
  try {
    await market.client.call({ account: call.account, to: market.address, data, blockNumber: receipt.blockNumber - 1n });
  } catch (error) {
    return toPeerGridError(error, market.abi, call.functionName);
  }
  return new PeerGridError(`${call.functionName} reverted in block ${receipt.blockNumber}`, {
    details: `transaction ${receipt.transactionHash}`,
  });
}

/**
 * Starts an automining anvil, deploys NaiveEnergyMarket with the anvil dev key as admin and settler, and
 * registers, funds and credits the demo community (the same escrow as PeerGrid's demo). Call `stop()`.
 * @example const market = await deployNaiveMarket({ households: 3 }); try { await runNaiveInterval(market, 0); } finally { await market.stop(); }
 */
export async function deployNaiveMarket(options: NaiveMarketOptions): Promise<NaiveMarket> {
  const contract = options.contract ?? compileNaiveMarket();
  const startAt = options.startAt ?? BigInt(Date.parse(communityDefaults.start) / 1000);
  const community = createDemoCommunity({
    seed: options.seed ?? communityDefaults.seed,
    households: options.households,
    tariffs: demoTariffs,
  });
  const node = await startAnvil({ chainId: CHAIN_ID, genesisTimestamp: startAt - INTERVAL_SECONDS });
  try {
    const client = createPublicClient({
      transport: http(node.rpcUrl, { batch: { batchSize: 250 }, timeout: 60_000 }),
      cacheTime: 0,
    });
    // startAnvil mines only on request (PeerGrid mines its own blocks); this benchmark lets anvil mine.
    await client.request({ method: "evm_setAutomine", params: [true] } as never);
    const admin = privateKeyToAccount(ANVIL_DEV_KEY);
    const deployHash = await client.sendRawTransaction({
      serializedTransaction: await admin.signTransaction({
        type: "legacy",
        chainId: CHAIN_ID,
        nonce: 0,
        gas: 10_000_000n,
        gasPrice: await client.getGasPrice(),
        data: encodeDeployData({
          abi: contract.abi,
          bytecode: contract.bytecode,
          args: [admin.address, community.grid.address, demoTariffs.feedInMicroPerKwh, demoTariffs.retailMicroPerKwh],
        }),
      }),
    });
    const [deployed] = await waitForReceipts(client, [deployHash]);
    if (deployed?.status !== "success" || !deployed.contractAddress)
      throw new PeerGridError("deploying NaiveEnergyMarket failed");
    const market: NaiveMarket = {
      client,
      address: deployed.contractAddress,
      abi: contract.abi,
      admin,
      community,
      startAt,
      firstInterval: startAt / INTERVAL_SECONDS,
      nonces: new Map([[admin.address, 1]]),
      stop: () => node.stop(),
    };
    // Gas money is set directly (setup, not measured): with transfers, a base fee that climbs during a
    // long run could leave a household short of the upfront gas × price its next round needs.
    await Promise.all(
      community.households.map((h) =>
        client.request({ method: "anvil_setBalance", params: [h.account.address, toHex(parseEther("1000000"))] } as never),
      ),
    );
    await sendCalls(market, [
      { account: admin, functionName: "credit", args: [community.grid.address, community.gridDepositMicro] },
      ...community.households.flatMap((h) => [
        { account: admin, functionName: "registerMeter", args: [h.meter.address, h.account.address] },
        { account: admin, functionName: "credit", args: [h.account.address, h.depositMicro] },
      ]),
    ]);
    return market;
  } catch (error) {
    await node.stop();
    throw error;
  }
}

/**
 * Signs a reading with a meter key for the naive market (EIP-712, domain "NaiveMarket" version "1").
 * @example const signature = await signNaiveReading(market, h.meter.privateKey, { meter: h.meter.address, interval, exportWh, importWh });
 */
export function signNaiveReading(
  market: NaiveMarket,
  meterPrivateKey: Hex,
  reading: { meter: Address; interval: bigint; exportWh: bigint; importWh: bigint },
): Promise<Hex> {
  return privateKeyToAccount(meterPrivateKey).signTypedData({
    domain: { name: "NaiveMarket", version: "1", chainId: CHAIN_ID, verifyingContract: market.address },
    types: readingTypes,
    primaryType: "Reading",
    message: reading,
  });
}

/** A trade settled on chain, with the households' indexes. */
export type NaiveTrade = { seller: number; buyer: number; energyWh: bigint; priceMicroPerKwh: bigint };

/** Gas and outcome of one interval in the naive design. */
export type NaiveIntervalResult = {
  interval: bigint;
  readingsGas: bigint;
  ordersGas: bigint;
  tradesGas: bigint;
  gridGas: bigint;
  totalGas: bigint;
  txs: number;
  orders: number;
  trades: NaiveTrade[];
  tradedWh: bigint;
};

const sum = (receipts: readonly TransactionReceipt[]) => receipts.reduce((total, r) => total + r.gasUsed, 0n);

/**
 * Runs interval `firstInterval + k` of the naive market: each household submits its meter's signed
 * reading and one order (sell its export or buy its import at its demo price); PeerGrid's clearing
 * engine matches the book off chain; each matched pair is one settleTrade; then every household is
 * settled with the grid. Returns the gas of every transaction of the interval.
 * @example const result = await runNaiveInterval(market, 0); result.totalGas / 3n
 */
export async function runNaiveInterval(market: NaiveMarket, k: number): Promise<NaiveIntervalResult> {
  const { client, address, abi, admin, community } = market;
  const households = community.households;
  const interval = market.firstInterval + BigInt(k);
  const startsAt = Number(market.startAt + BigInt(k) * INTERVAL_SECONDS);
  const balances = await Promise.all(
    households.map((h) => client.readContract({ address, abi, functionName: "balances", args: [h.account.address] })),
  );
  const positions: MeterPosition[] = households.map((h, i) => {
    const { exportWh, importWh } = householdIntervalWh(h.profile, startsAt, Number(INTERVAL_SECONDS));
    return { meterId: i + 1, exportWh, importWh, order: h.order, balanceMicro: balances[i] as bigint };
  });
  const readingCalls: Call[] = await Promise.all(
    households.map(async (h, i) => {
      const { exportWh, importWh } = positions[i] as MeterPosition;
      const signature = await signNaiveReading(market, h.meter.privateKey, {
        meter: h.meter.address,
        interval,
        exportWh,
        importWh,
      });
      return { account: h.account, functionName: "submitReading", args: [interval, exportWh, importWh, signature] };
    }),
  );
  // Each household offers what the market's rules let it (PeerGrid's effective order): its export at its
  // ask, or its import at its bid, within its caps and escrow.
  const orderCalls: Call[] = households.flatMap((h, i) => {
    const o = effectiveOrder(positions[i] as MeterPosition, demoTariffs);
    if (o.offerWh > 0n)
      return [{ account: h.account, functionName: "placeOrder", args: [interval, true, o.askMicroPerKwh, o.offerWh] }];
    if (o.demandWh > 0n)
      return [{ account: h.account, functionName: "placeOrder", args: [interval, false, o.bidMicroPerKwh, o.demandWh] }];
    return [];
  });

  // Order id 0 is cheaper to store in a trade; the first order goes alone with the readings so that the
  // same household gets it on every run, and the measurement is reproducible.
  const [firstOrder, ...otherOrders] = orderCalls;
  const firstReceipts = await sendCalls(market, firstOrder ? [...readingCalls, firstOrder] : readingCalls);
  const orderReceipts = [...firstReceipts.slice(readingCalls.length), ...(await sendCalls(market, otherOrders))];
  const orderIdOf = new Map<Address, bigint>();
  for (const log of parseEventLogs({ abi, eventName: "OrderPlaced", logs: orderReceipts.flatMap((r) => r.logs) })) {
    const { owner, orderId } = log.args as { owner: Address; orderId: bigint };
    orderIdOf.set(owner, orderId);
  }

  const clearing = clearInterval(positions, demoTariffs);
  const trades: NaiveTrade[] = pairTrades(clearing.fills).map((p) => ({ ...p, priceMicroPerKwh: clearing.priceMicroPerKwh }));
  const orderId = (i: number) => {
    const id = orderIdOf.get((households[i] as DemoCommunity["households"][number]).account.address);
    if (id === undefined) throw new PeerGridError(`household ${i} trades in interval ${interval} but placed no order`);
    return id;
  };
  const tradeCalls: Call[] = trades.map((t) => ({
    account: admin,
    functionName: "settleTrade",
    args: [interval, orderId(t.seller), orderId(t.buyer), t.energyWh, t.priceMicroPerKwh],
  }));
  const gridCalls: Call[] = households.map((h) => ({
    account: admin,
    functionName: "settleWithGrid",
    args: [interval, h.account.address],
  }));
  // The admin's nonces order its transactions: every trade is mined before the grid settlements.
  const settleReceipts = await sendCalls(market, [...tradeCalls, ...gridCalls]);

  const readingsGas = sum(firstReceipts.slice(0, readingCalls.length));
  const ordersGas = sum(orderReceipts);
  const tradesGas = sum(settleReceipts.slice(0, tradeCalls.length));
  const gridGas = sum(settleReceipts.slice(tradeCalls.length));
  return {
    interval,
    readingsGas,
    ordersGas,
    tradesGas,
    gridGas,
    totalGas: readingsGas + ordersGas + tradesGas + gridGas,
    txs: readingCalls.length + orderCalls.length + tradeCalls.length + gridCalls.length,
    orders: orderCalls.length,
    trades,
    tradedWh: clearing.tradedWh,
  };
}

export type MeasureNaiveMarketOptions = NaiveMarketOptions & { intervals: number };

export type MeasureNaiveMarketReturnType = {
  /** Gas of all the interval's transactions (readings, orders, trades, grid) per household per interval. */
  gasPerHouseholdInterval: bigint;
  txsPerInterval: number;
  details: {
    households: number;
    intervals: number;
    readingsGas: bigint;
    ordersGas: bigint;
    tradesGas: bigint;
    gridGas: bigint;
    totalGas: bigint;
    trades: number;
    tradedWh: bigint;
    /** Average gas of one settleTrade (0 without trades). */
    gasPerTrade: bigint;
    perInterval: Omit<NaiveIntervalResult, "trades">[];
    /** Wall time of the measured intervals (setup excluded), per interval. */
    wallMsPerInterval: number;
  };
};

/**
 * Measures the naive per-order/per-trade design on the demo community: deploys it on its own anvil,
 * runs `intervals` intervals from the simulated start, and averages the gas of every transaction of
 * those intervals per household and interval. Setup (deploy, registration, funding) is not counted.
 * @example const { gasPerHouseholdInterval } = await measureNaiveMarket({ households: 100, intervals: 2 });
 */
export async function measureNaiveMarket(options: MeasureNaiveMarketOptions): Promise<MeasureNaiveMarketReturnType> {
  if (!Number.isInteger(options.households) || options.households < 1) throw new RangeError("households must be >= 1");
  if (!Number.isInteger(options.intervals) || options.intervals < 1) throw new RangeError("intervals must be >= 1");
  const market = await deployNaiveMarket(options);
  try {
    const started = performance.now();
    const results: NaiveIntervalResult[] = [];
    for (let k = 0; k < options.intervals; k++) results.push(await runNaiveInterval(market, k));
    const wallMs = performance.now() - started;
    const total = (pick: (r: NaiveIntervalResult) => bigint) => results.reduce((s, r) => s + pick(r), 0n);
    const totalGas = total((r) => r.totalGas);
    const tradesGas = total((r) => r.tradesGas);
    const trades = results.reduce((s, r) => s + r.trades.length, 0);
    return {
      gasPerHouseholdInterval: totalGas / BigInt(options.households * options.intervals),
      txsPerInterval: results.reduce((s, r) => s + r.txs, 0) / options.intervals,
      details: {
        households: options.households,
        intervals: options.intervals,
        readingsGas: total((r) => r.readingsGas),
        ordersGas: total((r) => r.ordersGas),
        tradesGas,
        gridGas: total((r) => r.gridGas),
        totalGas,
        trades,
        tradedWh: total((r) => r.tradedWh),
        gasPerTrade: trades === 0 ? 0n : tradesGas / BigInt(trades),
        perInterval: results.map(({ trades: _, ...rest }) => rest),
        wallMsPerInterval: wallMs / options.intervals,
      },
    };
  } finally {
    await market.stop();
  }
}
