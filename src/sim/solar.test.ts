import { describe, expect, it } from "vitest";
import {
  clearSkyIndexAt,
  erbsDiffuseFraction,
  haurwitzGhi,
  planeOfArrayIrradiance,
  pvAcWatts,
  SKY_CLIMATOLOGY,
  type SkyState,
  skyStateOnDay,
  solarPosition,
} from "./solar.ts";

const LAT = 48.1;
const LON = 11.6;
const DAY = 86_400;
const utc = (y: number, m: number, d: number, h = 0, min = 0): number => Date.UTC(y, m - 1, d, h, min) / 1000;
const dayNumber = (t: number): number => Math.floor(t / DAY);
const south = {
  kWp: 1,
  tiltDeg: 35,
  azimuthDeg: 180,
  latitudeDeg: LAT,
  longitudeDeg: LON,
};

/** kWh produced over [from, to) by midpoint sampling every `step` seconds. */
function energyKwh(watts: (t: number) => number, from: number, to: number, step = 300): number {
  let wh = 0;
  for (let t = from; t < to; t += step) wh += (watts(t + step / 2) * step) / 3600;
  return wh / 1000;
}

/** Local solar noon in UTC seconds, found by maximising cos θz over the day. */
function solarNoon(day: number): number {
  let best = day * DAY;
  for (let t = day * DAY; t < (day + 1) * DAY; t += 60) {
    if (solarPosition(t, LAT, LON).cosZenith > solarPosition(best, LAT, LON).cosZenith) best = t;
  }
  return best;
}

describe("solarPosition", () => {
  it("puts the June-solstice noon sun ≈ 24.7° from the zenith (φ − δ), due south", () => {
    const noon = solarNoon(dayNumber(utc(2025, 6, 21)));
    const p = solarPosition(noon, LAT, LON);
    expect(Math.acos(p.cosZenith) / (Math.PI / 180)).toBeCloseTo(LAT - 23.45, 0);
    expect(Math.abs(p.azimuthDeg - 180)).toBeLessThan(1);
    // Solar noon at 11.6° E in June is ≈ 11:13 UTC (−46 min for longitude, +1–2 min equation of time).
    const minutes = (noon - utc(2025, 6, 21)) / 60;
    expect(Math.abs(minutes - (12 * 60 - 46.4 + 1.7))).toBeLessThan(3);
  });

  it("puts the December-solstice noon sun ≈ 71.5° from the zenith", () => {
    const p = solarPosition(solarNoon(dayNumber(utc(2025, 12, 21))), LAT, LON);
    expect(Math.acos(p.cosZenith) / (Math.PI / 180)).toBeCloseTo(LAT + 23.45, 0);
  });

  it("returns a unit sun vector; the sun is east in the morning and west in the afternoon", () => {
    const morning = solarPosition(utc(2025, 6, 21, 5), LAT, LON);
    const afternoon = solarPosition(utc(2025, 6, 21, 16), LAT, LON);
    for (const p of [morning, afternoon]) expect(Math.hypot(p.east, p.north, p.up)).toBeCloseTo(1, 12);
    expect(morning.azimuthDeg).toBeGreaterThan(45);
    expect(morning.azimuthDeg).toBeLessThan(135);
    expect(afternoon.azimuthDeg).toBeGreaterThan(225);
    expect(afternoon.azimuthDeg).toBeLessThan(315);
  });

  it("has extraterrestrial irradiance 1361 W/m² ± 3.4 %, highest in January (perihelion)", () => {
    const jan = solarPosition(utc(2025, 1, 3, 12), LAT, LON).extraterrestrialWm2;
    const jul = solarPosition(utc(2025, 7, 4, 12), LAT, LON).extraterrestrialWm2;
    expect(jan).toBeGreaterThan(1400);
    expect(jan).toBeLessThan(1412);
    expect(jul).toBeGreaterThan(1312);
    expect(jul).toBeLessThan(1322);
  });
});

