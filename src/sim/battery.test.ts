import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BatterySpec, batteryStep } from "./battery.ts";

const tariffs = { feedInMicroPerKwh: 80_000n, retailMicroPerKwh: 320_000n };
const spec = (strategy: BatterySpec["strategy"]): BatterySpec => ({
  capacityWh: 10_000n,
  maxEnergyPerIntervalWh: 1_250n,
  strategy,
});

describe("batteryStep", () => {
  it("charges from surplus up to its power, with losses, and exports the rest", () => {
    const step = batteryStep(
      spec("self-consumption"),
      0n,
      { productionWh: 2_000n, consumptionWh: 500n },
      {
        lastPriceMicroPerKwh: undefined,
        ...tariffs,
      },
    );
    expect(step).toEqual({ storedWh: 1187n, exportWh: 250n, importWh: 0n, chargedWh: 1250n, dischargedWh: 0n });
  });

  it("stops at its capacity", () => {
    const step = batteryStep(
      spec("self-consumption"),
      9_900n,
      { productionWh: 2_000n, consumptionWh: 0n },
      {
        lastPriceMicroPerKwh: undefined,
        ...tariffs,
      },
    );
    expect(step.storedWh).toBe(10_000n);
    expect(step.chargedWh).toBe(106n); // ⌈100 / 0.95⌉
    expect(step.exportWh).toBe(1_894n);
  });

  it("covers a deficit from its charge, then imports", () => {
    const step = batteryStep(
      spec("self-consumption"),
      500n,
      { productionWh: 0n, consumptionWh: 800n },
      {
        lastPriceMicroPerKwh: undefined,
        ...tariffs,
      },
    );
    expect(step.dischargedWh).toBe(475n);
    expect(step.importWh).toBe(325n);
    expect(step.storedWh).toBe(0n);
  });

  it("price-aware: holds its charge when local energy was cheap, sells at full power when it was dear", () => {
    const home = { productionWh: 0n, consumptionWh: 400n };
    const cheap = batteryStep(spec("price-aware"), 5_000n, home, { lastPriceMicroPerKwh: 100_000n, ...tariffs });
    expect(cheap).toMatchObject({ storedWh: 5_000n, importWh: 400n, exportWh: 0n });
    const dear = batteryStep(spec("price-aware"), 5_000n, home, { lastPriceMicroPerKwh: 300_000n, ...tariffs });
    expect(dear).toMatchObject({ dischargedWh: 1_250n, exportWh: 850n, importWh: 0n });
    const middle = batteryStep(spec("price-aware"), 5_000n, home, { lastPriceMicroPerKwh: 220_000n, ...tariffs });
    expect(middle).toMatchObject({ dischargedWh: 400n, exportWh: 0n, importWh: 0n });
  });

  it("conserves energy: production − consumption = export − import + charged − discharged; charge stays within capacity", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<BatterySpec["strategy"]>("self-consumption", "price-aware"),
        fc.bigInt({ min: 0n, max: 10_000n }),
        fc.bigInt({ min: 0n, max: 5_000n }),
        fc.bigInt({ min: 0n, max: 5_000n }),
        fc.option(fc.bigInt({ min: 80_000n, max: 320_000n }), { nil: undefined }),
        (strategy, storedWh, productionWh, consumptionWh, lastPriceMicroPerKwh) => {
          const s = batteryStep(spec(strategy), storedWh, { productionWh, consumptionWh }, { lastPriceMicroPerKwh, ...tariffs });
          expect(productionWh - consumptionWh).toBe(s.exportWh - s.importWh + s.chargedWh - s.dischargedWh);
          expect(s.exportWh === 0n || s.importWh === 0n).toBe(true);
          expect(s.storedWh >= 0n && s.storedWh <= 10_000n).toBe(true);
          expect(s.chargedWh <= 1_250n && s.dischargedWh <= 1_250n).toBe(true);
          // Losses: the charge never grows by more than what went in, nor falls by less than what came out.
          expect(s.storedWh - storedWh <= s.chargedWh).toBe(true);
          if (s.dischargedWh > 0n) expect(storedWh - s.storedWh >= s.dischargedWh).toBe(true);
        },
      ),
    );
  });
});
