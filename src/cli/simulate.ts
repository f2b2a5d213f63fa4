import { basename, extname, resolve } from "node:path";
import { PeerGridError } from "../chain/errors.ts";
import { formatFixed } from "../core/money.ts";
import { loadScenario } from "../sim/scenarioFile.ts";
import { simulate as runSimulation } from "../sim/simulate.ts";
import { writeReport } from "../sim/writeReport.ts";
import { parseCommandArgs } from "./options.ts";
import type { CommandIo } from "./start.ts";

export const simulateHelp = `Usage: peergrid simulate <scenario.yaml|scenario.json> [options]

Simulates a community on the real chain: an embedded node with the PeerGrid contracts, the production
keeper and clearing. Every interval each household's meter signs its export and import (from the load
and PV models, batteries and cars, or measured profiles), the keeper settles the interval on chain,
and agents reprice their standing orders. The same scenario and seed give the same result, byte for
byte. Ready scenarios are in scenarios/; docs/simulator.md explains the fields and the KPIs.

Writes to the output directory:
  report.html      the report: KPIs against the grid-only baseline, prices, energy flows by hour,
                   savings per household, battery state (one self-contained file)
  summary.json     the community's and every household's KPIs
  intervals.csv    one row per interval
  households.csv   one row per household

Options:
  --out <dir>        where to write (default simulation-<scenario name>)
  --data-dir <dir>   keep the simulated chain here (default: a temporary directory, removed after)
  -h, --help         show this help`;

/** "[#####-----]  42%  40/96 intervals  ETA 12 s": a progress line with a bar of `width` cells. */
export function progressLine(done: number, total: number, elapsedMs: number, width = 30): string {
  const fraction = total > 0 ? done / total : 1;
  const filled = Math.round(fraction * width);
  const eta = done > 0 ? ((total - done) * elapsedMs) / done / 1000 : undefined;
  const etaText = eta === undefined ? "" : `  ETA ${eta >= 90 ? `${Math.round(eta / 60)} min` : `${Math.round(eta)} s`}`;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${done}/${total} intervals${etaText}`;
}

/** `peergrid simulate`. */
export async function simulate(argv: string[], io: CommandIo): Promise<void> {
  const { values, positionals } = parseCommandArgs(
    "simulate",
    argv,
    { out: { type: "string" }, "data-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
    true,
  );
  if (values.help) return io.out(simulateHelp);
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) {
    throw new PeerGridError("peergrid simulate takes exactly one scenario file", {
      hint: "e.g. `peergrid simulate scenarios/quartierstrom.yaml --out results`",
    });
  }
  const loaded = await loadScenario(resolve(file));
  const out = resolve(values.out ?? `simulation-${basename(file, extname(file))}`);
  const started = io.nowMs();
  let lastShown = 0;
  // Ctrl-C (or a TERM) stops the run between intervals and cleans up: the node, the temporary chain.
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let result: Awaited<ReturnType<typeof runSimulation>>;
  try {
    result = await runSimulation(loaded, {
      dataDir: values["data-dir"] ? resolve(values["data-dir"]) : undefined,
      log: io.err,
      signal: controller.signal,
      onProgress: ({ done, total }) => {
        const now = io.nowMs();
        if (done < total && now - lastShown < 200) return;
        lastShown = now;
        io.progress?.(progressLine(done, total, now - started), done === total);
      },
    });
  } catch (error) {
    // A Ctrl-C in a terminal reaches the node too, which may fail the interval in flight.
    if (controller.signal.aborted && !(error instanceof PeerGridError)) {
      throw new PeerGridError("the simulation was interrupted; nothing was written", { cause: error });
    }
    throw error;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
  const seconds = (io.nowMs() - started) / 1000;
  const { files } = await writeReport(out, result);
  const c = result.community;
  const pct = (bps: bigint | null) => (bps === null ? "—" : `${formatFixed(bps, 2, 1)} %`);
  io.out(
    [
      `${result.scenario.name}: ${c.households} households, ${c.intervals} intervals settled on chain in ${seconds.toFixed(1)} s`,
      `  savings against grid-only  ${formatFixed(c.savingsMicro, 6, 2)} (${pct(c.savingsBps)})`,
      `  demand met locally         ${pct(c.localShareOfDemandBps)}`,
      `  production sold locally    ${pct(c.localShareOfSupplyBps)}`,
      `  self-sufficiency           ${pct(c.selfSufficiencyBps)}`,
      `  gas per settled kWh        ${c.gasPerSettledKwh ?? "—"}`,
      `wrote ${files.map((f) => resolve(out, f)).join(", ")}`,
    ].join("\n"),
  );
}
