// Integers arrive from the API as decimal strings (Wh, micro-credits): they are formatted as strings,
// with BigInt arithmetic only, never through floating point.

import { formatScaled as formatScaledInteger } from "../../src/core/money.ts";

const INTEGER = /^-?\d+$/;

/**
 * `value` (an integer decimal string) divided by 10^`scale`, rounded half away from zero to `shown`
 * decimals, with thousands separators. formatScaled("1234567", 6, 2) === "1.23"; formatScaled("-5", 3, 3) === "-0.005".
 */
export function formatScaled(value: string, scale: number, shown: number): string {
  return INTEGER.test(value) ? formatScaledInteger(BigInt(value), scale, shown) : "–";
}

/** Wh → "12.345 kWh". */
export const kwh = (wh: string, shown = 3): string => `${formatScaled(wh, 3, shown)} kWh`;

/** Micro-credits (the settlement token's 6 decimals) → "1.23 credits". */
export const credits = (micro: string, shown = 2): string => `${formatScaled(micro, 6, shown)} credits`;

/** A price in micro-credits per kWh → "0.0944 /kWh". */
export const pricePerKwh = (microPerKwh: string): string => `${formatScaled(microPerKwh, 6, 4)} /kWh`;

/** Basis points → "42.5 %". */
export const percentBps = (bps: string): string => `${formatScaled(bps, 2, 1)} %`;

/** a / b in basis points, from integer strings (0 when b is 0). */
export function ratioBps(a: string, b: string): string {
  if (!INTEGER.test(a) || !INTEGER.test(b) || BigInt(b) === 0n) return "0";
  return ((BigInt(a) * 10_000n) / BigInt(b)).toString();
}

/** Sum of integer strings. */
export const sum = (values: readonly string[]): string =>
  values.reduce((t, v) => t + (INTEGER.test(v) ? BigInt(v) : 0n), 0n).toString();

/** For drawing only (pixel positions): an integer string scaled to a number. Never for money arithmetic. */
export const toPlot = (value: string, scale: number): number => (INTEGER.test(value) ? Number(value) / 10 ** scale : 0);

/** 0x1234…abcd */
export const shortHex = (hex: string, keep = 4): string =>
  hex.length > 2 + keep * 2 + 1 ? `${hex.slice(0, 2 + keep)}…${hex.slice(-keep)}` : hex;

/** Unix seconds (decimal string) → local date and time, e.g. "15 Jun 2026, 11:15". */
export function dateTime(unixSeconds: string, timeZone?: string): string {
  if (!INTEGER.test(unixSeconds)) return "–";
  return new Intl.DateTimeFormat("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    ...(timeZone ? { timeZone } : {}),
  }).format(new Date(Number(unixSeconds) * 1000));
}

/** Unix seconds → "11:15". */
export function clock(unixSeconds: string, timeZone?: string): string {
  if (!INTEGER.test(unixSeconds)) return "–";
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", ...(timeZone ? { timeZone } : {}) }).format(
    new Date(Number(unixSeconds) * 1000),
  );
}

export const U64_MAX = 2n ** 64n - 1n;

/**
 * A decimal the user typed ("0.25", "1,000.5") times 10^`scale`, as an integer — parsed as digits,
 * never through floating point. `{ error }` when it is not a non-negative number, has more decimals
 * than `scale`, or exceeds `max`. parseScaled("0.25", 6) → { value: 250000n }.
 */
export function parseScaled(input: string, scale: number, max: bigint = U64_MAX): { value: bigint } | { error: string } {
  const text = input.trim().replace(/[,_\s]/g, "");
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || text === "" || text === "." || (m[1] === "" && (m[2] ?? "") === "")) return { error: "enter a number, e.g. 0.25" };
  const whole = m[1] ?? "";
  const fraction = m[2] ?? "";
  if (fraction.length > scale)
    return { error: scale === 0 ? "enter a whole number" : `at most ${scale} decimal${scale === 1 ? "" : "s"}` };
  const value = BigInt(whole || "0") * 10n ** BigInt(scale) + BigInt((fraction || "0").padEnd(scale, "0"));
  if (value > max) return { error: `at most ${formatScaled(max.toString(), scale, 0).replace(/,/g, "")}` };
  return { value };
}

/** An integer string scaled down, without grouping or trailing zeros, for a form field: ("250000", 6) → "0.25". */
export function toInput(value: string, scale: number): string {
  if (!INTEGER.test(value)) return "";
  const digits = BigInt(value)
    .toString()
    .padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : whole;
}
