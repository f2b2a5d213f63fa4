import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createHouseholds, type HouseholdProfile } from "./household.ts";
import { householdIntervalWh, type IntervalEnergyWh } from "./meterReading.ts";
import { skyStateOnDay } from "./solar.ts";

const DAY = 86_400;
const utc = (y: number, m: number, d: number, h = 0, min = 0): number => Date.UTC(y, m - 1, d, h, min) / 1000;
const homes = createHouseholds({ seed: "demo", count: 12 });
const pvHomes = homes.filter((h) => h.pvKwp > 0);
const noPvHomes = homes.filter((h) => h.pvKwp === 0);

/** Sum of 15-minute readings over [from, to). */
function total(home: HouseholdProfile, from: number, to: number): Record<keyof IntervalEnergyWh, bigint> {
  const sum = {
    productionWh: 0n,
    consumptionWh: 0n,
    exportWh: 0n,
    importWh: 0n,
  };
  for (let t = from; t < to; t += 900) {
    const r = householdIntervalWh(home, t, 900);
    sum.productionWh += r.productionWh;
    sum.consumptionWh += r.consumptionWh;
    sum.exportWh += r.exportWh;
    sum.importWh += r.importWh;
  }
  return sum;
}

/** First day in [from, from + 60 d) whose sky is sunny for this community. */
function firstSunnyDay(seed: string, from: number): number {
  for (let d = Math.floor(from / DAY); d < Math.floor(from / DAY) + 60; d++) if (skyStateOnDay(seed, d) === "sunny") return d;
  throw new Error("no sunny day found");
}

