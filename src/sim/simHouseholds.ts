/**
 * The households of a scenario, resolved: physical model (load and PV, or a measured profile), battery,
 * car, zone and pricing strategy of each. Pure and deterministic in the scenario's seed.
 */
import type { BatterySpec } from "./battery.ts";
import type { EvSpec } from "./ev.ts";
import { createHouseholds, DEFAULT_LOCATION, type HouseholdProfile, LOAD_NOISE_SIGMA } from "./household.ts";
import type { HouseholdMeta } from "./kpis.ts";
import { hashUnit } from "./random.ts";
import type { StrategyName } from "./result.ts";
import type { GeneratedHouseholds, HouseholdEntry, Scenario } from "./scenario.ts";

/** One simulated household. */
export type SimHousehold = {
  meta: HouseholdMeta;
  profile: HouseholdProfile;
  battery: BatterySpec | undefined;
  ev: EvSpec | undefined;
};

/** Battery sizes in the scenario are kWh and kW; the simulator works in Wh per interval. */
function batterySpec(
  b: { capacityKwh: number; powerKw: number; strategy: BatterySpec["strategy"] },
  intervalSeconds: number,
): BatterySpec {
  return {
    capacityWh: BigInt(Math.round(b.capacityKwh * 1000)),
    maxEnergyPerIntervalWh: BigInt(Math.round((b.powerKw * 1000 * intervalSeconds) / 3600)),
    strategy: b.strategy,
  };
}

/** `share × count` of the `eligible` indexes (all of them if fewer), picked in a seeded order. */
function chosen(seed: string, label: string, eligible: readonly number[], share: number, count: number): Set<number> {
  const order = [...eligible].sort((a, b) => hashUnit(seed, label, a) - hashUnit(seed, label, b) || a - b);
  return new Set(order.slice(0, Math.round(share * count)));
}

/** Strategy of each index: shares of the count, rounded, handed out in a seeded order. */
function strategies(seed: string, count: number, shares: GeneratedHouseholds["strategies"]): StrategyName[] {
  const names: StrategyName[] = ["fixed", "zi", "adaptive"];
  const total = names.reduce((s, n) => s + shares[n], 0);
  const result: StrategyName[] = Array.from({ length: count }, () => "fixed");
  const order = Array.from({ length: count }, (_, i) => i).sort(
    (a, b) => hashUnit(seed, "strategy", a) - hashUnit(seed, "strategy", b) || a - b,
  );
  let from = 0;
  for (const name of names) {
    const to = name === "adaptive" ? count : from + Math.round((shares[name] / total) * count);
    for (let k = from; k < Math.min(to, count); k++) result[order[k] as number] = name;
    from = to;
  }
  return result;
}

function generated(s: Scenario, g: GeneratedHouseholds, intervalSeconds: number): SimHousehold[] {
  const profiles = createHouseholds({
    seed: s.seed,
    count: g.count,
    latitude: s.location.latitude,
    longitude: s.location.longitude,
    timeZone: s.location.timeZone,
    pvShare: g.pvShare,
    pvKwp: g.pvKwp,
    annualKwh: g.annualKwh,
  });
  // A battery here charges only from its home's PV, so batteries go to homes with PV.
  const all = profiles.map((p) => p.index);
  const withPv = profiles.filter((p) => p.pvKwp > 0).map((p) => p.index);
  const withBattery = g.battery ? chosen(s.seed, "battery", withPv, g.battery.share, g.count) : new Set<number>();
  const withEv = g.ev ? chosen(s.seed, "ev", all, g.ev.share, g.count) : new Set<number>();
  const strategyOf = strategies(s.seed, g.count, g.strategies);
  return profiles.map((profile, i) => {
    const battery = g.battery && withBattery.has(i) ? batterySpec(g.battery, intervalSeconds) : undefined;
    const ev = g.ev && withEv.has(i) ? g.ev : undefined;
    return {
      profile,
      battery,
      ev,
      meta: {
        index: i,
        name: profile.name,
        zone: g.zones[i % g.zones.length] as number,
        strategy: strategyOf[i] as StrategyName,
        pvKwp: profile.pvKwp,
        batteryKwh: g.battery && battery ? g.battery.capacityKwh : 0,
        hasEv: ev !== undefined,
      },
    };
  });
}

function listed(s: Scenario, list: readonly HouseholdEntry[], intervalSeconds: number): SimHousehold[] {
  return list.map((h, index) => {
    const name = h.name ?? `House ${String(index + 1).padStart(2, "0")}`;
    const profile: HouseholdProfile = {
      index,
      name,
      seed: `${s.seed}/house/${index}`,
      weatherSeed: s.seed,
      annualKwh: h.annualKwh,
      pvKwp: h.pvKwp,
      tiltDeg: h.tiltDeg,
      azimuthDeg: h.azimuthDeg,
      performanceRatio: 0.85,
      shiftMinutes: Math.floor(hashUnit(s.seed, "shift", index) * 61) - 30,
      loadNoiseSigma: LOAD_NOISE_SIGMA,
      latitudeDeg: s.location.latitude ?? DEFAULT_LOCATION.latitude,
      longitudeDeg: s.location.longitude ?? DEFAULT_LOCATION.longitude,
      timeZone: s.location.timeZone,
    };
    return {
      profile,
      battery: h.battery ? batterySpec(h.battery, intervalSeconds) : undefined,
      ev: h.ev ?? undefined,
      meta: {
        index,
        name,
        zone: h.zone,
        strategy: h.strategy,
        pvKwp: h.pvKwp,
        batteryKwh: h.battery?.capacityKwh ?? 0,
        hasEv: h.ev !== null,
      },
    };
  });
}

/**
 * The scenario's households, in order: generated from the counts and shares (batteries to homes with PV,
 * cars to any, and strategies handed out in a seeded order, zones round-robin) or taken from its list.
 * @example resolveHouseholds(scenario, 900).length // scenario's household count
 */
export function resolveHouseholds(s: Scenario, intervalSeconds: number): SimHousehold[] {
  return Array.isArray(s.households)
    ? listed(s, s.households, intervalSeconds)
    : generated(s, s.households as GeneratedHouseholds, intervalSeconds);
}
