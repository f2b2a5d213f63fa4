/**
 * Rooftop PV output from a clear-sky solar model with day-to-day cloudiness.
 *
 * Chain, per moment:
 * 1. Solar geometry (Cooper declination, Spencer equation of time and
 *    extraterrestrial irradiance).
 * 2. Clear-sky global horizontal irradiance, Haurwitz (1945).
 * 3. Cloudiness: GHI = clear-sky GHI × clear-sky index k_c. k_c comes from a
 *    3-state daily Markov chain (sunny / partly cloudy / overcast), with
 *    intra-day variability in the partly-cloudy state.
 * 4. Beam/diffuse split of the (cloudy) GHI with the Erbs et al. (1982)
 *    diffuse-fraction correlation on the clearness index k_t = GHI / (I₀·cos θz),
 *    so overcast light is mostly diffuse and clear light mostly beam.
 * 5. Plane-of-array irradiance, isotropic sky (as in PVWatts v5):
 *    POA = DNI·max(cos AOI, 0) + DHI·(1 + cos β)/2 + ρ·GHI·(1 − cos β)/2, ρ = 0.2.
 * 6. AC power ≈ kWp × POA / 1000 W/m² × performance ratio (≈ 0.85, lumping
 *    temperature, inverter, wiring and soiling losses).
 *
 * Everything is a pure function of its arguments; the weather depends only on
 * (weather seed, day, time).
 */
import { hashNormal, hashUnit, type Seed } from "./random.ts";

const DEG = Math.PI / 180;
const SECONDS_PER_DAY = 86_400;

/**
 * Solar constant used for extraterrestrial irradiance, W/m².
 *
 * @example
 * solarPosition(unixSeconds, 48.1, 11.6).extraterrestrialWm2 / SOLAR_CONSTANT_WM2; // 0.967…1.034 over the year
 */
export const SOLAR_CONSTANT_WM2 = 1361;

/**
 * Ground reflectance for the POA ground-reflected term.
 *
 * @example
 * planeOfArrayIrradiance(sun, ghi, panel, GROUND_ALBEDO); // the default
 */
export const GROUND_ALBEDO = 0.2;

/**
 * Default PV performance ratio (AC energy / (kWp × POA kWh/m²)).
 *
 * @example
 * const watts = kWp * poa * DEFAULT_PERFORMANCE_RATIO; // 5 kWp × 1000 W/m² → 4,250 W
 */
export const DEFAULT_PERFORMANCE_RATIO = 0.85;

/**
 * Where the sun is, seen from a place on the ground.
 *
 * @example
 * const sun: SolarPosition = solarPosition(unixSeconds, 48.1, 11.6);
 * const isDaytime = sun.cosZenith > 0;
 */
export interface SolarPosition {
  /** cos of the solar zenith angle; ≤ 0 means the sun is below the horizon. */
  readonly cosZenith: number;
  /** Unit vector towards the sun in the local (east, north, up) frame. */
  readonly east: number;
  readonly north: number;
  readonly up: number;
  /** Solar azimuth in degrees clockwise from north (90 = east, 180 = south). */
  readonly azimuthDeg: number;
  /** Extraterrestrial normal irradiance I₀, W/m². */
  readonly extraterrestrialWm2: number;
}

/**
 * Solar position from Cooper's declination and Spencer's equation of time:
 * δ = 23.45°·sin(360°·(284 + n)/365), B = 2π(n − 1)/365,
 * solar time = UTC + longitude/15 h + EoT, hour angle ω = 15°·(solar time − 12 h).
 * n is the UTC day of the year.
 *
 * @example
 * const p = solarPosition(Date.UTC(2025, 5, 21, 11, 15) / 1000, 48.1, 11.6);
 * p.cosZenith; // ≈ 0.91 (the sun ~25° from the zenith, near solar noon)
 */
