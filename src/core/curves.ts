// Supply and demand curves of an interval's book, for showing: pure, integers only.

/** One order of a book: a seller's offer (ask) or a buyer's demand (bid), at a limit price. */
export type CurveOrder = { side: "ask" | "bid"; limitMicroPerKwh: bigint; quantityWh: bigint };

/**
 * One step of a cumulative curve: at `priceMicroPerKwh`, the quantity from `fromWh` to `toWh`. Steps
 * follow each other without gaps (`fromWh` is the previous step's `toWh`, the first starts at 0), one
 * per distinct limit price.
 */
export type CurveStep = { priceMicroPerKwh: bigint; fromWh: bigint; toWh: bigint };

/** Both curves of a book. */
export type Curves = { supply: CurveStep[]; demand: CurveStep[] };

/** The steps of one side: its orders with a quantity, grouped by limit, in the order `before` sorts the limits. */
function steps(orders: readonly CurveOrder[], side: CurveOrder["side"], before: (a: bigint, b: bigint) => boolean): CurveStep[] {
  const byLimit = new Map<bigint, bigint>();
  for (const o of orders) {
    if (o.side !== side) continue;
    if (o.quantityWh < 0n) throw new RangeError(`negative quantity ${o.quantityWh} Wh at ${o.limitMicroPerKwh}`);
    if (o.quantityWh === 0n) continue;
    byLimit.set(o.limitMicroPerKwh, (byLimit.get(o.limitMicroPerKwh) ?? 0n) + o.quantityWh);
  }
  const limits = [...byLimit.keys()].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  let cumulativeWh = 0n;
  return limits.map((priceMicroPerKwh) => {
    const fromWh = cumulativeWh;
    cumulativeWh += byLimit.get(priceMicroPerKwh) as bigint;
    return { priceMicroPerKwh, fromWh, toWh: cumulativeWh };
  });
}

/**
 * The supply curve: asks by limit ascending, each step the Wh offered at that limit on top of all cheaper
 * ones. Orders with no quantity are left out; equal limits make one step. Independent of arrival order.
 * @example supplyCurve([{ side: "ask", limitMicroPerKwh: 120n, quantityWh: 5n }, { side: "ask", limitMicroPerKwh: 90n, quantityWh: 3n }])
 * // [{ priceMicroPerKwh: 90n, fromWh: 0n, toWh: 3n }, { priceMicroPerKwh: 120n, fromWh: 3n, toWh: 8n }]
 */
export function supplyCurve(orders: readonly CurveOrder[]): CurveStep[] {
  return steps(orders, "ask", (a, b) => a < b);
}

/**
 * The demand curve: bids by limit descending, each step the Wh demanded at that limit on top of all
 * higher bids. Orders with no quantity are left out; equal limits make one step. Independent of arrival order.
 * @example demandCurve([{ side: "bid", limitMicroPerKwh: 90n, quantityWh: 3n }, { side: "bid", limitMicroPerKwh: 120n, quantityWh: 5n }])
 * // [{ priceMicroPerKwh: 120n, fromWh: 0n, toWh: 5n }, { priceMicroPerKwh: 90n, fromWh: 5n, toWh: 8n }]
 */
export function demandCurve(orders: readonly CurveOrder[]): CurveStep[] {
  return steps(orders, "bid", (a, b) => a > b);
}

/**
 * Both curves of a book.
 * @example bookCurves(orders).supply.at(-1)?.toWh // all the Wh offered
 */
export function bookCurves(orders: readonly CurveOrder[]): Curves {
  return { supply: supplyCurve(orders), demand: demandCurve(orders) };
}
