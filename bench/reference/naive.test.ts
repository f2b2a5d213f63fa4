import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContractRevertError, toPeerGridError } from "../../src/chain/errors.ts";
import { costMicro } from "../../src/core/money.ts";
import { demoTariffs } from "../../src/demo/demoCommunity.ts";
import { deployNaiveMarket, type NaiveMarket, runNaiveInterval, signNaiveReading } from "./naive.ts";

let market: NaiveMarket;

beforeAll(async () => {
  market = await deployNaiveMarket({ households: 3 });
});
afterAll(async () => {
  await market?.stop();
});

const read = (functionName: string, args: readonly unknown[]) =>
  market.client.readContract({ address: market.address, abi: market.abi, functionName, args });

describe("naive reference market", () => {
  it("runs an interval in which every transaction succeeds and trades move money and energy tokens", async () => {
    const households = market.community.households.map((h) => h.account.address);
    const before = (await Promise.all(households.map((a) => read("balances", [a])))) as bigint[];

    const result = await runNaiveInterval(market, 0);

    expect(result.trades.length).toBeGreaterThan(0);
    expect(result.txs).toBe(households.length + result.orders + result.trades.length + households.length);
    expect(await read("counts", [result.interval])).toEqual([BigInt(result.orders), BigInt(result.trades.length)]);
    expect(result.totalGas).toBe(result.readingsGas + result.ordersGas + result.tradesGas + result.gridGas);

    const after = (await Promise.all(households.map((a) => read("balances", [a])))) as bigint[];
    for (const [i, address] of households.entries()) {
      const sold = result.trades.filter((t) => t.seller === i);
      const bought = result.trades.filter((t) => t.buyer === i);
      const [toGridWh, fromGridWh, settled] = (await read("gridSettlements", [result.interval, address])) as [
        bigint,
        bigint,
        boolean,
      ];
      expect(settled).toBe(true);
      const tradeMicro =
        sold.reduce((s, t) => s + costMicro(t.energyWh, t.priceMicroPerKwh), 0n) -
        bought.reduce((s, t) => s + costMicro(t.energyWh, t.priceMicroPerKwh), 0n);
      const gridMicro = costMicro(toGridWh, demoTariffs.feedInMicroPerKwh) - costMicro(fromGridWh, demoTariffs.retailMicroPerKwh);
      expect((after[i] as bigint) - (before[i] as bigint)).toBe(tradeMicro + gridMicro);
      expect(await read("balanceOf", [address, result.interval])).toBe(bought.reduce((s, t) => s + t.energyWh, 0n));
    }
  });

  it("refuses a reading not signed by the household's meter", async () => {
    const [household, other] = market.community.households;
    if (!household || !other) throw new Error("the community needs two households");
    const reading = { meter: household.meter.address, interval: market.firstInterval + 1n, exportWh: 500n, importWh: 0n };
    const submit = async (signature: `0x${string}`) =>
      market.client.simulateContract({
        account: household.account,
        address: market.address,
        abi: market.abi,
        functionName: "submitReading",
        args: [reading.interval, reading.exportWh, reading.importWh, signature],
      });

    await submit(await signNaiveReading(market, household.meter.privateKey, reading));
    const forged = await signNaiveReading(market, other.meter.privateKey, reading);
    const error = await submit(forged).then(
      () => undefined,
      (e: unknown) => toPeerGridError(e, market.abi, "submitReading"),
    );
    expect(error).toBeInstanceOf(ContractRevertError);
    expect(error).toMatchObject({
      errorName: "InvalidReadingSignature",
      args: { meter: household.meter.address, signer: other.meter.address as Address },
    });
  });
});
