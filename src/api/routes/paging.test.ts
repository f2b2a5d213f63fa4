import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenCommunity, openCommunity } from "../../cli/openCommunity.ts";
import { communityOptions } from "../../cli/options.ts";
import { indexerSchema } from "../../indexer/schema.ts";
import { type TestDb, testStores } from "../../store/testDb.ts";
import { buildApp } from "../app.ts";
import { authSchema } from "../auth.ts";
import { createLiveHub } from "../liveHub.ts";
import { AGREEMENT_LOG_COLUMNS, type Fixture, insertIndexFixture, insertRows, TRADE_COLUMNS } from "../testFixtures.ts";
import { bearer, signIn } from "../testSupport.ts";

let dir: string;
let c: OpenCommunity;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-api-paging-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "4", start: "2026-06-15T11:00:00+02:00" }, {}), true);
}, 60_000);

afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const NOW = 1_781_520_000n; // 2026-06-15T10:40:00Z
/** 2026-06-14T04:00:00Z: a day of intervals with sunshine in the middle (three trades per interval for the buyer). */
const FIRST_INTERVAL = 1_781_409_600n / 900n;
const INTERVALS = 48;
/** A block above the fixture's, holding a burst of events (many log indexes in one block). */
const BURST_BLOCK = 900_000n;
const BURST = 5;

type Page<K extends string> = { [key in K]: Record<string, unknown>[] } & { nextBefore: string | null };