describe("householdIntervalWh", () => {
  it("returns whole Wh as bigint", () => {
    const r = householdIntervalWh(homes[0] as HouseholdProfile, utc(2025, 6, 21, 10), 900);
    for (const v of Object.values(r)) expect(typeof v).toBe("bigint");
  });

  it("matches the JSDoc example", () => {
    const [home] = createHouseholds({ seed: "demo", count: 1 });
    expect(householdIntervalWh(home as HouseholdProfile, utc(2025, 6, 21, 10), 900)).toEqual({
      productionWh: 1547n,
      consumptionWh: 240n,
      exportWh: 1307n,
      importWh: 0n,
    });
  });

  it("is a pure function: same inputs, same output, whatever was called before", () => {
    const queries = homes.flatMap((home) =>
      [0, 1, 2, 3, 4].map((i) => ({
        home,
        t: utc(2025, 5, 3) + i * 21_600 + home.index * 900,
      })),
    );
    const first = queries.map(({ home, t }) => householdIntervalWh(home, t, 900));
    // Interleave unrelated calls, then ask again in reverse order, from freshly created (equal) profiles.
    for (let i = 0; i < 100; i++) householdIntervalWh(homes[i % 12] as HouseholdProfile, utc(2030, 1, 1) + i * 613, 300);
    const fresh = createHouseholds({ seed: "demo", count: 12 });
    const second = [...queries]
      .reverse()
      .map(({ home, t }) => householdIntervalWh(fresh[home.index] as HouseholdProfile, t, 900));
    expect(second.reverse()).toEqual(first);
  });

  it("different community seeds give different readings", () => {
    const other = createHouseholds({ seed: "demo-2", count: 12 });
    const t = utc(2025, 1, 8, 17);
    expect(other.map((h) => householdIntervalWh(h, t, 900).consumptionWh)).not.toEqual(
      homes.map((h) => householdIntervalWh(h, t, 900).consumptionWh),
    );
  });

  it("is additive: three 5-minute readings equal one 15-minute reading, up to rounding", () => {
    for (const home of homes) {
      for (const t of [utc(2025, 6, 21, 10), utc(2025, 1, 8, 18, 15)]) {
        const whole = householdIntervalWh(home, t, 900);
        const parts = [0, 300, 600].map((s) => householdIntervalWh(home, t + s, 300));
        const sum = (k: "productionWh" | "consumptionWh"): bigint => parts.reduce((a, r) => a + r[k], 0n);
        expect(Math.abs(Number(sum("productionWh") - whole.productionWh))).toBeLessThanOrEqual(2);
        expect(Math.abs(Number(sum("consumptionWh") - whole.consumptionWh))).toBeLessThanOrEqual(2);
      }
    }
  });

  it("produces exactly 0 Wh at night", () => {
    for (const home of pvHomes) {
      // 00:00–03:00 CEST on 21 June and 18:00–06:00 CET around the December solstice.
      for (let t = utc(2025, 6, 20, 22); t < utc(2025, 6, 21, 1); t += 900) {
        expect(householdIntervalWh(home, t, 900).productionWh).toBe(0n);
      }
      for (let t = utc(2025, 12, 21, 17); t < utc(2025, 12, 22, 5); t += 900) {
        expect(householdIntervalWh(home, t, 900).productionWh).toBe(0n);
      }
    }
  });

  it("a PV home exports at a sunny summer noon", () => {
    const day = firstSunnyDay("demo", utc(2025, 6, 10));
    for (const home of pvHomes) {
      const r = householdIntervalWh(home, day * DAY + 11 * 3600, 900); // 13:00 CEST
      expect(r.exportWh).toBeGreaterThan(0n);
      expect(r.importWh).toBe(0n);
    }
  });

  it("a home without PV never produces or exports (a whole year)", () => {
    for (const home of noPvHomes) {
      const sum = total(home, utc(2025, 1, 1), utc(2026, 1, 1));
      expect(sum.productionWh).toBe(0n);
      expect(sum.exportWh).toBe(0n);
      expect(sum.importWh).toBe(sum.consumptionWh);
    }
  });

  it("never has export and import both > 0; export − import = production − consumption", () => {
    for (const home of homes) {
      for (let t = utc(2025, 4, 14); t < utc(2025, 4, 21); t += 900) {
        const r = householdIntervalWh(home, t, 900);
        expect(r.exportWh > 0n && r.importWh > 0n).toBe(false);
        expect(r.exportWh - r.importWh).toBe(r.productionWh - r.consumptionWh);
      }
    }
  });

  it("a 3,500 kWh home consumes 3,500 kWh ± 5 % over a year, per-home noise and shift included", () => {
    const home = { ...(homes[3] as HouseholdProfile), annualKwh: 3500 };
    const kwh = Number(total(home, utc(2025, 1, 1), utc(2026, 1, 1)).consumptionWh) / 1000;
    expect(kwh).toBeGreaterThan(3500 * 0.95);
    expect(kwh).toBeLessThan(3500 * 1.05);
  });

  it("PV homes yield 900–1,250 kWh/kWp over a simulated year", () => {
    for (const home of pvHomes.slice(0, 3)) {
      const kwhPerKwp = Number(total(home, utc(2025, 1, 1), utc(2026, 1, 1)).productionWh) / 1000 / home.pvKwp;
      expect(kwhPerKwp).toBeGreaterThan(900);
      expect(kwhPerKwp).toBeLessThan(1250);
    }
  });

  it("a sunny June day: a PV home produces far more than it consumes, and still imports at night", () => {
    const day = firstSunnyDay("demo", utc(2025, 6, 10));
    const home = pvHomes[0] as HouseholdProfile;
    const sum = total(home, day * DAY - 2 * 3600, day * DAY + 22 * 3600); // local (CEST) midnight to midnight
    const producedKwh = Number(sum.productionWh) / 1000;
    const consumedKwh = Number(sum.consumptionWh) / 1000;
    expect(producedKwh / home.pvKwp).toBeGreaterThan(5); // ≥ 5 kWh/kWp on a clear late-spring/summer day
    expect(producedKwh / home.pvKwp).toBeLessThan(7.5);
    expect(consumedKwh).toBeGreaterThan((home.annualKwh / 365) * 0.4);
    expect(consumedKwh).toBeLessThan((home.annualKwh / 365) * 1.6);
    expect(sum.exportWh).toBeGreaterThan(0n);
    expect(sum.importWh).toBeGreaterThan(0n);
  });

  it("rejects a non-positive or non-finite interval", () => {
    const home = homes[0] as HouseholdProfile;
    expect(() => householdIntervalWh(home, 0, 0)).toThrow(RangeError);
    expect(() => householdIntervalWh(home, 0, -900)).toThrow(RangeError);
    expect(() => householdIntervalWh(home, 0, Number.NaN)).toThrow(RangeError);
    expect(() => householdIntervalWh(home, Number.POSITIVE_INFINITY, 900)).toThrow(RangeError);
  });

  it("property: export/import are non-negative bigints, never both positive, and net to production − consumption", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: utc(2020, 1, 1), max: utc(2035, 12, 31) }),
        fc.constantFrom(60, 300, 900, 3600),
        (seed, index, startAt, intervalSeconds) => {
          const home = createHouseholds({ seed, count: 16 })[index] as HouseholdProfile;
          const r = householdIntervalWh(home, startAt, intervalSeconds);
          for (const v of [r.productionWh, r.consumptionWh, r.exportWh, r.importWh]) {
            expect(typeof v).toBe("bigint");
            expect(v >= 0n).toBe(true);
          }
          expect(r.exportWh > 0n && r.importWh > 0n).toBe(false);
          expect(r.exportWh - r.importWh).toBe(r.productionWh - r.consumptionWh);
          expect(householdIntervalWh(home, startAt, intervalSeconds)).toEqual(r);
        },
      ),
      { numRuns: 300 },
    );
  });
});