describe("clear-sky irradiance and plane of array", () => {
  it("Haurwitz GHI is 0 with the sun down and ≈ 935 W/m² at a June noon", () => {
    expect(haurwitzGhi(0)).toBe(0);
    expect(haurwitzGhi(-0.5)).toBe(0);
    const noon = solarPosition(solarNoon(dayNumber(utc(2025, 6, 21))), LAT, LON);
    expect(haurwitzGhi(noon.cosZenith)).toBeGreaterThan(900);
    expect(haurwitzGhi(noon.cosZenith)).toBeLessThan(960);
  });

  it("Erbs diffuse fraction stays in [0.16, 1], falls with clearness, and is nearly continuous at its breakpoints", () => {
    let previous = Number.POSITIVE_INFINITY;
    for (let kt = 0; kt <= 1; kt += 0.01) {
      const fd = erbsDiffuseFraction(kt);
      expect(fd).toBeGreaterThanOrEqual(0.16); // the quartic dips to 0.1646 just below k_t = 0.8
      expect(fd).toBeLessThanOrEqual(1);
      expect(fd).toBeLessThanOrEqual(previous + 0.03); // a small bump near kt ≈ 0.2 is part of the published fit
      previous = fd;
    }
    expect(Math.abs(erbsDiffuseFraction(0.22) - erbsDiffuseFraction(0.2201))).toBeLessThan(0.01);
    expect(Math.abs(erbsDiffuseFraction(0.8) - erbsDiffuseFraction(0.8001))).toBeLessThan(0.01);
  });

  it("a south-tilted panel catches more than a flat one at a winter noon; a north-facing one less", () => {
    const sun = solarPosition(solarNoon(dayNumber(utc(2025, 1, 15))), LAT, LON);
    const ghi = haurwitzGhi(sun.cosZenith);
    const flat = planeOfArrayIrradiance(sun, ghi, {
      tiltDeg: 0,
      azimuthDeg: 180,
    });
    expect(flat).toBeCloseTo(ghi, 6); // tilt 0: POA = GHI exactly
    expect(planeOfArrayIrradiance(sun, ghi, { tiltDeg: 35, azimuthDeg: 180 })).toBeGreaterThan(1.5 * flat);
    expect(planeOfArrayIrradiance(sun, ghi, { tiltDeg: 35, azimuthDeg: 0 })).toBeLessThan(flat);
  });

  it("under overcast light (k_c 0.25) a tilted panel sees mostly diffuse light: orientation matters little", () => {
    const sun = solarPosition(utc(2025, 6, 21, 11), LAT, LON);
    const ghi = 0.25 * haurwitzGhi(sun.cosZenith);
    const southPoa = planeOfArrayIrradiance(sun, ghi, {
      tiltDeg: 35,
      azimuthDeg: 180,
    });
    const northPoa = planeOfArrayIrradiance(sun, ghi, {
      tiltDeg: 35,
      azimuthDeg: 0,
    });
    expect(northPoa / southPoa).toBeGreaterThan(0.75);
  });
});

describe("pvAcWatts", () => {
  it("is exactly zero all night and for a home without PV", () => {
    const night = utc(2025, 6, 21, 20, 30); // 22:30 CEST, after sunset
    for (let t = night; t < utc(2025, 6, 22, 2, 30); t += 60) {
      expect(pvAcWatts({ ...south, kWp: 8 }, t, 1)).toBe(0);
    }
    for (let t = utc(2025, 12, 21, 17); t < utc(2025, 12, 22, 6); t += 60) {
      expect(pvAcWatts({ ...south, kWp: 8 }, t, 1)).toBe(0);
    }
    expect(pvAcWatts({ ...south, kWp: 0 }, utc(2025, 6, 21, 11), 1)).toBe(0);
  });

  it("never exceeds the DC rating and never goes negative", () => {
    for (let t = utc(2025, 1, 1); t < utc(2026, 1, 1); t += 3 * 3600 + 17 * 60) {
      const w = pvAcWatts({ ...south, kWp: 5 }, t, 1);
      expect(w).toBeGreaterThanOrEqual(0);
      expect(w).toBeLessThanOrEqual(5000);
    }
  });

  it("a 5 kWp south array yields 25–37.5 kWh (5–7.5 kWh/kWp) on a clear June-solstice day", () => {
    // Clear-sky POA at 48° N, 35° south, in late June is ≈ 8 kWh/m²; × PR 0.85 ≈ 6.8 kWh/kWp.
    const kwh = energyKwh((t) => pvAcWatts({ ...south, kWp: 5 }, t, 1), utc(2025, 6, 21), utc(2025, 6, 22), 60);
    expect(kwh).toBeGreaterThan(25);
    expect(kwh).toBeLessThan(37.5);
  });

  it("a clear December day yields far less: 0.8–3 kWh/kWp", () => {
    const kwh = energyKwh((t) => pvAcWatts(south, t, 1), utc(2025, 12, 21), utc(2025, 12, 22), 60);
    expect(kwh).toBeGreaterThan(0.8);
    expect(kwh).toBeLessThan(3);
  });

  it("yields 900–1,250 kWh/kWp over a simulated year (southern Germany, south-facing)", () => {
    for (const seed of ["community-1", "demo", "x"]) {
      const kwh = energyKwh((t) => pvAcWatts(south, t, clearSkyIndexAt(seed, t)), utc(2025, 1, 1), utc(2026, 1, 1), 900);
      expect(kwh).toBeGreaterThan(900);
      expect(kwh).toBeLessThan(1250);
    }
  });
});

