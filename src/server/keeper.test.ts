import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANVIL_DEV_KEY } from "../chain/anvil.ts";
import { ContractRevertError } from "../chain/errors.ts";
import { communityCreditAbi, communityRegistryAbi, energyMarketAbi, energyTokenAbi } from "../chain/generated/contracts.ts";
import { callTx, readIntervalPositions, readNextIntervalToSettle, readTariffs } from "../chain/market.ts";
import { type OpenCommunity, openCommunity } from "../cli/openCommunity.ts";
import { communityOptions } from "../cli/options.ts";
import { clearInterval } from "../core/clearing.ts";
import { intervalBounds } from "../core/interval.ts";
import { demoReadings } from "../demo/demoCommunity.ts";
import { signReading } from "../metering/reading.ts";
import { createKeeper } from "./keeper.ts";

let dir: string;
let c: OpenCommunity;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-keeper-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "8", start: "2026-06-15T11:00:00+02:00" }, {}), true);
}, 60_000);

afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const read = () => c.chain.public.readContract;
const domain = () => ({ chainId: c.chain.chainId, verifyingContract: c.deployment.market });
const keeper = () =>
  createKeeper({
    chain: c.chain,
    deployment: c.deployment,
    gateway: c.community.gateway,
    settler: c.community.keeper,
    readings: (i) => demoReadings(c.community, domain(), c.timeline, i),
  });

async function ledgerSum(): Promise<bigint> {
  const accounts = [c.community.grid.address, ...c.community.households.map((h) => h.account.address)];
  const balances = await Promise.all(
    accounts.map((a) => read()({ address: c.deployment.market, abi: energyMarketAbi, functionName: "balanceOf", args: [a] })),
  );
  return balances.reduce((s, b) => s + b, 0n);
}

/** Expects `promise` to fail with the named contract error, and returns it. */
async function expectRevert(promise: Promise<unknown>, errorName: string | string[]): Promise<ContractRevertError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ContractRevertError);
  expect([errorName].flat()).toContain((error as ContractRevertError).errorName);
  return error as ContractRevertError;
}

