/**
 * The households of a simulated community: deterministic per-home parameters
 * and each home's instantaneous load and PV power.
 */
import { loadWattsAt } from "./loadProfile.ts";
import { centralEuropeanUtcOffsetMinutes } from "./localTime.ts";
import { createRandom, hashNormal, type Seed } from "./random.ts";
import { clearSkyIndexAt, pvAcWatts } from "./solar.ts";
import { utcOffsetMinutesIn } from "./timeZone.ts";

/**
 * One simulated home. Plain data: safe to serialise.
 *
 * @example
 * const home: HouseholdProfile | undefined = createHouseholds({ seed: "demo", count: 12 })[6];
 * home?.name; // "House 07"
 */
export interface HouseholdProfile {
  /** Position in the community, 0-based. */
  readonly index: number;
  /** Display name, "House 01" for index 0. */
  readonly name: string;
  /** This home's own seed (load noise). */
  readonly seed: string;
  /** The community's seed: every home in a community shares the same sky. */
  readonly weatherSeed: string;
  /** Annual consumption, kWh. */
  readonly annualKwh: number;
  /** PV peak power, kWp; 0 means no PV. */
  readonly pvKwp: number;
  /** Roof tilt, degrees from horizontal. */
  readonly tiltDeg: number;
  /** Roof azimuth, degrees clockwise from north (180 = south). */
  readonly azimuthDeg: number;
  /** PV performance ratio. */
  readonly performanceRatio: number;
  /** The home's daily routine runs this many minutes later (negative: earlier) than the H25 profile. */
  readonly shiftMinutes: number;
  /** σ of the mean-preserving lognormal load noise applied per quarter-hour. */
  readonly loadNoiseSigma: number;
  readonly latitudeDeg: number;
  readonly longitudeDeg: number;
  /** IANA time zone the home's daily routine follows; absent: central-European time. */
  readonly timeZone?: string;
}

/**
 * Options for `createHouseholds`.
 *
 * @example
 * const options: CreateHouseholdsOptions = { seed: "demo", count: 12, latitude: 52.5, longitude: 13.4 };
 */
export interface CreateHouseholdsOptions {
  /** Community seed: the same seed always gives the same households and weather. */
  readonly seed: Seed;
  /** Number of homes. */
  readonly count: number;
  /** Latitude, degrees north; default 48.1 (a central-European town). */
  readonly latitude?: number;
  /** Longitude, degrees east; default 11.6. */
  readonly longitude?: number;
  /** IANA time zone of the homes' routines; default central-European time. */
  readonly timeZone?: string;
  /** Share of homes with PV, 0…1; default about three quarters (at least 3 homes without once there are 12). */
  readonly pvShare?: number;
  /** PV size range, kWp; default 3–10. */
  readonly pvKwp?: { readonly min: number; readonly max: number };
  /** Lognormal annual consumption, kWh: median and σ; default 3,400 and 0.3. */
  readonly annualKwh?: { readonly median: number; readonly sigma: number };
}

/**
 * Default location: a town in southern Germany (UTC+1, summer time UTC+2).
 *
 * @example
 * createHouseholds({ seed: "demo", count: 1 })[0]?.latitudeDeg === DEFAULT_LOCATION.latitude; // true
 */
export const DEFAULT_LOCATION = { latitude: 48.1, longitude: 11.6 } as const;

/**
 * Load noise σ per quarter-hour (a single home is far spikier than the H25 aggregate).
 *
 * @example
 * createHouseholds({ seed: "demo", count: 1 })[0]?.loadNoiseSigma; // 0.35
 */
export const LOAD_NOISE_SIGMA = 0.35;

/**
 * Seconds over which one load-noise factor holds.
 *
 * @example
 * const slot = Math.floor(unixSeconds / LOAD_NOISE_SLOT_SECONDS); // one noise factor per quarter-hour
 */
export const LOAD_NOISE_SLOT_SECONDS = 900;

