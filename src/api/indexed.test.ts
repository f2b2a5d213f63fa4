import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { encodeFunctionData, type Hex, type PrivateKeyAccount } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { energyMarketAbi } from "../chain/generated/contracts.ts";
import { readAccounts } from "../chain/market.ts";
import { type OpenCommunity, openCommunity } from "../cli/openCommunity.ts";
import { communityOptions } from "../cli/options.ts";
import { demoReadings } from "../demo/demoCommunity.ts";
import { createIndexer } from "../indexer/indexer.ts";
import { indexerSchemas } from "../indexer/schema.ts";
import { createKeeper } from "../server/keeper.ts";
import { type TestDb, testStores } from "../store/testDb.ts";
import { buildApp } from "./app.ts";
import { authSchema } from "./auth.ts";
import { createLiveHub } from "./liveHub.ts";
import { monthOf } from "./months.ts";
import { bearer, signIn } from "./testSupport.ts";

let dir: string;
let c: OpenCommunity;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-api-indexed-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "4", start: "2026-06-15T11:00:00+02:00" }, {}), true);
}, 60_000);

afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The API over an index the real indexer filled from the embedded chain: what the chain says, the API shows. */
describe.each(testStores())("API over the real indexer on %s", (_kind, open) => {
  let db: TestDb;
  let app: FastifyInstance;
  let now: bigint;
  const settled: bigint[] = [];
  let relayedHash: Hex;

  beforeAll(async () => {
    db = await open([...indexerSchemas, authSchema]);
    now = await c.chain.now();
    app = await buildApp({
      db,
      chain: c.chain,
      deployment: c.deployment,
      now: () => now,
      live: createLiveHub(),
      indexerStatus: async () => ({ indexedBlock: 0n, headBlock: 0n }),
      validateResponses: true,
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  const household = (i: number) => c.community.households[i]?.account as PrivateKeyAccount;
  const get = (url: string, token?: string) => app.inject({ method: "GET", url, headers: bearer(token) });

  it("shows a relayed standing order, settled intervals, balances equal to the chain's, statements and KPIs", async () => {
    const a = household(0);
    const token = await signIn(app, a, new Date(Number(now) * 1000));
    const order = { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 310_000n, maxBuyWh: 4_321n };
    const [nonce, gasPrice] = await Promise.all([
      c.chain.public.getTransactionCount({ address: a.address, blockTag: "pending" }),
      c.chain.public.getGasPrice(),
    ]);
    const raw = await a.signTransaction({
      type: "legacy",
      chainId: c.chain.chainId,
      nonce,
      gas: 200_000n,
      gasPrice,
      to: c.deployment.market,
      data: encodeFunctionData({ abi: energyMarketAbi, functionName: "setStandingOrder", args: [order] }),
    });
    const relayed = await app.inject({
      method: "PUT",
      url: `/api/accounts/${a.address}/standing-order`,
      headers: bearer(token),
      payload: { signedTransaction: raw },
    });
    expect(relayed.statusCode).toBe(200);
    relayedHash = relayed.json().hash;

    // The grid operator limits zone 2 through the API.
    const grid = c.community.grid;
    const gridToken = await signIn(app, grid, new Date(Number(now) * 1000));
    const limits = { importCapWh: 50_000n, exportCapWh: 60_000n, feeMicroPerKwh: 1_000 };
    const gridTx = await grid.signTransaction({
      type: "legacy",
      chainId: c.chain.chainId,
      nonce: await c.chain.public.getTransactionCount({ address: grid.address, blockTag: "pending" }),
      gas: 200_000n,
      gasPrice: await c.chain.public.getGasPrice(),
      to: c.deployment.market,
      data: encodeFunctionData({ abi: energyMarketAbi, functionName: "setZoneLimits", args: [2, limits] }),
    });
    const limited = await app.inject({
      method: "PUT",
      url: "/api/zones/2/limits",
      headers: bearer(gridToken),
      payload: { signedTransaction: gridTx },
    });
    expect(limited.statusCode).toBe(200);

    const keeper = createKeeper({
      chain: c.chain,
      deployment: c.deployment,
      gateway: c.community.gateway,
      settler: c.community.keeper,
      readings: (i) =>
        demoReadings(c.community, { chainId: c.chain.chainId, verifyingContract: c.deployment.market }, c.timeline, i),
    });
    for (let n = 0; n < 2; n++) settled.push((await keeper.closeInterval(await keeper.nextInterval())).interval);
    await createIndexer({ db, chain: c.chain, deployment: c.deployment }).syncOnce();
    now = await c.chain.now();

    const intervals = (await get("/api/intervals")).json().intervals;
    // Newest first; a store opened earlier in this file (describe.each) settled the ones before on the same chain.
    expect(intervals.slice(0, 2).map((i: { interval: string }) => i.interval)).toEqual(settled.map(String).reverse());
    const detail = (await get(`/api/intervals/${settled[0]}`)).json();
    expect(detail.zones.length).toBeGreaterThan(0);
    const trades = (await get(`/api/intervals/${settled[0]}/trades`)).json().trades;
    expect(trades).toHaveLength(detail.trades);

    const account = (await get(`/api/accounts/${a.address}`, token)).json();
    expect(account.standingOrder).toMatchObject({ bidMicroPerKwh: "310000", maxBuyWh: "4321" });
    const operatorView = await signIn(app, c.community.operator, new Date(Number(now) * 1000));
    for (const h of c.community.households) {
      const [onChain] = await readAccounts(c.chain, c.deployment, [h.account.address]);
      const indexed = (await get(`/api/accounts/${h.account.address}`, operatorView)).json();
      expect([h.account.address, indexed.balanceMicro]).toEqual([h.account.address, String(onChain?.balanceMicro)]);
    }

    const month = monthOf(now, "UTC");
    const statement = (await get(`/api/accounts/${a.address}/statements?month=${month}`, token)).json();
    expect(statement.totals.intervals).toBe(intervals.length);
    expect(BigInt(statement.totals.savingsMicro)).toBe(
      BigInt(statement.totals.gridOnlyBillMicro) - BigInt(statement.totals.paidMicro) + BigInt(statement.totals.earnedMicro),
    );
    const from = (settled[0] as bigint) * c.deployment.intervalSeconds;
    const kpis = (await get(`/api/kpis?from=${from}`)).json();
    expect(kpis.intervals).toBe("2");
    expect(BigInt(kpis.tradedWh)).toBe(BigInt(intervals[0].tradedWh) + BigInt(intervals[1].tradedWh));

    const tx = (await get(`/api/explorer/tx/${relayedHash}`)).json();
    expect(tx).toMatchObject({ functionName: "setStandingOrder", status: "success" });
    expect(tx.events.map((e: { name: string }) => e.name)).toEqual(["StandingOrderSet"]);
    const blocks = (await get("/api/explorer/blocks?limit=500")).json().blocks;
    expect(blocks.every((b: { transactions: number }) => b.transactions > 0)).toBe(true);
    expect((await get("/api/tariffs")).json().current).toMatchObject({ feedInMicroPerKwh: "80000", retailMicroPerKwh: "320000" });
    expect((await get("/api/zones")).json().zones).toEqual([
      expect.objectContaining({ zone: 2, importCapWh: "50000", exportCapWh: "60000", feeMicroPerKwh: "1000" }),
    ]);
    const participants = (await get("/api/participants")).json().participants;
    expect(participants).toHaveLength(4);
  }, 120_000);
});
