import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readNextIntervalToSettle } from "../chain/market.ts";
import type { OpenCommunity } from "../cli/openCommunity.ts";
import { intervalBounds } from "../core/interval.ts";
import { demoReadings } from "../demo/demoCommunity.ts";
import { openDb } from "../store/db.ts";
import { type TestDb, testStores } from "../store/testDb.ts";
import { createGateway } from "./gateway.ts";
import { MAX_BATCH_READINGS } from "./routes.ts";
import { gatewaySchema } from "./schema.ts";
import { gatewayTestApp, openTestCommunity } from "./testSupport.ts";
import { toWire, type WireReading } from "./wire.ts";

let c: OpenCommunity;
let interval: bigint;
let readings: WireReading[];
beforeAll(async () => {
  c = await openTestCommunity("gateway-routes-test", 4);
  interval = await readNextIntervalToSettle(c.chain, c.deployment);
  const domain = { chainId: c.chain.chainId, verifyingContract: c.deployment.market };
  readings = demoReadings(c.community, domain, c.timeline, interval).map(toWire);
}, 60_000);
afterAll(() => c?.close());

const now = () => intervalBounds(interval, c.deployment).endsAt + 1n;
const post = (app: FastifyInstance, payload: unknown) =>
  app.inject({
    method: "POST",
    url: "/api/readings",
    payload: payload as string,
    headers: { "content-type": "application/json" },
  });

describe.each(testStores())("POST /api/readings on %s", (_kind, open) => {
  let db: TestDb;
  let app: FastifyInstance;
  beforeAll(async () => {
    db = await open([gatewaySchema]);
    app = await gatewayTestApp(createGateway({ db, chain: c.chain, deployment: c.deployment, now }));
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  it("stores one reading or a batch and answers 200 with a result per reading", async () => {
    const [r0, ...rest] = readings;
    const single = await post(app, JSON.stringify(r0));
    expect(single.statusCode).toBe(200);
    expect(single.json()).toEqual({
      accepted: 1,
      duplicate: 0,
      rejected: 0,
      results: [{ status: "accepted", meter: r0?.meter, interval: interval.toString() }],
    });
    const batch = await post(app, JSON.stringify({ readings: [r0, ...rest, { ...r0, exportWh: 1.5 }] }));
    expect(batch.statusCode).toBe(200);
    const body = batch.json();
    expect(body).toMatchObject({ accepted: rest.length, duplicate: 1, rejected: 1 });
    expect(body.results.at(-1)).toMatchObject({ status: "rejected", code: "reading_malformed" });
    expect(body.results.at(-1).message).toBe(
      "readings[4].exportWh: must be an integer string ≤ 2^64−1 (or a JSON integer ≤ 2^53−1)",
    );
    const [row] = await db.query<{ n: bigint }>("select count(*)::int8 as n from gateway_readings");
    expect(row?.n).toBe(BigInt(readings.length));
  });

  it("answers 400 with the bad fields for malformed bodies, and 413 for an oversized batch", async () => {
    const [r0] = readings;
    const notJson = await post(app, '{"readings": [');
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe("fst_err_ctp_invalid_json_body");

    const wrong = await post(app, JSON.stringify({ ...r0, interval: true, vs: "0x1" }));
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error).toMatchObject({
      code: "reading_malformed",
      details: [
        { path: "interval", message: "must be an integer string ≤ 2^64−1 (or a JSON integer ≤ 2^53−1)" },
        { path: "vs", message: "must be 32 bytes of hex: 0x and 64 hex digits" },
      ],
    });
    for (const body of [{ readings: "all of them" }, { readings: [] }]) {
      const response = await post(app, JSON.stringify(body));
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: "invalid_body", details: [{ path: "readings" }] });
    }
    const array = await post(app, JSON.stringify([r0]));
    expect(array.statusCode).toBe(400);
    expect(array.json().error.details).toEqual([
      { path: "(body)", message: "must be a reading object { meter, interval, exportWh, importWh, r, vs }" },
    ]);

    const tooMany = await post(app, JSON.stringify({ readings: Array.from({ length: MAX_BATCH_READINGS + 1 }, () => r0) }));
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json().error.code).toBe("batch_too_large");
  });

  it("tells a device what to sign: GET /api/gateway/domain", async () => {
    const response = await app.inject({ method: "GET", url: "/api/gateway/domain" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      name: "PeerGrid",
      version: "1",
      chainId: c.chain.chainId,
      verifyingContract: c.deployment.market,
      intervalSeconds: "900",
      readingWindowSeconds: "300",
      now: now().toString(),
      latestEndedInterval: interval.toString(),
      topicPattern: "peergrid/meters/{meter}/readings",
      resultsTopicPattern: "peergrid/meters/{meter}/results",
    });
  });
});

describe("durable before the 200", () => {
  it("keeps a reading answered 200 after the server and its store are closed and reopened", async () => {
    const dir = mkdtempSync(join(tmpdir(), "peergrid-gateway-http-"));
    try {
      const db = await openDb({ dataDir: dir }, [gatewaySchema]);
      const app = await gatewayTestApp(createGateway({ db, chain: c.chain, deployment: c.deployment, now }));
      const response = await post(app, JSON.stringify({ readings }));
      expect(response.statusCode).toBe(200);
      expect(response.json().accepted).toBe(readings.length);
      await app.close();
      await db.close();
      const reopened = await openDb({ dataDir: dir }, [gatewaySchema]);
      try {
        const stored = await createGateway({ db: reopened, chain: c.chain, deployment: c.deployment, now }).readingsFor(interval);
        expect(stored.map(toWire)).toEqual([...readings].sort((a, b) => (a.meter < b.meter ? -1 : 1)));
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
