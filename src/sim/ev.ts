/**
 * An electric car charged at home: it arrives at the same local hour every day and charges at full power
 * until its daily energy is in. Pure: the energy in an interval depends only on the interval and the car.
 */

/** A home-charged car. */
export type EvSpec = {
  /** Energy charged every day, kWh. */
  dailyKwh: number;
  /** Charging power, kW. */
  chargeKw: number;
  /** Local hour (0–23) the car arrives and starts charging. */
  arriveHour: number;
};

const DAY = 86_400;

/** Seconds of overlap of [a, a + d) with [s, s + l). */
function overlap(a: number, d: number, s: number, l: number): number {
  return Math.max(0, Math.min(a + d, s + l) - Math.max(a, s));
}

/**
 * Wh the car draws in an interval that starts `secondOfDay` seconds after local midnight and lasts
 * `intervalSeconds`: the overlap with today's and yesterday's charging sessions (a session can run past
 * midnight) times the charging power, rounded to whole Wh.
 * @example evIntervalWh({ dailyKwh: 8, chargeKw: 11, arriveHour: 18 }, 18 * 3600, 900) // 2750n: 11 kW for 15 minutes
 */
export function evIntervalWh(ev: EvSpec, secondOfDay: number, intervalSeconds: number): bigint {
  if (!(ev.chargeKw > 0) || !(ev.dailyKwh > 0)) return 0n;
  const start = ev.arriveHour * 3600;
  const length = Math.min(DAY, (ev.dailyKwh / ev.chargeKw) * 3600);
  const seconds =
    overlap(secondOfDay, intervalSeconds, start, length) + overlap(secondOfDay, intervalSeconds, start - DAY, length);
  return BigInt(Math.round((seconds * ev.chargeKw * 1000) / 3600));
}
