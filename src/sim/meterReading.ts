/**
 * The per-interval meter reading of a simulated home: energies in whole Wh as bigint.
 */
import { type HouseholdProfile, householdLoadWattsAt, householdPvWattsAt } from "./household.ts";

/**
 * A meter reading for one interval, in Wh. The meter nets within the interval.
 *
 * @example
 * const r: IntervalEnergyWh = { productionWh: 1547n, consumptionWh: 240n, exportWh: 1307n, importWh: 0n };
 */
export interface IntervalEnergyWh {
  /** PV energy produced. */
  readonly productionWh: bigint;
  /** Energy consumed by the home. */
  readonly consumptionWh: bigint;
  /** Net energy fed into the grid: max(production − consumption, 0). */
  readonly exportWh: bigint;
  /** Net energy drawn from the grid: max(consumption − production, 0). */
  readonly importWh: bigint;
}

/**
 * Power is sampled at the midpoints of sub-steps no longer than this, seconds.
 *
 * @example
 * Math.ceil(900 / SAMPLE_SECONDS); // 3 samples for a 15-minute interval
 */
export const SAMPLE_SECONDS = 300;

/**
 * Energies of one home over [intervalStartAt, intervalStartAt + intervalSeconds):
 * power is sampled at the midpoints of equal sub-steps of at most 5 minutes
 * (midpoint rule), production and consumption are each rounded to whole Wh once
 * (Math.round, then BigInt), and export/import are the netted difference of
 * those rounded values, so exportWh − importWh = productionWh − consumptionWh
 * exactly and at most one of them is non-zero.
 *
 * A pure function of its arguments: the result does not depend on any earlier call.
 *
 * @param profile the home (from `createHouseholds`)
 * @param intervalStartAt interval start, unix seconds
 * @param intervalSeconds interval length in seconds (> 0), e.g. 900
 * @example
 * const [home] = createHouseholds({ seed: "demo", count: 1 });
 * if (home) householdIntervalWh(home, Date.UTC(2025, 5, 21, 10) / 1000, 900);
 * // { productionWh: 1547n, consumptionWh: 240n, exportWh: 1307n, importWh: 0n }
 */
export function householdIntervalWh(
  profile: HouseholdProfile,
  intervalStartAt: number,
  intervalSeconds: number,
): IntervalEnergyWh {
  if (!Number.isFinite(intervalStartAt)) throw new RangeError(`intervalStartAt must be finite, got ${intervalStartAt}`);
  if (!(intervalSeconds > 0) || !Number.isFinite(intervalSeconds)) {
    throw new RangeError(`intervalSeconds must be a positive finite number, got ${intervalSeconds}`);
  }
  const steps = Math.ceil(intervalSeconds / SAMPLE_SECONDS);
  const stepSeconds = intervalSeconds / steps;
  let productionWs = 0;
  let consumptionWs = 0;
  for (let i = 0; i < steps; i++) {
    const t = intervalStartAt + (i + 0.5) * stepSeconds;
    productionWs += householdPvWattsAt(profile, t) * stepSeconds;
    consumptionWs += householdLoadWattsAt(profile, t) * stepSeconds;
  }
  const productionWh = BigInt(Math.round(productionWs / 3600));
  const consumptionWh = BigInt(Math.round(consumptionWs / 3600));
  const net = productionWh - consumptionWh;
  return {
    productionWh,
    consumptionWh,
    exportWh: net > 0n ? net : 0n,
    importWh: net < 0n ? -net : 0n,
  };
}
