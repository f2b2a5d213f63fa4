import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import { energyTokenId, entriesFor } from "../chain/settlementData.ts";
import { decodeEntry, type SettledEntry, settlementRecord } from "./settlementRecord.ts";

const owner = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 320_000n };

const entry = (meterId: number, zone: number, exportWh: bigint, importWh: bigint, soldWh: bigint, boughtWh: bigint) =>
  ({ owner: owner(meterId), meterId, zone, source: 1, exportWh, importWh, soldWh, boughtWh }) satisfies SettledEntry;

describe("decodeEntry", () => {
  it("unpacks what entriesFor packs", () => {
    const reading = { owner: owner(0xabc), meterId: 77, zone: 3, source: 4, exportWh: 1_234n, importWh: 56n };
    const [packed] = entriesFor([reading], [{ meterId: 77, soldWh: 1_000n, boughtWh: 7n }]);
    expect(decodeEntry(packed as { meter: bigint; energy: bigint })).toEqual({ ...reading, soldWh: 1_000n, boughtWh: 7n });
  });
});

describe("settlementRecord", () => {
  it("pays auction trades at each side's zone price, rounding each payment down, and the rest at the tariffs", () => {
    // Zone 1 exports 1,001 Wh at 100,001/kWh to zone 2 (price 150,003); meter 2 sells to the grid, meter 4 buys 100 Wh from it.
    const entries = [entry(1, 1, 1_001n, 0n, 1_001n, 0n), entry(2, 1, 500n, 0n, 0n, 0n), entry(4, 2, 0n, 1_101n, 0n, 1_001n)];
    const r = settlementRecord({
      interval: 9n,
      entries,
      zonePriceMicroPerKwh: new Map([
        [1, 100_001n],
        [2, 150_003n],
      ]),
      deliveries: [],
      ...tariffs,
    });
    expect(r.trades.map((t) => [t.sellerMeterId, t.buyerMeterId, t.energyWh])).toEqual([[1, 4, 1_001n]]);
    const [t] = r.trades;
    expect(t).toMatchObject({
      kind: "auction",
      sellerPriceMicroPerKwh: 100_001n,
      buyerPriceMicroPerKwh: 150_003n,
      sellerReceivedMicro: (1_001n * 100_001n) / 1000n,
      buyerPaidMicro: (1_001n * 150_003n) / 1000n,
      tokenId: energyTokenId(9n, 1, 1, 1),
    });
    const [m1, m2, m4] = r.meters;
    expect(m1).toMatchObject({ soldLocalWh: 1_001n, soldGridWh: 0n, earnedMicro: 100_101n, paidMicro: 0n });
    expect(m2).toMatchObject({ soldLocalWh: 0n, soldGridWh: 500n, earnedMicro: 40_000n, gridOnlyBillMicro: -40_000n });
    expect(m4).toMatchObject({
      boughtLocalWh: 1_001n,
      boughtGridWh: 100n,
      paidMicro: 150_153n + 32_000n,
      gridOnlyBillMicro: (1_101n * 320_000n) / 1000n,
    });
  });

  it("puts bilateral deliveries first, paid at the agreement's price, and adds them to the meters' local energy", () => {
    const entries = [entry(1, 1, 2_000n, 0n, 500n, 0n), entry(2, 1, 0n, 1_500n, 0n, 500n), entry(3, 1, 10n, 3n, 0n, 0n)];
    const r = settlementRecord({
      interval: 5n,
      entries,
      zonePriceMicroPerKwh: new Map([[1, 120_000n]]),
      deliveries: [
        { agreementId: 7n, seller: owner(1), buyer: owner(2), priceMicroPerKwh: 110_001n, energyWh: 999n, costMicro: 109_889n },
        { agreementId: 8n, seller: owner(3), buyer: owner(2), priceMicroPerKwh: 90_000n, energyWh: 0n, costMicro: 0n },
      ],
      ...tariffs,
    });
    expect(r.bilateralWh).toBe(999n);
    expect(r.trades.map((t) => [t.kind, t.agreementId, t.sellerMeterId, t.buyerMeterId, t.energyWh])).toEqual([
      ["bilateral", 7n, 1, 2, 999n],
      ["auction", undefined, 1, 2, 500n],
    ]);
    expect(r.trades[0]).toMatchObject({
      sellerReceivedMicro: 109_889n,
      buyerPaidMicro: 109_889n,
      sellerPriceMicroPerKwh: 110_001n,
    });
    const [m1, m2, m3] = r.meters;
    expect(m1).toMatchObject({ soldLocalWh: 1_499n, soldGridWh: 501n, earnedMicro: 109_889n + 60_000n + 501n * 80n });
    expect(m2).toMatchObject({ boughtLocalWh: 1_499n, boughtGridWh: 1n, paidMicro: 109_889n + 60_000n + 320n });
    expect(m3).toMatchObject({ soldGridWh: 10n, boughtGridWh: 3n, earnedMicro: 800n, paidMicro: 960n, gridOnlyBillMicro: 160n });
    for (const m of r.meters) {
      expect(m.soldLocalWh + m.soldGridWh).toBe(m.exportWh);
      expect(m.boughtLocalWh + m.boughtGridWh).toBe(m.importWh);
    }
  });

  it("refuses a delivery with energy whose party has no entry, and a fill larger than the reading", () => {
    const base = { interval: 1n, zonePriceMicroPerKwh: new Map([[1, 100_000n]]), ...tariffs };
    const delivery = { agreementId: 1n, seller: owner(1), buyer: owner(9), priceMicroPerKwh: 1n, energyWh: 1n, costMicro: 0n };
    expect(() => settlementRecord({ ...base, entries: [entry(1, 1, 5n, 0n, 0n, 0n)], deliveries: [delivery] })).toThrow(
      /has no entry/,
    );
    expect(() =>
      settlementRecord({ ...base, entries: [entry(1, 1, 5n, 0n, 6n, 0n), entry(2, 1, 0n, 9n, 0n, 6n)], deliveries: [] }),
    ).toThrow(/more than its reading/);
  });
});
