/**
 * Household load from the BDEW H25 standard load profile.
 *
 * The H25 table gives kWh per quarter-hour for 1,000,000 kWh/a per month and
 * day type. A household's power at a moment is that value, times the
 * dynamisation factor F(d) of the local day, scaled to the household's annual
 * consumption. The profile is an aggregate of many homes: per-home variation
 * is added in household.ts.
 */
import { type BdewDayType, bdewH25Kwh } from "./data/bdewH25.ts";
import { localDateTime } from "./localTime.ts";

/**
 * The annual energy the H25 table is normalised to, in kWh.
 *
 * @example
 * const scale = 3500 / H25_REFERENCE_ANNUAL_KWH; // a 3,500 kWh/a home
 */
export const H25_REFERENCE_ANNUAL_KWH = 1_000_000;

/**
 * H25 day type of a local date: Sunday → FT; 24 and 31 December → SA (as H25
 * prescribes, unless they fall on a Sunday); Saturday → SA; every other day → WT.
 * Public holidays other than Sundays are deliberately not modelled.
 *
 * @example
 * h25DayType({ month: 12, day: 24, weekday: 3 }); // "SA" (a Wednesday)
 * h25DayType({ month: 7, day: 6, weekday: 0 }); // "FT"
 */
export function h25DayType(date: { month: number; day: number; weekday: number }): BdewDayType {
  if (date.weekday === 0) return "FT";
  if (date.month === 12 && (date.day === 24 || date.day === 31)) return "SA";
  if (date.weekday === 6) return "SA";
  return "WT";
}

/**
 * BDEW dynamisation factor F(d) = −3.92e−10·d⁴ + 3.2e−7·d³ − 7.02e−5·d² + 0.0021·d + 1.24,
 * with d the day of the year (1…366). About 1.24 on 1 January, 0.785 at
 * day 202 (late July) and 1.257 on 31 December; annual mean ≈ 1.0045.
 *
 * @example
 * dynamisationFactor(1); // ≈ 1.2421
 * dynamisationFactor(202); // ≈ 0.785
 */
export function dynamisationFactor(dayOfYear: number): number {
  const d = dayOfYear;
  return -3.92e-10 * d ** 4 + 3.2e-7 * d ** 3 - 7.02e-5 * d ** 2 + 0.0021 * d + 1.24;
}

/**
 * Mean power in W, over the quarter-hour containing the moment, of a
 * household with `annualKwh` following the H25 profile (dynamised).
 *
 * kWh per quarter-hour × 4 = mean kW; × annualKwh / 1,000,000 scales it; × 1000 → W.
 *
 * @param annualKwh the household's annual consumption in kWh
 * @param unixSeconds the moment (UTC seconds)
 * @param utcOffsetMinutes local clock offset from UTC (e.g. 60 for CET, 120 for CEST)
 * @example
 * loadWattsAt(3500, Date.UTC(2025, 0, 8, 18, 45) / 1000, 60); // ≈ 700 W: a January workday, 19:45 local
 */
export function loadWattsAt(annualKwh: number, unixSeconds: number, utcOffsetMinutes: number): number {
  const local = localDateTime(unixSeconds, utcOffsetMinutes);
  const quarterHour = Math.min(95, Math.floor(local.secondOfDay / 900));
  const kwhPerQuarterHour = bdewH25Kwh(local.month, h25DayType(local), quarterHour);
  const factor = dynamisationFactor(local.dayOfYear);
  return ((kwhPerQuarterHour * factor * 4 * annualKwh) / H25_REFERENCE_ANNUAL_KWH) * 1000;
}
