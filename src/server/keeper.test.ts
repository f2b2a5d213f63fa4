import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEventLogs } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANVIL_DEV_KEY } from "../chain/anvil.ts";
import { ContractRevertError } from "../chain/errors.ts";
import {
  bilateralAgreementsAbi,
  communityCreditAbi,
  communityRegistryAbi,
  energyMarketAbi,
  energyTokenAbi,
} from "../chain/generated/contracts.ts";
import {
  callTx,
  contractReading,
  readAccounts,
  readBook,
  readClearingInput,
  readNextIntervalToSettle,
  readRecordedReadings,
  readTariffs,
} from "../chain/market.ts";
import { energyLeaf, energyTree, settlementArgs } from "../chain/settlementData.ts";
import { type OpenCommunity, openCommunity } from "../cli/openCommunity.ts";
import { communityOptions } from "../cli/options.ts";
import { intervalBounds } from "../core/interval.ts";
import { clearZonal } from "../core/zonalClearing.ts";
import { demoReadings } from "../demo/demoCommunity.ts";
import { meterKey, type SignedReading, signReading } from "../metering/reading.ts";
import { createKeeper, readingsGasLimit, settlementGasLimit } from "./keeper.ts";

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
      // The gas limits the keeper sends with leave a margin over what the transactions used.
      expect(report.readingsGas * 13n).toBeLessThan(readingsGasLimit(report.meters) * 10n);
      expect(report.settlementGas * 13n).toBeLessThan(settlementGasLimit(report.meters, 0, report.zones.length) * 10n);
      // The energy root issues exactly the verified export, and every leaf can be claimed once.
      expect(report.claims.reduce((sum, claim) => sum + claim.energyWh, 0n)).toBe(report.exportWh);
      const tree = energyTree(report.claims.map((claim) => energyLeaf(interval, claim)));
      expect(tree.root).toBe(report.energyRoot);
      await c.chain.send(
        report.claims.map((claim, i) =>
          callTx(c.community.keeper, c.deployment.market, energyMarketAbi, "claimEnergy", [interval, claim, tree.proof(i)]),
        ),
      );
      const minted = await read()({
        address: c.deployment.energyToken,
        abi: energyTokenAbi,
        functionName: "mintedWh",
        args: [interval],
      });
      expect(minted).toBe(report.exportWh);
      const [first] = report.claims;
      if (first) {
        await expectRevert(
          c.chain.send([
            callTx(c.community.keeper, c.deployment.market, energyMarketAbi, "claimEnergy", [interval, first, tree.proof(0)]),
          ]),
          "EnergyAlreadyClaimed",
        );
        const forged = { ...first, energyWh: first.energyWh + 1n };
        await expectRevert(
          c.chain.send([
            callTx(c.community.keeper, c.deployment.market, energyMarketAbi, "claimEnergy", [interval, forged, tree.proof(0)]),
          ]),
          "InvalidEnergyProof",
        );
      }
      traded += report.tradedWh;
    }
    expect(traded).toBeGreaterThan(0n);
    // No deposits or withdrawals happened: the ledger still adds up to the tokens the market holds.
    expect(await ledgerSum()).toBe(heldBefore);
  }, 60_000);

  it("executes a bilateral agreement before the auction, under-delivering what the seller lacks, until cancelled", async () => {
    const households = c.community.households;
    const seller = households.find((h) => h.profile.pvKwp > 0);
    const buyer = households.find((h) => h.profile.pvKwp === 0 && h.zone === seller?.zone);
    if (!seller || !buyer) throw new Error("the demo community has no PV household and no-PV household in one zone");
    const k = keeper();
    const first = (await k.nextInterval()) + 1n;
    const terms = {
      seller: seller.account.address,
      buyer: buyer.account.address,
      maxWhPerInterval: 1_000_000, // far above a household's export: every delivery is an under-delivery
      priceMicroPerKwh: 120_000,
      startInterval: first,
      endInterval: first + 10n,
      noticeIntervals: 0,
    };
    const [proposed] = await c.chain.send([
      callTx(seller.account, c.deployment.agreements, bilateralAgreementsAbi, "propose", [terms]),
    ]);
    const [event] = parseEventLogs({ abi: bilateralAgreementsAbi, eventName: "AgreementProposed", logs: proposed?.logs ?? [] });
    const id = event?.args.id as bigint;
    await expectRevert(
      c.chain.send([callTx(seller.account, c.deployment.agreements, bilateralAgreementsAbi, "accept", [id])]),
      "NotTheCounterparty",
    );
    await c.chain.send([callTx(buyer.account, c.deployment.agreements, bilateralAgreementsAbi, "accept", [id])]);

    expect((await k.closeInterval(first - 1n)).deliveries).toEqual([]); // before its start
    const heldBefore = await ledgerSum();
    const [buyerBefore] = await readAccounts(c.chain, c.deployment, [buyer.account.address]);
    const report = await k.closeInterval(first);
    const readings = await readRecordedReadings(c.chain, c.deployment, first);
    const s = readings.find((r) => r.owner === seller.account.address);
    const b = readings.find((r) => r.owner === buyer.account.address);
    if (!s || !b || !buyerBefore) throw new Error("seller or buyer did not report");
    const balance = buyerBefore.balanceMicro > 0n ? buyerBefore.balanceMicro : 0n;
    const expectedWh = [s.exportWh, b.importWh, (balance * 1000n) / 120_000n].reduce((x, y) => (x < y ? x : y));
    expect(expectedWh).toBeGreaterThan(0n);
    expect(expectedWh).toBeLessThan(1_000_000n);
    const [delivery] = report.deliveries;
    expect(delivery).toMatchObject({ id, energyWh: expectedWh, costMicro: (expectedWh * 120_000n) / 1000n });
    const logs = await c.chain.public.getContractEvents({
      address: c.deployment.market,
      abi: energyMarketAbi,
      eventName: "AgreementDelivered",
      args: { interval: first },
    });
    expect(logs.map((l) => [l.args.id, l.args.energyWh, l.args.costMicro])).toEqual([[id, expectedWh, delivery?.costMicro]]);
    // Energy: what was delivered, traded and sold to the grid is what was exported; the root issues all of it.
    expect(expectedWh + report.tradedWh + report.toGridWh).toBe(report.exportWh);
    expect(expectedWh + report.tradedWh + report.fromGridWh).toBe(report.importWh);
    expect(energyTree(report.claims.map((claim) => energyLeaf(first, claim))).root).toBe(report.energyRoot);
    expect(report.claims[0]).toMatchObject({ recipient: buyer.account.address, sellerMeterId: s.meterId, energyWh: expectedWh });
    expect(await ledgerSum()).toBe(heldBefore);

    // Cancelled with no notice: the current interval (first + 1) is still delivered, the next one is not.
    await c.chain.send([callTx(buyer.account, c.deployment.agreements, bilateralAgreementsAbi, "cancel", [id])]);
    expect((await k.closeInterval(first + 1n)).deliveries.map((d) => d.id)).toEqual([id]);
    expect((await k.closeInterval(first + 2n)).deliveries).toEqual([]);
  }, 60_000);

  it("refuses forged, replayed, unknown-meter, unsorted and wrong-role readings without changing state", async () => {
    const interval = await readNextIntervalToSettle(c.chain, c.deployment);
    await c.chain.advanceTo(intervalBounds(interval, c.deployment).endsAt);
    const [h0, h1] = c.community.households;
    if (!h0 || !h1) throw new Error("need two households");
    const gw = c.community.gateway;
    const submit = (rs: SignedReading[], account = gw) =>
      c.chain.send([
        callTx(account, c.deployment.market, energyMarketAbi, "submitReadings", [interval, rs.map(contractReading)]),
      ]);
    const count = async () => (await readBook(c.chain, c.deployment, interval)).count;

    // Signed by another meter's key but claiming to be h0's meter.
    const forged = { ...signReading(h1.meter, domain(), { interval, exportWh: 5_000n, importWh: 0n }), meter: h0.meter.address };
    const e = await expectRevert(submit([forged]), "InvalidReadingSignature");
    expect(e.message).toContain(h0.meter.address);
    // A genuine reading with one value changed.
    const genuine = signReading(h0.meter, domain(), { interval, exportWh: 100n, importWh: 0n });
    await expectRevert(submit([{ ...genuine, exportWh: 9_999n }]), "InvalidReadingSignature");
    // Signed for another chain, or for another interval.
    await expectRevert(
      submit([signReading(h0.meter, { ...domain(), chainId: 1 }, { interval, exportWh: 100n, importWh: 0n })]),
      "InvalidReadingSignature",
    );
    await expectRevert(
      submit([signReading(h0.meter, domain(), { interval: interval - 1n, exportWh: 100n, importWh: 0n })]),
      "InvalidReadingSignature",
    );
    // An unknown meter.
    const stranger = meterKey(generatePrivateKey());
    await expectRevert(submit([signReading(stranger, domain(), { interval, exportWh: 1n, importWh: 0n })]), "UnknownMeter");
    // Out of meter-id order.
    const second = signReading(h1.meter, domain(), { interval, exportWh: 0n, importWh: 50n });
    await expectRevert(submit([second, genuine]), "ReadingsNotSorted");
    // The wrong role: a household is not a meter gateway.
    await expectRevert(submit([genuine], h0.account), "AccessControlUnauthorizedAccount");
    expect(await count()).toBe(0);

    // The genuine one is accepted once; a re-sent batch records nothing new.
    await submit([genuine]);
    const book = await readBook(c.chain, c.deployment, interval);
    await submit([genuine]);
    expect(await readBook(c.chain, c.deployment, interval)).toEqual(book);
    expect(book.count).toBe(1);

    // The keeper completes the interval with the other meters; h0's reading stays as recorded.
    const report = await keeper().closeInterval(interval);
    expect(report.meters).toBe(c.community.households.length);
    const recorded = await readRecordedReadings(c.chain, c.deployment, interval);
    expect(recorded.find((r) => r.owner === h0.account.address)?.exportWh).toBe(100n);
  }, 60_000);

  it("leaves out, and reports, a reading the contract would refuse instead of losing the whole batch", async () => {
    const interval = await readNextIntervalToSettle(c.chain, c.deployment);
    await c.chain.advanceTo(intervalBounds(interval, c.deployment).startsAt + 10n);
    const household = privateKeyToAccount(generatePrivateKey());
    const meter = meterKey(generatePrivateKey());
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
      readings: (i) => [
        ...demoReadings(c.community, domain(), c.timeline, i),
        signReading(meter, domain(), { interval: i, exportWh: 10n, importWh: 0n }),
      ],
    });
    const report = await k.closeInterval(interval);
    expect(report.rejectedReadings).toBe(1);
    expect(report.meters).toBe(c.community.households.length);
    expect(logged.join()).toContain("registered after the interval started");
  }, 60_000);

  it("leaves out a forged reading and one for another interval, unless its source vouches for them", async () => {
    const keeperWith = (verifiedReadings: boolean, logged: string[]) =>
      createKeeper({
        chain: c.chain,
        deployment: c.deployment,
        gateway: c.community.gateway,
        settler: c.community.keeper,
        verifiedReadings,
        log: (m) => logged.push(m),
        readings: (i) => {
          const [first, ...rest] = demoReadings(c.community, domain(), c.timeline, i);
          const forged = { ...(first as SignedReading), exportWh: (first as SignedReading).exportWh + 1n };
          const early = demoReadings(c.community, domain(), c.timeline, i - 1n)[1] as SignedReading;
          return [forged, early, ...rest.slice(1)];
        },
      });
    const logged: string[] = [];
    const interval = await readNextIntervalToSettle(c.chain, c.deployment);
    const report = await keeperWith(false, logged).closeInterval(interval);
    expect(report.rejectedReadings).toBe(2);
    expect(report.meters).toBe(c.community.households.length - 2);
    expect(logged.join("\n")).toMatch(/bad signature[\s\S]*it is for interval/);

    // A source that claims to have checked its readings is believed: the contract refuses the forged one
    // and, with it, the batch; nothing of it is recorded.
    const next = interval + 1n;
    const vouched = await keeperWith(true, [])
      .closeInterval(next)
      .catch((e: unknown) => e);
    expect(vouched).toBeInstanceOf(ContractRevertError);
    expect((vouched as ContractRevertError).errorName).toBe("InvalidReadingSignature");
    expect((await readBook(c.chain, c.deployment, next)).count).toBe(0);
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
    const [stored] = await readAccounts(c.chain, c.deployment, [newcomer.address]);
    expect(stored?.order.maxBuyWh).toBe(0n);

    // An invalid clearing: the right one with the price moved up by one unit.
    const interval = await readNextIntervalToSettle(c.chain, c.deployment);
    const { endsAt, closesAt } = intervalBounds(interval, c.deployment);
    await c.chain.advanceTo(endsAt);
    const readings = demoReadings(c.community, domain(), c.timeline, interval).map(contractReading);
    await c.chain.send([
      callTx(c.community.gateway, c.deployment.market, energyMarketAbi, "submitReadings", [interval, readings]),
    ]);
    await c.chain.advanceTo(closesAt);
    const { readings: recorded, positions, zoneLimits } = await readClearingInput(c.chain, c.deployment, interval);
    const clearing = clearZonal(positions, await readTariffs(c.chain, c.deployment), zoneLimits);
    const settle = (cl: typeof clearing, rs = recorded) =>
      c.chain.send([
        callTx(c.community.keeper, c.deployment.market, energyMarketAbi, "settleInterval", settlementArgs(interval, cl, rs)),
      ]);
    await expectRevert(settle({ ...clearing, hubPriceMicroPerKwh: clearing.hubPriceMicroPerKwh + 1n }), "PriceOutOfBounds");
    const seller = clearing.fills.findIndex((f) => f.soldWh > 0n);
    if (seller >= 0) {
      const fills = clearing.fills.map((f, i) => (i === seller ? { ...f, soldWh: f.soldWh - 1n } : f));
      // Short by one Wh: a seller priced below the clearing price, or one rationed at it.
      await expectRevert(settle({ ...clearing, fills }), ["BetterOrderLeftOut", "TieNotProRata"]);
    }
    await expectRevert(settle({ ...clearing, fills: clearing.fills.slice(1) }, recorded.slice(1)), "ClearingIncomplete");
    // A reading changed after the fact does not match the book.
    const inflated = recorded.map((r, i) => (i === 0 ? { ...r, exportWh: r.exportWh + 1_000n } : r));
    await expectRevert(settle(clearing, inflated), "EntriesDoNotMatchReadings");
    expect(await readNextIntervalToSettle(c.chain, c.deployment)).toBe(interval);
    // The valid clearing settles, once.
    await settle(clearing);
    await expectRevert(settle(clearing), "IntervalOutOfOrder");
  }, 60_000);
});