export function solarPosition(unixSeconds: number, latitudeDeg: number, longitudeDeg: number): SolarPosition {
  const dayNumber = Math.floor(unixSeconds / SECONDS_PER_DAY);
  const yearStart = Date.UTC(new Date(dayNumber * SECONDS_PER_DAY * 1000).getUTCFullYear(), 0, 1) / 1000;
  const n = dayNumber - Math.floor(yearStart / SECONDS_PER_DAY) + 1;
  const utcHours = (unixSeconds - dayNumber * SECONDS_PER_DAY) / 3600;

  const b = (2 * Math.PI * (n - 1)) / 365;
  const declination = 23.45 * DEG * Math.sin((2 * Math.PI * (284 + n)) / 365);
  const equationOfTimeMinutes =
    229.18 *
    (0.000075 + 0.001868 * Math.cos(b) - 0.032077 * Math.sin(b) - 0.014615 * Math.cos(2 * b) - 0.040849 * Math.sin(2 * b));
  const solarHours = utcHours + longitudeDeg / 15 + equationOfTimeMinutes / 60;
  const hourAngle = 15 * DEG * (solarHours - 12);

  const phi = latitudeDeg * DEG;
  const east = -Math.cos(declination) * Math.sin(hourAngle);
  const north = Math.cos(phi) * Math.sin(declination) - Math.sin(phi) * Math.cos(declination) * Math.cos(hourAngle);
  const up = Math.sin(phi) * Math.sin(declination) + Math.cos(phi) * Math.cos(declination) * Math.cos(hourAngle);
  const azimuthDeg = (((Math.atan2(east, north) / DEG) % 360) + 360) % 360;
  const extraterrestrialWm2 =
    SOLAR_CONSTANT_WM2 *
    (1.00011 + 0.034221 * Math.cos(b) + 0.00128 * Math.sin(b) + 0.000719 * Math.cos(2 * b) + 0.000077 * Math.sin(2 * b));
  return { cosZenith: up, east, north, up, azimuthDeg, extraterrestrialWm2 };
}

/**
 * Haurwitz (1945) clear-sky global horizontal irradiance,
 * GHI = 1098·cos θz·exp(−0.059 / cos θz) W/m²; exactly 0 when the sun is down.
 *
 * @example
 * haurwitzGhi(1); // ≈ 1035 W/m² (sun at the zenith)
 * haurwitzGhi(-0.2); // 0
 */
export function haurwitzGhi(cosZenith: number): number {
  if (!(cosZenith > 0)) return 0;
  return 1098 * cosZenith * Math.exp(-0.059 / cosZenith);
}

/**
 * Erbs et al. (1982) diffuse fraction DHI/GHI from the clearness index k_t.
 *
 * @example
 * erbsDiffuseFraction(0.75); // ≈ 0.18 (clear sky: mostly beam)
 * erbsDiffuseFraction(0.2); // ≈ 0.98 (overcast: almost all diffuse)
 */
export function erbsDiffuseFraction(clearnessIndex: number): number {
  const kt = clearnessIndex;
  if (kt <= 0.22) return 1 - 0.09 * kt;
  if (kt <= 0.8) return 0.9511 - 0.1604 * kt + 4.388 * kt ** 2 - 16.638 * kt ** 3 + 12.336 * kt ** 4;
  return 0.165;
}

/**
 * Orientation of a PV array.
 *
 * @example
 * const southRoof: PanelOrientation = { tiltDeg: 35, azimuthDeg: 180 };
 */
export interface PanelOrientation {
  /** Tilt from horizontal, degrees (0 = flat, 90 = vertical). */
  readonly tiltDeg: number;
  /** Direction the panel faces, degrees clockwise from north (180 = south). */
  readonly azimuthDeg: number;
}

/**
 * Plane-of-array irradiance (W/m²) on a tilted panel, isotropic sky, from the
 * global horizontal irradiance: GHI is split into beam and diffuse with
 * `erbsDiffuseFraction`, then
 * POA = DNI·max(cos AOI, 0) + DHI·(1 + cos β)/2 + ρ·GHI·(1 − cos β)/2.
 * cos AOI is the dot product of the sun vector and the panel normal.
 *
 * @example
 * const sun = solarPosition(Date.UTC(2025, 5, 21, 11, 15) / 1000, 48.1, 11.6);
 * planeOfArrayIrradiance(sun, haurwitzGhi(sun.cosZenith), { tiltDeg: 30, azimuthDeg: 180 }); // ≈ 1000 W/m²
 */
