// The simulator's targets: scenarios run on the embedded chain exactly as `peergrid simulate` runs them,
// timed from loading the scenario to the last settled interval (chain start, deployment and onboarding
// included; writing the report is not).
import { join } from "node:path";
import { loadScenario } from "../src/sim/scenarioFile.ts";
import { simulate } from "../src/sim/simulate.ts";

export type SimulationRun = { seconds: number; households: number; intervals: number; tradedWh: bigint };

/** Runs the scenario file and times it; prints a line every tenth of the run. */
export async function measureSimulation(file: string): Promise<SimulationRun> {
  const started = performance.now();
  let shown = 0;
  const result = await simulate(await loadScenario(file), {
    onProgress: ({ done, total }) => {
      if (done * 10 >= (shown + 1) * total) {
        shown = Math.floor((done * 10) / total);
        const seconds = (performance.now() - started) / 1000;
        console.log(`  ${done}/${total} intervals, ${seconds.toFixed(0)} s`);
      }
    },
  });
  return {
    seconds: (performance.now() - started) / 1000,
    households: result.community.households,
    intervals: result.community.intervals,
    tradedWh: result.community.tradedWh,
  };
}

export const benchScenarios = {
  town: join(import.meta.dirname, "..", "scenarios", "town-1000.yaml"),
  year: join(import.meta.dirname, "scenarios", "households-100-year.yaml"),
};
