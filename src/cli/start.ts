import { demoAccountsOf } from "../api/routes/demo.ts";
import { readTariffs } from "../chain/market.ts";
import { communityKpis } from "../core/kpi.ts";
import { demoReadings } from "../demo/demoCommunity.ts";
import { toWire } from "../gateway/wire.ts";
import { createKeeper, type IntervalReport } from "../server/keeper.ts";
import { readingSchedule, startServices } from "../server/services.ts";
import { formatIntervalLine, formatSummary } from "./formatReport.ts";
import { openCommunity } from "./openCommunity.ts";
import {
  communityOptionHelp,
  communityOptionSpec,
  communityOptions,
  nonNegative,
  parseCommandArgs,
  positiveInteger,
  serverOptionHelp,
  serverOptionSpec,
  serverOptions,
} from "./options.ts";

export const startHelp = `Usage: peergrid start [options]

Starts the embedded chain (or connects to --rpc-url), deploys PeerGrid if it is not deployed yet,
onboards the demo community, starts the server (API, indexer, meter gateway) and runs the market:
every interval, the demo meters sign their readings and hand them to the gateway, the keeper submits
them, clears the double auction and settles it on chain. Prints one line per interval. A second start
with the same data directory resumes after the last settled interval.

Options:
  --intervals <n>   stop after settling n intervals (default: run until interrupted)
  --speed <x>       simulated seconds per wall-clock second on the embedded chain (default 3600;
                    0 = as fast as possible). An external node runs in real time.
${serverOptionHelp}
${communityOptionHelp}`;

export type CommandIo = {
  out(line: string): void;
  err(line: string): void;
  sleep(ms: number): Promise<void>;
  nowMs(): number;
  /** A progress line that replaces the previous one (a terminal's status line); `final` ends it. */
  progress?(line: string, final: boolean): void;
};

export const serveHelp = `Usage: peergrid serve [options]

Serves the community of the data directory (or of --rpc-url): the HTTP API, the indexer and the meter
gateway, with the keeper closing each interval with the readings the gateway received. Unlike
\`peergrid start\`, it deploys nothing and runs no demo meters: readings come from real meters (or
\`peergrid meter publish\`). Runs until interrupted.

Options:
  --intervals <n>   stop after settling n intervals (default: run until interrupted)
  --speed <x>       simulated seconds per wall-clock second on the embedded chain (default 1, real
                    time; 0 = as fast as possible). An external node runs in real time.
${serverOptionHelp}
${communityOptionHelp}`;

/** `peergrid start`: the main job. */
export function start(argv: string[], io: CommandIo): Promise<void> {
  return runMarket("start", argv, io);
}

/** `peergrid serve`: the server and keeper for an existing community, readings from real meters. */
export function serve(argv: string[], io: CommandIo): Promise<void> {
  return runMarket("serve", argv, io);
}

async function runMarket(command: "start" | "serve", argv: string[], io: CommandIo): Promise<void> {
  const { values } = parseCommandArgs(command, argv, {
    ...communityOptionSpec,
    ...serverOptionSpec,
    intervals: { type: "string" },
    speed: { type: "string" },
  });
  if (values.help) return io.out(command === "start" ? startHelp : serveHelp);
  const demoMeters = command === "start";
  const intervals = values.intervals === undefined ? Number.POSITIVE_INFINITY : positiveInteger("intervals", values.intervals, 0);
  const speed = values.speed === undefined ? (demoMeters ? 3600 : 1) : nonNegative("speed", values.speed);
  const options = communityOptions(values);
  const server = serverOptions(values);

  const { chain, deployment, community, timeline, close } = await openCommunity(options, demoMeters);
  let stopping = false;
  const onSignal = () => {
    stopping = true;
    io.err("stopping after the current interval…");
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let services: Awaited<ReturnType<typeof startServices>> | undefined;
  try {
    // The demo's meters hand in their readings as the interval ends; real meters get most of the window.
    const schedule = demoMeters
      ? { keeperDelaySeconds: 0n, gatewayMarginSeconds: 0n }
      : readingSchedule(deployment.readingWindowSeconds);
    services = await startServices({
      chain,
      deployment,
      dataDir: options.dataDir,
      ...server,
      gatewayMarginSeconds: schedule.gatewayMarginSeconds,
      log: io.err,
      ...(demoMeters && chain.embedded ? { demoAccounts: demoAccountsOf(community) } : {}),
    });
    const { gateway, clock } = services;
    const domain = { chainId: chain.chainId, verifyingContract: deployment.market };
    const keeper = createKeeper({
      chain,
      deployment,
      gateway: community.gateway,
      settler: community.keeper,
      readingDelaySeconds: schedule.keeperDelaySeconds,
      // The gateway stores only readings whose signatures it checked.
      verifiedReadings: true,
      // The demo's meters publish to the gateway as the interval ends; the keeper takes what it stored.
      readings: async (interval) => {
        if (!demoMeters) return gateway.readingsFor(interval);
        await clock.refresh();
        const results = await gateway.submit(demoReadings(community, domain, timeline, interval).map(toWire));
        for (const r of results) if (r.status === "rejected") io.err(`the gateway refused a demo reading: ${r.message}`);
        return gateway.readingsFor(interval);
      },
      log: io.err,
    });
    const reports: IntervalReport[] = [];
    let next = await keeper.nextInterval();
    io.out(
      `PeerGrid on chain ${chain.chainId} (${chain.embedded ? `embedded, ${options.dataDir}` : chain.rpcUrl}), market ${deployment.market}, ` +
        `${community.households.length} households; ${next > deployment.firstInterval ? `resuming after interval ${next - 1n}` : `starting at interval ${next}`}`,
    );
    io.out(`Dashboard ${services.url}/`);
    io.out(`API ${services.url}/api (interactive documentation at ${services.url}/api/docs)`);
    // The summary values trades at the tariffs in force when the run started.
    const tariffs = await readTariffs(chain, deployment);
    const startedMs = io.nowMs();
    let interrupted = false;
    for (let k = 0; k < intervals && !stopping; k++) {
      if (chain.embedded && speed > 0) {
        // The demo's meters report at once; real meters (serve) get one interval of wall time to report.
        const dueMs = startedMs + ((k + (demoMeters ? 0 : 1)) * Number(deployment.intervalSeconds) * 1000) / speed;
        if (dueMs > io.nowMs()) await io.sleep(dueMs - io.nowMs());
        if (schedule.keeperDelaySeconds > 0n) {
          // Embedded time stands still between blocks: end the interval now and give meters the window
          // in wall time before the keeper moves the clock on and takes their readings.
          await chain.advanceTo((next + 1n) * deployment.intervalSeconds);
          await io.sleep((Number(schedule.keeperDelaySeconds) * 1000) / speed);
        }
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
    await services?.close();
    await close();
  }
}
