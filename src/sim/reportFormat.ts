/**
 * Integer-safe formatting of the simulation report's quantities: everything is computed from bigints
 * (rounding half away from zero), never through floating point. Thousands are grouped with "," and
 * negative values use the typographic minus "−".
 */
import { formatScaled } from "../core/money.ts";

export { formatScaled };

/**
 * An integer with thousands separators.
 *
 * @example
 * formatInteger(1234567n); // "1,234,567"
 */
export function formatInteger(value: bigint): string {
  return formatScaled(value, 0, 0);
}

/**
 * Energy in Wh as kWh (one decimal) below 1 MWh, as MWh (two decimals) from there.
 *
 * @example
 * formatEnergyWh(12_345n); // "12.3 kWh"
 * formatEnergyWh(12_345_678n); // "12.35 MWh"
 */
export function formatEnergyWh(energyWh: bigint): string {
  const magnitude = energyWh < 0n ? -energyWh : energyWh;
  return magnitude < 999_950n ? `${formatScaled(energyWh, 3, 1)} kWh` : `${formatScaled(energyWh, 6, 2)} MWh`;
}

/**
 * Energy in Wh as a bare kWh number with one decimal (for table columns headed "kWh").
 *
 * @example
 * formatKwhNumber(1_234_567n); // "1,234.6"
 */
export function formatKwhNumber(energyWh: bigint): string {
  return formatScaled(energyWh, 3, 1);
}

/**
 * Money in micro-credits (the settlement token's 6 decimals) as credits with two decimals, without unit.
 *
 * @example
 * formatCreditsMicro(1_234_567_890n); // "1,234.57"
 */
export function formatCreditsMicro(amountMicro: bigint): string {
  return formatScaled(amountMicro, 6, 2);
}

/**
 * A price in micro-credits per kWh, with two to four decimals (trailing zeros beyond two dropped).
 *
 * @example
 * formatPriceMicroPerKwh(250_000n); // "0.25 /kWh"
 * formatPriceMicroPerKwh(94_400n); // "0.0944 /kWh"
 */
export function formatPriceMicroPerKwh(priceMicroPerKwh: bigint): string {
  return `${formatScaled(priceMicroPerKwh, 6, 4)
    .replace(/(\.\d\d\d?)0+$/, "$1")
    .replace(/(\.\d\d)0$/, "$1")} /kWh`;
}

/**
 * Basis points as a percentage with one decimal.
 *
 * @example
 * formatBps(4_250n); // "42.5 %"
 */
export function formatBps(shareBps: bigint): string {
  return `${formatScaled(shareBps, 2, 1)} %`;
}

/**
 * Power in W as kW with one decimal.
 *
 * @example
 * formatPowerW(12_345n); // "12.3 kW"
 */
export function formatPowerW(powerW: bigint): string {
  return `${formatScaled(powerW, 3, 1)} kW`;
}

/**
 * A mass in grams as kg (one decimal) below one tonne, as t (two decimals) from there.
 *
 * @example
 * formatMassGrams(123_456n); // "123.5 kg"
 * formatMassGrams(12_345_678n); // "12.35 t"
 */
export function formatMassGrams(massGrams: bigint): string {
  const magnitude = massGrams < 0n ? -massGrams : massGrams;
  return magnitude < 999_950n ? `${formatScaled(massGrams, 3, 1)} kg` : `${formatScaled(massGrams, 6, 2)} t`;
}

/**
 * A duration in seconds as "2 days", "15 min", "1 h", "90 s".
 *
 * @example
 * formatDurationSeconds(900n); // "15 min"
 * formatDurationSeconds(172_800n); // "2 days"
 */
export function formatDurationSeconds(durationSeconds: bigint): string {
  if (durationSeconds > 0n && durationSeconds % 86_400n === 0n) {
    const days = durationSeconds / 86_400n;
    return `${days} day${days === 1n ? "" : "s"}`;
  }
  if (durationSeconds > 0n && durationSeconds % 3600n === 0n) return `${durationSeconds / 3600n} h`;
  if (durationSeconds > 0n && durationSeconds % 60n === 0n) return `${durationSeconds / 60n} min`;
  return `${durationSeconds} s`;
}
