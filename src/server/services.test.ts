import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSiweMessage } from "viem/siwe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenCommunity, openCommunity } from "../cli/openCommunity.ts";
import { communityOptions } from "../cli/options.ts";
import { intervalBounds } from "../core/interval.ts";
import { demoReadings } from "../demo/demoCommunity.ts";
import { toWire } from "../gateway/wire.ts";
import { createKeeper } from "./keeper.ts";
import { readingSchedule, type Services, startServices } from "./services.ts";

let dir: string;
let c: OpenCommunity;
let services: Services;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-services-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "6", start: "2026-06-15T11:00:00+02:00" }, {}), true);
  services = await startServices({
    chain: c.chain,
    deployment: c.deployment,
    dataDir: dir,
    databaseUrl: undefined,
    host: "127.0.0.1",
    port: 0,
    mqttUrl: undefined,
    log: () => {},
  });
}, 60_000);

afterAll(async () => {
  await services?.close();
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = async (path: string, init?: RequestInit) => {
  const response = await fetch(`${services.url}${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** Reads server-sent events from /api/live into `events` until `stop` is called. */
function listen(events: string[]) {
  const abort = new AbortController();
  const done = (async () => {
    const response = await fetch(`${services.url}/api/live`, { signal: abort.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      events.push(decoder.decode(value));
    }
  })().catch(() => {});
  return async () => {
    abort.abort();
    await done;
  };
}

describe("the server around the embedded chain (peergrid start / serve)", () => {
  it("takes meters' readings over HTTP, settles them, and shows the interval, live and to the household", async () => {
    const events: string[] = [];
    const stop = listen(events);
    const keeper = createKeeper({
      chain: c.chain,
      deployment: c.deployment,
      gateway: c.community.gateway,
      settler: c.community.keeper,
      readings: (i) => services.gateway.readingsFor(i),
    });
    const interval = await keeper.nextInterval();
    const { endsAt } = intervalBounds(interval, c.deployment);
    await c.chain.advanceTo(endsAt);
    await services.clock.refresh();

    // The meters publish through the gateway's HTTP API, as devices would.
    const domain = { chainId: c.chain.chainId, verifyingContract: c.deployment.market };
    const readings = demoReadings(c.community, domain, c.timeline, interval).map(toWire);
    const posted = await api("/api/readings", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ readings }),
    });
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ accepted: readings.length, duplicate: 0, rejected: 0 });
    const again = await api("/api/readings", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(readings[0]),
    });
    expect(again.body).toMatchObject({ accepted: 0, duplicate: 1 });

    const report = await keeper.closeInterval(interval);
    expect(report.meters).toBe(readings.length);

    // The indexer follows the chain; the API shows the settled interval as the chain recorded it.
    let shown = await api(`/api/intervals/${interval}`);
    for (let i = 0; shown.status === 404 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      shown = await api(`/api/intervals/${interval}`);
    }
    expect(shown.status).toBe(200);
    expect(JSON.stringify(shown.body)).toContain(`"tradedWh":"${report.tradedWh}"`);
    expect(JSON.stringify(shown.body)).toContain(`"priceMicroPerKwh":"${report.priceMicroPerKwh}"`);
    const health = await api("/api/health");
    expect(health.body).toMatchObject({ status: "ok", db: "ok" });

    // Live: the interval arrived as a server-sent event.
    for (let i = 0; !events.join("").includes(String(interval)) && i < 50; i++) await new Promise((r) => setTimeout(r, 100));
    await stop();
    expect(events.join("")).toMatch(/event: interval/);
    expect(events.join("")).toContain(String(interval));

    // A household signs in with its wallet and reads its own account; another's is refused.
    const [me, other] = c.community.households;
    if (!me || !other) throw new Error("the community has households");
    const nonce = (await api("/api/auth/nonce")).body as { nonce: string; domain: string; uri: string; chainId: number };
    const message = createSiweMessage({
      address: me.account.address,
      domain: nonce.domain,
      uri: nonce.uri,
      chainId: nonce.chainId,
      nonce: nonce.nonce,
      version: "1",
      issuedAt: new Date(Number(services.clock.now()) * 1000),
    });
    const signin = await api("/api/auth/signin", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message, signature: await me.account.signMessage({ message }) }),
    });
    expect(signin.status, JSON.stringify(signin.body)).toBe(200);
    const auth = { authorization: `Bearer ${signin.body.token as string}` };
    expect((await api(`/api/accounts/${me.account.address}`, { headers: auth })).status).toBe(200);
    const refused = await api(`/api/accounts/${other.account.address}`, { headers: auth });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: "forbidden" } });
  });

  it("gives meters of real devices most of the reading window and stops the gateway before the keeper reads", () => {
    expect(readingSchedule(300n)).toEqual({ keeperDelaySeconds: 240n, gatewayMarginSeconds: 62n });
    expect(readingSchedule(4n)).toEqual({ keeperDelaySeconds: 3n, gatewayMarginSeconds: 3n });
    expect(readingSchedule(3600n)).toEqual({ keeperDelaySeconds: 3540n, gatewayMarginSeconds: 62n });
  });
});
