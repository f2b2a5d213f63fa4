import { describe, expect, it } from "vitest";
import { executeAgreements } from "./bilateral.ts";
import { type BookMeter, boundLimit, rebuildIntervalBook, type SettledBook } from "./intervalBook.ts";
import { clearZonal, UNLIMITED_WH, type ZonalClearing, type ZoneLimits } from "./zonalClearing.ts";

const tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 300_000n };
const seller = (meterId: number, zone: number, exportWh: bigint, askMicroPerKwh: bigint): BookMeter => ({
  meterId,
  account: `0x${meterId.toString(16).padStart(40, "0")}`,
  zone,
  exportWh,
  importWh: 0n,
  order: { askMicroPerKwh, maxSellWh: 10_000n, bidMicroPerKwh: 0n, maxBuyWh: 0n },
  balanceMicro: 0n,
});
const buyer = (
  meterId: number,
  zone: number,
  importWh: bigint,
  bidMicroPerKwh: bigint,
  balanceMicro = 10_000_000n,
): BookMeter => ({
  meterId,
  account: `0x${meterId.toString(16).padStart(40, "0")}`,
  zone,
  exportWh: 0n,
  importWh,
  order: { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh, maxBuyWh: 10_000n },
  balanceMicro,
});
const settledFrom = (c: ZonalClearing): SettledBook => ({
  hubPriceMicroPerKwh: c.hubPriceMicroPerKwh,
  zonePrices: new Map(c.zones.map((z) => [z.zone, z.priceMicroPerKwh])),
  fills: new Map(c.fills.map((f) => [f.meterId, f])),
});

describe("rebuildIntervalBook", () => {
  const meters = [
    seller(1, 0, 1_000n, 100_000n),
    buyer(2, 0, 600n, 250_000n),
    seller(3, 1, 400n, 0n),
    buyer(4, 1, 900n, 200_000n),
  ];
  const limits = new Map<number, ZoneLimits>([[1, { importCapWh: 100n, exportCapWh: UNLIMITED_WH, feeMicroPerKwh: 0n }]]);

  it("gives the effective orders with their fills and reproduces a settlement made from the same positions", () => {
    const settled = settledFrom(clearZonal(meters, tariffs, limits));
    const book = rebuildIntervalBook(meters, [], tariffs, limits, settled);
    expect(book.reproduced).toBe(true);
    // The ask below feed-in is raised to it; asks come before bids.
    expect(book.orders.map((o) => [o.meterId, o.side, o.limitMicroPerKwh, o.quantityWh])).toEqual([
      [1, "ask", 100_000n, 1_000n],
      [3, "ask", 80_000n, 400n],
      [2, "bid", 250_000n, 600n],
      [4, "bid", 200_000n, 900n],
    ]);
    const sold = book.orders.filter((o) => o.side === "ask").reduce((s, o) => s + o.filledWh, 0n);
    expect(sold).toBe(book.clearing.tradedWh);
    expect(book.curves.supply.at(-1)?.toWh).toBe(1_400n);
    expect(book.zoneCurves.get(1)?.demand).toEqual([{ priceMicroPerKwh: 200_000n, fromWh: 0n, toWh: 900n }]);
  });

  it("takes bilateral deliveries out of the readings and the buyer's escrow first", () => {
    const due = [{ id: 1n, sellerMeterId: 1, buyerMeterId: 2, maxWhPerInterval: 250n, priceMicroPerKwh: 150_000n }];
    const { deliveries, positions } = executeAgreements(meters, due);
    const settled = settledFrom(clearZonal(positions, tariffs, limits));
    const delivered = deliveries.map((d) => ({
      sellerMeterId: 1,
      buyerMeterId: 2,
      energyWh: d.energyWh,
      costMicro: d.costMicro,
    }));
    const book = rebuildIntervalBook(meters, delivered, tariffs, limits, settled);
    expect(book.reproduced).toBe(true);
    expect(book.orders.find((o) => o.meterId === 1)?.quantityWh).toBe(750n);
    expect(book.orders.find((o) => o.meterId === 2)?.quantityWh).toBe(350n);
    // Without the deliveries the book is not the one settled.
    expect(rebuildIntervalBook(meters, [], tariffs, limits, settled).reproduced).toBe(false);
  });

  it("reports a settlement it does not reproduce", () => {
    const settled = settledFrom(clearZonal(meters, tariffs, limits));
    const poorer = meters.map((m) => (m.meterId === 4 ? { ...m, balanceMicro: 10_000n } : m));
    expect(rebuildIntervalBook(poorer, [], tariffs, limits, settled).reproduced).toBe(false);
    expect(() =>
      rebuildIntervalBook(meters, [{ sellerMeterId: 9, buyerMeterId: 2, energyWh: 1n, costMicro: 0n }], tariffs, limits, settled),
    ).toThrow(RangeError);
  });
});

describe("boundLimit", () => {
  it("names the cap that held a zone apart from the hub", () => {
    expect(boundLimit(95_000n, 100_000n, 0n)).toBe("export");
    expect(boundLimit(130_000n, 100_000n, 20_000n)).toBe("import");
    expect(boundLimit(120_000n, 100_000n, 20_000n)).toBe(null);
    expect(boundLimit(100_000n, 100_000n, 0n)).toBe(null);
  });

  it("agrees with the clearing: an import cap that holds a zone prices it above the hub", () => {
    const meters = [seller(1, 0, 1_000n, 100_000n), buyer(2, 1, 900n, 250_000n)];
    const limits = new Map<number, ZoneLimits>([[1, { importCapWh: 100n, exportCapWh: UNLIMITED_WH, feeMicroPerKwh: 0n }]]);
    const c = clearZonal(meters, tariffs, limits);
    const zone1 = c.zones.find((z) => z.zone === 1);
    expect(zone1?.capacityBound).toBe(true);
    expect(zone1?.netExportWh).toBe(-100n);
    expect(boundLimit(zone1?.priceMicroPerKwh ?? 0n, c.hubPriceMicroPerKwh, 0n)).toBe("import");
    const zone0 = c.zones.find((z) => z.zone === 0);
    expect(boundLimit(zone0?.priceMicroPerKwh ?? 0n, c.hubPriceMicroPerKwh, 0n)).toBe(zone0?.capacityBound ? "export" : null);
  });
});
