/**
 * IANA time zones through the runtime's ICU data (`Intl.DateTimeFormat`): UTC offsets, local
 * midnight and local formatting. Offsets are cached per zone and UTC hour, because a simulation
 * asks for them millions of times.
 */

const SECONDS_PER_HOUR = 3_600;
const SECONDS_PER_DAY = 86_400;

interface ZoneCache {
  readonly format: Intl.DateTimeFormat;
  /** UTC hour number (unix seconds / 3600, floored) → offset in minutes valid for that whole hour. */
  readonly offsetByHour: Map<number, number>;
}

const zones = new Map<string, ZoneCache>();

function zoneCache(timeZone: string): ZoneCache {
  let cache = zones.get(timeZone);
  if (cache === undefined) {
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch (cause) {
      throw new RangeError(`unknown time zone "${timeZone}": use an IANA name such as "Europe/Berlin"`, { cause });
    }
    cache = { format, offsetByHour: new Map() };
    zones.set(timeZone, cache);
  }
  return cache;
}

/** The exact offset (minutes) at one whole second, straight from ICU. */
function offsetMinutesUncached(format: Intl.DateTimeFormat, unixSeconds: number): number {
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(unixSeconds * 1000)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const local = new Date(0);
  local.setUTCFullYear(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1);
  local.setUTCHours(parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0, 0);
  return (local.getTime() / 1000 - unixSeconds) / 60;
}

/**
 * The UTC offset, in minutes, of an IANA time zone at a moment (positive east of Greenwich).
 * Historical local-mean-time offsets may be fractional minutes.
 *
 * Cached per (zone, UTC hour): an hour whose two ends have different offsets (a transition not on
 * a UTC hour, as on Lord Howe Island) is never cached and answered exactly each time.
 * Throws a `RangeError` for an unknown zone.
 *
 * @example
 * utcOffsetMinutesIn("Europe/Berlin", Date.UTC(2026, 0, 15) / 1000); // 60
 * utcOffsetMinutesIn("Europe/Berlin", Date.UTC(2026, 6, 15) / 1000); // 120
 */
export function utcOffsetMinutesIn(timeZone: string, unixSeconds: number): number {
  const cache = zoneCache(timeZone);
  const hour = Math.floor(unixSeconds / SECONDS_PER_HOUR);
  const cached = cache.offsetByHour.get(hour);
  if (cached !== undefined) return cached;
  const hourStart = hour * SECONDS_PER_HOUR;
  const atStart = offsetMinutesUncached(cache.format, hourStart);
  const atEnd = offsetMinutesUncached(cache.format, hourStart + SECONDS_PER_HOUR - 1);
  if (atStart === atEnd) {
    cache.offsetByHour.set(hour, atStart);
    return atStart;
  }
  return offsetMinutesUncached(cache.format, Math.floor(unixSeconds));
}

/**
 * Whether `name` is a time zone the runtime knows (IANA names such as "Europe/Zurich", or "UTC").
 * Offset strings like "+01:00" are rejected: they have no daylight-saving rules.
 *
 * @example
 * isTimeZone("Europe/Zurich"); // true
 * isTimeZone("Europe/Zurch"); // false
 */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z]/.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parses "YYYY-MM-DD" into its fields, or returns undefined when it is not a real calendar date.
 *
 * @example
 * parseCalendarDate("2026-02-28"); // { year: 2026, month: 2, day: 28 }
 * parseCalendarDate("2026-02-30"); // undefined
 */
export function parseCalendarDate(date: string): { year: number; month: number; day: number } | undefined {
  const match = DATE_PATTERN.exec(date);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const utc = new Date(Date.UTC(2000, month - 1, day));
  utc.setUTCFullYear(year);
  if (utc.getUTCFullYear() !== year || utc.getUTCMonth() !== month - 1 || utc.getUTCDate() !== day) return undefined;
  return { year, month, day };
}

/**
 * The calendar date `days` after (negative: before) a "YYYY-MM-DD" date.
 *
 * @example
 * addCalendarDays("2026-03-28", 2); // "2026-03-30"
 * addCalendarDays("2026-12-31", 1); // "2027-01-01"
 */
export function addCalendarDays(date: string, days: number): string {
  const fields = parseCalendarDate(date);
  if (!fields) throw new RangeError(`"${date}" is not a calendar date YYYY-MM-DD`);
  const utc = new Date(0);
  utc.setUTCFullYear(fields.year, fields.month - 1, fields.day + days);
  return utc.toISOString().slice(0, 10);
}

/**
 * Unix seconds of 00:00 local time on a calendar date in a time zone, daylight saving included.
 * Where midnight does not exist (a zone that springs forward at 00:00), the first instant of the
 * day; where it happens twice (falls back at 01:00 to 00:00), the first of them.
 *
 * @example
 * localMidnight("2026-03-29", "Europe/Berlin"); // 1774738800 (2026-03-28T23:00:00Z; this day lasts 23 h)
 * localMidnight("2026-07-01", "UTC"); // 1782864000
 */
export function localMidnight(date: string, timeZone: string): number {
  const fields = parseCalendarDate(date);
  if (!fields) throw new RangeError(`"${date}" is not a calendar date YYYY-MM-DD`);
  const utc = new Date(0);
  utc.setUTCFullYear(fields.year, fields.month - 1, fields.day);
  const midnightAsUtc = utc.getTime() / 1000;
  // Offsets a day either side bracket any transition near this midnight.
  const before = utcOffsetMinutesIn(timeZone, midnightAsUtc - SECONDS_PER_DAY);
  const after = utcOffsetMinutesIn(timeZone, midnightAsUtc + SECONDS_PER_DAY);
  const candidates = new Set([before, utcOffsetMinutesIn(timeZone, midnightAsUtc), after]);
  let earliest: number | undefined;
  for (const offset of candidates) {
    const at = midnightAsUtc - offset * 60;
    if (utcOffsetMinutesIn(timeZone, at) === offset && (earliest === undefined || at < earliest)) earliest = at;
  }
  if (earliest !== undefined) return earliest;
  // Midnight falls in a gap: the day starts at the transition, the first second with the new offset.
  let low = midnightAsUtc - Math.max(before, after) * 60;
  let high = midnightAsUtc - Math.min(before, after) * 60;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (utcOffsetMinutesIn(timeZone, middle) === after) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * A moment as local wall-clock time "YYYY-MM-DDTHH:MM" in a time zone.
 *
 * @example
 * formatLocal(Date.UTC(2026, 5, 15, 10, 0) / 1000, "Europe/Zurich"); // "2026-06-15T12:00"
 */
export function formatLocal(unixSeconds: number, timeZone: string): string {
  const offsetMinutes = utcOffsetMinutesIn(timeZone, unixSeconds);
  const local = new Date(Math.floor(unixSeconds + offsetMinutes * 60) * 1000);
  const year = String(local.getUTCFullYear()).padStart(4, "0");
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${year}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
}
