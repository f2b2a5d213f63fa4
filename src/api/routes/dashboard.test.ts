import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type Address, encodeFunctionData, type Hex, type PrivateKeyAccount } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { energyMarketAbi } from "../../chain/generated/contracts.ts";
import { readRecordedReadings } from "../../chain/market.ts";
import { type OpenCommunity, openCommunity } from "../../cli/openCommunity.ts";
import { communityOptions } from "../../cli/options.ts";
import { demoReadings } from "../../demo/demoCommunity.ts";
import { gatewaySchema } from "../../gateway/schema.ts";
import { createIndexer, type Indexer } from "../../indexer/indexer.ts";
import { indexerSchemas } from "../../indexer/schema.ts";
import { verifyReading } from "../../metering/reading.ts";
import { createKeeper } from "../../server/keeper.ts";
import { type TestDb, testStores } from "../../store/testDb.ts";
import { buildApp } from "../app.ts";
import { authSchema } from "../auth.ts";
import { createLiveHub } from "../liveHub.ts";
import { monthOf } from "../months.ts";
import { profilesSchema } from "../profiles.ts";
import { bearer, signIn } from "../testSupport.ts";

let dir: string;
let c: OpenCommunity;
const settled: bigint[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-api-dashboard-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "4", start: "2026-06-15T11:00:00+02:00" }, {}), true);
  // Midday: PV households sell to the others. Readings go in batches of three (two transactions per interval).
  const keeper = createKeeper({
    chain: c.chain,
    deployment: c.deployment,
    gateway: c.community.gateway,
    settler: c.community.keeper,
    batchSize: 3,
    readings: (i) =>
      demoReadings(c.community, { chainId: c.chain.chainId, verifyingContract: c.deployment.market }, c.timeline, i),
  });
  for (let n = 0; n < 3; n++) settled.push((await keeper.closeInterval(await keeper.nextInterval())).interval);
}, 120_000);

afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

type ReadingJson = {
  meterId: number;
  meter: string;
  owner: string;
  zone: number;
  exportWh: string;
  importWh: string;
  r: Hex;
  vs: Hex;
  txHash: string;
};

