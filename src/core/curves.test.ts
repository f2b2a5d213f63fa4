import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bookCurves, type CurveOrder, type CurveStep, demandCurve, supplyCurve } from "./curves.ts";

const order = fc.record({
  side: fc.constantFrom<CurveOrder["side"]>("ask", "bid"),
  limitMicroPerKwh: fc.bigInt({ min: 1n, max: 500_000n }),
  quantityWh: fc.bigInt({ min: 0n, max: 5_000n }),
});
const book = fc.array(order, { maxLength: 40 });

const total = (orders: readonly CurveOrder[], side: CurveOrder["side"]) =>
  orders.filter((o) => o.side === side).reduce((sum, o) => sum + o.quantityWh, 0n);

/** Steps follow each other without gaps and each adds a positive quantity. */
function expectContiguous(steps: readonly CurveStep[]) {
  let at = 0n;
  for (const s of steps) {
    expect(s.fromWh).toBe(at);
    expect(s.toWh).toBeGreaterThan(s.fromWh);
    at = s.toWh;
  }
}

describe("supply and demand curves", () => {
  it("groups equal limits, sorts asks up and bids down", () => {
    const orders: CurveOrder[] = [
      { side: "ask", limitMicroPerKwh: 120_000n, quantityWh: 500n },
      { side: "bid", limitMicroPerKwh: 100_000n, quantityWh: 300n },
      { side: "ask", limitMicroPerKwh: 80_000n, quantityWh: 200n },
      { side: "bid", limitMicroPerKwh: 250_000n, quantityWh: 400n },
      { side: "ask", limitMicroPerKwh: 80_000n, quantityWh: 100n },
      { side: "ask", limitMicroPerKwh: 90_000n, quantityWh: 0n },
    ];
    expect(supplyCurve(orders)).toEqual([
      { priceMicroPerKwh: 80_000n, fromWh: 0n, toWh: 300n },
      { priceMicroPerKwh: 120_000n, fromWh: 300n, toWh: 800n },
    ]);
    expect(demandCurve(orders)).toEqual([
      { priceMicroPerKwh: 250_000n, fromWh: 0n, toWh: 400n },
      { priceMicroPerKwh: 100_000n, fromWh: 400n, toWh: 700n },
    ]);
  });

  it("is empty for an empty book and refuses a negative quantity", () => {
    expect(bookCurves([])).toEqual({ supply: [], demand: [] });
    expect(() => supplyCurve([{ side: "ask", limitMicroPerKwh: 1n, quantityWh: -1n }])).toThrow(RangeError);
  });

  it("supply rises and demand falls in price, both contiguous, totals equal the sums of the orders", () => {
    fc.assert(
      fc.property(book, (orders) => {
        const { supply, demand } = bookCurves(orders);
        expectContiguous(supply);
        expectContiguous(demand);
        for (let i = 1; i < supply.length; i++)
          expect((supply[i] as CurveStep).priceMicroPerKwh).toBeGreaterThan((supply[i - 1] as CurveStep).priceMicroPerKwh);
        for (let i = 1; i < demand.length; i++)
          expect((demand[i] as CurveStep).priceMicroPerKwh).toBeLessThan((demand[i - 1] as CurveStep).priceMicroPerKwh);
        expect(supply.at(-1)?.toWh ?? 0n).toBe(total(orders, "ask"));
        expect(demand.at(-1)?.toWh ?? 0n).toBe(total(orders, "bid"));
      }),
    );
  });

  it("each step holds exactly the orders at its limit", () => {
    fc.assert(
      fc.property(book, (orders) => {
        for (const [side, steps] of [
          ["ask", supplyCurve(orders)],
          ["bid", demandCurve(orders)],
        ] as const) {
          for (const s of steps) {
            const at = orders.filter((o) => o.side === side && o.limitMicroPerKwh === s.priceMicroPerKwh);
            expect(s.toWh - s.fromWh).toBe(at.reduce((sum, o) => sum + o.quantityWh, 0n));
          }
        }
      }),
    );
  });

  it("does not depend on the orders' arrival", () => {
    fc.assert(
      fc.property(
        book.chain((orders) => fc.tuple(fc.constant(orders), fc.shuffledSubarray(orders, { minLength: orders.length }))),
        ([orders, shuffled]) => {
          expect(bookCurves(shuffled)).toEqual(bookCurves(orders));
        },
      ),
    );
  });
});
