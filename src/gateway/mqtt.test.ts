import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readNextIntervalToSettle } from "../chain/market.ts";
import type { OpenCommunity } from "../cli/openCommunity.ts";
import { intervalBounds } from "../core/interval.ts";
import { demoReadings } from "../demo/demoCommunity.ts";
import { type TestDb, testStores } from "../store/testDb.ts";
import { createGateway, type Gateway, type SubmitSummary } from "./gateway.ts";
import { startMqttIngest } from "./mqtt.ts";
import { gatewaySchema } from "./schema.ts";
import { openTestCommunity } from "./testSupport.ts";
import { toWire, type WireReading } from "./wire.ts";

const url = process.env.PEERGRID_TEST_MQTT_URL;

/** The embedded store (these tests are about MQTT, not the store: PGlite is enough). */
function openEmbedded(): Promise<TestDb> {
  const [kind, open] = testStores()[0] ?? [];
  if (kind !== "pglite" || !open) throw new Error("no embedded store");
  return open([gatewaySchema]);
}

describe.skipIf(!url)("MQTT ingest", () => {
  const brokerUrl = url as string;
  // A topic root and client ids of this run's own, so parallel runs on one broker do not see each other.
  const run = randomBytes(4).toString("hex");
  const root = `test-${run}/peergrid`;
  const clientId = `peergrid-gateway-test-${run}`;
  let c: OpenCommunity;
  let db: TestDb;
  let gateway: Gateway;
  let interval: bigint;
  let readings: WireReading[];
  let device: MqttClient;
  const results: { topic: string; body: SubmitSummary }[] = [];

  beforeAll(async () => {
    c = await openTestCommunity("gateway-mqtt-test", 4);
    db = await openEmbedded();
    interval = await readNextIntervalToSettle(c.chain, c.deployment);
    const now = () => intervalBounds(interval, c.deployment).endsAt;
    gateway = createGateway({ db, chain: c.chain, deployment: c.deployment, now });
    const domain = { chainId: c.chain.chainId, verifyingContract: c.deployment.market };
    readings = demoReadings(c.community, domain, c.timeline, interval).map(toWire);
    device = await mqtt.connectAsync(brokerUrl, { clientId: `device-${run}`, clean: true });
    await device.subscribeAsync(`${root}/meters/+/results`, { qos: 1 });
    device.on("message", (topic, payload) => results.push({ topic, body: JSON.parse(payload.toString()) }));
  }, 60_000);
  afterAll(async () => {
    await device?.endAsync();
    // Leave no persistent session behind at the broker.
    if (c) await (await mqtt.connectAsync(brokerUrl, { clientId, clean: true })).endAsync();
    await db?.dispose();
    await c?.close();
  });

  const stored = async () => (await db.query<{ n: bigint }>("select count(*)::int8 as n from gateway_readings"))[0]?.n;
  async function nextResult(topic: string, timeoutMs = 10_000): Promise<SubmitSummary> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const k = results.findIndex((r) => r.topic === topic);
      if (k >= 0) return (results.splice(k, 1)[0] as { body: SubmitSummary }).body;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no result on ${topic} within ${timeoutMs} ms`);
  }
  const topics = (meter: string) => ({
    readings: `${root}/meters/${meter}/readings`,
    results: `${root}/meters/${meter}/results`,
  });

  it("stores a reading published on its meter's topic and answers on the results topic; a redelivery is a duplicate", async () => {
    const ingest = await startMqttIngest({ url: brokerUrl, gateway, clientId, topicRoot: root });
    try {
      const [r0, r1] = readings;
      if (!r0 || !r1) throw new Error("need two readings");
      const t0 = topics(r0.meter);
      await device.publishAsync(t0.readings, JSON.stringify(r0), { qos: 1 });
      expect(await nextResult(t0.results)).toEqual({
        accepted: 1,
        duplicate: 0,
        rejected: 0,
        results: [{ status: "accepted", meter: r0.meter, interval: interval.toString() }],
      });
      // The same message again (what the broker redelivers when an acknowledgement was lost): stored once.
      await device.publishAsync(t0.readings, JSON.stringify(r0), { qos: 1 });
      expect((await nextResult(t0.results)).results).toEqual([
        { status: "duplicate", meter: r0.meter, interval: interval.toString() },
      ]);
      expect(await stored()).toBe(1n);

      // Another meter's reading on r0's topic, a payload that is no JSON, and an array payload.
      await device.publishAsync(t0.readings, JSON.stringify([r1]), { qos: 1 });
      expect((await nextResult(t0.results)).results).toEqual([
        {
          status: "rejected",
          code: "topic_meter_mismatch",
          message: `readings[0].meter ${r1.meter} is not the meter of topic ${t0.readings}`,
        },
      ]);
      await device.publishAsync(t0.readings, "{nope", { qos: 1 });
      expect((await nextResult(t0.results)).results[0]).toMatchObject({ status: "rejected", code: "reading_malformed" });
      const t1 = topics(r1.meter.toLowerCase());
      await device.publishAsync(t1.readings, JSON.stringify([r1, { ...r1, exportWh: "x" }]), { qos: 1 });
      expect(await nextResult(t1.results)).toMatchObject({ accepted: 1, rejected: 1 });
      expect(await stored()).toBe(2n);
    } finally {
      await ingest.close();
    }
  }, 60_000);

  it("gets what was published while it was down (persistent session), and does not acknowledge what it could not store", async () => {
    const [, , r2, r3] = readings;
    if (!r2 || !r3) throw new Error("need four readings");
    // The gateway is down (its session stays at the broker): the message waits there.
    await device.publishAsync(topics(r2.meter).readings, JSON.stringify(r2), { qos: 1 });

    // A gateway whose store is closed cannot store it: no acknowledgement, so the broker keeps it.
    const brokenDb = await openEmbedded();
    await brokenDb.close();
    const logged: string[] = [];
    const broken = createGateway({ db: brokenDb, chain: c.chain, deployment: c.deployment, now: gateway.now });
    const failing = await startMqttIngest({
      url: brokerUrl,
      gateway: broken,
      clientId,
      topicRoot: root,
      log: (m) => logged.push(m),
    });
    const deadline = Date.now() + 10_000;
    while (!logged.some((m) => m.includes("could not store")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await failing.close();
    expect(logged.join("\n")).toContain("could not store");
    expect(await stored()).toBe(2n);

    // Back with its store: the broker delivers the message again, and it is stored once.
    const ingest = await startMqttIngest({ url: brokerUrl, gateway, clientId, topicRoot: root });
    try {
      expect((await nextResult(topics(r2.meter).results)).results[0]?.status).toBe("accepted");
      await device.publishAsync(topics(r3.meter).readings, JSON.stringify(r3), { qos: 1 });
      expect((await nextResult(topics(r3.meter).results)).results[0]?.status).toBe("accepted");
      expect(await stored()).toBe(4n);
      expect((await gateway.readingsFor(interval)).length).toBe(4);
    } finally {
      await ingest.close();
    }
  }, 60_000);
});

// A broker of this test's own, so that it can be stopped and started again.
const mosquitto = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].find((p) => existsSync(p));

describe.skipIf(!mosquitto)("MQTT ingest across a broker restart", () => {
  let c: OpenCommunity;
  let db: TestDb;
  let broker: ChildProcess | undefined;
  let port = 0;
  const startBroker = async () => {
    broker = spawn(mosquitto as string, ["-p", String(port)], { stdio: "ignore" });
    // Ready when it accepts a connection.
    for (let i = 0; i < 100; i++) {
      const ok = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 }).then(
        (client) => client.endAsync().then(() => true),
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("mosquitto did not start");
  };
  const stopBroker = async () => {
    const b = broker;
    if (!b || b.exitCode !== null) return;
    const exited = new Promise((r) => b.once("exit", r));
    b.kill("SIGTERM");
    await exited;
  };

  beforeAll(async () => {
    port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    c = await openTestCommunity("gateway-mqtt-restart-test", 2);
    db = await openEmbedded();
    await startBroker();
  }, 60_000);
  afterAll(async () => {
    await stopBroker();
    await db?.dispose();
    await c?.close();
  });

  it("reconnects and subscribes again after the broker restarts (its sessions lost), and takes readings again", async () => {
    const interval = await readNextIntervalToSettle(c.chain, c.deployment);
    const now = () => intervalBounds(interval, c.deployment).endsAt;
    const gateway = createGateway({ db, chain: c.chain, deployment: c.deployment, now });
    const domain = { chainId: c.chain.chainId, verifyingContract: c.deployment.market };
    const [r0, r1] = demoReadings(c.community, domain, c.timeline, interval).map(toWire);
    if (!r0 || !r1) throw new Error("need two readings");
    const url = `mqtt://127.0.0.1:${port}`;
    const ingest = await startMqttIngest({ url, gateway, clientId: "peergrid-gateway-restart" });
    const publishAndWait = async (reading: WireReading) => {
      const device = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
      try {
        const answer = new Promise<SubmitSummary>((resolve) =>
          device.on("message", (_t, m) => resolve(JSON.parse(m.toString()))),
        );
        await device.subscribeAsync(`peergrid/meters/${reading.meter}/results`, { qos: 1 });
        await device.publishAsync(`peergrid/meters/${reading.meter}/readings`, JSON.stringify(reading), { qos: 1 });
        return await Promise.race([answer, new Promise<undefined>((r) => setTimeout(() => r(undefined), 1_500))]);
      } finally {
        await device.endAsync();
      }
    };
    try {
      expect((await publishAndWait(r0))?.accepted).toBe(1);
      await stopBroker();
      await startBroker();
      // The gateway reconnects within about a second; until then a published reading finds no subscriber.
      let answer: SubmitSummary | undefined;
      for (let i = 0; i < 10 && !answer; i++) answer = await publishAndWait(r1);
      expect(answer?.results[0]).toMatchObject({ status: "accepted", meter: r1.meter });
      expect((await gateway.readingsFor(interval)).length).toBe(2);
    } finally {
      await ingest.close();
    }
  }, 60_000);
});