/** The dashboard's endpoints over an index the real indexer filled from the embedded chain. */
describe.each(testStores())("dashboard endpoints over the real indexer on %s", (_kind, open) => {
  let db: TestDb;
  let app: FastifyInstance;
  let indexer: Indexer;
  let now: bigint;
  const tokens: Record<string, string | undefined> = {};
  const household = (i: number) => c.community.households[i]?.account as PrivateKeyAccount;
  const get = (url: string, token?: string) => app.inject({ method: "GET", url, headers: bearer(token) });
  const putProfile = (address: string, payload: unknown, token?: string) =>
    app.inject({ method: "PUT", url: `/api/accounts/${address}/profile`, headers: bearer(token), payload: payload as object });
  const domain = () => ({ chainId: c.chain.chainId, verifyingContract: c.deployment.market });

  beforeAll(async () => {
    db = await open([...indexerSchemas, gatewaySchema, authSchema, profilesSchema]);
    indexer = createIndexer({ db, chain: c.chain, deployment: c.deployment });
    await indexer.syncOnce();
    now = await c.chain.now();
    app = await buildApp({
      db,
      chain: c.chain,
      deployment: c.deployment,
      now: () => now,
      live: createLiveHub(),
      indexerStatus: async () => ({
        indexedBlock: (await indexer.cursor())?.number ?? 0n,
        headBlock: await c.chain.public.getBlockNumber(),
      }),
      validateResponses: true,
      roleCacheSeconds: 0n,
    });
    const at = new Date(Number(now) * 1000);
    tokens.A = await signIn(app, household(0), at);
    tokens.B = await signIn(app, household(1), at);
    tokens.operator = await signIn(app, c.community.operator, at);
    tokens.grid = await signIn(app, c.community.grid, at);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  describe("the permission matrix of the private routes (public ones answer everyone)", () => {
    const roles = ["anonymous", "A", "B", "operator", "grid"] as const;
    const matrix: [string, string, [number, number, number, number, number]][] = [
      ["GET", "/api/accounts/:A/intervals", [401, 200, 403, 200, 403]],
      ["GET", "/api/accounts/:A/tx-params", [401, 200, 403, 403, 403]],
      ["GET", "/api/accounts/:A/profile", [401, 200, 403, 200, 403]],
      ["PUT", "/api/accounts/:A/profile", [401, 200, 403, 403, 403]],
      ["GET", "/api/intervals/:settled/readings", [200, 200, 200, 200, 200]],
      ["GET", "/api/intervals/:settled/trades/0", [200, 200, 200, 200, 200]],
      ["GET", "/api/leaderboard", [200, 200, 200, 200, 200]],
      ["GET", "/api/keeper", [200, 200, 200, 200, 200]],
    ];
    const cases = matrix.flatMap(([method, path, expected]) =>
      roles.map((role, i) => ({ method, path, role, expected: expected[i] as number })),
    );
    const codes: Record<number, string> = { 401: "auth_required", 403: "forbidden" };
    it.each(cases)("$role: $method $path → $expected", async ({ method, path, role, expected }) => {
      const url = path.replace(":A", household(0).address).replace(":settled", String(settled[0]));
      const response = await app.inject({
        method: method as "GET",
        url,
        headers: bearer(tokens[role]),
        ...(method === "PUT" ? { payload: { displayName: "Matrix", showOnLeaderboard: false } } : {}),
      });
      expect(response.statusCode).toBe(expected);
      if (codes[expected]) expect(response.json().error.code).toBe(codes[expected]);
    });
  });

  it("lists each settled interval's signed readings as the chain rebuilds them, each verifying under the domain", async () => {
    for (const interval of settled) {
      const body = (await get(`/api/intervals/${interval}/readings`)).json();
      expect(body.interval).toBe(String(interval));
      expect(body.domain).toEqual({
        name: "PeerGrid",
        version: "1",
        chainId: c.chain.chainId,
        verifyingContract: c.deployment.market.toLowerCase(),
      });
      const onChain = await readRecordedReadings(c.chain, c.deployment, interval);
      expect(onChain.length).toBe(4);
      const readings = body.readings as ReadingJson[];
      expect(readings.map((r) => [r.meterId, r.owner, r.zone, r.exportWh, r.importWh])).toEqual(
        onChain.map((r) => [r.meterId, r.owner.toLowerCase(), r.zone, String(r.exportWh), String(r.importWh)]),
      );
      // Batches of three: two submitReadings transactions recorded the four readings.
      expect(new Set(readings.map((r) => r.txHash)).size).toBe(2);
      for (const r of readings) {
        const signed = {
          meter: r.meter as Address,
          interval,
          exportWh: BigInt(r.exportWh),
          importWh: BigInt(r.importWh),
          r: r.r,
          vs: r.vs,
        };
        expect(verifyReading(domain(), signed)).toBe(true);
        expect(verifyReading(domain(), { ...signed, interval: interval + 1n })).toBe(false);
      }
      const meters = c.community.households.map((h) => h.meter.address.toLowerCase());
      expect(readings.every((r) => meters.includes(r.meter))).toBe(true);
    }
    const none = (await get(`/api/intervals/${(settled.at(-1) as bigint) + 1_000n}/readings`)).json();
    expect(none.readings).toEqual([]);
  });

  it("shows a trade with the seller's and buyer's signed readings it came from, and 404s an unknown one", async () => {
    let checked = 0;
    for (const interval of settled) {
      const detail = (await get(`/api/intervals/${interval}`)).json();
      const trades = (await get(`/api/intervals/${interval}/trades`)).json().trades;
      const readings = (await get(`/api/intervals/${interval}/readings`)).json().readings as ReadingJson[];
      for (const t of trades) {
        const response = await get(`/api/intervals/${interval}/trades/${t.index}`);
        expect(response.statusCode).toBe(200);
        const body = response.json();
        const { index, blockNumber, ...same } = t;
        expect(body).toMatchObject({ ...same, idx: index, txHash: detail.txHash });
        expect(blockNumber).toBe(detail.blockNumber);
        expect(body.domain.verifyingContract).toBe(c.deployment.market.toLowerCase());
        expect(body.sellerReading).toEqual(readings.find((r) => r.meterId === t.sellerMeterId));
        expect(body.buyerReading).toEqual(readings.find((r) => r.meterId === t.buyerMeterId));
        expect(body.sellerReading.owner).toBe(t.seller);
        expect(body.buyerReading.owner).toBe(t.buyer);
        // The seller's reading shows at least what it sold.
        expect(BigInt(body.sellerReading.exportWh)).toBeGreaterThanOrEqual(BigInt(t.energyWh));
        expect(BigInt(body.buyerReading.importWh)).toBeGreaterThanOrEqual(BigInt(t.energyWh));
        for (const r of [body.sellerReading, body.buyerReading] as ReadingJson[]) {
          const signed = { meter: r.meter as Address, interval, exportWh: BigInt(r.exportWh), importWh: BigInt(r.importWh) };
          expect(verifyReading(domain(), { ...signed, r: r.r, vs: r.vs })).toBe(true);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
    const missing = await get(`/api/intervals/${settled[0]}/trades/9999`);
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, "trade_not_found"]);
    const unsettled = await get(`/api/intervals/${(settled.at(-1) as bigint) + 1_000n}/trades/0`);
    expect([unsettled.statusCode, unsettled.json().error.code]).toEqual([404, "trade_not_found"]);
    const bad = await get(`/api/intervals/${settled[0]}/trades/x`);
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, "validation_failed"]);
  });

  it("lists a household's intervals newest first, with its readings' energy and the statement's money", async () => {
    const a = household(0);
    const body = (await get(`/api/accounts/${a.address}/intervals`, tokens.A)).json();
    expect(body.account).toBe(a.address.toLowerCase());
    const rows = body.intervals as Record<string, string | number>[];
    // Newest first; a store opened earlier in this file indexed the same chain, so every settled interval is here.
    expect(rows.map((r) => r.interval)).toEqual(settled.map(String).reverse());
    for (const r of rows) {
      const interval = BigInt(r.interval as string);
      expect(r.startsAt).toBe(String(interval * c.deployment.intervalSeconds));
      const reading = (await readRecordedReadings(c.chain, c.deployment, interval)).find(
        (x) => x.owner.toLowerCase() === a.address.toLowerCase(),
      );
      expect([r.meterId, r.exportWh, r.importWh]).toEqual([
        reading?.meterId,
        String(reading?.exportWh),
        String(reading?.importWh),
      ]);
      expect(BigInt(r.soldLocalWh as string) + BigInt(r.soldGridWh as string)).toBe(BigInt(r.exportWh as string));
      expect(BigInt(r.boughtLocalWh as string) + BigInt(r.boughtGridWh as string)).toBe(BigInt(r.importWh as string));
    }
    const statement = (await get(`/api/accounts/${a.address}/statements?month=${monthOf(now, "UTC")}`, tokens.A)).json();
    const sum = (key: string) => rows.reduce((s, r) => s + BigInt(r[key] as string), 0n);
    expect([sum("earnedMicro"), sum("paidMicro"), sum("gridOnlyBillMicro")].map(String)).toEqual([
      statement.totals.earnedMicro,
      statement.totals.paidMicro,
      statement.totals.gridOnlyBillMicro,
    ]);

    const limited = (await get(`/api/accounts/${a.address}/intervals?limit=1`, tokens.A)).json().intervals;
    expect(limited.map((r: { interval: string }) => r.interval)).toEqual([String(settled.at(-1))]);
    const s = c.deployment.intervalSeconds;
    const from = (settled[1] as bigint) * s;
    const to = (settled[2] as bigint) * s;
    const ranged = (await get(`/api/accounts/${a.address}/intervals?from=${from}&to=${to}`, tokens.operator)).json().intervals;
    expect(ranged.map((r: { interval: string }) => r.interval)).toEqual([String(settled[1])]);
    for (const q of ["limit=0", "limit=2001", "from=yesterday"]) {
      const refused = await get(`/api/accounts/${a.address}/intervals?${q}`, tokens.A);
      expect([q, refused.statusCode, refused.json().error.code]).toEqual([q, 400, "validation_failed"]);
    }
  });

  it("gives a wallet without an RPC the nonce and gas price to sign a transaction the write endpoints relay", async () => {
    const a = household(0);
    const params = (await get(`/api/accounts/${a.address}/tx-params`, tokens.A)).json();
    const [nonce, gasPrice] = await Promise.all([
      c.chain.public.getTransactionCount({ address: a.address, blockTag: "pending" }),
      c.chain.public.getGasPrice(),
    ]);
    expect(params).toEqual({ chainId: c.chain.chainId, nonce: String(nonce), gasPrice: String(gasPrice) });
    const order = { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 305_000n, maxBuyWh: 4_000n };
    const raw = await a.signTransaction({
      type: "legacy",
      chainId: params.chainId,
      nonce: Number(params.nonce),
      gasPrice: BigInt(params.gasPrice),
      gas: 200_000n,
      to: c.deployment.market,
      data: encodeFunctionData({ abi: energyMarketAbi, functionName: "setStandingOrder", args: [order] }),
    });
    const relayed = await app.inject({
      method: "PUT",
      url: `/api/accounts/${a.address}/standing-order`,
      headers: bearer(tokens.A),
      payload: { signedTransaction: raw },
    });
    expect(relayed.statusCode).toBe(200);
    const after = (await get(`/api/accounts/${a.address}/tx-params`, tokens.A)).json();
    expect(after.nonce).toBe(String(nonce + 1));
  });

  it("keeps a household's profile off chain: trimmed, validated, its own to set, kept by a reindex", async () => {
    const a = household(0).address;
    const fresh = (await get(`/api/accounts/${household(2).address}/profile`, tokens.operator)).json();
    expect(fresh).toEqual({
      account: household(2).address.toLowerCase(),
      displayName: null,
      showOnLeaderboard: false,
      updatedAt: null,
    });
    for (const displayName of ["   ", "x".repeat(41)]) {
      const refused = await putProfile(a, { displayName, showOnLeaderboard: true }, tokens.A);
      expect([refused.statusCode, refused.json().error.code]).toEqual([400, "validation_failed"]);
      expect(refused.json().error.details[0].path).toBe("body.displayName");
    }
    const missing = await putProfile(a, { displayName: "Sunny Roof" }, tokens.A);
    expect(missing.statusCode).toBe(400);
    const saved = await putProfile(a, { displayName: "  Sunny Roof ", showOnLeaderboard: true }, tokens.A);
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toEqual({
      account: a.toLowerCase(),
      displayName: "Sunny Roof",
      showOnLeaderboard: true,
      updatedAt: String(now),
    });
    expect((await get(`/api/accounts/${a}/profile`, tokens.operator)).json().displayName).toBe("Sunny Roof");
    // A reindex empties the index, not the profiles.
    const { reindex } = await import("../../indexer/indexer.ts");
    await reindex({ db, chain: c.chain, deployment: c.deployment });
    expect((await get(`/api/accounts/${a}/profile`, tokens.A)).json().displayName).toBe("Sunny Roof");
  });

  it("ranks households by savings against grid-only, naming only those who opted in", async () => {
    const month = monthOf(now, "UTC");
    const body = (await get(`/api/leaderboard?month=${month}`)).json();
    expect(body.month).toBe(month);
    const entries = body.entries as { rank: number; name: string; savingsMicro: string; tradedLocalWh: string }[];
    expect(entries.map((e) => e.rank)).toEqual([1, 2, 3, 4]);
    // Each entry is one household's statement.
    const statements = await Promise.all(
      c.community.households.map(async (h) => {
        const s = (await get(`/api/accounts/${h.account.address}/statements?month=${month}`, tokens.operator)).json();
        return {
          address: h.account.address.toLowerCase(),
          savings: s.totals.savingsMicro as string,
          local: String(BigInt(s.totals.soldLocalWh) + BigInt(s.totals.boughtLocalWh)),
        };
      }),
    );
    const expected = [...statements].sort((x, y) => {
      const d = BigInt(y.savings) - BigInt(x.savings);
      if (d !== 0n) return d > 0n ? 1 : -1;
      const l = BigInt(y.local) - BigInt(x.local);
      if (l !== 0n) return l > 0n ? 1 : -1;
      return x.address < y.address ? -1 : 1;
    });
    expect(entries.map((e) => [e.savingsMicro, e.tradedLocalWh])).toEqual(expected.map((s) => [s.savings, s.local]));
    expect(entries.some((e) => BigInt(e.tradedLocalWh) > 0n)).toBe(true);
    const rankOfA = expected.findIndex((s) => s.address === household(0).address.toLowerCase()) + 1;
    expect(entries.map((e) => e.name)).toEqual(entries.map((e) => (e.rank === rankOfA ? "Sunny Roof" : `Household #${e.rank}`)));
    const raw = (await get(`/api/leaderboard?month=${month}`)).body.toLowerCase();
    for (const h of c.community.households) expect(raw).not.toContain(h.account.address.toLowerCase().slice(2));

    // Opting out takes the name off at once; another month has no entries; a bad zone or month is refused.
    await putProfile(household(0).address, { displayName: "Sunny Roof", showOnLeaderboard: false }, tokens.A);
    const hidden = (await get(`/api/leaderboard?month=${month}`)).json().entries;
    expect(hidden.map((e: { name: string }) => e.name)).toEqual(entries.map((e) => `Household #${e.rank}`));
    expect((await get("/api/leaderboard?month=2020-01")).json()).toEqual({ month: "2020-01", entries: [] });
    expect((await get(`/api/leaderboard?month=${month}&tz=Europe/Berlin`)).json().entries).toHaveLength(4);
    const badZone = await get("/api/leaderboard?tz=Mars/Olympus");
    expect([badZone.statusCode, badZone.json().error.code]).toEqual([400, "invalid_time_zone"]);
    const badMonth = await get("/api/leaderboard?month=2026-13");
    expect([badMonth.statusCode, badMonth.json().error.code]).toEqual([400, "validation_failed"]);
  });

  it("shows the keeper's progress: next interval, lag by chain time, index height and the readings waiting", async () => {
    now = await c.chain.now();
    const next = await c.chain.public.readContract({
      address: c.deployment.market,
      abi: energyMarketAbi,
      functionName: "nextIntervalToSettle",
    });
    await indexer.syncOnce();
    const before = (await get("/api/keeper")).json();
    const [last] = await db.query<{ settled_at: bigint }>("select settled_at from intervals where interval = $1", [
      settled.at(-1),
    ]);
    expect(before).toMatchObject({
      chainTime: String(now),
      nextIntervalToSettle: String(next),
      lastSettledInterval: String(settled.at(-1)),
      lastSettledAt: String(last?.settled_at),
      indexedBlock: String(await c.chain.public.getBlockNumber()),
      headBlock: String(await c.chain.public.getBlockNumber()),
      gatewayReadingsWaiting: "0",
    });
    // Interval `next` can settle once its reading window has closed.
    const { intervalSeconds: s, readingWindowSeconds: w } = c.deployment;
    const closesAt = (next + 1n) * s + w;
    const lag = BigInt(before.lagIntervals);
    expect(lag).toBe(now >= closesAt ? (now - w) / s - next : 0n);
    now = closesAt - 1n;
    expect((await get("/api/keeper")).json().lagIntervals).toBe("0");
    now = closesAt + 2n * s;
    expect((await get("/api/keeper")).json().lagIntervals).toBe("3");

    // Readings the gateway holds count while their interval is not settled.
    await db.query(
      `insert into gateway_readings (meter, interval, export_wh, import_wh, r, vs, received_at) values
       ('0x01', $1, 0, 0, '0x', '0x', 0), ('0x02', $1, 0, 0, '0x', '0x', 0), ('0x01', $2, 0, 0, '0x', '0x', 0),
       ('0x01', $3, 0, 0, '0x', '0x', 0)`,
      [next, next + 1n, next - 1n],
    );
    expect((await get("/api/keeper")).json().gatewayReadingsWaiting).toBe("3");
  });

  it("documents every new route in the OpenAPI document", async () => {
    const spec = (await get("/api/openapi.json")).json();
    for (const [path, method] of [
      ["/api/intervals/{interval}/readings", "get"],
      ["/api/intervals/{interval}/trades/{idx}", "get"],
      ["/api/accounts/{address}/intervals", "get"],
      ["/api/accounts/{address}/tx-params", "get"],
      ["/api/accounts/{address}/profile", "get"],
      ["/api/accounts/{address}/profile", "put"],
      ["/api/leaderboard", "get"],
      ["/api/keeper", "get"],
    ] as const) {
      expect(spec.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    const readings = spec.paths["/api/intervals/{interval}/readings"].get.responses["200"].content["application/json"].schema;
    expect(readings.properties.readings.items.properties.exportWh.type).toBe("string");
  });
});
