import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import mqtt from "mqtt";
import { parseSignature, signatureToCompactSignature } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PeerGridError } from "../chain/errors.ts";
import { readNextIntervalToSettle } from "../chain/market.ts";
import { intervalBounds } from "../core/interval.ts";
import { createGateway, type Gateway } from "../gateway/gateway.ts";
import { startMqttIngest } from "../gateway/mqtt.ts";
import { gatewaySchema } from "../gateway/schema.ts";
import { gatewayTestApp, openTestCommunity } from "../gateway/testSupport.ts";
import { fromWire } from "../gateway/wire.ts";
import { readingTypes, verifyReading } from "../metering/reading.ts";
import { type TestDb, testStores } from "../store/testDb.ts";
import { meter } from "./meter.ts";
import type { OpenCommunity } from "./openCommunity.ts";
import type { CommandIo } from "./start.ts";

function captureIo(): CommandIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(l), sleep: async () => {}, nowMs: () => 0 };
}
async function run(argv: string[]): Promise<string[]> {
  const io = captureIo();
  await meter(argv, io);
  return io.lines;
}
async function fails(argv: string[]): Promise<string> {
  const error = await meter(argv, captureIo()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PeerGridError);
  return (error as Error).message;
}

const market = "0x00000000000000000000000000000000000000aa";

