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