/** Paging of the list endpoints (cursors) and an agreement's deliveries, over the real index schema. */
describe.each(testStores())("paged lists and deliveries on %s", (_kind, open) => {
  let db: TestDb;
  let app: FastifyInstance;
  let fixture: Fixture;
  let a: string;
  let b: string;
  let tokenA: string;
  let tokenC: string;
  let tokenOperator: string;
  /** Bilateral trades of agreement 1 (b sells to a), newest first. */
  const deliveries: { interval: bigint; idx: number; energyWh: bigint; paidMicro: bigint }[] = [];
  const get = (url: string, token?: string) => app.inject({ method: "GET", url, headers: bearer(token) });

  /** Follows `nextBefore` from the first page to the end; every page but the last is full. */
  async function walk<K extends string>(path: string, key: K, limit: number, token?: string) {
    const all: Record<string, unknown>[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const url: string = `${path}${sep}limit=${limit}${before === null ? "" : `&before=${encodeURIComponent(before)}`}`;
      const response = await get(url, token);
      expect(response.statusCode, url).toBe(200);
      const page = response.json() as Page<K>;
      pages++;
      if (page.nextBefore !== null) expect(page[key], `${url}: a page followed by another is full`).toHaveLength(limit);
      else expect(page[key].length, `${url}: the last page`).toBeLessThanOrEqual(limit);
      all.push(...page[key]);
      before = page.nextBefore;
      expect(pages).toBeLessThan(1000);
    } while (before !== null);
    return { all, pages };
  }

  beforeAll(async () => {
    db = await open([indexerSchema, authSchema]);
    const households = c.community.households.map((h) => h.account.address.toLowerCase());
    [a, b] = households as [string, string];
    fixture = await insertIndexFixture(db, {
      households,
      firstInterval: FIRST_INTERVAL,
      intervals: INTERVALS,
      intervalSeconds: c.deployment.intervalSeconds,
    });
    // Agreement 1 (b sells to a) delivered in every third interval, after the auction's trades (idx 10).
    const tradeRows: unknown[][] = [];
    for (let k = 0; k < INTERVALS; k += 3) {
      const interval = FIRST_INTERVAL + BigInt(k);
      const energyWh = 100n + BigInt(k * 7);
      const paidMicro = (energyWh * 120_000n) / 1000n;
      tradeRows.push([interval, 10, "bilateral", 1n, b, 2, a, 1, energyWh, 120_000n, 120_000n, paidMicro, paidMicro, 99n, 500n]);
      deliveries.unshift({ interval, idx: 10, energyWh, paidMicro });
    }
    // Four more agreements of a's (ids 2–5), each proposed by a.
    const agreementRows = [2n, 3n, 4n, 5n].map((id) => [
      id,
      "proposed",
      a,
      b,
      500n,
      100_000n,
      FIRST_INTERVAL,
      FIRST_INTERVAL + 96n,
      0n,
      a,
      800_000n + id,
      0,
    ]);
    const events = Array.from({ length: BURST }, (_, i) => [
      BURST_BLOCK,
      i,
      `0x${"ee".repeat(32)}`,
      "market",
      "TradeSettled",
      "{}",
    ]);
    await db.transaction(async (t) => {
      await insertRows(t, {
        table: "trades",
        columns: TRADE_COLUMNS,
        values: tradeRows,
      });
      await insertRows(t, {
        table: "agreement_log",
        columns: AGREEMENT_LOG_COLUMNS,
        values: agreementRows,
      });
      await insertRows(t, {
        table: "chain_events",
        columns: ["block_number", "log_index", "tx_hash", "contract", "name", "args"],
        values: events,
      });
    });
    app = await buildApp({
      db,
      chain: c.chain,
      deployment: c.deployment,
      now: () => NOW,
      live: createLiveHub(),
      validateResponses: true,
      indexerStatus: async () => ({ indexedBlock: 90n, headBlock: 100n }),
    });
    const issuedAt = new Date(Number(NOW) * 1000);
    tokenA = await signIn(app, c.community.households[0]?.account as never, issuedAt);
    tokenC = await signIn(app, c.community.households[2]?.account as never, issuedAt);
    tokenOperator = await signIn(app, c.community.operator, issuedAt);
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  it("pages a household's trades by (interval, index): pages meet exactly, inside an interval or at its edge", async () => {
    const full = (await get(`/api/accounts/${a}/trades?limit=500`, tokenA)).json();
    const key = (t: Record<string, unknown>) => `${t.interval}:${t.index}`;
    const expected = full.trades.map(key);
    expect(full.nextBefore).toBeNull();
    // The buyer trades with three sellers in a sunny interval and once with agreement 1 in every third.
    const perInterval = new Map<string, number>();
    for (const t of full.trades) perInterval.set(t.interval, (perInterval.get(t.interval) ?? 0) + 1);
    expect(Math.max(...perInterval.values())).toBeGreaterThanOrEqual(3);
    expect(expected).toHaveLength(fixture.trades.filter((t) => t.buyer === a || t.seller === a).length + deliveries.length);
    // Page sizes that cut inside intervals (2, 5) and one that divides the list exactly.
    for (const limit of [2, 5, expected.length / 2]) {
      expect(Number.isInteger(limit)).toBe(true);
      const { all, pages } = await walk(`/api/accounts/${a}/trades`, "trades", limit, tokenA);
      expect(all.map(key), `limit ${limit}`).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / limit));
    }
    // A page that ends the list exactly has no next page; one row more and it has.
    expect((await get(`/api/accounts/${a}/trades?limit=${expected.length}`, tokenA)).json().nextBefore).toBeNull();
    const short = (await get(`/api/accounts/${a}/trades?limit=${expected.length - 1}`, tokenA)).json();
    expect(short.nextBefore).toBe(expected[expected.length - 2]);
    const last = (await get(`/api/accounts/${a}/trades?before=${short.nextBefore}`, tokenA)).json();
    expect(last.trades.map(key)).toEqual([expected[expected.length - 1]]);
    expect(last.nextBefore).toBeNull();
    // A plain interval is the cursor "interval:0": every trade of earlier intervals.
    const newest = BigInt(full.trades[0].interval);
    const plain = (await get(`/api/accounts/${a}/trades?before=${newest}&limit=500`, tokenA)).json();
    expect(plain.trades.map(key)).toEqual(expected.filter((k: string) => BigInt(k.split(":")[0] as string) < newest));
    expect((await get(`/api/accounts/${a}/trades?before=${newest}:0&limit=500`, tokenA)).json()).toEqual(plain);
  });

  it("refuses a malformed cursor with 400 and says which field", async () => {
    for (const bad of ["abc", "12:", ":3", "1:2:3", "-1", "1.5", "1234567890123456789"]) {
      for (const url of [`/api/accounts/${a}/trades?before=${encodeURIComponent(bad)}`, `/api/explorer/events?before=${bad}`]) {
        const response = await get(url, tokenA);
        expect(response.statusCode, url).toBe(400);
        expect(response.json().error).toMatchObject({
          code: "validation_failed",
          details: [expect.objectContaining({ path: "querystring.before" })],
        });
      }
    }
    for (const url of [
      "/api/explorer/blocks?before=x",
      "/api/agreements?before=1:2",
      "/api/agreements/1/deliveries?before=x",
      "/api/explorer/blocks?limit=0",
    ]) {
      expect((await get(url, tokenA)).statusCode, url).toBe(400);
    }
  });

  it("pages the explorer's blocks and events; events of one block page by log index", async () => {
    const blocks = (await get("/api/explorer/blocks?limit=500")).json();
    expect(blocks.nextBefore).toBeNull();
    const numbers = blocks.blocks.map((x: { number: string }) => x.number);
    // 7 cuts the last page short; 1 fills every page, the last one exactly.
    for (const limit of [7, 1]) {
      const { all } = await walk("/api/explorer/blocks", "blocks", limit);
      expect(all.map((x) => x.number)).toEqual(numbers);
    }
    expect((await get(`/api/explorer/blocks?limit=${numbers.length}`)).json().nextBefore).toBeNull();

    const events = (await get("/api/explorer/events?limit=500")).json();
    const key = (e: Record<string, unknown>) => `${e.blockNumber}:${e.logIndex}`;
    expect(events.events.slice(0, BURST).map(key)).toEqual(
      Array.from({ length: BURST }, (_, i) => `${BURST_BLOCK}:${BURST - 1 - i}`),
    );
    const { all } = await walk("/api/explorer/events", "events", 2);
    expect(all.map(key)).toEqual(events.events.map(key));
    // Inside the burst: two, then two, then the last of the block and the next block's.
    const first = (await get("/api/explorer/events?name=TradeSettled&limit=2")).json();
    expect(first.events.map(key)).toEqual([`${BURST_BLOCK}:4`, `${BURST_BLOCK}:3`]);
    expect(first.nextBefore).toBe(`${BURST_BLOCK}:3`);
    const second = (await get(`/api/explorer/events?name=TradeSettled&limit=2&before=${first.nextBefore}`)).json();
    expect(second.events.map(key)).toEqual([`${BURST_BLOCK}:2`, `${BURST_BLOCK}:1`]);
    const third = (await get(`/api/explorer/events?name=TradeSettled&limit=2&before=${second.nextBefore}`)).json();
    expect(third.events.map(key)).toEqual([`${BURST_BLOCK}:0`]);
    expect(third.nextBefore).toBeNull();
  });

  it("pages agreements newest first", async () => {
    const { all, pages } = await walk("/api/agreements", "agreements", 2, tokenA);
    expect(all.map((x) => x.id)).toEqual(["5", "4", "3", "2", "1"]);
    expect(pages).toBe(3);
    const exact = (await get("/api/agreements?limit=5", tokenA)).json();
    expect(exact.agreements).toHaveLength(5);
    expect(exact.nextBefore).toBeNull();
    const older = (await get("/api/agreements?before=3", tokenA)).json();
    expect(older.agreements.map((x: { id: string }) => x.id)).toEqual(["2", "1"]);
    expect(older.agreements[1]).toMatchObject({ status: "active", seller: b, buyer: a });
    expect((await get(`/api/agreements?account=${a}&limit=1`, tokenOperator)).json().nextBefore).toBe("5");
  });

  it("lists an agreement's deliveries interval by interval with totals over all of them", async () => {
    const sum = (xs: bigint[]) => xs.reduce((s, x) => s + x, 0n);
    const totals = {
      intervals: String(deliveries.length),
      energyWh: String(sum(deliveries.map((d) => d.energyWh))),
      moneyMicro: String(sum(deliveries.map((d) => d.paidMicro))),
    };
    const first = (await get("/api/agreements/1/deliveries?limit=4", tokenA)).json();
    // Totals are the agreement's, not the page's.
    expect(first.totals).toEqual(totals);
    expect(first.agreementId).toBe("1");
    expect(first.deliveries).toHaveLength(4);
    const newest = deliveries[0] as (typeof deliveries)[number];
    const settled = (await get(`/api/intervals/${newest.interval}`)).json();
    expect(first.deliveries[0]).toEqual({
      interval: String(newest.interval),
      index: 10,
      startsAt: String(newest.interval * c.deployment.intervalSeconds),
      energyWh: String(newest.energyWh),
      priceMicroPerKwh: "120000",
      moneyMicro: String(newest.paidMicro),
      txHash: settled.txHash,
      blockNumber: "500",
    });
    const { all } = await walk("/api/agreements/1/deliveries", "deliveries", 4, tokenA);
    expect(all.map((d) => `${d.interval}:${d.index}`)).toEqual(deliveries.map((d) => `${d.interval}:${d.idx}`));
    // 16 deliveries in pages of 4: the fourth page ends the list exactly.
    expect(deliveries).toHaveLength(16);
    const byB = (await get("/api/agreements/1/deliveries?limit=16", tokenOperator)).json();
    expect(byB.nextBefore).toBeNull();
    expect(byB.deliveries).toHaveLength(16);
    // An agreement that delivered nothing yet.
    expect((await get("/api/agreements/2/deliveries", tokenA)).json()).toMatchObject({
      deliveries: [],
      nextBefore: null,
      totals: { intervals: "0", energyWh: "0", moneyMicro: "0" },
    });
    // Unknown agreement, a household that is not a party, anonymous.
    const unknown = await get("/api/agreements/99/deliveries", tokenA);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("agreement_not_found");
    expect((await get("/api/agreements/1/deliveries", tokenC)).statusCode).toBe(403);
    expect((await get("/api/agreements/1/deliveries")).statusCode).toBe(401);
  });
});
