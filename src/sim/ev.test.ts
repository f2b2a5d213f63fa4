import { describe, expect, it } from "vitest";
import { evIntervalWh } from "./ev.ts";

const car = { dailyKwh: 8, chargeKw: 11, arriveHour: 22 };

describe("evIntervalWh", () => {
  it("charges at full power from arrival until the day's energy is in, across midnight", () => {
    let total = 0n;
    for (let s = 0; s < 86_400; s += 900) total += evIntervalWh(car, s, 900);
    expect(total).toBe(8_000n);
    expect(evIntervalWh(car, 22 * 3600, 900)).toBe(2_750n);
    expect(evIntervalWh(car, 21 * 3600 + 2700, 900)).toBe(0n);
    // 8 kWh at 11 kW takes 43.6 minutes: the session ends in the 22:30 interval.
    expect(evIntervalWh(car, 22 * 3600 + 2700, 900)).toBe(0n);
    const late = { dailyKwh: 16, chargeKw: 11, arriveHour: 23 };
    expect(evIntervalWh(late, 0, 900)).toBe(2_750n);
    let lateTotal = 0n;
    for (let s = 0; s < 86_400; s += 900) lateTotal += evIntervalWh(late, s, 900);
    expect(lateTotal).toBe(16_000n);
  });
});
