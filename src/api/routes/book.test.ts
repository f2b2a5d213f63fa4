import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bilateralAgreementsAbi, energyMarketAbi } from "../../chain/generated/contracts.ts";
import { callTx, readAccounts } from "../../chain/market.ts";
import { type OpenCommunity, openCommunity } from "../../cli/openCommunity.ts";
import { communityOptions } from "../../cli/options.ts";
import { demoReadings } from "../../demo/demoCommunity.ts";
import { createIndexer } from "../../indexer/indexer.ts";
import { indexerSchemas } from "../../indexer/schema.ts";
import { createKeeper, type IntervalReport } from "../../server/keeper.ts";
import { type TestDb, testStores } from "../../store/testDb.ts";
import { buildApp } from "../app.ts";
import { createLiveHub } from "../liveHub.ts";

type Step = { priceMicroPerKwh: string; fromWh: string; toWh: string };
type Order = {
  account: string;
  meterId: number;
  zone: number;
  side: "ask" | "bid";
  limitMicroPerKwh: string;
  quantityWh: string;
  filledWh: string;
};
type Zone = {
  zone: number;
  households: number;
  priceMicroPerKwh: string;
  netExportWh: string;
  capacityBound: boolean;
  boundLimit: "import" | "export" | null;
  importCapWh: string;
  exportCapWh: string;
  feeMicroPerKwh: string;
  soldLocalWh: string;
  boughtLocalWh: string;
  toGridWh: string;
  fromGridWh: string;
  curves: { supply: Step[]; demand: Step[] };
};
type Book = {
  interval: string;
  priceMicroPerKwh: string;
  tradedWh: string;
  bilateralWh: string;
  reproduced: boolean;
  orders: Order[];
  curves: { supply: Step[]; demand: Step[] };
  zones: Zone[];
};

const UNLIMITED = (2n ** 64n - 1n).toString();
const sum = (xs: readonly string[]) => xs.reduce((s, x) => s + BigInt(x), 0n);

let dir: string;
let c: OpenCommunity;
/** Free zones, zone 2 islanded, after a household raised its ask, …, the last with an agreement and a buyer short of escrow. */
const intervals: bigint[] = [];
let seller: `0x${string}`;
const ASK_RAISE = 7_000n;
const ESCROW_LEFT = 10_000n;
let poorBuyer: { account: string; bidMicroPerKwh: bigint };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-api-book-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "6", start: "2026-06-15T11:00:00+02:00" }, {}), true);
  const keeper = createKeeper({
    chain: c.chain,
    deployment: c.deployment,
    gateway: c.community.gateway,
    settler: c.community.keeper,
    readings: (i) =>
      demoReadings(c.community, { chainId: c.chain.chainId, verifyingContract: c.deployment.market }, c.timeline, i),
  });
  let report: IntervalReport | undefined;
  const settleNext = async () => {
    report = await keeper.closeInterval(await keeper.nextInterval());
    intervals.push(report.interval);
  };
  await settleNext();
  // Zone 2 may neither import nor export: whatever it would trade with zone 1, a cap holds it.
  await c.chain.send([
    callTx(c.community.grid, c.deployment.market, energyMarketAbi, "setZoneLimits", [
      2,
      { importCapWh: 0n, exportCapWh: 0n, feeMicroPerKwh: 0 },
    ]),
  ]);
  await settleNext();
  // Zone 1 of the seeded demo has a PV household and two that import at noon.
  const pv = c.community.households.find((h) => h.profile.pvKwp > 0 && h.zone === 1);
  if (!pv) throw new Error("no PV household");
  seller = pv.account.address.toLowerCase() as `0x${string}`;
  const [account] = await readAccounts(c.chain, c.deployment, [pv.account.address]);
  if (!account) throw new Error("no account");
  const order = { ...account.order, askMicroPerKwh: account.order.askMicroPerKwh + ASK_RAISE };
  await c.chain.send([callTx(pv.account, c.deployment.market, energyMarketAbi, "setStandingOrder", [order])]);
  await settleNext();
  // An agreement delivers before the auction, and a buyer withdraws all but a little escrow, which then caps its bid.
  // Households that drew from the grid at noon will again: one of the seller's zone buys under the agreement.
  const importers = c.community.households.filter((h) =>
    report?.settled.some((e) => e.owner.toLowerCase() === h.account.address.toLowerCase() && e.importWh > 0n),
  );
  const buyer = importers.find((h) => h !== pv && h.zone === pv.zone);
  const poor = importers.find((h) => h !== pv && h !== buyer);
  if (!buyer || !poor) throw new Error("not enough households importing at noon");
  const start = await keeper.nextInterval();
  const terms = {
    seller: pv.account.address,
    buyer: buyer.account.address,
    maxWhPerInterval: 100,
    priceMicroPerKwh: 150_000,
    startInterval: start,
    endInterval: start + 10n,
    noticeIntervals: 1,
  };
  const [proposed] = await c.chain.send([
    callTx(buyer.account, c.deployment.agreements, bilateralAgreementsAbi, "propose", [terms]),
  ]);
  const [event] = parseEventLogs({ abi: bilateralAgreementsAbi, eventName: "AgreementProposed", logs: proposed?.logs ?? [] });
  const [accepted] = await c.chain.send([
    callTx(pv.account, c.deployment.agreements, bilateralAgreementsAbi, "accept", [event?.args.id as bigint]),
  ]);
  const [acceptance] = parseEventLogs({
    abi: bilateralAgreementsAbi,
    eventName: "AgreementAccepted",
    logs: accepted?.logs ?? [],
  });
  // Acceptance may move the start past the intervals already under way.
  while ((await keeper.nextInterval()) < (acceptance?.args.startInterval ?? 0n)) await settleNext();
  const [poorAccount] = await readAccounts(c.chain, c.deployment, [poor.account.address]);
  if (!poorAccount) throw new Error("no account");
  await c.chain.send([
    callTx(poor.account, c.deployment.market, energyMarketAbi, "withdraw", [BigInt(poorAccount.balanceMicro) - ESCROW_LEFT]),
  ]);
  poorBuyer = { account: poor.account.address.toLowerCase(), bidMicroPerKwh: poorAccount.order.bidMicroPerKwh };
  await settleNext();
}, 120_000);

afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(testStores())("GET /api/intervals/:interval/book on %s", (_kind, open) => {
  let db: TestDb;
  let app: FastifyInstance;
  const books: Book[] = [];
  const get = (url: string) => app.inject({ method: "GET", url });

  beforeAll(async () => {
    db = await open(indexerSchemas);
    await createIndexer({ db, chain: c.chain, deployment: c.deployment }).syncOnce();
    const now = await c.chain.now();
    app = await buildApp({
      db,
      chain: c.chain,
      deployment: c.deployment,
      now: () => now,
      live: createLiveHub(),
      indexerStatus: async () => ({ indexedBlock: 0n, headBlock: 0n }),
      validateResponses: true,
    });
    for (const interval of intervals) {
      const response = await get(`/api/intervals/${interval}/book`);
      expect(response.statusCode).toBe(200);
      books.push(response.json());
    }
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  it("rebuilds each interval's book so that clearing it again gives the settled prices and fills", async () => {
    for (const [k, book] of books.entries()) {
      expect(book.interval).toBe(String(intervals[k]));
      expect(book.reproduced).toBe(true);
      const asks = book.orders.filter((o) => o.side === "ask");
      const bids = book.orders.filter((o) => o.side === "bid");
      expect(asks.length).toBeGreaterThan(0);
      expect(bids.length).toBeGreaterThan(0);
      expect(sum(asks.map((o) => o.filledWh))).toBe(BigInt(book.tradedWh));
      expect(sum(bids.map((o) => o.filledWh))).toBe(BigInt(book.tradedWh));
      for (const o of book.orders) expect(BigInt(o.filledWh)).toBeLessThanOrEqual(BigInt(o.quantityWh));
    }
    // Midday: neighbours trade.
    expect(BigInt(books[0]?.tradedWh ?? 0)).toBeGreaterThan(0n);
  });

  it("gives the curves as contiguous steps whose totals are the book's sides, per zone and in all", () => {
    for (const book of books) {
      const check = (steps: Step[], orders: Order[], ascending: boolean) => {
        let at = 0n;
        for (const [i, s] of steps.entries()) {
          expect(BigInt(s.fromWh)).toBe(at);
          at = BigInt(s.toWh);
          if (i > 0) {
            const previous = BigInt(steps[i - 1]?.priceMicroPerKwh ?? 0);
            expect(ascending ? BigInt(s.priceMicroPerKwh) > previous : BigInt(s.priceMicroPerKwh) < previous).toBe(true);
          }
        }
        expect(at).toBe(sum(orders.map((o) => o.quantityWh)));
      };
      check(
        book.curves.supply,
        book.orders.filter((o) => o.side === "ask"),
        true,
      );
      check(
        book.curves.demand,
        book.orders.filter((o) => o.side === "bid"),
        false,
      );
      for (const z of book.zones) {
        const inZone = book.orders.filter((o) => o.zone === z.zone);
        check(
          z.curves.supply,
          inZone.filter((o) => o.side === "ask"),
          true,
        );
        check(
          z.curves.demand,
          inZone.filter((o) => o.side === "bid"),
          false,
        );
      }
      // The clearing price lies where supply meets demand: every filled ask at or below its zone's price.
      for (const o of book.orders.filter((x) => BigInt(x.filledWh) > 0n)) {
        const price = BigInt(book.zones.find((z) => z.zone === o.zone)?.priceMicroPerKwh ?? -1);
        if (o.side === "ask") expect(BigInt(o.limitMicroPerKwh)).toBeLessThanOrEqual(price);
        else expect(BigInt(o.limitMicroPerKwh)).toBeGreaterThanOrEqual(price);
      }
    }
  });

  it("gives each zone's volumes, matching the interval's totals and zone results", async () => {
    for (const book of books) {
      const interval = (await get(`/api/intervals/${book.interval}`)).json();
      expect(book.priceMicroPerKwh).toBe(interval.priceMicroPerKwh);
      expect(book.zones.map((z) => [z.zone, z.priceMicroPerKwh, z.netExportWh, z.capacityBound])).toEqual(
        interval.zones.map((z: Zone) => [z.zone, z.priceMicroPerKwh, z.netExportWh, z.capacityBound]),
      );
      expect(sum(book.zones.map((z) => z.toGridWh))).toBe(BigInt(interval.toGridWh));
      expect(sum(book.zones.map((z) => z.fromGridWh))).toBe(BigInt(interval.fromGridWh));
      expect(sum(book.zones.map((z) => z.soldLocalWh))).toBe(BigInt(interval.tradedWh) + BigInt(interval.bilateralWh));
      expect(sum(book.zones.map((z) => String(z.households)))).toBe(BigInt(interval.meters));
      for (const z of book.zones) {
        // What a zone sold minus what it bought crossed to the other zones.
        expect(BigInt(z.soldLocalWh) - BigInt(z.boughtLocalWh)).toBe(BigInt(z.netExportWh));
        if (z.boundLimit === "import") expect(-BigInt(z.netExportWh)).toBe(BigInt(z.importCapWh));
        if (z.boundLimit === "export") expect(BigInt(z.netExportWh)).toBe(BigInt(z.exportCapWh));
        expect(z.boundLimit !== null).toBe(z.capacityBound);
      }
    }
  });

  it("uses the zone limits and standing orders in force at each settlement", () => {
    const [free, islanded, raised] = books as [Book, Book, Book];
    expect(free.zones.find((z) => z.zone === 2)?.importCapWh).toBe(UNLIMITED);
    const zone2 = islanded.zones.find((z) => z.zone === 2);
    expect([zone2?.importCapWh, zone2?.exportCapWh, zone2?.netExportWh]).toEqual(["0", "0", "0"]);
    expect(zone2?.capacityBound).toBe(true);
    expect(zone2?.boundLimit).not.toBeNull();
    const ask = (book: Book) => book.orders.find((o) => o.account === seller && o.side === "ask");
    const before = ask(islanded);
    const after = ask(raised);
    expect(before && after).toBeTruthy();
    // The demo's asks lie above feed-in, so the effective limit is the ask itself.
    expect(BigInt(after?.limitMicroPerKwh ?? 0) - BigInt(before?.limitMicroPerKwh ?? 0)).toBe(ASK_RAISE);
  });

  it("is documented in the OpenAPI document, integers as decimal strings", async () => {
    const spec = (await get("/api/openapi.json")).json();
    const schema = spec.paths["/api/intervals/{interval}/book"]?.get?.responses["200"].content["application/json"].schema;
    expect(schema.properties.orders.items.properties.quantityWh.type).toBe("string");
    expect(schema.properties.curves.properties.supply.items.properties.toWh.type).toBe("string");
  });

  it("takes bilateral deliveries out of the book and caps a bid by the escrow left at the settlement", () => {
    const last = books[books.length - 1] as Book;
    expect(BigInt(last.bilateralWh)).toBeGreaterThan(0n);
    expect(last.reproduced).toBe(true);
    const bid = last.orders.find((o) => o.account === poorBuyer.account && o.side === "bid");
    expect(bid?.limitMicroPerKwh).toBe(String(poorBuyer.bidMicroPerKwh));
    expect(BigInt(bid?.quantityWh ?? -1)).toBe((ESCROW_LEFT * 1000n) / poorBuyer.bidMicroPerKwh);
  });

  it("answers 404 for an interval not settled and 400 for a malformed one", async () => {
    const missing = await get(`/api/intervals/${(intervals.at(-1) ?? 0n) + 1000n}/book`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("interval_not_found");
    const malformed = await get("/api/intervals/12x/book");
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.message).toBeTruthy();
  });
});
