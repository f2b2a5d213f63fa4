// `npm run bench`: every benchmark in one run. Prints a table and writes bench/results.json (numbers only,
// units in the key names). Measurements, not assertions: nothing here fails when a number is slow.
//
// - gas per household per interval of PeerGrid's market (reading verification + token issue + clearing
//   verification + settlement) on the embedded chain, at 10 / 100 / 1,000 / 5,000 households;
// - the same community on a plain per-order/per-trade reference market (bench/reference), side by side;
// - interval close latency at 1,000 households (interval end to settled; signing excluded);
// - the clearing engine on 100 to 100,000 orders; reading signatures and verifications per second;
// - the server: readings ingested per second through HTTP batches, p99 latency of read endpoints at
//   200 requests/s, seconds to rebuild the index per million chain events (BENCH_SERVER=0 skips them);
// - the simulator: 1,000 households for a day and 100 households for a year, fully on chain
//   (BENCH_SIMULATE=0 skips both, BENCH_SIMULATE_YEAR=0 the year, which takes most of an hour).
// Keys a run does not measure keep their value from the last run that did.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey } from "viem/accounts";
import { openCommunity } from "../src/cli/openCommunity.ts";
import { communityOptions } from "../src/cli/options.ts";
import { clearInterval, type MeterPosition } from "../src/core/clearing.ts";
import { demoReadings, demoTariffs } from "../src/demo/demoCommunity.ts";
import { meterKey, type SignedReading, signReading, verifyReading } from "../src/metering/reading.ts";
import { createKeeper } from "../src/server/keeper.ts";
import { createRandom } from "../src/sim/random.ts";
import { measureApi } from "./api.ts";
import { measureIngest } from "./ingest.ts";
import { compileNaiveMarket, measureNaiveMarket } from "./reference/naive.ts";
import { measureReindex } from "./reindex.ts";
import { benchScenarios, measureSimulation } from "./simulate.ts";

const START = "2026-06-15T12:00:00+02:00"; // midday in June: most households trade
/** A mainnet-sized block: the table flags any transaction that would not fit one. */
const MAINNET_BLOCK_GAS_LIMIT = 30_000_000n;
/**
 * The bench's embedded chain takes blocks far above any real one, so that a settlement too large for a
 * real block (one transaction at 5,000 households) is still estimated, mined and measured, not refused.
 * Gas used does not depend on the limit; `npm start` keeps the default.
 */
const BENCH_BLOCK_GAS_LIMIT = 1_000_000_000n;
/** A comma-separated list of household counts; 0 (or nothing) means none. */
const counts = (text: string) =>
  text
    .split(",")
    .map(Number)
    .filter((n) => n > 0);
