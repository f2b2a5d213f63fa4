import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type Abi, type Address, encodeFunctionData, type Hex, type PrivateKeyAccount } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { communityRegistryAbi, energyMarketAbi } from "../../chain/generated/contracts.ts";
import { type OpenCommunity, openCommunity } from "../../cli/openCommunity.ts";
import { communityOptions } from "../../cli/options.ts";
import { createIndexer, type Indexer } from "../../indexer/indexer.ts";
import { indexerSchemas } from "../../indexer/schema.ts";
import { type TestDb, testStores } from "../../store/testDb.ts";
import { buildApp } from "../app.ts";
import { authSchema } from "../auth.ts";
import { createLiveHub } from "../liveHub.ts";
import { profilesSchema } from "../profiles.ts";
import { bearer, signIn } from "../testSupport.ts";

let dir: string;
let c: OpenCommunity;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-api-operator-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "5", start: "2026-06-15T11:00:00+02:00" }, {}), true);
}, 120_000);

afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A transaction signed by `account`, as a wallet would send it (fixed gas: the server must not need an estimate). */
async function signedCall(account: PrivateKeyAccount, to: Address, abi: Abi, functionName: string, args: readonly unknown[]) {
  const [nonce, gasPrice] = await Promise.all([
    c.chain.public.getTransactionCount({ address: account.address, blockTag: "pending" }),
    c.chain.public.getGasPrice(),
  ]);
  const data = encodeFunctionData({ abi, functionName, args } as never);
  return account.signTransaction({ type: "legacy", chainId: c.chain.chainId, nonce, gas: 1_000_000n, gasPrice, to, data });
}

type ParticipantJson = {
  account: string;
  zone: number;
  active: boolean;
  sinceBlock: string;
  registeredBlock: string;
  registeredAt: string | null;
  displayName: string | null;
  meters: { meterId: number; active: boolean }[];
};
type TariffChange = {
  feedInMicroPerKwh: string;
  retailMicroPerKwh: string;
  blockNumber: string;
  logIndex: number;
  at: string | null;
  by: string | null;
  txHash: string;
};

