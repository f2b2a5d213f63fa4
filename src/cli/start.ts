import { readTariffs } from "../chain/market.ts";
import { communityKpis } from "../core/kpi.ts";
import { demoReadings } from "../demo/demoCommunity.ts";
import { createKeeper, type IntervalReport } from "../server/keeper.ts";
import { formatIntervalLine, formatSummary } from "./formatReport.ts";
import { openCommunity } from "./openCommunity.ts";
import {
  communityOptionHelp,
  communityOptionSpec,
  communityOptions,
  nonNegative,
  parseCommandArgs,
  positiveInteger,
} from "./options.ts";

export const startHelp = `Usage: peergrid start [options]

Starts the embedded chain (or connects to --rpc-url), deploys PeerGrid if it is not deployed yet,
onboards the demo community and runs the market: every interval, meters sign their readings, the
keeper submits them, clears the double auction and settles it on chain. Prints one line per interval.
A second start with the same data directory resumes after the last settled interval.

Options:
  --intervals <n>   stop after settling n intervals (default: run until interrupted)
  --speed <x>       simulated seconds per wall-clock second on the embedded chain (default 3600;
                    0 = as fast as possible). An external node runs in real time.
${communityOptionHelp}`;

export type CommandIo = {
  out(line: string): void;
  err(line: string): void;
  sleep(ms: number): Promise<void>;
  nowMs(): number;
};

/** `peergrid start`: the main job. */
export async function start(argv: string[], io: CommandIo): Promise<void> {
  const { values } = parseCommandArgs("start", argv, {
    ...communityOptionSpec,
    intervals: { type: "string" },
    speed: { type: "string" },
  });
  if (values.help) return io.out(startHelp);
  const intervals = values.intervals === undefined ? Number.POSITIVE_INFINITY : positiveInteger("intervals", values.intervals, 0);
  const speed = values.speed === undefined ? 3600 : nonNegative("speed", values.speed);
  const options = communityOptions(values);

  const { chain, deployment, community, timeline, close } = await openCommunity(options, true);
  let stopping = false;
  const onSignal = () => {
    stopping = true;
    io.err("stopping after the current interval…");
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const domain = { chainId: chain.chainId, verifyingContract: deployment.market };
    const keeper = createKeeper({
      chain,
      deployment,
      gateway: community.gateway,
      settler: community.keeper,
      readings: (interval) => demoReadings(community, domain, timeline, interval),
      log: io.err,
    });
    const reports: IntervalReport[] = [];
    let next = await keeper.nextInterval();
    io.out(
      `PeerGrid on chain ${chain.chainId} (${chain.embedded ? `embedded, ${options.dataDir}` : chain.rpcUrl}), market ${deployment.market}, ` +
        `${community.households.length} households; ${next > deployment.firstInterval ? `resuming after interval ${next - 1n}` : `starting at interval ${next}`}`,
    );
    // The summary values trades at the tariffs in force when the run started.
    const tariffs = await readTariffs(chain, deployment);
    const startedMs = io.nowMs();
    let interrupted = false;
    for (let k = 0; k < intervals && !stopping; k++) {
      if (chain.embedded && speed > 0) {
        const dueMs = startedMs + (k * Number(deployment.intervalSeconds) * 1000) / speed;
        if (dueMs > io.nowMs()) await io.sleep(dueMs - io.nowMs());
      }
      let report: IntervalReport;
      try {
        report = await keeper.closeInterval(next);
      } catch (error) {
        // A Ctrl-C reaches the embedded node too, which may stop in the middle of an interval.
        if (!stopping) throw error;
        interrupted = true;
        break;
      }
      io.out(formatIntervalLine(report));
      reports.push(report);
      next += 1n;
    }
    if (reports.length > 0) io.out(formatSummary(communityKpis(reports, tariffs)));
    io.out(
      interrupted
        ? `interrupted while closing interval ${next}; every settled interval is kept and \`peergrid start\` resumes from ${next}.`
        : `stopped; last settled interval ${next - 1n}. \`peergrid status\` shows the chain, contracts and balances.`,
    );
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await close();
  }
}
