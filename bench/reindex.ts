// The indexer's speed: a demo community on the embedded chain settles intervals (and redeems their energy
// claims, so that the chain holds tens of thousands of logs), then `reindex` rebuilds the whole index into a
// fresh embedded store, timed (after a first, cold reindex into another fresh store). `tsx bench/reindex.ts` prints the result; bench/run.ts calls measureReindex.
// Knobs: BENCH_REINDEX_HOUSEHOLDS (200), BENCH_REINDEX_INTERVALS (30).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { energyMarketAbi } from "../src/chain/generated/contracts.ts";
import { callTx } from "../src/chain/market.ts";
import { energyLeaf, energyTree } from "../src/chain/settlementData.ts";
import { type OpenCommunity, openCommunity } from "../src/cli/openCommunity.ts";
import { communityOptions } from "../src/cli/options.ts";
import { demoReadings } from "../src/demo/demoCommunity.ts";
import { reindex } from "../src/indexer/indexer.ts";
import { createKeeper } from "../src/server/keeper.ts";
import { storeMigrations } from "../src/server/services.ts";
import { openDb } from "../src/store/db.ts";

const START = "2026-06-15T12:00:00+02:00"; // midday in June: most households trade, many claims per interval

export type ReindexMeasurement = {
  reindexSecondsPerMillionEvents: number;
  events: number;
  /** The timed reindex, after a first (cold) one into another fresh store. */
  seconds: number;
  coldSeconds: number;
  /** Rows the reindex wrote into the derived tables (meter_intervals, trades), for scale. */
  meterIntervals: number;
  trades: number;
  intervals: number;
  households: number;
  setupSeconds: number;
};

/**
 * Builds a community, settles intervals and claims every energy leaf, then times `reindex` into a fresh
 * PGlite store. Seconds per million events is extrapolated linearly from `events` (chain logs indexed).
 * @example const { reindexSecondsPerMillionEvents } = await measureReindex()
 */
export async function measureReindex(
  households = Number(process.env.BENCH_REINDEX_HOUSEHOLDS ?? 200),
  intervals = Number(process.env.BENCH_REINDEX_INTERVALS ?? 30),
): Promise<ReindexMeasurement> {
  const dir = mkdtempSync(join(tmpdir(), "peergrid-bench-reindex-"));
  const setupStarted = performance.now();
  const c = await openCommunity(communityOptions({ "data-dir": dir, households: String(households), start: START }, {}), true);
  try {
    const domain = { chainId: c.chain.chainId, verifyingContract: c.deployment.market };
    const keeper = createKeeper({
      chain: c.chain,
      deployment: c.deployment,
      gateway: c.community.gateway,
      settler: c.community.keeper,
      readings: (i) => demoReadings(c.community, domain, c.timeline, i),
    });
    for (let k = 0; k < intervals; k++) {
      const report = await keeper.closeInterval(await keeper.nextInterval());
      const tree = energyTree(report.claims.map((claim) => energyLeaf(report.interval, claim)));
      await c.chain.send(
        report.claims.map((claim, i) =>
          callTx(c.community.keeper, c.deployment.market, energyMarketAbi, "claimEnergy", [
            report.interval,
            claim,
            tree.proof(i),
          ]),
        ),
      );
    }
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    // A first, cold reindex (JIT, PGlite's first pages) into a store of its own; then the timed one.
    const cold = await timedReindex(c);
    const warm = await timedReindex(c);
    return {
      reindexSecondsPerMillionEvents: Number(((warm.seconds / warm.events) * 1e6).toFixed(1)),
      events: warm.events,
      seconds: Number(warm.seconds.toFixed(3)),
      coldSeconds: Number(cold.seconds.toFixed(3)),
      meterIntervals: warm.meterIntervals,
      trades: warm.trades,
      intervals,
      households,
      setupSeconds: Number(setupSeconds.toFixed(1)),
    };
  } finally {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reindexes `c`'s chain into a fresh in-memory PGlite store; returns the time, logs and derived rows. */
async function timedReindex(c: OpenCommunity) {
  const db = await openDb({}, storeMigrations);
  try {
    const started = performance.now();
    const result = await reindex({ db, chain: c.chain, deployment: c.deployment });
    const seconds = (performance.now() - started) / 1000;
    const count = async (table: string) => Number((await db.query<{ n: bigint }>(`select count(*) as n from ${table}`))[0]?.n);
    return { seconds, events: result.logs, meterIntervals: await count("meter_intervals"), trades: await count("trades") };
  } finally {
    await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await measureReindex());
}