/** The operator view's endpoints: the participant list, meter reactivation and the tariff history. */
describe.each(testStores())("participants, meter reactivation and tariff history on %s", (_kind, open) => {
  let db: TestDb;
  let app: FastifyInstance;
  let indexer: Indexer;
  const tokens: Record<string, string> = {};
  const household = (i: number) => c.community.households[i]?.account as PrivateKeyAccount;
  const meterKey = (i: number) => c.community.households[i]?.meter.address as Address;
  const get = (url: string, token?: string) => app.inject({ method: "GET", url, headers: bearer(token) });
  const post = (method: "POST" | "PUT", url: string, token: string | undefined, signedTransaction: Hex) =>
    app.inject({ method, url, headers: bearer(token), payload: { signedTransaction } });
  /** Relays a registry write as the operator and waits until the index has it. */
  const operatorWrite = async (url: string, functionName: string, args: readonly unknown[]) => {
    const raw = await signedCall(c.community.operator, c.deployment.registry, communityRegistryAbi, functionName, args);
    const response = await post("POST", url, tokens.operator, raw);
    await indexer.syncOnce();
    return response;
  };
  const meterIdOf = (i: number) =>
    c.chain.public.readContract({
      address: c.deployment.registry,
      abi: communityRegistryAbi,
      functionName: "meterIdOf",
      args: [meterKey(i)],
    });

  beforeAll(async () => {
    db = await open([...indexerSchemas, authSchema, profilesSchema]);
    indexer = createIndexer({ db, chain: c.chain, deployment: c.deployment });
    await indexer.syncOnce();
    const now = await c.chain.now();
    app = await buildApp({
      db,
      chain: c.chain,
      deployment: c.deployment,
      now: () => now,
      live: createLiveHub(),
      indexerStatus: async () => ({ indexedBlock: (await indexer.cursor())?.number ?? 0n, headBlock: 0n }),
      validateResponses: true,
      roleCacheSeconds: 0n,
    });
    const at = new Date(Number(now) * 1000);
    tokens.A = await signIn(app, household(0), at);
    tokens.operator = await signIn(app, c.community.operator, at);
    tokens.grid = await signIn(app, c.community.grid, at);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  it("lists participants a page at a time with their meters, registration and (for operators) display names", async () => {
    const households = c.community.households.map((h) => h.account.address.toLowerCase()).sort();
    const seen: ParticipantJson[] = [];
    let after = "";
    for (let page = 0; page < 10; page++) {
      const body = (await get(`/api/participants?limit=2${after ? `&after=${after}` : ""}`)).json();
      seen.push(...body.participants);
      if (body.nextAfter === null) break;
      expect(body.participants).toHaveLength(2);
      expect(body.nextAfter).toBe(body.participants[1].account);
      after = body.nextAfter;
    }
    expect(seen.map((p) => p.account)).toEqual(households);
    for (const [i, h] of c.community.households.entries()) {
      const p = seen.find((x) => x.account === h.account.address.toLowerCase()) as ParticipantJson;
      const [registered] = await c.chain.public.getContractEvents({
        address: c.deployment.registry,
        abi: communityRegistryAbi,
        eventName: "ParticipantRegistered",
        args: { account: h.account.address },
        fromBlock: c.deployment.deployedAtBlock,
      });
      const block = await c.chain.public.getBlock({ blockNumber: registered?.blockNumber as bigint });
      expect(p).toMatchObject({
        zone: h.zone,
        active: true,
        registeredBlock: String(block.number),
        registeredAt: String(block.timestamp),
        displayName: null,
        meters: [{ meterId: await meterIdOf(i), active: true }],
      });
    }
    // Filters: a zone, and active or not.
    const zone = c.community.households[0]?.zone as number;
    const inZone = (await get(`/api/participants?zone=${zone}`)).json();
    expect(inZone.participants.map((p: ParticipantJson) => p.account).sort()).toEqual(
      c.community.households
        .filter((h) => h.zone === zone)
        .map((h) => h.account.address.toLowerCase())
        .sort(),
    );
    expect((await get("/api/participants?active=false")).json()).toEqual({ participants: [], nextAfter: null });
    expect((await get("/api/participants?after=nope")).statusCode).toBe(400);

    // A display name is private: the list names it to operators only.
    const a = household(0).address.toLowerCase();
    const saved = await app.inject({
      method: "PUT",
      url: `/api/accounts/${a}/profile`,
      headers: bearer(tokens.A),
      payload: { displayName: "Rooftop Rosa", showOnLeaderboard: false },
    });
    expect(saved.statusCode).toBe(200);
    const named = (token?: string) =>
      get(`/api/participants?limit=500`, token).then(
        (r) => (r.json().participants as ParticipantJson[]).find((p) => p.account === a)?.displayName,
      );
    expect(await named(tokens.operator)).toBe("Rooftop Rosa");
    expect(await named()).toBeNull();
    expect(await named(tokens.A)).toBeNull();
    expect(await named(tokens.grid)).toBeNull();
    expect((await get(`/api/participants/${a}`, tokens.operator)).json().displayName).toBe("Rooftop Rosa");
    expect((await get(`/api/participants/${a}`)).json().displayName).toBeNull();
    expect((await get("/api/participants", "not-a-session")).statusCode).toBe(401);
  });

  it("deactivates and reactivates a participant through the relay", async () => {
    const b = household(1).address.toLowerCase();
    const off = await operatorWrite(`/api/participants/${b}/deactivate`, "setParticipantActive", [b, false]);
    expect(off.statusCode).toBe(200);
    const paused = (await get(`/api/participants/${b}`)).json();
    expect(paused).toMatchObject({ active: false, sinceBlock: off.json().blockNumber });
    expect((await get("/api/participants?active=false")).json().participants.map((p: ParticipantJson) => p.account)).toEqual([b]);
    const on = await operatorWrite(`/api/participants/${b}/activate`, "setParticipantActive", [b, true]);
    expect(on.statusCode).toBe(200);
    expect((await get(`/api/participants/${b}`)).json()).toMatchObject({ active: true, sinceBlock: on.json().blockNumber });
  });

  it("pauses and reactivates a meter through the relay, and refuses what the route or the contract does not allow", async () => {
    const id = await meterIdOf(2);
    const owner = household(2).address.toLowerCase();
    const off = await operatorWrite(`/api/meters/${id}/deactivate`, "deactivateMeter", [id]);
    expect(off.statusCode).toBe(200);
    expect((await get(`/api/meters/${id}`)).json()).toMatchObject({ active: false, deactivatedBlock: off.json().blockNumber });

    // The path's meter must be the transaction's; only operators; the contract's own refusal comes back by name.
    const other = await signedCall(c.community.operator, c.deployment.registry, communityRegistryAbi, "reactivateMeter", [
      id + 1,
    ]);
    const mismatch = await post("POST", `/api/meters/${id}/reactivate`, tokens.operator, other);
    expect([mismatch.statusCode, mismatch.json().error.code]).toEqual([400, "tx_args_mismatch"]);
    const byHousehold = await signedCall(household(0), c.deployment.registry, communityRegistryAbi, "reactivateMeter", [id]);
    const forbidden = await post("POST", `/api/meters/${id}/reactivate`, tokens.A, byHousehold);
    expect([forbidden.statusCode, forbidden.json().error.code]).toEqual([403, "forbidden"]);
    expect((await post("POST", `/api/meters/${id}/reactivate`, undefined, byHousehold)).statusCode).toBe(401);
    await operatorWrite(`/api/participants/${owner}/deactivate`, "setParticipantActive", [owner, false]);
    const refused = await operatorWrite(`/api/meters/${id}/reactivate`, "reactivateMeter", [id]);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe("contract_refused");
    expect(JSON.stringify(refused.json())).toContain("ParticipantInactive");
    expect((await get(`/api/meters/${id}`)).json().active).toBe(false);

    await operatorWrite(`/api/participants/${owner}/activate`, "setParticipantActive", [owner, true]);
    const on = await operatorWrite(`/api/meters/${id}/reactivate`, "reactivateMeter", [id]);
    expect(on.statusCode).toBe(200);
    expect((await get(`/api/meters/${id}`)).json()).toMatchObject({ active: true, deactivatedBlock: null });
    expect((await get(`/api/participants/${owner}`)).json().meters).toMatchObject([{ meterId: id, active: true }]);
    const listed = (await get("/api/participants?limit=500")).json().participants as ParticipantJson[];
    expect(listed.find((p) => p.account === owner)?.meters).toEqual([{ meterId: id, active: true }]);
    const [event] = await db.query<{ name: string }>("select name from chain_events where tx_hash = $1", [on.json().hash]);
    expect(event?.name).toBe("MeterReactivated");
  });

  it("lists the tariff changes newest first with block, time and sender, a page at a time", async () => {
    const set = async (feedIn: bigint, retail: bigint) => {
      const raw = await signedCall(c.community.grid, c.deployment.market, energyMarketAbi as Abi, "setTariffs", [
        { feedInMicroPerKwh: feedIn, retailMicroPerKwh: retail },
      ]);
      const response = await post("PUT", "/api/tariffs", tokens.grid, raw);
      expect(response.statusCode).toBe(200);
      return response.json() as { hash: string; blockNumber: string };
    };
    const first = await set(81_000n, 301_000n);
    const second = await set(82_000n, 302_000n);
    await indexer.syncOnce();
    const all = (await get("/api/tariffs/history?limit=500")).json();
    expect(all.nextBefore).toBeNull();
    const changes = all.changes as TariffChange[];
    const onChain = await c.chain.public.getContractEvents({
      address: c.deployment.market,
      abi: energyMarketAbi,
      eventName: "TariffsChanged",
      fromBlock: c.deployment.deployedAtBlock,
    });
    expect(changes).toHaveLength(onChain.length);
    expect(changes.map((t) => [t.blockNumber, t.feedInMicroPerKwh, t.retailMicroPerKwh])).toEqual(
      onChain.map((e) => [String(e.blockNumber), String(e.args.feedInMicroPerKwh), String(e.args.retailMicroPerKwh)]).reverse(),
    );
    const grid = c.community.grid.address.toLowerCase();
    const block = await c.chain.public.getBlock({ blockNumber: BigInt(second.blockNumber) });
    expect(changes[0]).toMatchObject({
      feedInMicroPerKwh: "82000",
      retailMicroPerKwh: "302000",
      blockNumber: second.blockNumber,
      at: String(block.timestamp),
      by: grid,
      txHash: second.hash,
    });
    expect(changes[1]).toMatchObject({ feedInMicroPerKwh: "81000", by: grid, txHash: first.hash });
    // The current tariffs are the newest change.
    expect((await get("/api/tariffs")).json().current).toMatchObject({ feedInMicroPerKwh: "82000", retailMicroPerKwh: "302000" });

    // One change a page, following nextBefore, gives the same list.
    const paged: TariffChange[] = [];
    let before: string | null = null;
    for (let n = 0; n <= changes.length; n++) {
      const url: string = `/api/tariffs/history?limit=1${before ? `&before=${before}` : ""}`;
      const body: { changes: TariffChange[]; nextBefore: string | null } = (await get(url)).json();
      paged.push(...body.changes);
      before = body.nextBefore;
      if (before === null) break;
      expect(before).toBe(`${body.changes[0]?.blockNumber}:${body.changes[0]?.logIndex}`);
    }
    expect(paged).toEqual(changes);
    const bad = await get("/api/tariffs/history?before=latest");
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, "validation_failed"]);
    expect((await get("/api/tariffs/history?limit=0")).statusCode).toBe(400);
  });
});
