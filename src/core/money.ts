/** Wh in one kWh: prices are per kWh, energy is in Wh. */
export const WH_PER_KWH = 1000n;

/**
 * Money for `energyWh` at `priceMicroPerKwh`, rounded down, exactly as the market contract rounds.
 * Every payment debits one account and credits another by this same amount, so rounding never
 * creates or destroys money; it favours the payer by less than one smallest unit per payment.
 * @example costMicro(1500n, 200_000n) // 300_000n: 1.5 kWh at 0.20 per kWh
 */
export function costMicro(energyWh: bigint, priceMicroPerKwh: bigint): bigint {
  return (energyWh * priceMicroPerKwh) / WH_PER_KWH;
}

/**
 * Formats an integer amount with `decimals` decimals, without floating point.
 * @example formatFixed(1_234_567n, 6, 3) // "1.234"
 */
export function formatFixed(amount: bigint, decimals: number, shown = decimals): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const scale = 10n ** BigInt(decimals);
  const whole = abs / scale;
  const fraction = (abs % scale).toString().padStart(decimals, "0").slice(0, shown);
  return `${negative ? "-" : ""}${whole}${shown > 0 ? `.${fraction}` : ""}`;
}

/**
 * Share `part / whole` in basis points (1/100 of a percent), rounded down; 0 when `whole` is 0.
 * @example shareBasisPoints(1n, 3n) // 3333n
 */
export function shareBasisPoints(part: bigint, whole: bigint): bigint {
  return whole === 0n ? 0n : (part * 10_000n) / whole;
}

/**
 * `value` divided by 10^`scale`, rounded half away from zero to `shown` decimals, with thousands separators.
 *
 * @example
 * formatScaled(1_234_567n, 3, 1); // "1,234.6"
 * formatScaled(-5n, 3, 3); // "−0.005"
 */
export function formatScaled(value: bigint, scale: number, shown: number): string {
  let n = value < 0n ? -value : value;
  const drop = scale - shown;
  if (drop > 0) {
    const unit = 10n ** BigInt(drop);
    n = (n + unit / 2n) / unit;
  } else if (drop < 0) {
    n *= 10n ** BigInt(-drop);
  }
  const digits = n.toString().padStart(shown + 1, "0");
  const whole = digits.slice(0, digits.length - shown).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = digits.slice(digits.length - shown);
  const sign = value < 0n && n !== 0n ? "−" : "";
  return `${sign}${whole}${shown > 0 ? `.${fraction}` : ""}`;
}
