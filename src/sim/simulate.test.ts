import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summaryJson } from "./report.ts";
import type { SimulationResult } from "./result.ts";
import { loadScenario } from "./scenarioFile.ts";
import { simulate } from "./simulate.ts";

// Six homes for one June day in Zurich, hourly intervals: every feature once. A measured profile for the
// bakery, batteries of both strategies, a car, two zones (one with a tight export cap and a fee), and all
// three agent strategies repricing every two intervals.
const scenario = `
name: Test street
seed: sim-test
location: { latitude: 47.12, longitude: 9.31, timeZone: Europe/Zurich }
start: "2026-06-01"
days: 1
intervalMinutes: 60
tariffs: { retailMicroPerKwh: 250000, feedInMicroPerKwh: 80000, gridFeeMicroPerKwh: 10000 }
zones:
  - { id: 1 }
  - { id: 2, exportCapWh: 500, feeMicroPerKwh: 30000 }
agents: { repriceEveryIntervals: 2 }
households:
  list:
    - { name: Bakery, profileCsv: bakery.csv, strategy: zi }
    - { annualKwh: 3000, pvKwp: 8, strategy: adaptive, battery: { capacityKwh: 6, powerKw: 3, strategy: price-aware } }
    - { annualKwh: 4500, pvKwp: 0, strategy: adaptive, ev: { dailyKwh: 8, chargeKw: 11, arriveHour: 18 } }
    - { annualKwh: 2500, pvKwp: 6, zone: 2, battery: { capacityKwh: 5, powerKw: 2.5, strategy: self-consumption } }
    - { annualKwh: 3800, pvKwp: 0, zone: 2 }
    - { annualKwh: 3300, pvKwp: 4, zone: 2, strategy: zi }
`;

/** The bakery: 1.5 kWh an hour from 4 to 11, 0.3 otherwise, and 2 kWh of PV an hour from 10 to 15. */
function bakeryCsv(): string {
  const rows = ["time,consumptionWh,productionWh"];
  for (let hour = 0; hour < 24; hour++) {
    const at = new Date(Date.UTC(2026, 4, 31, 22 + hour)).toISOString().replace(".000Z", "Z");
    rows.push(`${at},${hour >= 4 && hour < 11 ? 1500 : 300},${hour >= 10 && hour < 15 ? 2000 : 0}`);
  }
  return `${rows.join("\n")}\n`;
}

let dir: string;
let result: SimulationResult;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "peergrid-simulate-"));
  file = join(dir, "street.yaml");
  await writeFile(file, scenario);
  await writeFile(join(dir, "bakery.csv"), bakeryCsv());
  result = await simulate(await loadScenario(file));
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sum = <T>(items: readonly T[], f: (item: T) => bigint) => items.reduce((s, x) => s + f(x), 0n);

describe("simulate", () => {
  it("settles every interval of the day on chain, for every household", () => {
    expect(result.intervals).toHaveLength(24);
    expect(result.households).toHaveLength(6);
    expect(result.community.tradedWh).toBeGreaterThan(0n);
    expect(result.intervals.every((i) => i.gas > 0n)).toBe(true);
    expect(result.intervals[0]?.localTime).toBe("2026-06-01T00:00");
  });

  it("conserves energy: every metered Wh is sold to a neighbour or to the grid, every imported Wh bought from one", () => {
    for (const i of result.intervals) {
      expect(i.tradedWh + i.toGridWh).toBe(i.exportWh);
      expect(i.tradedWh + i.fromGridWh).toBe(i.importWh);
    }
    const h = result.households;
    expect(sum(h, (x) => x.soldLocalWh)).toBe(result.community.tradedWh);
    expect(sum(h, (x) => x.boughtLocalWh)).toBe(result.community.tradedWh);
    for (const x of h) {
      expect(x.soldLocalWh + x.soldGridWh).toBe(x.exportWh);
      expect(x.boughtLocalWh + x.boughtGridWh).toBe(x.importWh);
    }
  });

  it("prices every trade between feed-in and retail, and the savings add up", () => {
    for (const i of result.intervals.filter((x) => x.tradedWh > 0n)) {
      expect(i.priceMicroPerKwh).toBeGreaterThanOrEqual(80_000n);
      expect(i.priceMicroPerKwh).toBeLessThanOrEqual(250_000n);
    }
    const c = result.community;
    expect(c.savingsMicro).toBe(sum(result.households, (x) => x.savingsMicro));
    expect(c.savingsMicro).toBe(c.gridOnlyBillMicro - c.netCostMicro);
  });

  it("uses the measured profile, the car and the batteries", () => {
    const [bakery, battery, car] = result.households;
    expect(bakery?.consumptionWh).toBe(7n * 1500n + 17n * 300n);
    expect(bakery?.productionWh).toBe(5n * 2000n);
    expect(car?.hasEv).toBe(true);
    expect(car?.consumptionWh).toBeGreaterThan(8_000n); // the car's 8 kWh on top of the home
    expect(battery?.batteryKwh).toBe(6);
    expect(result.intervals.some((i) => i.batteryStoredWh > 0n)).toBe(true);
    // Behind-the-meter storage: what the homes metered differs from production − consumption by the
    // batteries' charge and losses only.
    const net = result.community.productionWh - result.community.consumptionWh;
    const metered = result.community.exportWh - result.community.importWh;
    expect(net - metered).toBeGreaterThanOrEqual(result.intervals.at(-1)?.batteryStoredWh ?? 0n);
  });

  it("enforces the zone's export cap and reports when it bound", () => {
    const bound = result.intervals.filter((i) => i.boundZones.includes(2));
    expect(bound.length).toBeGreaterThan(0);
    expect(result.intervals.every((i) => i.boundZones.every((z) => z === 2))).toBe(true);
  });

  it("stops when asked to, before the next interval, and leaves no temporary chain behind", async () => {
    const controller = new AbortController();
    // A temporary directory of its own, so that the check sees only this run's chain.
    const own = await mkdtemp(join(tmpdir(), "peergrid-simulate-abort-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = own;
    try {
      const run = simulate(await loadScenario(file), {
        signal: controller.signal,
        onProgress: ({ done }) => {
          if (done === 3) controller.abort();
        },
      });
      await expect(run).rejects.toThrow(/interrupted after 3 of 24 intervals; nothing was written/);
      expect(await readdir(own)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await rm(own, { recursive: true, force: true });
    }
  }, 60_000);

  it("gives the same result, byte for byte, for the same scenario", async () => {
    const again = await simulate(await loadScenario(file));
    expect(summaryJson(again)).toBe(summaryJson(result));
    expect(again.intervals).toEqual(result.intervals);
  }, 120_000);

  it("gives the same result when it moves to a new chain every 10 intervals", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "peergrid-simulate-chains-"));
    try {
      const split = await simulate(await loadScenario(file), { intervalsPerChain: 10, dataDir });
      expect((await readdir(dataDir)).sort()).toEqual(["chain-1", "chain-2", "chain-3"]);
      expect(summaryJson(split)).toBe(summaryJson(result));
      expect(split.intervals).toEqual(result.intervals);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
