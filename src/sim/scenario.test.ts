import { describe, expect, it } from "vitest";
import { parseScenario, type Scenario, scenarioErrorMap, scenarioRunBounds, scenarioSchema } from "./scenario.ts";
import { ScenarioError } from "./scenarioError.ts";

const minimalYaml = `
name: Street
location: { latitude: 47.12, longitude: 9.31, timeZone: Europe/Zurich }
start: 2026-06-01
days: 7
tariffs: { retailMicroPerKwh: 250000, feedInMicroPerKwh: 80000 }
households: { count: 37, pvShare: 0.35 }
`;

const minimal = {
  name: "Street",
  location: { latitude: 47.12, longitude: 9.31, timeZone: "Europe/Zurich" },
  start: "2026-06-01",
  days: 7,
  tariffs: { retailMicroPerKwh: 250000, feedInMicroPerKwh: 80000 },
  households: { count: 37 },
};

/** The problems a ScenarioError lists, as "path: message" lines. */
function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ScenarioError) return error.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
    throw error;
  }
  throw new Error("expected a ScenarioError");
}

const json = (value: unknown) => JSON.stringify(value);

describe("parseScenario", () => {
  it("fills in every default", () => {
    const scenario = parseScenario(minimalYaml, "street.yaml");
    const expected: Scenario = {
      name: "Street",
      seed: "peergrid",
      location: { latitude: 47.12, longitude: 9.31, timeZone: "Europe/Zurich" },
      start: "2026-06-01",
      days: 7,
      intervalMinutes: 15,
      tariffs: { retailMicroPerKwh: 250_000n, feedInMicroPerKwh: 80_000n, gridFeeMicroPerKwh: 0n },
      zones: [{ id: 1, importCapWh: null, exportCapWh: null, feeMicroPerKwh: null }],
      agents: {
        fixed: { askMicroPerKwh: null, bidMicroPerKwh: null },
        adaptive: { stepMicroPerKwh: 10_000n },
        repriceEveryIntervals: 4,
      },
      gridIntensityGPerKwh: 380n,
      depositMicro: 100_000_000n,
      households: {
        count: 37,
        pvShare: 0.35,
        pvKwp: { min: 3, max: 10 },
        annualKwh: { median: 3400, sigma: 0.3 },
        battery: null,
        ev: null,
        zones: [1],
        strategies: { fixed: 1, zi: 0, adaptive: 0 },
      },
    };
    expect(scenario).toEqual(expected);
    expect("description" in scenario).toBe(false);
  });

  it("reads JSON the same way as YAML", () => {
    expect(parseScenario(json({ ...minimal, households: { count: 37, pvShare: 0.35 } }), "street.json")).toEqual(
      parseScenario(minimalYaml, "street.yml"),
    );
  });

  it("accepts money as digit strings (underscores allowed) and seeds as numbers", () => {
    const scenario = parseScenario(
      json({
        ...minimal,
        seed: 42,
        depositMicro: "1_000_000_000_000_000_000",
        tariffs: { retailMicroPerKwh: "250000", feedInMicroPerKwh: 0, gridFeeMicroPerKwh: 1000 },
      }),
      "a.json",
    );
    expect(scenario.seed).toBe("42");
    expect(scenario.depositMicro).toBe(10n ** 18n);
    expect(scenario.tariffs).toEqual({ retailMicroPerKwh: 250_000n, feedInMicroPerKwh: 0n, gridFeeMicroPerKwh: 1000n });
  });

  it("fills defaults of listed households, first zone and generated zones", () => {
    const scenario = parseScenario(
      json({
        ...minimal,
        zones: [{ id: 7, importCapWh: 5000 }, { id: 3 }],
        households: {
          list: [
            { annualKwh: 3000 },
            { name: "Bakery", annualKwh: 12000, pvKwp: 20, zone: 3, strategy: "zi", battery: { capacityKwh: 20 } },
            { profileCsv: "profiles/a.csv", ev: { dailyKwh: 6 } },
          ],
        },
      }),
      "a.json",
    );
    expect(scenario.zones[0]).toEqual({ id: 7, importCapWh: 5000n, exportCapWh: null, feeMicroPerKwh: null });
    expect(scenario.households).toEqual([
      {
        name: null,
        annualKwh: 3000,
        pvKwp: 0,
        tiltDeg: 30,
        azimuthDeg: 180,
        zone: 7,
        strategy: "fixed",
        battery: null,
        ev: null,
        profileCsv: null,
      },
      {
        name: "Bakery",
        annualKwh: 12000,
        pvKwp: 20,
        tiltDeg: 30,
        azimuthDeg: 180,
        zone: 3,
        strategy: "zi",
        battery: { capacityKwh: 20, powerKw: 5, strategy: "self-consumption" },
        ev: null,
        profileCsv: null,
      },
      {
        name: null,
        annualKwh: 0,
        pvKwp: 0,
        tiltDeg: 30,
        azimuthDeg: 180,
        zone: 7,
        strategy: "fixed",
        battery: null,
        ev: { dailyKwh: 6, chargeKw: 11, arriveHour: 18 },
        profileCsv: "profiles/a.csv",
      },
    ]);
    const generated = parseScenario(json({ ...minimal, zones: [{ id: 7 }] }), "a.json").households;
    expect(Array.isArray(generated) ? undefined : generated.zones).toEqual([7]);
  });

  it("accepts a bare list of households too", () => {
    const scenario = parseScenario(json({ ...minimal, households: [{ annualKwh: 3000 }] }), "a.json");
    expect(Array.isArray(scenario.households) && scenario.households.length).toBe(1);
  });

  it("lists every bad field with its path and the file name", () => {
    const bad = {
      ...minimal,
      location: { latitude: 91, longitude: 9.31, timeZone: "Europe/Zurch" },
      start: "2026-02-30",
      days: 0,
      intervalMinutes: 7,
      tariffs: { retailMicroPerKwh: 0.25, feedInMicroPerKwh: -1 },
      households: {
        list: [{ annualKwh: 3000 }, { annualKwh: 3000 }, { annualKwh: 3000 }, { annualKwh: 3000, pvKwp: -1 }, { pvKwp: 2 }],
      },
    };
    let error: unknown;
    try {
      parseScenario(json(bad), "scenarios/bad.json");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as Error).message).toMatch(/^scenarios\/bad\.json is not a valid scenario \(9 problems\):/);
    expect(problems(() => parseScenario(json(bad), "scenarios/bad.json"))).toEqual([
      "location.latitude: must be ≤ 90",
      'location.timeZone: unknown time zone "Europe/Zurch": use an IANA name such as "Europe/Berlin"',
      'start: expected a real calendar date "YYYY-MM-DD", got "2026-02-30"',
      "days: must be ≥ 1",
      "intervalMinutes: must divide a day (1440) evenly, e.g. 5, 15, 30 or 60",
      "tariffs.retailMicroPerKwh: expected a whole number of micro units per kWh, got 0.25; amounts are in micro units, so 0.25 credits is 250000",
      "tariffs.feedInMicroPerKwh: must be ≥ 0",
      "households.list[3].pvKwp: must be ≥ 0",
      "households.list[4].annualKwh: is required unless profileCsv gives a measured profile",
    ]);
  });

  it("reports missing fields, wrong types and enum values", () => {
    expect(
      problems(() =>
        parseScenario(json({ name: "", days: "7", households: { count: 3, battery: { capacityKwh: 5 } } }), "a.json"),
      ),
    ).toEqual([
      "name: must not be empty",
      "location: is required",
      "start: is required",
      'days: expected a number, got "7"',
      "tariffs: is required",
      "households.battery.share: is required",
    ]);
    expect(
      problems(() => parseScenario(json({ ...minimal, households: { list: [{ annualKwh: 1, strategy: "smart" }] } }), "a.json")),
    ).toEqual(['households.list[0].strategy: expected one of "fixed", "zi", "adaptive", got "smart"']);
    expect(problems(() => parseScenario(json({ ...minimal, households: 5 }), "a.json"))).toEqual([
      "households: expected { count: … } to generate households, or { list: [ … ] } to describe each, got 5",
    ]);
  });

  it("rejects unknown keys everywhere, suggesting the likely one", () => {
    const found = problems(() =>
      parseScenario(
        json({
          ...minimal,
          sede: "x",
          tariffs: { ...minimal.tariffs, gridFee: 3 },
          households: { list: [{ annualKwh: 1, pvKwpp: 3 }] },
        }),
        "a.json",
      ),
    );
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^tariffs: unknown key "gridFee" \(did you mean "gridFeeMicroPerKwh"\?\)/);
    expect(found[1]).toMatch(/^households\.list\[0\]: unknown key "pvKwpp" \(did you mean "pvKwp"\?\); allowed keys: name, /);
    expect(found[2]).toMatch(/^unknown key "sede" \(did you mean "seed"\?\)/);
  });

  it("checks fields against each other", () => {
    expect(
      problems(() =>
        parseScenario(
          json({
            ...minimal,
            tariffs: { retailMicroPerKwh: 80000, feedInMicroPerKwh: 80000 },
            zones: [{ id: 1 }, { id: 2 }, { id: 1 }],
            households: { list: [{ annualKwh: 1 }, { annualKwh: 1, zone: 4 }] },
          }),
          "a.json",
        ),
      ),
    ).toEqual([
      "tariffs.retailMicroPerKwh: must be greater than feedInMicroPerKwh (80000), otherwise a local market has nothing to gain",
      "zones[2].id: zone 1 is declared twice (also zones[0])",
      "households.list[1].zone: zone 4 is not declared; declared zones: 1, 2 (add it under zones)",
    ]);
    expect(problems(() => parseScenario(json({ ...minimal, households: { count: 2, zones: [1, 9] } }), "a.json"))).toEqual([
      "households.zones[1]: zone 9 is not declared; declared zones: 1 (add it under zones)",
    ]);
    expect(
      problems(() =>
        parseScenario(
          json({ ...minimal, households: { count: 2, pvKwp: { min: 5, max: 4 }, strategies: { fixed: 0 } } }),
          "a.json",
        ),
      ),
    ).toEqual(["households.pvKwp.max: must be ≥ min", "households.strategies: the shares must sum to more than 0"]);
  });

  it("rejects an interval that does not fit a daylight-saving day", () => {
    expect(
      problems(() => parseScenario(json({ ...minimal, start: "2026-03-29", days: 1, intervalMinutes: 120 }), "a.json")),
    ).toEqual([
      "intervalMinutes: the run lasts 1380 minutes in Europe/Zurich (a daylight-saving change), not a whole number of 120-minute intervals; use 60 minutes or less",
    ]);
  });

  it("names the line of a YAML syntax error, and refuses unknown file types and empty files", () => {
    const found = problems(() => parseScenario("name: a\nlocation: [1, 2\ndays: 3\n", "a.yaml"));
    expect(found[0]).toMatch(/^line \d+, column \d+: /);
    expect(problems(() => parseScenario("name: a\nname: b\n", "a.yaml"))[0]).toMatch(/line 2, column 1: .*unique/i);
    expect(problems(() => parseScenario("{", "a.json"))[0]).toMatch(/^not valid JSON: /);
    expect(() => parseScenario(minimalYaml, "street.toml")).toThrow(
      /street\.toml is not a valid scenario[\s\S]*unknown file type/,
    );
    expect(problems(() => parseScenario("# nothing here\n", "a.yaml"))).toEqual(["the file is empty"]);
  });
});

describe("scenarioSchema", () => {
  it("parses decoded data directly", () => {
    const result = scenarioSchema.safeParse(minimal, { error: scenarioErrorMap });
    expect(result.success && result.data.tariffs.retailMicroPerKwh).toBe(250_000n);
  });
});

describe("scenarioRunBounds", () => {
  it("spans whole local days", () => {
    const bounds = scenarioRunBounds(parseScenario(minimalYaml, "a.yaml"));
    expect(bounds).toEqual({
      startsAt: Date.UTC(2026, 4, 31, 22) / 1000,
      endsAt: Date.UTC(2026, 5, 7, 22) / 1000,
      intervalSeconds: 900,
      intervals: 7 * 96,
    });
  });

  it("has 92 and 100 quarter-hours on the daylight-saving days", () => {
    const day = (start: string) =>
      scenarioRunBounds(
        parseScenario(
          json({ ...minimal, location: { ...minimal.location, timeZone: "Europe/Berlin" }, start, days: 1 }),
          "a.json",
        ),
      );
    expect(day("2026-03-29").intervals).toBe(92);
    expect(day("2026-10-25").intervals).toBe(100);
    expect(day("2026-03-29").startsAt).toBe(Date.UTC(2026, 2, 28, 23) / 1000);
  });
});
