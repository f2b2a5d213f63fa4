// `npm run bench`: gas per household per interval (readings + clearing + settlement) on the embedded
// chain, and the speed of the clearing engine. Prints a table; numbers, not assertions.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCommunity } from "../src/cli/openCommunity.ts";
import { communityOptions } from "../src/cli/options.ts";
import { clearInterval, type MeterPosition } from "../src/core/clearing.ts";
import { demoReadings, demoTariffs } from "../src/demo/demoCommunity.ts";
import { createKeeper } from "../src/server/keeper.ts";
import { createRandom } from "../src/sim/random.ts";

const sizes = (process.env.BENCH_HOUSEHOLDS ?? "20,50,100").split(",").map(Number);
// The market keeps each meter's readings in a ring of 96 slots: the first day fills fresh storage,
// later days reuse it. Both are measured: a whole first day, then the steady state.
const firstDay = Number(process.env.BENCH_FIRST_DAY_INTERVALS ?? 96);
const steady = Number(process.env.BENCH_INTERVALS ?? 16);

type Totals = {
  readingsGas: bigint;
  settlementGas: bigint;
  trades: bigint;
  tradedWh: bigint;
  importWh: bigint;
  ms: number;
  n: number;
};

function row(households: number, phase: string, t: Totals): string {
  const per = (gas: bigint) => gas / BigInt(households * t.n);
  return [
    String(households).padStart(10),
    phase.padEnd(10),
    String(per(t.readingsGas)).padStart(11),
    String(per(t.settlementGas)).padStart(13),
    String(per(t.readingsGas + t.settlementGas)).padStart(8),
    (Number(t.trades) / t.n).toFixed(1).padStart(15),
    (t.importWh === 0n ? "-" : `${(Number((t.tradedWh * 1000n) / t.importWh) / 10).toFixed(1)}%`).padStart(12),
    (t.ms / t.n).toFixed(0).padStart(16),
  ].join(" | ");
}

console.log("Gas per household per interval (readings + clearing + settlement), demo community from 2026-06-15 09:00 (+02:00)");
console.log(`first day: ${firstDay} intervals; steady: the next ${steady}`);
console.log(
  "households | phase      | readings/hh | settlement/hh | total/hh | trades/interval | local share | wall ms/interval",
);
for (const households of sizes) {
  const dir = mkdtempSync(join(tmpdir(), "peergrid-bench-"));
  const c = await openCommunity(communityOptions({ "data-dir": dir, households: String(households) }, {}), true);
  try {
    const domain = { chainId: c.chain.chainId, verifyingContract: c.deployment.market };
    const keeper = createKeeper({
      chain: c.chain,
      deployment: c.deployment,
      gateway: c.community.gateway,
      settler: c.community.keeper,
      readings: (i) => demoReadings(c.community, domain, c.timeline, i),
    });
    let next = await keeper.nextInterval();
    const measure = async (n: number): Promise<Totals> => {
      const t: Totals = { readingsGas: 0n, settlementGas: 0n, trades: 0n, tradedWh: 0n, importWh: 0n, ms: 0, n };
      const started = performance.now();
      for (let k = 0; k < n; k++) {
        const r = await keeper.closeInterval(next++);
        t.readingsGas += r.readingsGas;
        t.settlementGas += r.settlementGas;
        t.trades += r.trades;
        t.tradedWh += r.tradedWh;
        t.importWh += r.importWh;
      }
      t.ms = performance.now() - started;
      return t;
    };
    console.log(row(households, "first day", await measure(firstDay)));
    console.log(row(households, "steady", await measure(steady)));
  } finally {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log("\nClearing engine (pure TypeScript, bigint): random books");
console.log("meters | clearings/s | ms/clearing");
const random = createRandom("bench");
const price = () => 80_000n + BigInt(Math.floor(random.next() * 240_000));
for (const meters of [100, 1_000, 10_000, 100_000]) {
  const book: MeterPosition[] = Array.from({ length: meters }, (_, i) => ({
    meterId: i + 1,
    exportWh: random.next() < 0.5 ? BigInt(Math.floor(random.next() * 2_000)) : 0n,
    importWh: BigInt(Math.floor(random.next() * 800)),
    balanceMicro: 50_000_000n,
    order: { askMicroPerKwh: price(), maxSellWh: 50_000n, bidMicroPerKwh: price(), maxBuyWh: 5_000n },
  }));
  const runs = meters >= 10_000 ? 5 : 20;
  for (let i = 0; i < 2; i++) clearInterval(book, demoTariffs); // let the JIT warm up first
  const started = performance.now();
  for (let i = 0; i < runs; i++) clearInterval(book, demoTariffs);
  const ms = (performance.now() - started) / runs;
  console.log(`${String(meters).padStart(6)} | ${(1000 / ms).toFixed(1).padStart(11)} | ${ms.toFixed(2).padStart(11)}`);
}