describe("peergrid meter (offline)", () => {
  it("keygen prints a key and its address, or writes the key to a file", async () => {
    const [address, key] = await run(["keygen"]);
    const privateKey = key?.split(/\s+/)[2] as `0x${string}`;
    expect(address?.split(/\s+/)[1]).toBe(privateKeyToAccount(privateKey).address);
    const dir = mkdtempSync(join(tmpdir(), "peergrid-meter-"));
    try {
      const file = join(dir, "meter.key");
      const lines = await run(["keygen", "--out", file]);
      const written = readFileSync(file, "utf8").trim() as `0x${string}`;
      expect(lines[0]).toBe(`address     ${privateKeyToAccount(written).address}`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(await fails(["keygen", "--out", file])).toContain("exists");
      // sign reads the key from the file, and its output is a reading the gateway verifies.
      const [json] = await run(
        ["sign", "--key", file, "--interval", "77", "--export-wh", "18446744073709551615", "--import-wh", "0"].concat([
          "--chain-id",
          "31337",
          "--market",
          market,
        ]),
      );
      const parsed = fromWire(JSON.parse(json as string));
      if (!parsed.ok) throw new Error("sign printed no reading");
      expect(parsed.reading).toMatchObject({ interval: 77n, exportWh: 2n ** 64n - 1n, importWh: 0n });
      expect(verifyReading({ chainId: 31337, verifyingContract: market }, parsed.reading)).toBe(true);
      expect(verifyReading({ chainId: 1, verifyingContract: market }, parsed.reading)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("explains bad options", async () => {
    const key = generatePrivateKey();
    const base = [
      "--key",
      key,
      "--interval",
      "1",
      "--export-wh",
      "1",
      "--import-wh",
      "0",
      "--chain-id",
      "31337",
      "--market",
      market,
    ];
    expect(await fails(["flash"])).toContain('unknown subcommand "flash"');
    expect(await fails(["sign", ...base, "--bogus"])).toContain("Unknown option '--bogus'");
    expect(await fails(["sign", ...base.slice(2)])).toContain("--key is required");
    expect(await fails(["sign", ...base, "--key", "nope.key"])).toContain('--key "nope.key" is neither a private key');
    expect(await fails(["sign", ...base, "--export-wh=-5"])).toContain(
      '--export-wh must be a whole number from 0 to 2^64−1, got "-5"',
    );
    expect(await fails(["sign", ...base, "--export-wh", "1.5"])).toContain('got "1.5"');
    expect(await fails(["sign", ...base, "--import-wh", "18446744073709551616"])).toContain("--import-wh must be a whole number");
    expect(await fails(["sign", ...base, "--market", "0x12"])).toContain("--market must be the market contract's address");
    expect(await fails(["sign", ...base, "--chain-id", "x"])).toContain("--chain-id must be a positive whole number");
    expect(await fails(["publish", ...base])).toContain("publish needs --server <url> or --mqtt <url>");
    expect((await run(["--help"]))[0]).toContain("Usage: peergrid meter");
  });

  it("the help's device example (viem signTypedData, compact signature) signs what the gateway verifies", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const domain = { name: "PeerGrid", version: "1", chainId: 31337, verifyingContract: market } as const;
    const message = { meter: account.address, interval: 5n, exportWh: 420n, importWh: 0n };
    const signature = await account.signTypedData({ domain, types: readingTypes, primaryType: "Reading", message });
    const { r, yParityAndS: vs } = signatureToCompactSignature(parseSignature(signature));
    expect(verifyReading({ chainId: 31337, verifyingContract: market }, { ...message, r, vs })).toBe(true);
  });
});

describe("peergrid meter publish (against a running gateway)", () => {
  let c: OpenCommunity;
  let db: TestDb;
  let gateway: Gateway;
  let app: FastifyInstance;
  let server: string;
  let interval: bigint;
  beforeAll(async () => {
    c = await openTestCommunity("meter-cli-test", 3);
    const open = testStores()[0]?.[1];
    if (!open) throw new Error("no store");
    db = await open([gatewaySchema]);
    interval = await readNextIntervalToSettle(c.chain, c.deployment);
    gateway = createGateway({
      db,
      chain: c.chain,
      deployment: c.deployment,
      now: () => intervalBounds(interval, c.deployment).endsAt,
    });
    app = await gatewayTestApp(gateway);
    server = await app.listen({ host: "127.0.0.1", port: 0 });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
    await c?.close();
  });

  it("publishes over HTTP, prints the answer, and fails on a rejection", async () => {
    const [h0] = c.community.households;
    if (!h0) throw new Error("no household");
    const key = h0.meter.privateKey;
    const args = ["--key", key, "--server", server, "--export-wh", "420", "--import-wh", "0"];
    expect(await run(["publish", ...args])).toEqual([
      JSON.stringify({ status: "accepted", meter: h0.meter.address, interval: interval.toString() }),
    ]);
    expect(JSON.parse((await run(["publish", ...args]))[0] as string).status).toBe("duplicate");
    const message = await fails(["publish", ...args.slice(0, -4), "--export-wh", "421", "--import-wh", "0"]);
    expect(message).toContain("the gateway rejected the reading");
    expect(message).toContain("reading_conflict");
    expect(
      await fails(["publish", "--key", generatePrivateKey(), "--server", server, "--export-wh", "1", "--import-wh", "0"]),
    ).toContain("meter_unknown");
    expect((await gateway.readingsFor(interval)).map((r) => [r.meter, r.exportWh])).toEqual([[h0.meter.address, 420n]]);
  });

  const mqttUrl = process.env.PEERGRID_TEST_MQTT_URL;
  it.skipIf(!mqttUrl)("publishes over MQTT and prints the gateway's answer from the results topic", async () => {
    const [, h1] = c.community.households;
    if (!h1) throw new Error("no household");
    const root = `test-${randomBytes(4).toString("hex")}/peergrid`;
    const clientId = `peergrid-gateway-${root}`;
    const ingest = await startMqttIngest({ url: mqttUrl as string, gateway, clientId, topicRoot: root });
    try {
      const args = ["--key", h1.meter.privateKey, "--server", server, "--mqtt", mqttUrl as string, "--topic-root", root];
      const lines = await run(["publish", ...args, "--export-wh", "0", "--import-wh", "310"]);
      expect(JSON.parse(lines[0] as string)).toEqual({
        status: "accepted",
        meter: h1.meter.address,
        interval: interval.toString(),
      });
      expect(await fails(["publish", ...args, "--export-wh", "0", "--import-wh", "311"])).toContain("reading_conflict");
    } finally {
      await ingest.close();
      // Leave no persistent session behind at the broker.
      await (await mqtt.connectAsync(mqttUrl as string, { clientId, clean: true })).endAsync();
    }
  });
});
