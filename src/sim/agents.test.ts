import { describe, expect, it } from "vitest";
import { type AgentSettings, initialOrder, reprice, sameOrder } from "./agents.ts";

const tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 320_000n };
const settings: AgentSettings = {
  fixed: { askMicroPerKwh: null, bidMicroPerKwh: null },
  adaptive: { stepMicroPerKwh: 10_000n },
};
const traded = { soldLocalWh: 0n, soldGridWh: 0n, boughtLocalWh: 0n, boughtGridWh: 0n, zoneTradedWh: 1_000n };

describe("agents", () => {
  it("fixed asks a quarter and bids three quarters up the band, or the scenario's prices, and never changes", () => {
    const order = initialOrder("fixed", tariffs, settings, "s", 0);
    expect(order).toMatchObject({ askMicroPerKwh: 140_000n, bidMicroPerKwh: 260_000n });
    const own = initialOrder(
      "fixed",
      tariffs,
      { ...settings, fixed: { askMicroPerKwh: 90_000n, bidMicroPerKwh: 300_000n } },
      "s",
      0,
    );
    expect(own).toMatchObject({ askMicroPerKwh: 90_000n, bidMicroPerKwh: 300_000n });
    expect(reprice("fixed", order, { ...traded, soldGridWh: 5n }, tariffs, settings, "s", 0, 1)).toBe(order);
  });

  it("zi draws within the band, the same for the same seed, household and period, differently otherwise", () => {
    const base = initialOrder("zi", tariffs, settings, "s", 3);
    const draws = Array.from({ length: 200 }, (_, p) => reprice("zi", base, undefined, tariffs, settings, "s", 3, p + 1));
    for (const d of draws) {
      for (const price of [d.askMicroPerKwh, d.bidMicroPerKwh]) {
        expect(price >= 80_000n && price <= 320_000n).toBe(true);
      }
    }
    expect(new Set(draws.map((d) => d.askMicroPerKwh)).size).toBeGreaterThan(150);
    expect(reprice("zi", base, undefined, tariffs, settings, "s", 3, 7)).toEqual(draws[6]);
    expect(reprice("zi", base, undefined, tariffs, settings, "t", 3, 7)).not.toEqual(draws[6]);
  });

  it("adaptive lowers an ask that went to the grid, raises one that sold locally, and the reverse for bids", () => {
    const start = initialOrder("adaptive", tariffs, settings, "s", 0);
    expect(start).toMatchObject({ askMicroPerKwh: 200_000n, bidMicroPerKwh: 200_000n });
    const next = (outcome: typeof traded) => reprice("adaptive", start, outcome, tariffs, settings, "s", 0, 1);
    expect(next({ ...traded, soldGridWh: 10n, boughtGridWh: 10n })).toMatchObject({
      askMicroPerKwh: 190_000n,
      bidMicroPerKwh: 210_000n,
    });
    expect(next({ ...traded, soldLocalWh: 10n, boughtLocalWh: 10n })).toMatchObject({
      askMicroPerKwh: 210_000n,
      bidMicroPerKwh: 190_000n,
    });
    expect(sameOrder(next({ ...traded, soldGridWh: 10n, zoneTradedWh: 0n }), start)).toBe(true);
  });

  it("adaptive stays within [feed-in, retail]", () => {
    let order = initialOrder("adaptive", tariffs, settings, "s", 0);
    for (let p = 1; p < 40; p++)
      order = reprice("adaptive", order, { ...traded, soldGridWh: 1n, boughtGridWh: 1n }, tariffs, settings, "s", 0, p);
    expect(order).toMatchObject({ askMicroPerKwh: 80_000n, bidMicroPerKwh: 320_000n });
  });
});
