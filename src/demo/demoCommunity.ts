import { type Hex, keccak256, type PrivateKeyAccount, toHex } from "viem";
import { localAccount } from "../chain/localAccount.ts";
import type { StandingOrder, Tariffs } from "../core/clearing.ts";
import { type MeterKey, meterKey, type ReadingDomain, type SignedReading, signReading } from "../metering/reading.ts";
import { createHouseholds, type HouseholdProfile } from "../sim/household.ts";
import { householdIntervalWh } from "../sim/meterReading.ts";
import { hashUnit } from "../sim/random.ts";

/** A demo household: its profile, wallet, meter key, standing order and opening escrow. */
export type DemoHousehold = {
  profile: HouseholdProfile;
  account: PrivateKeyAccount;
  meter: MeterKey;
  zone: number;
  order: StandingOrder;
  depositMicro: bigint;
};

export type DemoCommunity = {
  seed: string;
  operator: PrivateKeyAccount;
  gateway: PrivateKeyAccount;
  keeper: PrivateKeyAccount;
  grid: PrivateKeyAccount;
  households: DemoHousehold[];
  gridDepositMicro: bigint;
};

/** Default grid tariffs of the demo, in micro-credits per kWh: 0.08 feed-in, 0.32 retail. */
export const demoTariffs: Tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 320_000n };

const CREDIT = 1_000_000n;

/**
 * A demo key derived from the community seed by label ("operator", "grid", "gateway", "keeper",
 * "household:<index>", "meter:<index>"). Demo only: real participants bring their own keys.
 * @example demoPrivateKey(community.seed, "household:0")
 */
export function demoPrivateKey(seed: string, label: string): Hex {
  return keccak256(toHex(`peergrid demo key:${seed}:${label}`));
}

function demoKey(seed: string, label: string): PrivateKeyAccount {
  return localAccount(demoPrivateKey(seed, label));
}

/** A price in [from, to] picked deterministically from (seed, label). */
function pickPrice(seed: string, label: string, from: bigint, to: bigint): bigint {
  const unit = BigInt(Math.floor(hashUnit(seed, label) * 1000));
  return from + ((to - from) * unit) / 1000n;
}

/**
 * A deterministic demo community: households from the simulator's models (a quarter without PV), keys
 * derived from the seed, and standing orders spread between the tariffs: prosumers ask a little above
 * feed-in, everyone bids somewhere between the middle of the band and retail.
 * @example const community = createDemoCommunity({ seed: "demo", households: 20, tariffs: demoTariffs });
 */
export function createDemoCommunity(options: { seed: string; households: number; tariffs: Tariffs }): DemoCommunity {
  const { seed, tariffs } = options;
  const feedIn = tariffs.feedInMicroPerKwh;
  const retail = tariffs.retailMicroPerKwh;
  const middle = (feedIn + retail) / 2n;
  const households = createHouseholds({ seed, count: options.households }).map((profile): DemoHousehold => {
    const name = profile.name;
    const hasPv = profile.pvKwp > 0;
    return {
      profile,
      account: demoKey(seed, `household:${profile.index}`),
      meter: meterKey(demoPrivateKey(seed, `meter:${profile.index}`)),
      zone: 1 + (profile.index % 2),
      order: {
        askMicroPerKwh: hasPv ? pickPrice(seed, `${name}:ask`, feedIn, middle) : 0n,
        maxSellWh: hasPv ? 50_000n : 0n,
        bidMicroPerKwh: pickPrice(seed, `${name}:bid`, middle, retail),
        maxBuyWh: 5_000n,
      },
      depositMicro: 50n * CREDIT,
    };
  });
  return {
    seed,
    operator: demoKey(seed, "operator"),
    gateway: demoKey(seed, "gateway"),
    keeper: demoKey(seed, "keeper"),
    grid: demoKey(seed, "grid"),
    households,
    gridDepositMicro: 1_000_000n * CREDIT,
  };
}

/** Maps market intervals to simulated time: the first interval is simulated from `startAt` on. */
export type DemoTimeline = { startAt: bigint; firstInterval: bigint; intervalSeconds: bigint };

/**
 * The signed readings every demo meter produces for `interval`: the simulated households' energy over
 * the interval's slice of the simulated day. A pure function of the community, the timeline and the
 * interval, so after a restart the same readings are produced again. On the embedded chain, chain time
 * is simulated time; on an external node running in real time the simulated day still starts at
 * `startAt`, so a demo on a real chain at night still sees the sun.
 * @example const readings = demoReadings(community, domain, timeline, 1_980_000n)
 */
export function demoReadings(
  community: DemoCommunity,
  domain: ReadingDomain,
  timeline: DemoTimeline,
  interval: bigint,
): SignedReading[] {
  const { intervalSeconds } = timeline;
  const startsAt = Number(timeline.startAt + (interval - timeline.firstInterval) * intervalSeconds);
  return community.households.map((h) => {
    const { exportWh, importWh } = householdIntervalWh(h.profile, startsAt, Number(intervalSeconds));
    return signReading(h.meter, domain, { interval, exportWh, importWh });
  });
}
