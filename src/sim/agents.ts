/**
 * How simulated households price their standing orders. Pure: an agent's next order is a function of its
 * strategy, its last order, what happened to it since, and a hash of (seed, household, period), never of
 * the order in which households are visited.
 */
import type { StandingOrder, Tariffs } from "../core/clearing.ts";
import { hashUnit } from "./random.ts";
import type { StrategyName } from "./result.ts";

/**
 * Per-interval caps every simulated order carries: above what a home meters, so prices decide. The buy
 * cap must also be covered by escrow at the bid when the order is set (the market checks it): 20 kWh at
 * a retail price of 0.32 needs 6.4 credits.
 */
export const AGENT_MAX_SELL_WH = 1_000_000n;
export const AGENT_MAX_BUY_WH = 20_000n;

/** Strategy parameters from the scenario; null prices take the defaults below. */
export type AgentSettings = {
  fixed: { askMicroPerKwh: bigint | null; bidMicroPerKwh: bigint | null };
  adaptive: { stepMicroPerKwh: bigint };
};

/** What happened to a household over the intervals since its last repricing. */
export type AgentOutcome = {
  soldLocalWh: bigint;
  soldGridWh: bigint;
  boughtLocalWh: bigint;
  boughtGridWh: bigint;
  /** Energy traded between neighbours in the household's zone, all households together. */
  zoneTradedWh: bigint;
};

const clamp = (x: bigint, lo: bigint, hi: bigint) => (x < lo ? lo : x > hi ? hi : x);

/** A price in [lo, hi] drawn from the hash of the parts. */
function drawPrice(lo: bigint, hi: bigint, ...parts: (string | number)[]): bigint {
  return lo + ((hi - lo) * BigInt(Math.floor(hashUnit(...parts) * 1_000_000))) / 1_000_000n;
}

/**
 * A household's first standing order. `fixed` asks a quarter of the way up the band between feed-in and
 * retail and bids three quarters up (or the scenario's prices); `zi` draws both uniformly from the band
 * (zero intelligence, constrained: never selling below feed-in nor buying above retail, the prices the
 * grid offers anyway); `adaptive` starts at the middle of the band.
 * @example initialOrder("fixed", { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 320_000n },
 *   { fixed: { askMicroPerKwh: null, bidMicroPerKwh: null }, adaptive: { stepMicroPerKwh: 10_000n } }, "seed", 0)
 * // { askMicroPerKwh: 140_000n, maxSellWh: 1_000_000n, bidMicroPerKwh: 260_000n, maxBuyWh: 20_000n }
 */
export function initialOrder(
  strategy: StrategyName,
  tariffs: Tariffs,
  settings: AgentSettings,
  seed: string,
  household: number,
): StandingOrder {
  const { feedInMicroPerKwh: lo, retailMicroPerKwh: hi } = tariffs;
  const band = hi - lo;
  const order = (ask: bigint, bid: bigint): StandingOrder => ({
    askMicroPerKwh: ask,
    maxSellWh: AGENT_MAX_SELL_WH,
    bidMicroPerKwh: bid,
    maxBuyWh: AGENT_MAX_BUY_WH,
  });
  if (strategy === "fixed") {
    return order(settings.fixed.askMicroPerKwh ?? lo + band / 4n, settings.fixed.bidMicroPerKwh ?? lo + (band * 3n) / 4n);
  }
  if (strategy === "zi") return reprice("zi", order(lo, hi), undefined, tariffs, settings, seed, household, 0);
  return order(lo + band / 2n, lo + band / 2n);
}

/**
 * The order a household sets at repricing number `period` (1, 2, …), after `outcome`.
 * - `fixed` keeps its order.
 * - `zi` draws a new ask and bid uniformly from [feed-in, retail].
 * - `adaptive` moves by the scenario's step, and only when neighbours in its zone traded (so a night
 *   without sellers does not push every bid to retail): a seller that sold to the grid lowers its ask,
 *   one that sold everything locally raises it; a buyer that bought from the grid raises its bid, one
 *   that bought everything locally lowers it. Prices stay within [feed-in, retail].
 * @example reprice("adaptive", order, { soldLocalWh: 0n, soldGridWh: 500n, boughtLocalWh: 0n, boughtGridWh: 0n, zoneTradedWh: 900n },
 *   tariffs, settings, "seed", 3, 1) // ask lowered by one step
 */
export function reprice(
  strategy: StrategyName,
  order: StandingOrder,
  outcome: AgentOutcome | undefined,
  tariffs: Tariffs,
  settings: AgentSettings,
  seed: string,
  household: number,
  period: number,
): StandingOrder {
  const { feedInMicroPerKwh: lo, retailMicroPerKwh: hi } = tariffs;
  if (strategy === "fixed") return order;
  if (strategy === "zi") {
    return {
      ...order,
      askMicroPerKwh: drawPrice(lo, hi, seed, "zi-ask", household, period),
      bidMicroPerKwh: drawPrice(lo, hi, seed, "zi-bid", household, period),
    };
  }
  if (!outcome || outcome.zoneTradedWh === 0n) return order;
  const step = settings.adaptive.stepMicroPerKwh;
  let ask = order.askMicroPerKwh;
  let bid = order.bidMicroPerKwh;
  if (outcome.soldGridWh > 0n) ask -= step;
  else if (outcome.soldLocalWh > 0n) ask += step;
  if (outcome.boughtGridWh > 0n) bid += step;
  else if (outcome.boughtLocalWh > 0n) bid -= step;
  return { ...order, askMicroPerKwh: clamp(ask, lo, hi), bidMicroPerKwh: clamp(bid, lo, hi) };
}

/**
 * Whether two orders differ (only then does a household send a transaction).
 * @example sameOrder(a, { ...a }) // true
 */
export function sameOrder(a: StandingOrder, b: StandingOrder): boolean {
  return (
    a.askMicroPerKwh === b.askMicroPerKwh &&
    a.maxSellWh === b.maxSellWh &&
    a.bidMicroPerKwh === b.bidMicroPerKwh &&
    a.maxBuyWh === b.maxBuyWh
  );
}
