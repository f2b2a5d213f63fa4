import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readNextIntervalToSettle, readRecordedReadings } from "../chain/market.ts";
import type { OpenCommunity } from "../cli/openCommunity.ts";
import { intervalBounds } from "../core/interval.ts";
import { demoReadings } from "../demo/demoCommunity.ts";
import { type MeterKey, meterKey, signReading } from "../metering/reading.ts";
import { createKeeper } from "../server/keeper.ts";
import { openDb } from "../store/db.ts";
import { type TestDb, testStores } from "../store/testDb.ts";
import { createGateway, type Gateway, type ReadingResult } from "./gateway.ts";
import { gatewaySchema } from "./schema.ts";
import { openTestCommunity, registerMeter } from "./testSupport.ts";
import { fromWire, toWire } from "./wire.ts";

let c: OpenCommunity;
beforeAll(async () => {
  c = await openTestCommunity("gateway-test", 5);
}, 60_000);
afterAll(() => c?.close());

const domain = () => ({ chainId: c.chain.chainId, verifyingContract: c.deployment.market });
const readingsOf = (interval: bigint) => demoReadings(c.community, domain(), c.timeline, interval);
const rejected = (result: ReadingResult | undefined) => {
  if (result?.status !== "rejected") throw new Error(`expected a rejection, got ${JSON.stringify(result)}`);
  return result;
};

describe("wire format", () => {
  it("round-trips a signed reading, integers as decimal strings, and accepts safe JSON numbers", () => {
    const key = meterKey(generatePrivateKey());
    const signed = signReading(
      key,
      { chainId: 1, verifyingContract: key.address },
      { interval: 7n, exportWh: 2n ** 64n - 1n, importWh: 0n },
    );
    const wire = JSON.parse(JSON.stringify(toWire(signed)));
    expect(wire.exportWh).toBe("18446744073709551615");
    expect(fromWire(wire)).toEqual({ ok: true, reading: { ...signed, meter: signed.meter } });
    expect(fromWire({ ...wire, interval: 7, importWh: 0 })).toEqual({ ok: true, reading: signed });
  });

  it("names each bad field", () => {
    const key = meterKey(generatePrivateKey());
    const wire = toWire(
      signReading(key, { chainId: 1, verifyingContract: key.address }, { interval: 7n, exportWh: 1n, importWh: 0n }),
    );
    const issues = (input: unknown) => {
      const parsed = fromWire(input, "readings[3]");
      if (parsed.ok) throw new Error("parsed");
      return parsed.issues;
    };
    const u64 = "must be an integer string ≤ 2^64−1 (or a JSON integer ≤ 2^53−1)";
    expect(issues({ ...wire, exportWh: "18446744073709551616" })).toEqual([{ path: "readings[3].exportWh", message: u64 }]);
    expect(issues({ ...wire, exportWh: "-1" })).toEqual([{ path: "readings[3].exportWh", message: u64 }]);
    expect(issues({ ...wire, importWh: 1.5 })).toEqual([{ path: "readings[3].importWh", message: u64 }]);
    expect(issues({ ...wire, interval: 2 ** 60 })).toEqual([{ path: "readings[3].interval", message: u64 }]);
    expect(issues({ ...wire, meter: "0x12", r: undefined })).toEqual([
      { path: "readings[3].meter", message: "must be a 20-byte address: 0x and 40 hex digits" },
      { path: "readings[3].r", message: "must be 32 bytes of hex: 0x and 64 hex digits" },
    ]);
    expect(issues(42)).toEqual([
      { path: "readings[3]", message: "must be a reading object { meter, interval, exportWh, importWh, r, vs }" },
    ]);
  });
});

