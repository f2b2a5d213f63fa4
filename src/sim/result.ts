/**
 * What a simulation produces: per-interval community flows, per-household totals and the community's
 * KPIs against the grid-only baseline. Plain data (bigint for energy in Wh, money in the settlement
 * token's smallest unit, shares in basis points); no wall-clock times, so the same scenario and seed
 * give the same result byte for byte.
 */

/** An agent's pricing strategy (see agents.ts). */
export type StrategyName = "fixed" | "zi" | "adaptive";

/** A battery's operating strategy (see battery.ts). */
export type BatteryStrategyName = "self-consumption" | "price-aware";

/** One settled interval of the whole community. */
export type IntervalSummary = {
  interval: bigint;
  /** Interval start, unix seconds. */
  startsAt: bigint;
  /** Interval start in the scenario's time zone, "YYYY-MM-DDTHH:MM". */
  localTime: string;
  /** The hub clearing price (every zone's price when no zone limit binds). */
  priceMicroPerKwh: bigint;
  /** PV energy produced and energy consumed (EV included) behind the meters. */
  productionWh: bigint;
  consumptionWh: bigint;
  /** Metered net export and import, after batteries. */
  exportWh: bigint;
  importWh: bigint;
  /** Traded between neighbours. */
  tradedWh: bigint;
  /** Settled with the grid: unsold export, unmet import. */
  toGridWh: bigint;
  fromGridWh: bigint;
  /** Energy held in all batteries at the interval's end. */
  batteryStoredWh: bigint;
  trades: number;
  /** Gas of the interval's readings and settlement transactions, and of order changes and escrow top-ups sent before it. */
  gas: bigint;
  /** Zones whose import or export limit bound in this interval. */
  boundZones: number[];
};

/** One household over the whole run. */
export type HouseholdSummary = {
  index: number;
  name: string;
  zone: number;
  strategy: StrategyName;
  pvKwp: number;
  batteryKwh: number;
  hasEv: boolean;
  productionWh: bigint;
  consumptionWh: bigint;
  exportWh: bigint;
  importWh: bigint;
  soldLocalWh: bigint;
  boughtLocalWh: bigint;
  soldGridWh: bigint;
  boughtGridWh: bigint;
  /** Money paid (local purchases, grid import) and earned (local sales, feed-in), from the settlements. */
  paidMicro: bigint;
  earnedMicro: bigint;
  /** paid − earned: the household's bill on the market. */
  netCostMicro: bigint;
  /** Import at retail minus export at feed-in: the bill without the market. */
  gridOnlyBillMicro: bigint;
  /** gridOnlyBill − netCost. */
  savingsMicro: bigint;
  /** Share of own production used on site, (production − export) / production; null without production. */
  selfConsumptionBps: bigint | null;
  /** Share of own consumption met on site, (consumption − import) / consumption; null without consumption. */
  selfSufficiencyBps: bigint | null;
  /** Highest metered import and export power over any interval, W. */
  peakImportW: bigint;
  peakExportW: bigint;
};

/** The community's KPIs over the whole run, each against the grid-only baseline where it applies. */
export type CommunitySummary = {
  households: number;
  intervals: number;
  productionWh: bigint;
  consumptionWh: bigint;
  exportWh: bigint;
  importWh: bigint;
  tradedWh: bigint;
  toGridWh: bigint;
  fromGridWh: bigint;
  /** PV used inside the community, (production − toGrid) / production; null without production. */
  selfConsumptionBps: bigint | null;
  /** Demand met inside the community, (consumption − fromGrid) / consumption. */
  selfSufficiencyBps: bigint | null;
  /** Metered import met by neighbours, traded / import. */
  localShareOfDemandBps: bigint | null;
  /** Metered export sold to neighbours, traded / export. */
  localShareOfSupplyBps: bigint | null;
  /** Highest power drawn from and fed to the grid by the community over any interval, W. */
  peakImportW: bigint;
  peakExportW: bigint;
  /** Hub prices over the intervals with local trades; the mean is weighted by traded energy. Null without trades. */
  minPriceMicroPerKwh: bigint | null;
  meanPriceMicroPerKwh: bigint | null;
  maxPriceMicroPerKwh: bigint | null;
  netCostMicro: bigint;
  gridOnlyBillMicro: bigint;
  savingsMicro: bigint;
  /** Savings as a share of the grid-only bill; null when that bill is not positive. */
  savingsBps: bigint | null;
  /** Gini coefficient of the households' savings (0: equal, 10,000: one household saves everything); null when undefined. */
  savingsGiniBps: bigint | null;
  /** Grid intensity the scenario assumes, g CO2 per kWh. */
  gridIntensityGPerKwh: bigint;
  /** Grid energy the community did not draw, (consumption − fromGrid), times the intensity, in grams. */
  co2AvoidedGrams: bigint;
  /** Gas of every transaction of the run after onboarding: readings, settlements, order changes and escrow top-ups. */
  gas: bigint;
  /** gas / settled kWh, where every metered Wh (export + import) is settled, locally or with the grid. */
  gasPerSettledKwh: bigint | null;
  /** gas / locally traded kWh. */
  gasPerTradedKwh: bigint | null;
};

/** A complete run. */
export type SimulationResult = {
  scenario: {
    name: string;
    seed: string;
    timeZone: string;
    /** First interval start and end of the last interval, unix seconds. */
    startsAt: bigint;
    endsAt: bigint;
    intervalSeconds: bigint;
    retailMicroPerKwh: bigint;
    feedInMicroPerKwh: bigint;
  };
  community: CommunitySummary;
  households: HouseholdSummary[];
  intervals: IntervalSummary[];
};
