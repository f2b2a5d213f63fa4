import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scenarioRunBounds } from "./scenario.ts";
import { ScenarioError } from "./scenarioError.ts";
import { loadScenario } from "./scenarioFile.ts";
import { formatLocal, utcOffsetMinutesIn } from "./timeZone.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "peergrid-scenario-"));
  await mkdir(join(dir, "profiles"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const header = (name: string) => `name: ${name}
location: { latitude: 47.12, longitude: 9.31, timeZone: Europe/Zurich }
start: 2026-06-01
days: 1
tariffs: { retailMicroPerKwh: 250000, feedInMicroPerKwh: 80000 }
`;

/** One CSV row per quarter-hour of 2026-06-01 in Zurich (UTC+2), optionally leaving one out. */
function dayCsv(options: { skip?: number; extraAt?: string } = {}): string {
  const rows = ["time,consumptionWh,productionWh"];
  const start = Date.UTC(2026, 4, 31, 22) / 1000;
  for (let i = 0; i < 96; i++) {
    if (i === options.skip) continue;
    const at = start + i * 900;
    const offset = utcOffsetMinutesIn("Europe/Zurich", at);
    rows.push(`${formatLocal(at, "Europe/Zurich")}:00+0${offset / 60}:00,100,${i >= 40 && i < 70 ? 250 : 0}`);
  }
  if (options.extraAt) rows.push(`${options.extraAt},1,1`);
  return `${rows.join("\n")}\n`;
}

describe("loadScenario", () => {
  it("reads the scenario and the profiles of listed households, relative to its folder", async () => {
    await writeFile(join(dir, "profiles", "a.csv"), dayCsv());
    const path = join(dir, "street.yaml");
    await writeFile(
      path,
      `${header("Street")}households:
  list:
    - { annualKwh: 3000, pvKwp: 5 }
    - { profileCsv: profiles/a.csv }
    - { annualKwh: 2000, profileCsv: profiles/a.csv }
`,
    );
    const loaded = await loadScenario(path);
    expect(loaded.path).toBe(path);
    expect([...loaded.profiles.keys()]).toEqual([1, 2]);
    const profile = loaded.profiles.get(1);
    expect(profile?.size).toBe(96);
    expect(profile?.get(scenarioRunBounds(loaded.scenario).startsAt)).toEqual({ consumptionWh: 100n, productionWh: 0n });
    expect(loaded.profiles.get(2)).toBe(profile);
    const households = loaded.scenario.households;
    if (!Array.isArray(households)) throw new Error("expected a list");
    // 9.6 kWh in one day, scaled to a year; a given annualKwh is kept.
    expect(households[1]?.annualKwh).toBeCloseTo(9.6 * 365, 6);
    expect(households[2]?.annualKwh).toBe(2000);
  });

  it("names the first interval missing from a profile", async () => {
    await writeFile(join(dir, "profiles", "gap.csv"), dayCsv({ skip: 5 }));
    const path = join(dir, "gap.yaml");
    await writeFile(path, `${header("Gap")}households: { list: [{ profileCsv: profiles/gap.csv }] }\n`);
    await expect(loadScenario(path)).rejects.toThrow(
      `${join(dir, "profiles", "gap.csv")} has no row for the interval starting 2026-06-01T01:15 Europe/Zurich (2026-05-31T23:15:00.000Z)`,
    );
  });

  it("rejects a row off the interval grid inside the run, but not rows outside it", async () => {
    await writeFile(join(dir, "profiles", "off.csv"), dayCsv({ extraAt: "2026-06-01T10:05:00+02:00" }));
    await writeFile(join(dir, "profiles", "longer.csv"), dayCsv({ extraAt: "2026-06-02T10:05:00+02:00" }));
    const off = join(dir, "off.yaml");
    await writeFile(off, `${header("Off")}households: { list: [{ profileCsv: profiles/off.csv }] }\n`);
    await expect(loadScenario(off)).rejects.toThrow(
      /off\.csv has a row at 2026-06-01T10:05 Europe\/Zurich .*not the start of a market interval/,
    );
    const longer = join(dir, "longer.yaml");
    await writeFile(longer, `${header("Longer")}households: { list: [{ profileCsv: profiles/longer.csv }] }\n`);
    expect((await loadScenario(longer)).profiles.size).toBe(1);
  });

  it("reports a missing profile file with the household's path", async () => {
    const path = join(dir, "missing.yaml");
    await writeFile(path, `${header("Missing")}households: { list: [{ annualKwh: 1 }, { profileCsv: profiles/nope.csv }] }\n`);
    const error = await loadScenario(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as ScenarioError).problems[0]?.path).toBe("households.list[1].profileCsv");
    expect((error as Error).message).toContain(`cannot read ${join(dir, "profiles", "nope.csv")}`);
  });

  it("passes on CSV errors naming the file and line", async () => {
    await writeFile(join(dir, "profiles", "bad.csv"), "time,consumptionWh\n2026-06-01T00:00:00+02:00,1.5\n");
    const path = join(dir, "bad.json");
    await writeFile(
      path,
      JSON.stringify({
        name: "Bad",
        location: { latitude: 47.12, longitude: 9.31, timeZone: "Europe/Zurich" },
        start: "2026-06-01",
        days: 1,
        tariffs: { retailMicroPerKwh: 250000, feedInMicroPerKwh: 80000 },
        households: { list: [{ profileCsv: "profiles/bad.csv" }] },
      }),
    );
    await expect(loadScenario(path)).rejects.toThrow(
      `${join(dir, "profiles", "bad.csv")} line 2: consumptionWh must be a whole number of Wh ≥ 0, got "1.5"`,
    );
  });

  it("reports an unreadable scenario file", async () => {
    await expect(loadScenario(join(dir, "absent.yaml"))).rejects.toThrow(/cannot read the scenario file .*absent\.yaml/);
  });
});

describe("the scenarios/ folder", () => {
  const folder = fileURLToPath(new URL("../../scenarios/", import.meta.url));

  it("has the four ready scenarios", async () => {
    const names = (await readdir(folder)).sort();
    expect(names).toEqual(
      expect.arrayContaining(["quartierstrom.yaml", "summer-week.yaml", "town-1000.yaml", "winter-week.yaml"]),
    );
  });

  it("every file in it loads", async () => {
    const names = (await readdir(folder)).filter((name) => /\.(ya?ml|json)$/.test(name));
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) {
      const { scenario } = await loadScenario(join(folder, name));
      expect(scenario.name.length, name).toBeGreaterThan(0);
      expect(scenarioRunBounds(scenario).intervals, name).toBe(scenario.days * 96);
    }
  });

  it("quartierstrom.yaml describes the Walenstadt street", async () => {
    const { scenario } = await loadScenario(join(folder, "quartierstrom.yaml"));
    expect(scenario.location).toEqual({ latitude: 47.12, longitude: 9.31, timeZone: "Europe/Zurich" });
    expect(scenario.seed).toBe("quartierstrom");
    expect(scenario.start).toBe("2026-01-01");
    expect(scenario.days).toBe(365);
    expect(scenario.tariffs.retailMicroPerKwh).toBe(207_500n);
    expect(scenario.tariffs.feedInMicroPerKwh).toBe(40_000n);
    expect(Array.isArray(scenario.households) ? undefined : scenario.households).toMatchObject({ count: 37, pvShare: 0.35 });
  });
});