describe.each(testStores())("gateway on %s", (_kind, open) => {
  let db: TestDb;
  let gateway: Gateway;
  let clock = 0n;
  let interval: bigint;
  let late: MeterKey;
  let retired: MeterKey;

  beforeAll(async () => {
    db = await open([gatewaySchema]);
    gateway = createGateway({ db, chain: c.chain, deployment: c.deployment, now: () => clock });
    interval = await readNextIntervalToSettle(c.chain, c.deployment);
    retired = await registerMeter(c, true);
    // Registered during `interval`: it may report only the intervals after it.
    await c.chain.advanceTo(intervalBounds(interval, c.deployment).startsAt + 10n);
    late = await registerMeter(c);
  }, 60_000);
  afterAll(() => db?.dispose());

  const open_ = () => intervalBounds(interval, c.deployment);
  const count = async () => (await db.query<{ n: bigint }>("select count(*)::int8 as n from gateway_readings"))[0]?.n;

  it("accepts valid readings once the interval ended, answers a re-send `duplicate`, and stores each once", async () => {
    clock = open_().endsAt;
    const wire = readingsOf(interval).map(toWire);
    const first = await gateway.submit(wire);
    expect(first.map((r) => r.status)).toEqual(wire.map(() => "accepted"));
    expect(first[0]).toEqual({ status: "accepted", meter: wire[0]?.meter, interval: interval.toString() });
    const again = await gateway.submit(wire);
    expect(again.map((r) => r.status)).toEqual(wire.map(() => "duplicate"));
    expect(await count()).toBe(BigInt(wire.length));
    expect((await gateway.readingsFor(interval)).map(toWire)).toEqual([...wire].sort((a, b) => (a.meter < b.meter ? -1 : 1)));
  });

  it("refuses each kind of bad reading with its code and a precise message", async () => {
    const before = await count();
    const [h0, h1] = c.community.households;
    if (!h0 || !h1) throw new Error("need two households");
    const { endsAt, closesAt } = open_();
    clock = endsAt + 1n;
    const good = toWire(signReading(h1.meter, domain(), { interval, exportWh: 1n, importWh: 2n }));
    const sign = (key: MeterKey, i = interval) => toWire(signReading(key, domain(), { interval: i, exportWh: 5n, importWh: 0n }));
    const results = await gateway.submit([
      { ...good, exportWh: "18446744073709551616" },
      { ...good, exportWh: "3" },
      toWire(signReading(h1.meter, { ...domain(), chainId: 1 }, { interval, exportWh: 1n, importWh: 2n })),
      sign(meterKey(generatePrivateKey())),
      sign(retired),
      sign(late),
      sign(h0.meter, c.deployment.firstInterval - 1n),
    ]);
    const codes = results.map((r) => rejected(r).code);
    expect(codes).toEqual([
      "reading_malformed",
      "reading_bad_signature",
      "reading_bad_signature",
      "meter_unknown",
      "meter_deactivated",
      "meter_registered_after_interval",
      "interval_before_market",
    ]);
    expect(rejected(results[0]).message).toBe(
      "readings[0].exportWh: must be an integer string ≤ 2^64−1 (or a JSON integer ≤ 2^53−1)",
    );
    expect(rejected(results[0]).issues).toEqual([{ path: "readings[0].exportWh", message: expect.any(String) }]);
    expect(rejected(results[1]).message).toContain(`does not recover meter ${h1.meter.address}`);
    expect(rejected(results[3]).message).toMatch(/^no meter with signing address 0x[0-9a-fA-F]{40} is registered$/);
    expect(rejected(results[4]).message).toMatch(/is deactivated/);
    expect(rejected(results[5]).message).toMatch(/after interval \d+ started/);
    expect(rejected(results[6]).message).toContain(`before the market's first interval ${c.deployment.firstInterval}`);
    // The late meter reports the next interval.
    clock = intervalBounds(interval + 1n, c.deployment).endsAt;
    expect(await gateway.submit([sign(late, interval + 1n)])).toEqual([
      { status: "accepted", meter: late.address, interval: (interval + 1n).toString() },
    ]);
    await db.query("delete from gateway_readings where interval = $1", [(interval + 1n).toString()]);

    // Too early and too late.
    const next = sign(h0.meter, interval + 2n);
    clock = intervalBounds(interval + 2n, c.deployment).endsAt - 1n;
    expect(rejected((await gateway.submit([next]))[0])).toMatchObject({ code: "interval_not_ended" });
    clock = closesAt;
    const closed = rejected((await gateway.submit([sign(late, interval)]))[0]);
    expect(closed).toMatchObject({ code: "reading_window_closed", meter: late.address, interval: interval.toString() });
    expect(closed.message).toContain(`closed at ${closesAt}`);
    const early = createGateway({
      db,
      chain: c.chain,
      deployment: c.deployment,
      now: () => closesAt - 30n,
      windowMarginSeconds: 60n,
    });
    const cut = rejected((await early.submit([sign(late, interval)]))[0]);
    expect(cut).toMatchObject({ code: "reading_window_closed" });
    expect(cut.message).toContain(`closed at ${closesAt - 60n}, 60 s before the chain's window closes at ${closesAt}`);
    expect(await count()).toBe(before);
  });

  it("answers a retry after the window closed `duplicate`, and never replaces a stored reading", async () => {
    const [h0] = c.community.households;
    if (!h0) throw new Error("need a household");
    clock = open_().endsAt + 5n;
    const [stored] = (await gateway.readingsFor(interval)).filter((r) => r.meter === h0.meter.address);
    if (!stored) throw new Error("h0's reading is not stored");
    const changed = signReading(h0.meter, domain(), { interval, exportWh: stored.exportWh + 1n, importWh: stored.importWh });
    // The stored signature with other values is a forgery, not a conflict.
    const copied = { ...toWire(stored), exportWh: (stored.exportWh + 1n).toString() };
    expect(rejected((await gateway.submit([copied]))[0]).code).toBe("reading_bad_signature");
    const result = rejected((await gateway.submit([toWire(changed)]))[0]);
    expect(result.code).toBe("reading_conflict");
    expect(result.message).toContain(`exportWh ${stored.exportWh}`);
    expect((await gateway.readingsFor(interval)).find((r) => r.meter === h0.meter.address)).toEqual(stored);
    clock = open_().closesAt + 100n;
    expect((await gateway.submit([toWire(stored)]))[0]?.status).toBe("duplicate");
  });

  it("stores exactly the good readings of a mixed batch, and answers concurrent copies of one reading once", async () => {
    const next = interval + 1n;
    clock = intervalBounds(next, c.deployment).endsAt;
    const good = readingsOf(next).map(toWire);
    const stranger = toWire(
      signReading(meterKey(generatePrivateKey()), domain(), { interval: next, exportWh: 1n, importWh: 0n }),
    );
    const [g0, g1, ...rest] = good;
    const batch = [g0, { ...g1, vs: "0x12" }, stranger, g1, { ...g0, importWh: "999" }, ...rest, "not a reading"];
    const results = await gateway.submit(batch);
    expect(results.map((r) => (r.status === "rejected" ? r.code : r.status))).toEqual([
      "accepted",
      "reading_malformed",
      "meter_unknown",
      "accepted",
      "reading_bad_signature",
      ...rest.map(() => "accepted"),
      "reading_malformed",
    ]);
    expect((await gateway.readingsFor(next)).map(toWire)).toEqual([...good].sort((a, b) => (a.meter < b.meter ? -1 : 1)));
    await db.query("delete from gateway_readings where interval = $1", [next.toString()]);
    // Two requests race with the same new reading: one stores it, the other answers duplicate.
    const twice = await Promise.all([gateway.submit([g0]), gateway.submit([g0])]);
    expect(twice.map(([r]) => r?.status).sort()).toEqual(["accepted", "duplicate"]);
    // Two copies in one batch: the second is a duplicate, a different second reading a conflict.
    const other = toWire(
      signReading(c.community.households[1]?.meter as MeterKey, domain(), { interval: next, exportWh: 3n, importWh: 3n }),
    );
    const rereported = toWire(
      signReading(c.community.households[1]?.meter as MeterKey, domain(), { interval: next, exportWh: 4n, importWh: 3n }),
    );
    expect((await gateway.submit([other, other, rereported])).map((r) => (r.status === "rejected" ? r.code : r.status))).toEqual([
      "accepted",
      "duplicate",
      "reading_conflict",
    ]);
    await db.query("delete from gateway_readings where interval = $1", [next.toString()]);
  });

  it("is the keeper's reading source: the interval is settled with the readings it stored", async () => {
    const keeper = createKeeper({
      chain: c.chain,
      deployment: c.deployment,
      gateway: c.community.gateway,
      settler: c.community.keeper,
      readings: gateway.readingsFor,
    });
    const stored = await gateway.readingsFor(interval);
    const report = await keeper.closeInterval(interval);
    expect(report.meters).toBe(c.community.households.length);
    expect(report.rejectedReadings).toBe(0);
    const recorded = await readRecordedReadings(c.chain, c.deployment, interval);
    const sum = (xs: { exportWh: bigint }[]) => xs.reduce((s, r) => s + r.exportWh, 0n);
    expect(recorded.length).toBe(stored.length);
    expect(sum(recorded)).toBe(sum(stored));
    expect(await readNextIntervalToSettle(c.chain, c.deployment)).toBe(interval + 1n);
  }, 60_000);
});

describe("durability", () => {
  it("keeps what submit acknowledged across a close and reopen of the store", async () => {
    const dir = mkdtempSync(join(tmpdir(), "peergrid-gateway-db-"));
    try {
      const interval = await readNextIntervalToSettle(c.chain, c.deployment);
      const now = () => intervalBounds(interval, c.deployment).endsAt;
      const wire = readingsOf(interval).map(toWire);
      const db = await openDb({ dataDir: dir }, [gatewaySchema]);
      const results = await createGateway({ db, chain: c.chain, deployment: c.deployment, now }).submit(wire);
      expect(results.every((r) => r.status === "accepted")).toBe(true);
      await db.close();
      const reopened = await openDb({ dataDir: dir }, [gatewaySchema]);
      try {
        const again = createGateway({ db: reopened, chain: c.chain, deployment: c.deployment, now });
        expect((await again.readingsFor(interval)).length).toBe(wire.length);
        expect((await again.submit(wire)).every((r) => r.status === "duplicate")).toBe(true);
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