describe("keeper against the embedded chain", () => {
  it("settles intervals with prices in the tariff band, conserving money and energy", async () => {
    const k = keeper();
    const tariffs = await readTariffs(c.chain, c.deployment);
    const heldBefore = await read()({
      address: c.deployment.settlementToken,
      abi: communityCreditAbi,
      functionName: "balanceOf",
      args: [c.deployment.market],
    });
    let traded = 0n;
    for (let n = 0; n < 3; n++) {
      const interval = await k.nextInterval();
      const report = await k.closeInterval(interval);
      expect(report.interval).toBe(interval);
      expect(report.priceMicroPerKwh).toBeGreaterThanOrEqual(tariffs.feedInMicroPerKwh);
      expect(report.priceMicroPerKwh).toBeLessThanOrEqual(tariffs.retailMicroPerKwh);
      expect(report.tradedWh + report.toGridWh).toBe(report.exportWh);
      expect(report.tradedWh + report.fromGridWh).toBe(report.importWh);
      const minted = await read()({
        address: c.deployment.energyToken,
        abi: energyTokenAbi,
        functionName: "mintedWh",
        args: [interval],
      });
      expect(minted).toBe(report.exportWh);
      traded += report.tradedWh;
    }
    expect(traded).toBeGreaterThan(0n);
    // No deposits or withdrawals happened: the ledger still adds up to the tokens the market holds.
    expect(await ledgerSum()).toBe(heldBefore);
  }, 60_000);

  it("refuses forged, replayed, unknown-meter and wrong-role readings without changing state", async () => {
    const interval = await readNextIntervalToSettle(c.chain, c.deployment);
    await c.chain.advanceTo(intervalBounds(interval, c.deployment).endsAt);
    const [h0, h1] = c.community.households;
    if (!h0 || !h1) throw new Error("need two households");
    const gw = c.community.gateway;
    const submit = (r: Awaited<ReturnType<typeof signReading>>, account = gw) =>
      c.chain.send([callTx(account, c.deployment.market, energyMarketAbi, "submitReading", [r])]);

    // Signed by another meter's key but claiming to be h0's meter.
    const forged = {
      ...(await signReading(h1.meter, domain(), { interval, exportWh: 5_000n, importWh: 0n })),
      meter: h0.meter.address,
    };
    const e = await expectRevert(submit(forged), "InvalidReadingSignature");
    expect(e.message).toContain(h0.meter.address);
    // A genuine reading with one value changed.
    const genuine = await signReading(h0.meter, domain(), { interval, exportWh: 100n, importWh: 0n });
    await expectRevert(submit({ ...genuine, exportWh: 9_999n }), "InvalidReadingSignature");
    // Signed for another chain.
    const otherChain = await signReading(h0.meter, { ...domain(), chainId: 1 }, { interval, exportWh: 100n, importWh: 0n });
    await expectRevert(submit(otherChain), "InvalidReadingSignature");
    // An unknown meter.
    const stranger = privateKeyToAccount(generatePrivateKey());
    await expectRevert(submit(await signReading(stranger, domain(), { interval, exportWh: 1n, importWh: 0n })), "UnknownMeter");
    // The wrong role: a household is not a meter gateway.
    await expectRevert(submit(genuine, h0.account), "AccessControlUnauthorizedAccount");
    expect(
      await read()({ address: c.deployment.market, abi: energyMarketAbi, functionName: "meterCountIn", args: [interval] }),
    ).toBe(0);

    // The genuine one is accepted once; the replay is refused, and a re-sent batch changes nothing.
    await submit(genuine);
    await expectRevert(submit(genuine), "ReadingAlreadyRecorded");
    await c.chain.send([callTx(gw, c.deployment.market, energyMarketAbi, "submitReadings", [[genuine]])]);
    const position = await read()({
      address: c.deployment.market,
      abi: energyMarketAbi,
      functionName: "positionOf",
      args: [interval, 1],
    });
    expect(position.exportWh).toBe(100n);
    expect(
      await read()({ address: c.deployment.market, abi: energyMarketAbi, functionName: "meterCountIn", args: [interval] }),
    ).toBe(1);

    // The keeper completes the interval with the other meters; h0's reading stays as recorded.
    const report = await keeper().closeInterval(interval);
    expect(report.meters).toBe(c.community.households.length);
  }, 60_000);

  it("leaves out, and reports, a reading the contract would refuse instead of losing the whole batch", async () => {
    const interval = await readNextIntervalToSettle(c.chain, c.deployment);
    await c.chain.advanceTo(intervalBounds(interval, c.deployment).startsAt + 10n);
    const household = privateKeyToAccount(generatePrivateKey());
    const meter = privateKeyToAccount(generatePrivateKey());
    const op = c.community.operator;
    await c.chain.send([callTx(op, c.deployment.registry, communityRegistryAbi, "registerParticipant", [household.address, 1])]);
    await c.chain.send([
      callTx(op, c.deployment.registry, communityRegistryAbi, "registerMeter", [meter.address, household.address, 1]),
    ]);
    const logged: string[] = [];
    const k = createKeeper({
      chain: c.chain,
      deployment: c.deployment,
      gateway: c.community.gateway,
      settler: c.community.keeper,
      log: (m) => logged.push(m),
      readings: async (i) => [
        ...(await demoReadings(c.community, domain(), c.timeline, i)),
        await signReading(meter, domain(), { interval: i, exportWh: 10n, importWh: 0n }),
      ],
    });
    const report = await k.closeInterval(interval);
    expect(report.rejectedReadings).toBe(1);
    expect(report.meters).toBe(c.community.households.length);
    expect(logged.join()).toContain("registered after the interval started");
  }, 60_000);

  it("refuses an order without funds and an invalid clearing, and changes nothing", async () => {
    const newcomer = privateKeyToAccount(generatePrivateKey());
    const op = c.community.operator;
    await c.chain.send([
      {
        account: privateKeyToAccount(ANVIL_DEV_KEY),
        to: newcomer.address,
        value: 10n ** 18n,
        abi: [],
        action: "fund",
      },
    ]);
    await c.chain.send([callTx(op, c.deployment.registry, communityRegistryAbi, "registerParticipant", [newcomer.address, 1])]);
    const order = { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 300_000n, maxBuyWh: 2_000n };
    const e = await expectRevert(
      c.chain.send([callTx(newcomer, c.deployment.market, energyMarketAbi, "setStandingOrder", [order])]),
      "InsufficientEscrow",
    );
    expect(e.args).toMatchObject({ account: newcomer.address, required: 600_000n, available: 0n });
    const stored = await read()({
      address: c.deployment.market,
      abi: energyMarketAbi,
      functionName: "standingOrderOf",
      args: [newcomer.address],
    });
    expect(stored.maxBuyWh).toBe(0n);

    // An invalid clearing: the right one with the price moved up by one unit.
    const interval = await readNextIntervalToSettle(c.chain, c.deployment);
    const { endsAt, closesAt } = intervalBounds(interval, c.deployment);
    await c.chain.advanceTo(endsAt);
    const readings = await demoReadings(c.community, domain(), c.timeline, interval);
    await c.chain.send([callTx(c.community.gateway, c.deployment.market, energyMarketAbi, "submitReadings", [readings])]);
    await c.chain.advanceTo(closesAt);
    const clearing = clearInterval(
      await readIntervalPositions(c.chain, c.deployment, interval),
      await readTariffs(c.chain, c.deployment),
    );
    const settle = (cl: typeof clearing) =>
      c.chain.send([callTx(c.community.keeper, c.deployment.market, energyMarketAbi, "settleInterval", [interval, cl])]);
    await expectRevert(settle({ ...clearing, priceMicroPerKwh: clearing.priceMicroPerKwh + 1n }), "PriceOutOfBounds");
    const seller = clearing.fills.findIndex((f) => f.soldWh > 0n);
    if (seller >= 0) {
      const fills = clearing.fills.map((f, i) => (i === seller ? { ...f, soldWh: f.soldWh - 1n } : f));
      // Short by one Wh: a seller priced below the clearing price, or one rationed at it.
      await expectRevert(settle({ ...clearing, fills }), ["BetterOrderLeftOut", "TieNotProRata"]);
    }
    await expectRevert(settle({ ...clearing, fills: clearing.fills.slice(1) }), "ClearingIncomplete");
    expect(await readNextIntervalToSettle(c.chain, c.deployment)).toBe(interval);
    // The valid clearing settles, once.
    await settle(clearing);
    await expectRevert(settle(clearing), "IntervalOutOfOrder");
  }, 60_000);
});