export function planeOfArrayIrradiance(
  sun: SolarPosition,
  ghi: number,
  panel: PanelOrientation,
  albedo: number = GROUND_ALBEDO,
): number {
  if (!(sun.cosZenith > 0) || !(ghi > 0)) return 0;
  const clearnessIndex = Math.min(1, ghi / (sun.extraterrestrialWm2 * sun.cosZenith));
  const dhi = ghi * erbsDiffuseFraction(clearnessIndex);
  const dni = Math.min(sun.extraterrestrialWm2, (ghi - dhi) / sun.cosZenith);

  const tilt = panel.tiltDeg * DEG;
  const azimuth = panel.azimuthDeg * DEG;
  const cosAoi =
    sun.east * Math.sin(tilt) * Math.sin(azimuth) + sun.north * Math.sin(tilt) * Math.cos(azimuth) + sun.up * Math.cos(tilt);
  const beam = dni * Math.max(cosAoi, 0);
  const skyDiffuse = (dhi * (1 + Math.cos(tilt))) / 2;
  const groundReflected = (albedo * ghi * (1 - Math.cos(tilt))) / 2;
  return beam + skyDiffuse + groundReflected;
}

// ---------------------------------------------------------------------------
// Cloudiness: daily 3-state Markov chain + intra-day variability.
// ---------------------------------------------------------------------------

/**
 * The sky's state for a whole day.
 *
 * @example
 * const state: SkyState = skyStateOnDay("demo", 20_251); // e.g. "partlyCloudy"
 */
export type SkyState = "sunny" | "partlyCloudy" | "overcast";

const SKY_STATES: readonly SkyState[] = ["sunny", "partlyCloudy", "overcast"];

/**
 * Probability that a day keeps the previous day's sky state (weather persistence).
 *
 * @example
 * SKY_PERSISTENCE; // 0.5: half of all days simply repeat yesterday's sky
 */
export const SKY_PERSISTENCE = 0.5;

/**
 * Climatological probabilities [sunny, partly cloudy, overcast] per month
 * (index 0 = January). Tuned so that a south-facing 30–35° array at 48° N
 * yields ≈ 1,050 kWh/kWp·a, with dull winters and brighter summers, in line
 * with long-term southern-German irradiation (≈ 1,150–1,250 kWh/m²·a).
 *
 * @example
 * const [pSunny, pPartly, pOvercast] = SKY_CLIMATOLOGY[5] ?? [0, 0, 0]; // June: 0.4, 0.45, 0.15
 */
export const SKY_CLIMATOLOGY: readonly (readonly [number, number, number])[] = [
  [0.15, 0.3, 0.55], // Jan
  [0.2, 0.35, 0.45], // Feb
  [0.3, 0.4, 0.3], // Mar
  [0.35, 0.45, 0.2], // Apr
  [0.35, 0.45, 0.2], // May
  [0.4, 0.45, 0.15], // Jun
  [0.45, 0.4, 0.15], // Jul
  [0.45, 0.4, 0.15], // Aug
  [0.4, 0.4, 0.2], // Sep
  [0.25, 0.4, 0.35], // Oct
  [0.1, 0.35, 0.55], // Nov
  [0.1, 0.3, 0.6], // Dec
];

/** Look-back cap for the Markov chain (the chance of needing more is 0.5⁶⁴). */
const MAX_LOOKBACK_DAYS = 64;

function utcMonthIndexOfDay(dayNumber: number): number {
  return new Date(dayNumber * SECONDS_PER_DAY * 1000).getUTCMonth();
}

/**
 * Sky state of a UTC day (days since 1970-01-01), a pure function of
 * (seed, day). The chain is: with probability SKY_PERSISTENCE keep yesterday's
 * state, otherwise draw afresh from the month's SKY_CLIMATOLOGY (so the
 * stationary distribution is the climatology). It is evaluated by walking back
 * to the most recent "fresh draw" day, so no sequential state is needed and the
 * result does not depend on which days were asked before.
 *
 * @example
 * skyStateOnDay("community-1", 20_260); // "sunny" | "partlyCloudy" | "overcast", same every run
 */
