import { describe, expect, it } from "vitest";
import { type DueAgreement, executeAgreements } from "./bilateral.ts";
import type { MeterPosition } from "./clearing.ts";

const noOrder = { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 0n, maxBuyWh: 0n };
const position = (meterId: number, exportWh: bigint, importWh: bigint, balanceMicro = 10_000_000n): MeterPosition => ({
  meterId,
  exportWh,
  importWh,
  balanceMicro,
  order: noOrder,
});
const agreement = (id: bigint, seller: number | undefined, buyer: number | undefined, maxWh: bigint, price = 150_000n) =>
  ({ id, sellerMeterId: seller, buyerMeterId: buyer, maxWhPerInterval: maxWh, priceMicroPerKwh: price }) satisfies DueAgreement;

describe("executeAgreements", () => {
  it("delivers the cap when seller and buyer have enough, and takes it off both positions and the buyer's escrow", () => {
    const { deliveries, positions } = executeAgreements(
      [position(1, 2000n, 0n), position(2, 0n, 1500n)],
      [agreement(7n, 1, 2, 1000n)],
    );
    // 1,000 Wh at 0.15 per kWh = 150,000 micro
    expect(deliveries).toEqual([{ id: 7n, sellerIndex: 0, buyerIndex: 1, energyWh: 1000n, costMicro: 150_000n }]);
    expect(positions[0]).toMatchObject({ exportWh: 1000n, balanceMicro: 10_000_000n });
    expect(positions[1]).toMatchObject({ importWh: 500n, balanceMicro: 9_850_000n });
  });

  it("under-delivers what the seller did not export, and leaves the buyer's rest to the auction", () => {
    const { deliveries, positions } = executeAgreements(
      [position(1, 300n, 0n), position(2, 0n, 1500n)],
      [agreement(1n, 1, 2, 1000n)],
    );
    expect(deliveries[0]).toMatchObject({ energyWh: 300n, costMicro: 45_000n });
    expect(positions[0]?.exportWh).toBe(0n);
    expect(positions[1]?.importWh).toBe(1200n);
  });

  it("limits a delivery to what the buyer's escrow pays, rounding energy down", () => {
    // 1,000 micro at 150,000 per kWh pays floor(1,000 * 1,000 / 150,000) = 6 Wh, costing floor(6 * 150) = 900
    const { deliveries } = executeAgreements(
      [position(1, 2000n, 0n), position(2, 0n, 1500n, 1000n)],
      [agreement(1n, 1, 2, 1000n)],
    );
    expect(deliveries[0]).toMatchObject({ energyWh: 6n, costMicro: 900n });
  });

  it("delivers nothing when a party has no reading, no meter or grid debt", () => {
    const book = [position(1, 2000n, 0n), position(2, 0n, 1500n, -5000n)];
    const { deliveries, positions } = executeAgreements(book, [
      agreement(1n, 1, 3, 100n),
      agreement(2n, undefined, 2, 100n),
      agreement(3n, 1, 2, 100n),
    ]);
    expect(deliveries.map((d) => d.energyWh)).toEqual([0n, 0n, 0n]);
    expect(deliveries[0]).toMatchObject({ sellerIndex: 0, buyerIndex: -1 });
    expect(positions).toEqual(book);
  });

  it("shares one seller's export between its agreements in execution order", () => {
    const book = [position(1, 1000n, 0n), position(2, 0n, 800n), position(3, 0n, 800n)];
    const { deliveries, positions } = executeAgreements(book, [agreement(1n, 1, 2, 700n), agreement(2n, 1, 3, 700n)]);
    expect(deliveries.map((d) => d.energyWh)).toEqual([700n, 300n]);
    expect(positions.map((p) => p.exportWh)).toEqual([0n, 0n, 0n]);
    expect(positions.map((p) => p.importWh)).toEqual([0n, 100n, 500n]);
  });

  it("leaves the input untouched and conserves energy and money", () => {
    const book = [position(1, 900n, 100n), position(2, 50n, 800n, 77_777n), position(3, 400n, 400n)];
    const copy = structuredClone(book);
    const { deliveries, positions } = executeAgreements(book, [
      agreement(1n, 1, 2, 500n, 123_457n),
      agreement(2n, 3, 2, 500n, 99_999n),
      agreement(3n, 1, 3, 1_000n, 80_001n),
    ]);
    expect(book).toEqual(copy);
    const delivered = deliveries.reduce((s, d) => s + d.energyWh, 0n);
    const exported = (ps: readonly MeterPosition[]) => ps.reduce((s, p) => s + p.exportWh, 0n);
    const imported = (ps: readonly MeterPosition[]) => ps.reduce((s, p) => s + p.importWh, 0n);
    const escrow = (ps: readonly MeterPosition[]) => ps.reduce((s, p) => s + p.balanceMicro, 0n);
    expect(exported(book) - exported(positions)).toBe(delivered);
    expect(imported(book) - imported(positions)).toBe(delivered);
    expect(escrow(book) - escrow(positions)).toBe(deliveries.reduce((s, d) => s + d.costMicro, 0n));
  });
});
