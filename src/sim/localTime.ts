/**
 * Calendar arithmetic in a fixed UTC offset, and the central-European
 * daylight-saving rule used for the demo community.
 */

/**
 * A moment broken down into local calendar fields.
 *
 * @example
 * const { month, weekday, secondOfDay }: LocalDateTime = localDateTime(unixSeconds, 60);
 */
export interface LocalDateTime {
  readonly year: number;
  /** 1 = January … 12 = December. */
  readonly month: number;
  /** Day of the month, 1…31. */
  readonly day: number;
  /** 0 = Sunday, 1 = Monday … 6 = Saturday. */
  readonly weekday: number;
  /** 1 = 1 January … 365/366. */
  readonly dayOfYear: number;
  /** Seconds since local midnight, 0 ≤ s < 86,400 (may be fractional). */
  readonly secondOfDay: number;
}

const SECONDS_PER_DAY = 86_400;

/**
 * Break a unix time down into local calendar fields for a fixed UTC offset.
 *
 * @example
 * localDateTime(Date.UTC(2025, 0, 6, 18, 0) / 1000, 60);
 * // { year: 2025, month: 1, day: 6, weekday: 1, dayOfYear: 6, secondOfDay: 68400 }
 */
export function localDateTime(unixSeconds: number, utcOffsetMinutes: number): LocalDateTime {
  const local = unixSeconds + utcOffsetMinutes * 60;
  const dayNumber = Math.floor(local / SECONDS_PER_DAY);
  const date = new Date(dayNumber * SECONDS_PER_DAY * 1000);
  const year = date.getUTCFullYear();
  const startOfYear = Date.UTC(year, 0, 1) / 1000 / SECONDS_PER_DAY;
  return {
    year,
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    weekday: date.getUTCDay(),
    dayOfYear: dayNumber - startOfYear + 1,
    secondOfDay: local - dayNumber * SECONDS_PER_DAY,
  };
}

/** Unix seconds of 01:00 UTC on the last Sunday of a month (the EU switch moment). */
function lastSundayAt0100Utc(year: number, month: number): number {
  const lastDay = new Date(Date.UTC(year, month, 0)); // month is 1-based here: day 0 of the next month
  const sunday = lastDay.getUTCDate() - lastDay.getUTCDay();
  return Date.UTC(year, month - 1, sunday, 1, 0, 0) / 1000;
}

/**
 * UTC offset of central-European time: +120 min (summer time) from the last
 * Sunday of March, 01:00 UTC, to the last Sunday of October, 01:00 UTC;
 * +60 min otherwise. A fixed rule, no time-zone database.
 *
 * @example
 * centralEuropeanUtcOffsetMinutes(Date.UTC(2025, 0, 15) / 1000); // 60
 * centralEuropeanUtcOffsetMinutes(Date.UTC(2025, 6, 15) / 1000); // 120
 */
export function centralEuropeanUtcOffsetMinutes(unixSeconds: number): number {
  const year = new Date(Math.floor(unixSeconds) * 1000).getUTCFullYear();
  const start = lastSundayAt0100Utc(year, 3);
  const end = lastSundayAt0100Utc(year, 10);
  return unixSeconds >= start && unixSeconds < end ? 120 : 60;
}
