import { describe, expect, it } from "vitest";
import { createHouseholds, DEFAULT_LOCATION, householdLoadWattsAt, householdPvWattsAt } from "./household.ts";

const utc = (y: number, m: number, d: number, h = 0, min = 0): number => Date.UTC(y, m - 1, d, h, min) / 1000;

describe("createHouseholds", () => {
  it("is deterministic: same seed, same homes", () => {
    expect(createHouseholds({ seed: "demo", count: 12 })).toEqual(createHouseholds({ seed: "demo", count: 12 }));
  });

  it("gives different homes for different seeds", () => {
    const a = createHouseholds({ seed: "demo", count: 12 });
    const b = createHouseholds({ seed: "demo-2", count: 12 });
    expect(a.map((h) => h.annualKwh)).not.toEqual(b.map((h) => h.annualKwh));
    expect(a.map((h) => h.pvKwp)).not.toEqual(b.map((h) => h.pvKwp));
  });

  it("names homes 'House 01' … and keeps index order", () => {
    const homes = createHouseholds({ seed: "demo", count: 12 });
    expect(homes.map((h) => h.index)).toEqual([...Array(12).keys()]);
    expect(homes[0]?.name).toBe("House 01");
    expect(homes[6]?.name).toBe("House 07");
    expect(homes[11]?.name).toBe("House 12");
  });

  it("leaves about a quarter of homes without PV, at least 3 once there are 12 or more", () => {
    const noPv = (count: number, seed = "demo"): number => createHouseholds({ seed, count }).filter((h) => h.pvKwp === 0).length;
    expect(noPv(4)).toBe(1);
    expect(noPv(12)).toBe(3);
    expect(noPv(13)).toBe(3);
    expect(noPv(20)).toBe(5);
    expect(noPv(40)).toBe(10);
    for (const seed of ["a", "b", "c", "d"]) expect(noPv(12, seed)).toBe(3);
    expect(noPv(0)).toBe(0);
  });

  it("keeps every parameter inside its documented range", () => {
    for (const seed of ["a", "b", "c"]) {
      for (const h of createHouseholds({ seed, count: 60 })) {
        if (h.pvKwp !== 0) {
          expect(h.pvKwp).toBeGreaterThanOrEqual(3);
          expect(h.pvKwp).toBeLessThanOrEqual(10);
        }
        expect(h.annualKwh).toBeGreaterThanOrEqual(2000);
        expect(h.annualKwh).toBeLessThanOrEqual(7000);
        expect(Number.isInteger(h.shiftMinutes)).toBe(true);
        expect(Math.abs(h.shiftMinutes)).toBeLessThanOrEqual(30);
        expect(h.tiltDeg).toBeGreaterThanOrEqual(20);
        expect(h.tiltDeg).toBeLessThanOrEqual(45);
        expect(h.azimuthDeg).toBeGreaterThanOrEqual(90);
        expect(h.azimuthDeg).toBeLessThanOrEqual(270);
        expect(h.performanceRatio).toBeGreaterThanOrEqual(0.8);
        expect(h.performanceRatio).toBeLessThanOrEqual(0.9);
        expect(h.weatherSeed).toBe(seed);
      }
    }
  });

  it("draws annual consumption lognormally around 3,500 kWh", () => {
    const kwh = createHouseholds({ seed: "population", count: 1000 })
      .map((h) => h.annualKwh)
      .sort((a, b) => a - b);
    const median = kwh[500] ?? 0;
    const mean = kwh.reduce((a, b) => a + b, 0) / kwh.length;
    expect(median).toBeGreaterThan(3200);
    expect(median).toBeLessThan(3600);
    expect(mean).toBeGreaterThan(3350);
    expect(mean).toBeLessThan(3750);
    expect(kwh[100]).toBeLessThan(2800); // a real spread, not a constant
    expect(kwh[900]).toBeGreaterThan(4300);
  });

  it("defaults to a central-European town and accepts another location", () => {
    const [home] = createHouseholds({ seed: "demo", count: 1 });
    expect(home?.latitudeDeg).toBe(DEFAULT_LOCATION.latitude);
    expect(home?.longitudeDeg).toBe(DEFAULT_LOCATION.longitude);
    const [elsewhere] = createHouseholds({
      seed: "demo",
      count: 1,
      latitude: 52.5,
      longitude: 13.4,
    });
    expect([elsewhere?.latitudeDeg, elsewhere?.longitudeDeg]).toEqual([52.5, 13.4]);
  });

  it("rejects a bad count", () => {
    expect(() => createHouseholds({ seed: "x", count: -1 })).toThrow(RangeError);
    expect(() => createHouseholds({ seed: "x", count: 2.5 })).toThrow(RangeError);
  });
});

describe("household power", () => {
  const homes = createHouseholds({ seed: "demo", count: 12 });

  it("load is positive and a pure function of (home, time)", () => {
    const times = Array.from({ length: 50 }, (_, i) => utc(2025, 3, 1) + i * 7919);
    for (const home of homes) {
      const first = times.map((t) => householdLoadWattsAt(home, t));
      const again = [...times]
        .reverse()
        .map((t) => householdLoadWattsAt(home, t))
        .reverse();
      expect(again).toEqual(first);
      for (const w of first) expect(w).toBeGreaterThan(0);
    }
  });

  it("homes differ from each other at the same moment", () => {
    const t = utc(2025, 1, 8, 18);
    expect(new Set(homes.map((h) => householdLoadWattsAt(h, t))).size).toBe(homes.length);
  });

  it("the community's winter-workday load peaks in the evening, after 17:00", () => {
    // Sum over all homes and the 22 January 2025 workdays: shifts and noise average out.
    const byQuarterHour = new Array<number>(96).fill(0);
    for (let day = 1; day <= 31; day++) {
      const weekday = new Date(Date.UTC(2025, 0, day)).getUTCDay();
      if (weekday === 0 || weekday === 6) continue;
      const midnight = utc(2025, 1, day) - 3600; // local midnight (CET)
      for (let q = 0; q < 96; q++) {
        for (const home of homes)
          byQuarterHour[q] = (byQuarterHour[q] ?? 0) + householdLoadWattsAt(home, midnight + q * 900 + 450);
      }
    }
    const peak = byQuarterHour.indexOf(Math.max(...byQuarterHour));
    expect(peak / 4).toBeGreaterThanOrEqual(17);
    expect(peak / 4).toBeLessThan(21.5);
  });

  it("PV is zero for homes without PV and at night, positive for PV homes at a June noon", () => {
    const noon = utc(2025, 6, 21, 11);
    for (const home of homes) {
      expect(householdPvWattsAt(home, utc(2025, 6, 21, 23))).toBe(0);
      if (home.pvKwp === 0) expect(householdPvWattsAt(home, noon)).toBe(0);
      else expect(householdPvWattsAt(home, noon)).toBeGreaterThan(0);
    }
  });
});