/** Number of homes without PV: about a quarter, at least 3 once there are 12 or more homes. */
function noPvCount(count: number): number {
  const quarter = Math.round(count / 4);
  return count >= 12 ? Math.max(3, quarter) : quarter;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/**
 * Create a community's households, deterministically from the seed.
 * - About a quarter have no PV (`pvKwp` 0; at least 3 when count ≥ 12), the
 *   others 3–10 kWp (uniform, 0.1 kWp steps) on a 20–45° roof facing
 *   south ± ~35° (clamped to east…west).
 * - Annual consumption lognormal, median 3,400 kWh, σ 0.3 (mean ≈ 3,550),
 *   clamped to 2,000–7,000 kWh (the same ratios to another median), rounded to 10 kWh.
 * - `pvShare`, `pvKwp` and `annualKwh` change these defaults.
 * - A daily-routine shift of −30…+30 minutes; performance ratio 0.80–0.90.
 *
 * @example
 * const homes = createHouseholds({ seed: "demo", count: 12 });
 * homes[6]?.name; // "House 07"
 * homes.filter((h) => h.pvKwp === 0).length; // 3
 */
export function createHouseholds(options: CreateHouseholdsOptions): HouseholdProfile[] {
  const { seed, count } = options;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const latitudeDeg = options.latitude ?? DEFAULT_LOCATION.latitude;
  const longitudeDeg = options.longitude ?? DEFAULT_LOCATION.longitude;
  const weatherSeed = String(seed);

  // Choose the homes without PV: a seeded Fisher–Yates shuffle of the indices.
  const order = Array.from({ length: count }, (_, i) => i);
  const shuffle = createRandom(seed).fork("no-pv");
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(shuffle.next() * (i + 1));
    const a = order[i] as number;
    order[i] = order[j] as number;
    order[j] = a;
  }
  const withoutPvCount = options.pvShare === undefined ? noPvCount(count) : Math.round(count * (1 - options.pvShare));
  const withoutPv = new Set(order.slice(0, withoutPvCount));
  const pv = options.pvKwp ?? { min: 3, max: 10 };
  const annual = options.annualKwh ?? { median: 3400, sigma: 0.3 };

  return Array.from({ length: count }, (_, index): HouseholdProfile => {
    const houseSeed = `${weatherSeed}/house/${index}`;
    const rng = createRandom(houseSeed);
    const annualKwh =
      Math.round(
        clamp(annual.median * Math.exp(annual.sigma * rng.normal()), (annual.median * 20) / 34, (annual.median * 70) / 34) / 10,
      ) * 10;
    const kWp = Math.round((pv.min + (pv.max - pv.min) * rng.next()) * 10) / 10;
    const tiltDeg = Math.round(20 + 25 * rng.next());
    const azimuthDeg = Math.round(clamp(180 + 35 * rng.normal(), 90, 270));
    const performanceRatio = Math.round((0.8 + 0.1 * rng.next()) * 1000) / 1000;
    const shiftMinutes = Math.floor(rng.next() * 61) - 30;
    return {
      index,
      name: `House ${String(index + 1).padStart(2, "0")}`,
      seed: houseSeed,
      weatherSeed,
      annualKwh,
      pvKwp: withoutPv.has(index) ? 0 : kWp,
      tiltDeg,
      azimuthDeg,
      performanceRatio,
      shiftMinutes,
      loadNoiseSigma: LOAD_NOISE_SIGMA,
      latitudeDeg,
      longitudeDeg,
      ...(options.timeZone ? { timeZone: options.timeZone } : {}),
    };
  });
}

/**
 * A home's consumption in W at a moment: the H25 profile for its annual kWh,
 * at local (central-European) time shifted by `shiftMinutes`, times a
 * mean-preserving lognormal factor exp(σz − σ²/2), where z is derived from
 * (home seed, quarter-hour) by hashing — a pure function of (profile, time).
 *
 * @example
 * const [home] = createHouseholds({ seed: "demo", count: 1 });
 * if (home) householdLoadWattsAt(home, Date.UTC(2025, 0, 8, 18) / 1000); // ≈ 1,600 W (7 pm CET, noise included)
 */
export function householdLoadWattsAt(profile: HouseholdProfile, unixSeconds: number): number {
  const offset = profile.timeZone
    ? utcOffsetMinutesIn(profile.timeZone, unixSeconds)
    : centralEuropeanUtcOffsetMinutes(unixSeconds);
  const base = loadWattsAt(profile.annualKwh, unixSeconds - profile.shiftMinutes * 60, offset);
  const sigma = profile.loadNoiseSigma;
  const z = hashNormal(profile.seed, "load-noise", Math.floor(unixSeconds / LOAD_NOISE_SLOT_SECONDS));
  return base * Math.exp(sigma * z - (sigma * sigma) / 2);
}

/**
 * A home's PV AC power in W at a moment under the community's sky; 0 without
 * PV or at night.
 *
 * @example
 * const homes = createHouseholds({ seed: "demo", count: 12 });
 * const pvHome = homes.find((h) => h.pvKwp > 0);
 * if (pvHome) householdPvWattsAt(pvHome, Date.UTC(2025, 5, 21, 11) / 1000); // kW-range at noon
 */
export function householdPvWattsAt(profile: HouseholdProfile, unixSeconds: number): number {
  if (!(profile.pvKwp > 0)) return 0;
  const system = {
    kWp: profile.pvKwp,
    tiltDeg: profile.tiltDeg,
    azimuthDeg: profile.azimuthDeg,
    latitudeDeg: profile.latitudeDeg,
    longitudeDeg: profile.longitudeDeg,
    performanceRatio: profile.performanceRatio,
  };
  return pvAcWatts(system, unixSeconds, clearSkyIndexAt(profile.weatherSeed, unixSeconds));
}
