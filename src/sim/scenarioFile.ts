/**
 * Loading a scenario file from disk, with the measured profiles its households refer to.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { PeerGridError } from "../chain/errors.ts";
import { type MeasuredProfile, parseProfileCsv } from "./profileCsv.ts";
import { parseScenario, type Scenario, scenarioRunBounds } from "./scenario.ts";
import { ScenarioError } from "./scenarioError.ts";
import { formatLocal } from "./timeZone.ts";

/**
 * A scenario read from disk: the parsed scenario, the measured profile of every listed household
 * with a `profileCsv` (keyed by its index in the list), and the file's path.
 *
 * @example
 * const { scenario, profiles }: LoadedScenario = await loadScenario("scenarios/quartierstrom.yaml");
 */
export interface LoadedScenario {
  scenario: Scenario;
  profiles: Map<number, MeasuredProfile>;
  path: string;
}

const DAYS_PER_YEAR = 365;

/**
 * Reads and parses a scenario file (YAML or JSON by its extension), then reads every `profileCsv`
 * of a household list (relative to the scenario file's folder) and checks it has a row for every
 * interval of the run, and none between them off the interval grid. A listed household with a
 * profile but no `annualKwh` gets the profile's consumption scaled to a year.
 * Throws a `PeerGridError` (a `ScenarioError` for the scenario itself) naming the file.
 *
 * @example
 * const loaded = await loadScenario("scenarios/quartierstrom.yaml");
 * scenarioRunBounds(loaded.scenario).intervals; // 35040: a year of quarter-hours
 */
export async function loadScenario(path: string): Promise<LoadedScenario> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new PeerGridError(`cannot read the scenario file ${path}: ${(cause as Error).message}`, {
      cause,
      hint: "check the path; scenarios/ has ready examples",
    });
  }
  const scenario = parseScenario(text, path);
  const profiles = new Map<number, MeasuredProfile>();
  if (!Array.isArray(scenario.households)) return { scenario, profiles, path };

  const bounds = scenarioRunBounds(scenario);
  const timeZone = scenario.location.timeZone;
  const byFile = new Map<string, MeasuredProfile>();
  for (const [index, household] of scenario.households.entries()) {
    if (household.profileCsv === null) continue;
    const shownPath = join(dirname(path), household.profileCsv);
    const absolute = resolve(shownPath);
    let profile = byFile.get(absolute);
    if (profile === undefined) {
      let csv: string;
      try {
        csv = await readFile(absolute, "utf8");
      } catch (cause) {
        throw new ScenarioError(
          path,
          [{ path: `households.list[${index}].profileCsv`, message: `cannot read ${shownPath}: ${(cause as Error).message}` }],
          { cause, hint: "profileCsv paths are relative to the scenario file's folder" },
        );
      }
      profile = parseProfileCsv(csv, shownPath);
      checkCoversRun(profile, shownPath, bounds, timeZone);
      byFile.set(absolute, profile);
    }
    profiles.set(index, profile);
    if (household.annualKwh === 0) {
      let consumptionWh = 0n;
      for (let at = bounds.startsAt; at < bounds.endsAt; at += bounds.intervalSeconds)
        consumptionWh += profile.get(at)?.consumptionWh ?? 0n;
      household.annualKwh = (Number(consumptionWh) / 1000) * (DAYS_PER_YEAR / scenario.days);
    }
  }
  return { scenario, profiles, path };
}

function checkCoversRun(
  profile: MeasuredProfile,
  fileName: string,
  bounds: { startsAt: number; endsAt: number; intervalSeconds: number },
  timeZone: string,
): void {
  const describeTime = (at: number) => `${formatLocal(at, timeZone)} ${timeZone} (${new Date(at * 1000).toISOString()})`;
  const span = `every ${bounds.intervalSeconds / 60}-minute interval from ${describeTime(bounds.startsAt)} to before ${describeTime(bounds.endsAt)}`;
  for (let at = bounds.startsAt; at < bounds.endsAt; at += bounds.intervalSeconds) {
    if (!profile.has(at))
      throw new PeerGridError(`${fileName} has no row for the interval starting ${describeTime(at)}`, {
        details: `the profile must cover ${span}; this is the first one missing`,
        hint: "add the missing rows, or change start, days or intervalMinutes in the scenario",
      });
  }
  for (const at of profile.keys()) {
    if (at > bounds.startsAt && at < bounds.endsAt && (at - bounds.startsAt) % bounds.intervalSeconds !== 0)
      throw new PeerGridError(`${fileName} has a row at ${describeTime(at)}, which is not the start of a market interval`, {
        details: `the run has ${span}`,
        hint: "give one row per market interval (aggregate finer readings first), or change intervalMinutes",
      });
  }
}