const sizes = counts(process.env.BENCH_HOUSEHOLDS ?? "10,100,1000,5000");
const naiveSizes = counts(process.env.BENCH_NAIVE_HOUSEHOLDS ?? "10,100,1000");
const intervals = Number(process.env.BENCH_INTERVALS ?? 2);
const results: Record<string, number> = {};
const resultsFile = join(import.meta.dirname, "results.json");
const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, "utf8")) as Record<string, number>) : {};
/** Writes what was measured so far over the last run's numbers: a run stopped late keeps its early sections. */
function save() {
  writeFileSync(resultsFile, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
}

type MarketRun = {
  households: number;
  gasPerHousehold: number;
  readingsGas: number;
  settlementGas: number;
  maxTxGas: bigint;
  closeSeconds: number;
  tradesPerInterval: number;
  /** Starting the chain, deploying and onboarding the community: not part of an interval, but the bench's main wait. */
  setupSeconds: number;
};

async function measureMarket(households: number): Promise<MarketRun> {
  const dir = mkdtempSync(join(tmpdir(), "peergrid-bench-"));
  const options = communityOptions({ "data-dir": dir, households: String(households), start: START }, {});
  const setupStarted = performance.now();
  const c = await openCommunity({ ...options, blockGasLimit: BENCH_BLOCK_GAS_LIMIT }, true);
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  try {
    const domain = { chainId: c.chain.chainId, verifyingContract: c.deployment.market };
    // Readings are signed before the clock starts: meters sign, the market's close time does not include it.
    const signed = new Map<bigint, SignedReading[]>();
    const keeper = createKeeper({
      chain: c.chain,
      deployment: c.deployment,
      gateway: c.community.gateway,
      settler: c.community.keeper,
      readings: (i) => signed.get(i) ?? [],
    });
    let readingsGas = 0n;
    let settlementGas = 0n;
    let maxTxGas = 0n;
    let trades = 0n;
    let seconds = 0;
    for (let k = 0; k < intervals; k++) {
      const interval = await keeper.nextInterval();
      signed.set(interval, demoReadings(c.community, domain, c.timeline, interval));
      const started = performance.now();
      const report = await keeper.closeInterval(interval);
      seconds += (performance.now() - started) / 1000;
      readingsGas += report.readingsGas;
      settlementGas += report.settlementGas;
      maxTxGas = [report.maxReadingsTxGas, report.settlementGas, maxTxGas].reduce((a, b) => (a > b ? a : b));
      trades += report.trades;
    }
    const per = (gas: bigint) => Number(gas / BigInt(households * intervals));
    return {
      households,
      gasPerHousehold: per(readingsGas + settlementGas),
      readingsGas: per(readingsGas),
      settlementGas: per(settlementGas),
      maxTxGas,
      closeSeconds: seconds / intervals,
      tradesPerInterval: Number(trades) / intervals,
      setupSeconds,
    };
  } finally {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`PeerGrid market vs. a per-order/per-trade reference, demo community from ${START}, ${intervals} intervals each`);
const naiveContract = naiveSizes.length > 0 ? compileNaiveMarket() : undefined;
const naive = new Map<number, number>();
for (const households of naiveSizes) {
  const r = await measureNaiveMarket({
    households,
    intervals,
    contract: naiveContract,
    startAt: BigInt(Date.parse(START) / 1000),
  });
  naive.set(households, Number(r.gasPerHouseholdInterval));
}
console.log(
  "households | gas/hh (readings + settlement) | largest tx | close s | trades/interval | reference gas/hh | ratio | setup s",
);
for (const households of sizes) {
  const m = await measureMarket(households);
  const reference = naive.get(households);
  results[`gasPerHouseholdInterval_n${households}`] = m.gasPerHousehold;
  results[`readingsGasPerHousehold_n${households}`] = m.readingsGas;
  results[`settlementGasPerHousehold_n${households}`] = m.settlementGas;
  results[`largestTxGas_n${households}`] = Number(m.maxTxGas);
  results[`intervalCloseSeconds_n${households}`] = Number(m.closeSeconds.toFixed(3));
  results[`setupSeconds_n${households}`] = Number(m.setupSeconds.toFixed(1));
  if (reference) {
    results[`referenceGasPerHouseholdInterval_n${households}`] = reference;
    results[`referenceGasRatio_n${households}`] = Number((reference / m.gasPerHousehold).toFixed(2));
  }
  console.log(
    [
      String(households).padStart(10),
      `${m.gasPerHousehold} (${m.readingsGas} + ${m.settlementGas})`.padStart(30),
      `${(Number(m.maxTxGas) / 1e6).toFixed(1)}M${m.maxTxGas > MAINNET_BLOCK_GAS_LIMIT ? " > 30M" : ""}`.padStart(10),
      m.closeSeconds.toFixed(2).padStart(7),
      m.tradesPerInterval.toFixed(1).padStart(15),
      (reference ? String(reference) : "-").padStart(16),
      (reference ? `${(reference / m.gasPerHousehold).toFixed(1)}x` : "-").padStart(5),
      m.setupSeconds.toFixed(0).padStart(7),
    ].join(" | "),
  );
}

save();

console.log("\nClearing engine (pure TypeScript, bigint, one core): random books");
console.log(" orders | ms/clearing");
const random = createRandom("bench");
const price = () => 80_000n + BigInt(Math.floor(random.next() * 240_000));
for (const orders of [100, 1_000, 10_000, 100_000]) {
  const book: MeterPosition[] = Array.from({ length: orders }, (_, i) => ({
    meterId: i + 1,
    exportWh: random.next() < 0.5 ? BigInt(Math.floor(random.next() * 2_000)) : 0n,
    importWh: BigInt(Math.floor(random.next() * 800)),
    balanceMicro: 50_000_000n,
    order: { askMicroPerKwh: price(), maxSellWh: 50_000n, bidMicroPerKwh: price(), maxBuyWh: 5_000n },
  }));
  const runs = orders >= 10_000 ? 5 : 20;
  for (let i = 0; i < 2; i++) clearInterval(book, demoTariffs); // let the JIT warm up first
  const started = performance.now();
  for (let i = 0; i < runs; i++) clearInterval(book, demoTariffs);
  const ms = (performance.now() - started) / runs;
  results[`clearingMs_orders${orders}`] = Number(ms.toFixed(2));
  console.log(`${String(orders).padStart(7)} | ${ms.toFixed(2).padStart(11)}`);
}

console.log("\nReading signatures (EIP-712, secp256k1), one core");
const domain = { chainId: 31337, verifyingContract: "0x00000000000000000000000000000000000000aa" } as const;
const meters = Array.from({ length: 200 }, () => meterKey(generatePrivateKey()));
const count = 5_000;
let started = performance.now();
const readings = Array.from({ length: count }, (_, i) =>
  signReading(meters[i % meters.length] as ReturnType<typeof meterKey>, domain, {
    interval: BigInt(i),
    exportWh: 500n,
    importWh: 20n,
  }),
);
results.readingSignaturesPerSecond = Math.round(count / ((performance.now() - started) / 1000));
started = performance.now();
const valid = readings.filter((r) => verifyReading(domain, r)).length;
results.readingVerificationsPerSecond = Math.round(count / ((performance.now() - started) / 1000));
if (valid !== count) throw new Error(`only ${valid} of ${count} signatures verified`);
console.log(`signatures/s ${results.readingSignaturesPerSecond}, verifications/s ${results.readingVerificationsPerSecond}`);

save();

if (process.env.BENCH_SERVER !== "0") {
  console.log("\nServer: meter gateway over HTTP, read API at 200 requests/s, index rebuilt from the chain");
  const ingest = await measureIngest();
  results.ingestReadingsPerSecond = Math.round(ingest.ingestReadingsPerSecond);
  results.ingestReadingsLost = ingest.lost;
  console.log(
    `ingest: ${results.ingestReadingsPerSecond} readings/s accepted and stored (${ingest.readings} sent, ${ingest.lost} lost)`,
  );
  const api = await measureApi();
  results.apiP99Ms_200rps = Number(api.apiP99Ms_200rps.toFixed(2));
  console.log(`api: p99 ${results.apiP99Ms_200rps} ms at 200 requests/s (${api.requests} requests, ${api.errors} errors)`);
  const rebuilt = await measureReindex();
  results.reindexSecondsPerMillionEvents = Number(rebuilt.reindexSecondsPerMillionEvents.toFixed(1));
  console.log(
    `reindex: ${rebuilt.events} events in ${rebuilt.seconds.toFixed(2)} s = ${results.reindexSecondsPerMillionEvents} s per million events`,
  );
}

save();

if (process.env.BENCH_SIMULATE !== "0") {
  console.log("\nSimulator: scenarios on the embedded chain, from loading the file to the last settled interval");
  const runs: [string, string][] = [["simulate1000HouseholdsOneDaySeconds", benchScenarios.town]];
  if (process.env.BENCH_SIMULATE_YEAR !== "0") runs.push(["simulate100HouseholdsOneYearSeconds", benchScenarios.year]);
  for (const [key, file] of runs) {
    const run = await measureSimulation(file);
    results[key] = Number(run.seconds.toFixed(1));
    save();
    console.log(
      `${key}: ${run.households} households × ${run.intervals} intervals in ${run.seconds.toFixed(1)} s (${(run.seconds / run.intervals).toFixed(3)} s per interval)`,
    );
  }
}

save();
console.log("\nwrote bench/results.json");