export function skyStateOnDay(weatherSeed: Seed, dayNumber: number): SkyState {
  for (let back = 0; back < MAX_LOOKBACK_DAYS; back++) {
    const day = dayNumber - back;
    if (back < MAX_LOOKBACK_DAYS - 1 && hashUnit(weatherSeed, "sky-keep", day) < SKY_PERSISTENCE) continue;
    const probabilities = SKY_CLIMATOLOGY[utcMonthIndexOfDay(day)] ?? [1 / 3, 1 / 3, 1 / 3];
    let u = hashUnit(weatherSeed, "sky-draw", day);
    for (let i = 0; i < SKY_STATES.length; i++) {
      u -= probabilities[i] ?? 0;
      if (u < 0) return SKY_STATES[i] ?? "overcast";
    }
    return "overcast";
  }
  return "overcast"; // unreachable: the last iteration always draws
}

/** Spacing of the intra-day cloud knots in the partly-cloudy state, seconds. */
const CLOUD_KNOT_SECONDS = 900;

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/**
 * Clear-sky index k_c ∈ [0.1, 1] at a moment: the fraction of clear-sky GHI that
 * reaches the ground.
 * - sunny: 0.90–1.00, constant over the day;
 * - overcast: 0.15–0.35, constant over the day;
 * - partly cloudy: a daily level 0.45–0.75 plus passing clouds — independent
 *   N(0, 0.25) deviations at 15-minute knots, linearly interpolated, clamped.
 *
 * @example
 * clearSkyIndexAt("community-1", Date.UTC(2025, 5, 21, 11) / 1000); // e.g. 0.97 on a sunny day
 */
export function clearSkyIndexAt(weatherSeed: Seed, unixSeconds: number): number {
  const day = Math.floor(unixSeconds / SECONDS_PER_DAY);
  const state = skyStateOnDay(weatherSeed, day);
  const level = hashUnit(weatherSeed, "sky-level", day);
  if (state === "sunny") return 0.9 + 0.1 * level;
  if (state === "overcast") return 0.15 + 0.2 * level;
  const mean = 0.45 + 0.3 * level;
  const position = unixSeconds / CLOUD_KNOT_SECONDS;
  const knot = Math.floor(position);
  const fraction = position - knot;
  const at = (k: number): number => clamp(mean + 0.25 * hashNormal(weatherSeed, "cloud-knot", k), 0.1, 1);
  return at(knot) * (1 - fraction) + at(knot + 1) * fraction;
}

/**
 * A PV system at a place.
 *
 * @example
 * const system: PvSystem = { kWp: 5, tiltDeg: 30, azimuthDeg: 180, latitudeDeg: 48.1, longitudeDeg: 11.6 };
 */
export interface PvSystem extends PanelOrientation {
  /** Peak DC power in kWp; 0 means no PV. */
  readonly kWp: number;
  readonly latitudeDeg: number;
  readonly longitudeDeg: number;
  /** AC energy per kWp per kWh/m² of POA irradiation; ≈ 0.85 by default. */
  readonly performanceRatio?: number;
}

/**
 * PV AC power in W at a moment for a given clear-sky index:
 * kWp × POA / 1000 W/m² × performance ratio, capped at the DC rating;
 * exactly 0 when the sun is below the horizon or kWp is 0.
 *
 * @example
 * const system = { kWp: 5, tiltDeg: 30, azimuthDeg: 180, latitudeDeg: 48.1, longitudeDeg: 11.6 };
 * pvAcWatts(system, Date.UTC(2025, 5, 21, 11, 15) / 1000, 1); // ≈ 4,300 W on a clear noon
 * pvAcWatts(system, Date.UTC(2025, 5, 21, 23, 0) / 1000, 1); // 0
 */
export function pvAcWatts(system: PvSystem, unixSeconds: number, clearSkyIndex: number): number {
  if (!(system.kWp > 0)) return 0;
  const sun = solarPosition(unixSeconds, system.latitudeDeg, system.longitudeDeg);
  if (!(sun.cosZenith > 0)) return 0;
  const ghi = haurwitzGhi(sun.cosZenith) * clamp(clearSkyIndex, 0, 1);
  const poa = planeOfArrayIrradiance(sun, ghi, system);
  const watts = system.kWp * poa * (system.performanceRatio ?? DEFAULT_PERFORMANCE_RATIO);
  return Math.min(watts, system.kWp * 1000);
}
