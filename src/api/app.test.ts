import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenCommunity, openCommunity } from "../cli/openCommunity.ts";
import { communityOptions } from "../cli/options.ts";
import { indexerSchema } from "../indexer/schema.ts";
import { type TestDb, testStores } from "../store/testDb.ts";
import { buildApp } from "./app.ts";
import { authSchema } from "./auth.ts";
import { ApiError } from "./errors.ts";
import { createLiveHub } from "./liveHub.ts";
import { type Fixture, insertIndexFixture } from "./testFixtures.ts";
import { bearer, signIn } from "./testSupport.ts";

let dir: string;
let c: OpenCommunity;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-api-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "4", start: "2026-06-15T11:00:00+02:00" }, {}), true);
}, 60_000);

afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const NOW = 1_781_520_000n; // 2026-06-15T10:40:00Z
/** 2026-05-31T12:00:00Z: two days of intervals cross the May/June boundary in UTC and in Berlin. */
const FIRST_INTERVAL = 1_780_228_800n / 900n;

const sum = (xs: readonly bigint[]) => xs.reduce((s, x) => s + x, 0n);

describe.each(testStores())("API reads on %s", (_kind, open) => {
  let db: TestDb;
  let app: FastifyInstance;
  let fixture: Fixture;
  let a: string;
  let b: string;
  let tokenA: string;
  let tokenOperator: string;
  const hub = createLiveHub();

  beforeAll(async () => {
    db = await open([indexerSchema, authSchema]);
    const households = c.community.households.map((h) => h.account.address.toLowerCase());
    [a, b] = households as [string, string];
    fixture = await insertIndexFixture(db, {
      households,
      firstInterval: FIRST_INTERVAL,
      intervals: 192,
      intervalSeconds: c.deployment.intervalSeconds,
    });
    app = await buildApp({
      db,
      chain: c.chain,
      deployment: c.deployment,
      now: () => NOW,
      live: hub,
      validateResponses: true,
      indexerStatus: async () => ({ indexedBlock: 90n, headBlock: 100n }),
      heartbeatMs: 50,
      plugins: [
        (app) => {
          app.get("/api/test/boom", async () => {
            throw new Error("secret internals");
          });
          app.get("/api/test/teapot", async () => {
            throw new ApiError(418, "teapot", "I am a teapot");
          });
        },
      ],
    });
    const issuedAt = new Date(Number(NOW) * 1000);
    tokenA = await signIn(app, c.community.households[0]?.account as never, issuedAt);
    tokenOperator = await signIn(app, c.community.operator, issuedAt);
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  const get = (url: string, token?: string) => app.inject({ method: "GET", url, headers: bearer(token) });

  it("describes the contracts and its health", async () => {
    const contracts = (await get("/api/contracts")).json();
    expect(contracts).toMatchObject({ chainId: c.chain.chainId, market: c.deployment.market, intervalSeconds: "900" });
    expect(contracts.currentInterval).toBe((NOW / 900n).toString());
    const health = await get("/api/health");
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({
      status: "ok",
      chainId: c.chain.chainId,
      headBlock: "100",
      indexedBlock: "90",
      lagBlocks: "10",
      db: "ok",
    });
  });

  it("lists participants and meters, with details and 404s", async () => {
    const list = (await get("/api/participants")).json();
    expect(list.participants).toHaveLength(4);
    expect(list.participants.map((p: { account: string }) => p.account)).toEqual(
      [...c.community.households.map((h) => h.account.address.toLowerCase())].sort(),
    );
    expect((await get("/api/participants?zone=2")).json().participants).toHaveLength(2);
    const detail = (await get(`/api/participants/${a.toUpperCase().replace("0X", "0x")}`)).json();
    expect(detail).toMatchObject({ account: a, zone: 1, active: true });
    expect(detail.meters).toEqual([expect.objectContaining({ meterId: 1, owner: a, active: true, source: 4 })]);
    const missing = await get("/api/participants/0x0000000000000000000000000000000000000001");
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("participant_not_found");
    expect((await get(`/api/meters?owner=${b}`)).json().meters).toEqual([expect.objectContaining({ meterId: 2, owner: b })]);
    expect((await get("/api/meters/3")).json()).toMatchObject({ meterId: 3, zone: 1 });
    expect((await get("/api/meters/99")).statusCode).toBe(404);
  });

  it("pages intervals newest first and shows one with its zones and trades", async () => {
    const first = (await get("/api/intervals?limit=10")).json();
    const last = FIRST_INTERVAL + 191n;
    expect(first.intervals.map((i: { interval: string }) => i.interval)).toEqual(
      Array.from({ length: 10 }, (_, k) => String(last - BigInt(k))),
    );
    expect(first.nextBefore).toBe(String(last - 9n));
    const second = (await get(`/api/intervals?limit=10&before=${first.nextBefore}`)).json();
    expect(second.intervals[0].interval).toBe(String(last - 10n));
    // A last page that is exactly full ends the list: no cursor to an empty page.
    const end = (await get(`/api/intervals?limit=2&before=${FIRST_INTERVAL + 2n}`)).json();
    expect(end.intervals.map((i: { interval: string }) => i.interval)).toEqual([
      String(FIRST_INTERVAL + 1n),
      String(FIRST_INTERVAL),
    ]);
    expect(end.nextBefore).toBeNull();
    const noon = fixture.intervals[96] as Fixture["intervals"][number]; // 2026-06-01T12:00Z
    const detail = (await get(`/api/intervals/${noon.interval}`)).json();
    expect(detail).toMatchObject({
      interval: String(noon.interval),
      priceMicroPerKwh: String(noon.priceMicroPerKwh),
      tradedWh: String(noon.tradedWh),
      exportWh: String(noon.exportWh),
    });
    expect(detail.zones.map((z: { zone: number }) => z.zone)).toEqual([1, 2]);
    const trades = (await get(`/api/intervals/${noon.interval}/trades`)).json().trades;
    const expected = fixture.trades.filter((t) => t.interval === noon.interval);
    expect(expected.length).toBeGreaterThan(0);
    expect(trades.map((t: { seller: string; energyWh: string }) => [t.seller, t.energyWh])).toEqual(
      expected.map((t) => [t.seller, String(t.energyWh)]),
    );
    expect((await get(`/api/intervals/${FIRST_INTERVAL - 1n}`)).json().error.code).toBe("interval_not_found");
  });

  it("computes community KPIs over a range", async () => {
    const from = "2026-06-01";
    const to = "2026-06-02T00:00:00Z";
    const k = (await get(`/api/kpis?from=${from}&to=${to}`)).json();
    const startInterval = 1_780_272_000n / 900n;
    const inRange = fixture.intervals.filter((i) => i.interval >= startInterval && i.interval < startInterval + 96n);
    expect(inRange).toHaveLength(96);
    const traded = sum(inRange.map((i) => i.tradedWh));
    const imported = sum(inRange.map((i) => i.importWh));
    const mi = fixture.meterIntervals.filter((m) => m.interval >= startInterval && m.interval < startInterval + 96n);
    const bill = sum(mi.map((m) => m.gridOnlyBillMicro));
    const net = sum(mi.map((m) => m.paidMicro - m.earnedMicro));
    const prices = inRange.map((i) => i.priceMicroPerKwh);
    expect(k).toMatchObject({
      intervals: "96",
      tradedWh: String(traded),
      importWh: String(imported),
      localShareOfDemandBps: String((traded * 10_000n) / imported),
      minPriceMicroPerKwh: String(prices.reduce((x, y) => (x < y ? x : y))),
      maxPriceMicroPerKwh: String(prices.reduce((x, y) => (x > y ? x : y))),
      meanPriceMicroPerKwh: String(sum(prices) / 96n),
      gridOnlyBillMicro: String(bill),
      netCostMicro: String(net),
      savingsMicro: String(bill - net),
    });
    expect(BigInt(k.savingsMicro)).toBeGreaterThan(0n);
  });

  it("shows a household its account: balance from deposits and settlements, standing order, history", async () => {
    const response = await get(`/api/accounts/${a}`, tokenA);
    expect(response.statusCode).toBe(200);
    const account = response.json();
    const mine = fixture.meterIntervals.filter((m) => m.owner === a);
    const balance = (fixture.deposits.get(a) as bigint) + sum(mine.map((m) => m.earnedMicro - m.paidMicro));
    expect(account.balanceMicro).toBe(String(balance));
    expect(account.participant).toEqual({ zone: 1, active: true });
    expect(account.standingOrder).toMatchObject({ bidMicroPerKwh: "250000", maxBuyWh: "5000" });
    expect(account.history).toHaveLength(50);
    expect(account.history[0]).toMatchObject({ kind: "settlement", interval: String(FIRST_INTERVAL + 191n) });
    // Each entry's balance is the next (older) entry's balance plus its own amount.
    for (let i = 0; i + 1 < account.history.length; i++) {
      const [e, older] = [account.history[i], account.history[i + 1]];
      expect(BigInt(e.balanceMicro) - BigInt(e.amountMicro)).toBe(BigInt(older.balanceMicro));
    }
    const own = (await get(`/api/accounts/${a}/trades?limit=500`, tokenA)).json().trades;
    expect(own).toHaveLength(fixture.trades.filter((t) => t.seller === a || t.buyer === a).length);
    expect(own.every((t: { seller: string; buyer: string }) => t.seller === a || t.buyer === a)).toBe(true);
  });

  it("cuts monthly statements in UTC or a given time zone, as JSON and CSV", async () => {
    const utc = (await get(`/api/accounts/${a}/statements?month=2026-06`, tokenA)).json();
    const berlin = (await get(`/api/accounts/${a}/statements?month=2026-06&tz=Europe/Berlin`, tokenA)).json();
    const juneUtc = 1_780_272_000n / 900n;
    expect(utc.totals.intervals).toBe(192 - Number(juneUtc - FIRST_INTERVAL));
    expect(berlin.totals.intervals).toBe(utc.totals.intervals + 8); // June starts 2 h earlier in Berlin (CEST)
    expect(berlin.from).toBe(String(1_780_272_000n - 7200n));
    const mine = fixture.meterIntervals.filter((m) => m.owner === a && m.interval >= juneUtc);
    const paid = sum(mine.map((m) => m.paidMicro));
    const earned = sum(mine.map((m) => m.earnedMicro));
    const bill = sum(mine.map((m) => m.gridOnlyBillMicro));
    expect(utc.totals).toMatchObject({
      boughtLocalWh: String(sum(mine.map((m) => m.boughtLocalWh))),
      boughtGridWh: String(sum(mine.map((m) => m.boughtGridWh))),
      paidMicro: String(paid),
      gridOnlyBillMicro: String(bill),
      savingsMicro: String(bill - (paid - earned)),
    });
    expect(utc.days.map((d: { date: string }) => d.date)).toEqual(["2026-06-01", "2026-06-02"]);
    expect(utc.days.map((d: { intervals: number }) => d.intervals)).toEqual([96, 48]);
    expect((await get(`/api/accounts/${a}/statements?month=2026-05`, tokenA)).json().totals.intervals).toBe(48);
    const csv = await get(`/api/accounts/${a}/statements.csv?month=2026-06`, tokenA);
    expect(csv.headers["content-type"]).toContain("text/csv");
    const lines = csv.body.trim().split("\r\n");
    expect(lines[0]).toBe(
      "date,intervals,export_wh,import_wh,sold_local_wh,bought_local_wh,sold_grid_wh,bought_grid_wh,earned_micro,paid_micro,net_cost_micro,grid_only_bill_micro,savings_micro",
    );
    expect(lines).toHaveLength(4);
    expect(lines[3]?.split(",")[0]).toBe("total");
    expect(lines[3]?.split(",")[9]).toBe(String(paid));
    const badTz = await get(`/api/accounts/${a}/statements?month=2026-06&tz=Mars/Olympus`, tokenA);
    expect(badTz.statusCode).toBe(400);
    expect(badTz.json().error.code).toBe("invalid_time_zone");
  });

  it("exports trades as CSV for operators", async () => {
    const response = await get("/api/export/trades.csv?from=2026-06-01&to=2026-06-02", tokenOperator);
    expect(response.statusCode).toBe(200);
    const lines = response.body.trim().split("\r\n");
    const juneUtc = 1_780_272_000n / 900n;
    const expected = fixture.trades.filter((t) => t.interval >= juneUtc && t.interval < juneUtc + 96n);
    expect(lines).toHaveLength(expected.length + 1);
    expect(lines[1]?.split(",").slice(0, 3)).toEqual([String(expected[0]?.interval), "0", "auction"]);
    expect((await get("/api/export/trades.csv", tokenA)).statusCode).toBe(403);
  });

  it("shows agreements to their parties with the current state", async () => {
    const list = (await get("/api/agreements", tokenA)).json();
    expect(list.agreements).toEqual([
      expect.objectContaining({ id: "1", status: "active", lastEvent: "accepted", seller: b, buyer: a, proposer: b }),
    ]);
    expect((await get("/api/agreements/1", tokenA)).json().events).toHaveLength(2);
    expect((await get("/api/agreements/2", tokenA)).statusCode).toBe(404);
    expect((await get(`/api/agreements?account=${b}`, tokenA)).statusCode).toBe(403);
    expect((await get(`/api/agreements?account=${b}`, tokenOperator)).json().agreements).toHaveLength(1);
  });

  it("explores blocks, transactions and decoded events", async () => {
    const blocks = (await get("/api/explorer/blocks?limit=5")).json().blocks;
    expect(blocks).toHaveLength(5);
    expect(blocks[0].transactions).toBe(1);
    const block = (await get(`/api/explorer/blocks/${blocks[0].number}`)).json();
    expect(block.txs).toHaveLength(1);
    const tx = (await get(`/api/explorer/tx/${block.txs[0].hash}`)).json();
    expect(tx).toMatchObject({ functionName: "settleInterval", status: "success" });
    expect(tx.events).toEqual([expect.objectContaining({ name: "IntervalSettled" })]);
    const events = (await get("/api/explorer/events?name=IntervalSettled&limit=3")).json().events;
    expect(events.map((e: { args: { interval: string } }) => e.args.interval)).toEqual(
      [191n, 190n, 189n].map((k) => String(FIRST_INTERVAL + k)),
    );
    expect((await get(`/api/explorer/tx/0x${"ab".repeat(32)}`)).json().error.code).toBe("transaction_not_found");
  });

  it("answers consistent JSON errors: validation with paths, unknown routes, ApiErrors, internal errors", async () => {
    const badBody = await app.inject({ method: "POST", url: "/api/auth/signin", payload: { message: 5 } });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json().error.code).toBe("validation_failed");
    expect(badBody.json().error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "body.message" }),
        expect.objectContaining({ path: "body.signature" }),
      ]),
    );
    const badQuery = await get("/api/intervals?limit=0");
    expect(badQuery.json().error).toMatchObject({
      code: "validation_failed",
      details: [expect.objectContaining({ path: "querystring.limit" })],
    });
    const badParam = await get("/api/participants/0x1234");
    expect(badParam.json().error.details).toEqual([expect.objectContaining({ path: "params.address" })]);
    const unknown = await get("/api/nothing/here");
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("route_not_found");
    expect((await get("/api/test/teapot")).json()).toEqual({ error: { code: "teapot", message: "I am a teapot" } });
    const boom = await get("/api/test/boom");
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toEqual({ error: { code: "internal", message: "internal error; it was logged" } });
    expect(boom.body).not.toContain("secret");
    const badJson = await app.inject({
      method: "POST",
      url: "/api/auth/signin",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error.code).toBe("bad_request");
  });

  it("serves the OpenAPI document, the interactive page and Prometheus metrics", async () => {
    const doc = await get("/api/openapi.json");
    expect(doc.statusCode).toBe(200);
    const spec = JSON.parse(doc.body);
    expect(spec.openapi).toMatch(/^3\./);
    for (const path of [
      "/api/intervals",
      "/api/intervals/{interval}",
      "/api/accounts/{address}/statements",
      "/api/auth/signin",
      "/api/participants",
      "/api/zones/{zone}/limits",
      "/api/kpis",
      "/api/explorer/tx/{hash}",
      "/api/tariffs",
      "/api/zones",
    ]) {
      expect(spec.paths[path], path).toBeDefined();
    }
    const balance = spec.paths["/api/accounts/{address}"].get.responses["200"].content["application/json"].schema;
    expect(balance.properties.balanceMicro.type).toBe("string");
    expect(spec.paths["/api/openapi.json"]).toBeUndefined();
    const page = await get("/api/docs/");
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    const metrics = await get("/metrics");
    expect(metrics.body).toMatch(
      /peergrid_http_request_duration_seconds_count\{method="GET",route="\/api\/intervals",status="200"\} \d+/,
    );
    expect(metrics.body).toContain("peergrid_index_lag_blocks 10");
  });

  it("streams live events over SSE with ids and heartbeats, and lets go of a closed client", async () => {
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const abort = new AbortController();
    const response = await fetch(`${address}/api/live`, { signal: abort.signal });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = "";
    const until = async (text: string) => {
      while (!received.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${text}`);
        received += decoder.decode(value);
      }
    };
    await until(": connected");
    expect(hub.listeners).toBe(1);
    hub.publish({ type: "clearing", data: { interval: 1_979_452n, priceMicroPerKwh: 94_400n } });
    await until('"priceMicroPerKwh":"94400"');
    expect(received).toMatch(/id: \d+\nevent: clearing\ndata: \{"interval":"1979452","priceMicroPerKwh":"94400"\}\n\n/);
    await until(": heartbeat");
    abort.abort();
    await reader.cancel().catch(() => {});
    for (let i = 0; i < 50 && hub.listeners > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(hub.listeners).toBe(0);
  });
  it("answers from the index as it is now: remembered answers end when a block is added or rolled back", async () => {
    const newest = async () => (await get("/api/intervals?limit=1")).json().intervals[0].interval;
    const last = FIRST_INTERVAL + 191n;
    expect(await newest()).toBe(String(last));
    const [row] = await db.query<Record<string, unknown>>("select * from intervals where interval = $1", [last]);
    const next = last + 1n;
    await db.query(
      "insert into chain_blocks (number, hash, parent_hash, timestamp, block_number) values (9999, '0x99', '0x98', 0, 9999)",
    );
    await db.query(
      `insert into intervals select $1, starts_at + 900, settled_at + 900, tx_hash, price_micro_per_kwh, feed_in_micro_per_kwh,
         retail_micro_per_kwh, meters, export_wh, import_wh, traded_wh, bilateral_wh, to_grid_wh, from_grid_wh, trades,
         grid_fees_micro, energy_root, settlement_gas, 9999 from intervals where interval = $2`,
      [next, last],
    );
    expect(row).toBeDefined();
    expect(await newest()).toBe(String(next));
    // A reorganisation: the indexer rolls the block back.
    await db.query("delete from intervals where block_number = 9999");
    await db.query("delete from chain_blocks where number = 9999");
    expect(await newest()).toBe(String(last));
  });
});
