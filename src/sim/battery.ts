/**
 * A home battery behind the meter, one market interval at a time. Pure integer arithmetic in Wh: the
 * battery changes what the meter measures (it absorbs surplus before it is exported and covers demand
 * before it is imported), never what the home produces or consumes.
 */
import type { BatteryStrategyName } from "./result.ts";

/** A battery's size and behaviour. */
export type BatterySpec = {
  capacityWh: bigint;
  /** Most energy it can take in or give out in one interval (power × interval length). */
  maxEnergyPerIntervalWh: bigint;
  strategy: BatteryStrategyName;
};

/**
 * Charging and discharging each keep this share of the energy, in basis points (95 %: a round trip of
 * about 90 %, typical of a lithium home battery with its inverter).
 */
export const BATTERY_EFFICIENCY_BPS = 9_500n;

/** The market signal a price-aware battery acts on: the last clearing price in its zone and the tariffs. */
export type BatterySignal = {
  lastPriceMicroPerKwh: bigint | undefined;
  feedInMicroPerKwh: bigint;
  retailMicroPerKwh: bigint;
};

/** What one interval did: the battery's new charge and the meter's net export and import. */
export type BatteryStep = {
  storedWh: bigint;
  exportWh: bigint;
  importWh: bigint;
  /** Taken in from the home's surplus (before losses) and given out (after losses). */
  chargedWh: bigint;
  dischargedWh: bigint;
};

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/**
 * One interval of a battery behind the meter, given the home's production and consumption.
 * - Surplus always charges, up to the battery's power and free capacity; the rest is exported.
 * - `self-consumption`: a deficit is covered from the battery first, the rest is imported.
 * - `price-aware`: when the last local price was high (in the upper quarter of the band between feed-in
 *   and retail) the battery covers the deficit and sells what power is left to the neighbours; when it was
 *   low (the lower half) it keeps its charge and the home buys the cheap local energy; in between it
 *   covers the deficit only. Without a price yet it behaves like `self-consumption`.
 * Energy into the battery keeps BATTERY_EFFICIENCY_BPS of itself, and so does energy out of it.
 * @example batteryStep({ capacityWh: 10_000n, maxEnergyPerIntervalWh: 1_250n, strategy: "self-consumption" }, 0n,
 *   { productionWh: 2_000n, consumptionWh: 500n }, { lastPriceMicroPerKwh: undefined, feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 320_000n })
 * // { storedWh: 1187n, exportWh: 250n, importWh: 0n, chargedWh: 1250n, dischargedWh: 0n }
 */
export function batteryStep(
  spec: BatterySpec,
  storedWh: bigint,
  home: { productionWh: bigint; consumptionWh: bigint },
  signal: BatterySignal,
): BatteryStep {
  const net = home.productionWh - home.consumptionWh;
  const power = spec.maxEnergyPerIntervalWh;
  if (net >= 0n) {
    // What the battery can still hold, in energy drawn from the home before losses.
    const room = ceilDiv((spec.capacityWh - storedWh) * 10_000n, BATTERY_EFFICIENCY_BPS);
    const chargedWh = min(min(net, power), room);
    const stored = min(spec.capacityWh, storedWh + (chargedWh * BATTERY_EFFICIENCY_BPS) / 10_000n);
    return { storedWh: stored, exportWh: net - chargedWh, importWh: 0n, chargedWh, dischargedWh: 0n };
  }
  const deficit = -net;
  const mode = dischargeMode(spec.strategy, signal);
  // Energy the battery can deliver after losses this interval.
  const deliverable = min(power, (storedWh * BATTERY_EFFICIENCY_BPS) / 10_000n);
  const dischargedWh = mode === "hold" ? 0n : mode === "sell" ? deliverable : min(deficit, deliverable);
  const drawn = min(storedWh, ceilDiv(dischargedWh * 10_000n, BATTERY_EFFICIENCY_BPS));
  const metered = dischargedWh - deficit;
  return {
    storedWh: storedWh - drawn,
    exportWh: metered > 0n ? metered : 0n,
    importWh: metered < 0n ? -metered : 0n,
    chargedWh: 0n,
    dischargedWh,
  };
}

function dischargeMode(strategy: BatteryStrategyName, signal: BatterySignal): "hold" | "cover" | "sell" {
  const price = signal.lastPriceMicroPerKwh;
  if (strategy === "self-consumption" || price === undefined) return "cover";
  const band = signal.retailMicroPerKwh - signal.feedInMicroPerKwh;
  if (price * 4n >= signal.feedInMicroPerKwh * 4n + band * 3n) return "sell";
  if (price * 2n < signal.feedInMicroPerKwh * 2n + band) return "hold";
  return "cover";
}
