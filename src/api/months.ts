import { ApiError } from "./errors.ts";

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A cached formatter of dates in `tz` (400 `invalid_time_zone` when the zone is unknown). */
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-CA", {
        timeZone: tz,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch {
      throw new ApiError(400, "invalid_time_zone", `unknown time zone "${tz}"`, { hint: "an IANA name such as Europe/Berlin" });
    }
    formatters.set(tz, f);
  }
  return f;
}

/** Local calendar fields of `unixSeconds` in `tz`. */
function localParts(unixSeconds: number, tz: string) {
  const parts = Object.fromEntries(
    formatter(tz)
      .formatToParts(new Date(unixSeconds * 1000))
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** Offset of `tz` from UTC at `unixSeconds`, in seconds. */
function offsetSeconds(unixSeconds: number, tz: string): number {
  const p = localParts(unixSeconds, tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000 - unixSeconds;
}

/** The UTC instant of local midnight starting `year-month-day` in `tz`. */
function localMidnight(year: number, month: number, day: number, tz: string): number {
  const naive = Date.UTC(year, month - 1, day) / 1000;
  const first = naive - offsetSeconds(naive, tz);
  return naive - offsetSeconds(first, tz);
}

/**
 * The month `YYYY-MM` in `tz` as [from, to) unix seconds.
 * @example monthBounds("2026-06", "UTC") // { from: 1780272000n, to: 1782864000n }
 */
export function monthBounds(month: string, tz: string): { from: bigint; to: bigint } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const year = Number(m?.[1]);
  const mon = Number(m?.[2]);
  if (!m || mon < 1 || mon > 12) throw new ApiError(400, "invalid_month", `"${month}" is not a month (YYYY-MM)`);
  const next = mon === 12 ? [year + 1, 1] : [year, mon + 1];
  return {
    from: BigInt(localMidnight(year, mon, 1, tz)),
    to: BigInt(localMidnight(next[0] as number, next[1] as number, 1, tz)),
  };
}

const boundsCache = new Map<string, { from: bigint; to: bigint }>();

/** monthBounds, remembered (a statement asks for the same few months over and over). */
export function cachedMonthBounds(month: string, tz: string): { from: bigint; to: bigint } {
  const key = `${month} ${tz}`;
  let bounds = boundsCache.get(key);
  if (!bounds) {
    bounds = monthBounds(month, tz);
    if (boundsCache.size >= 1_000) boundsCache.clear();
    boundsCache.set(key, bounds);
  }
  return bounds;
}

/** The local date (YYYY-MM-DD) of `unixSeconds` in `tz`. */
export function localDate(unixSeconds: bigint, tz: string): string {
  const p = localParts(Number(unixSeconds), tz);
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

/** The month (YYYY-MM) `unixSeconds` falls in, in `tz`. */
export function monthOf(unixSeconds: bigint, tz: string): string {
  return localDate(unixSeconds, tz).slice(0, 7);
}

/** A CSV field: quoted when it holds a comma, quote or line break. */
export function csvField(value: string | number | bigint | boolean | null): string {
  const s = value === null ? "" : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvLine = (fields: readonly (string | number | bigint | boolean | null)[]) =>
  `${fields.map(csvField).join(",")}\r\n`;