describe("sky model", () => {
  const firstDay = dayNumber(utc(2000, 1, 1));

  it("is deterministic and independent of query order", () => {
    const days = Array.from({ length: 200 }, (_, i) => firstDay + 9000 + i);
    const forward = days.map((d) => skyStateOnDay("w", d));
    const backward = [...days]
      .reverse()
      .map((d) => skyStateOnDay("w", d))
      .reverse();
    expect(backward).toEqual(forward);
    const other = days.map((d) => skyStateOnDay("w2", d));
    expect(other).not.toEqual(forward);
  });

  it("follows the monthly climatology and persists from day to day", () => {
    const counts: Record<SkyState, number[]> = {
      sunny: new Array<number>(12).fill(0),
      partlyCloudy: new Array<number>(12).fill(0),
      overcast: new Array<number>(12).fill(0),
    };
    const perMonth = new Array<number>(12).fill(0);
    let same = 0;
    let previous: SkyState | undefined;
    const n = 365 * 40;
    for (let d = firstDay; d < firstDay + n; d++) {
      const state = skyStateOnDay("climate", d);
      const month = new Date(d * DAY * 1000).getUTCMonth();
      (counts[state][month] as number) += 1;
      perMonth[month] = (perMonth[month] ?? 0) + 1;
      if (state === previous) same += 1;
      previous = state;
    }
    for (let m = 0; m < 12; m++) {
      const [pSunny, , pOvercast] = SKY_CLIMATOLOGY[m] ?? [0, 0, 0];
      const total = perMonth[m] ?? 1;
      expect(Math.abs((counts.sunny[m] ?? 0) / total - pSunny)).toBeLessThan(0.06);
      expect(Math.abs((counts.overcast[m] ?? 0) / total - pOvercast)).toBeLessThan(0.06);
    }
    // Without persistence, P(same as yesterday) would be Σp² ≈ 0.36; with 0.5 persistence ≈ 0.68.
    expect(same / n).toBeGreaterThan(0.6);
    expect(same / n).toBeLessThan(0.76);
  });

  it("clear-sky index: constant ≥ 0.9 on sunny days, ≤ 0.35 on overcast days, varying on partly cloudy days", () => {
    const seen = new Set<SkyState>();
    for (let d = firstDay + 9000; d < firstDay + 9100; d++) {
      const state = skyStateOnDay("w", d);
      seen.add(state);
      const values = Array.from({ length: 48 }, (_, i) => clearSkyIndexAt("w", d * DAY + i * 1800));
      for (const k of values) {
        expect(k).toBeGreaterThanOrEqual(0.1);
        expect(k).toBeLessThanOrEqual(1);
      }
      const spread = Math.max(...values) - Math.min(...values);
      if (state === "sunny") {
        expect(Math.min(...values)).toBeGreaterThanOrEqual(0.9);
        expect(spread).toBe(0);
      } else if (state === "overcast") {
        expect(Math.max(...values)).toBeLessThanOrEqual(0.35);
        expect(spread).toBe(0);
      } else {
        expect(spread).toBeGreaterThan(0.2);
      }
    }
    expect(seen.size).toBe(3);
  });
});
