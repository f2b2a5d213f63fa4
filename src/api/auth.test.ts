import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type Abi, type Address, encodeFunctionData, type Hex, type PrivateKeyAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { communityRegistryAbi, energyMarketAbi } from "../chain/generated/contracts.ts";
import { readAccounts, readTariffs } from "../chain/market.ts";
import { type OpenCommunity, openCommunity } from "../cli/openCommunity.ts";
import { communityOptions } from "../cli/options.ts";
import { indexerSchema } from "../indexer/schema.ts";
import { type TestDb, testStores } from "../store/testDb.ts";
import { buildApp } from "./app.ts";
import { authSchema } from "./auth.ts";
import { createLiveHub } from "./liveHub.ts";
import { insertIndexFixture } from "./testFixtures.ts";
import { bearer, signedSiwe, signIn } from "./testSupport.ts";

let dir: string;
let c: OpenCommunity;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-api-auth-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "4", start: "2026-06-15T11:00:00+02:00" }, {}), true);
}, 60_000);

afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const START = 1_781_520_000n; // 2026-06-15T10:40:00Z

/** A transaction signed by `account`, as a wallet would send it (fixed gas: the server must not need an estimate). */
async function signedCall(account: PrivateKeyAccount, to: Address, abi: Abi, functionName: string, args: readonly unknown[]) {
  const [nonce, gasPrice] = await Promise.all([
    c.chain.public.getTransactionCount({ address: account.address, blockTag: "pending" }),
    c.chain.public.getGasPrice(),
  ]);
  const data = encodeFunctionData({ abi, functionName, args } as never);
  return account.signTransaction({
    type: "legacy",
    chainId: c.chain.chainId,
    nonce,
    gas: 1_000_000n,
    gasPrice,
    to,
    data,
  });
}

describe.each(testStores())("sign-in, permissions and relayed writes on %s", (_kind, open) => {
  let db: TestDb;
  let app: FastifyInstance;
  let clock = START;
  const at = () => new Date(Number(clock) * 1000);
  const hub = createLiveHub();

  beforeAll(async () => {
    db = await open([indexerSchema, authSchema]);
    await insertIndexFixture(db, {
      households: c.community.households.map((h) => h.account.address.toLowerCase()),
      firstInterval: START / 900n - 96n,
      intervals: 96,
      intervalSeconds: 900n,
    });
    app = await buildApp({
      db,
      chain: c.chain,
      deployment: c.deployment,
      now: () => clock,
      live: hub,
      validateResponses: true,
      indexerStatus: async () => ({ indexedBlock: 1n, headBlock: 1n }),
      siweDomain: "peergrid.test",
      siweUri: "https://peergrid.test",
      sessionSeconds: 3600n,
      roleCacheSeconds: 0n,
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  const household = (i: number) => c.community.households[i]?.account as PrivateKeyAccount;
  const signin = (body: { message: string; signature: string }) =>
    app.inject({ method: "POST", url: "/api/auth/signin", payload: body });

  describe("Sign-In with Ethereum", () => {
    it("signs a household in with its roles, and out again", async () => {
      const response = await signin(await signedSiwe(app, household(0), at()));
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({
        address: household(0).address.toLowerCase(),
        roles: ["household"],
        expiresAt: String(clock + 3600n),
      });
      const me = await app.inject({ method: "GET", url: "/api/auth/me", headers: bearer(body.token) });
      expect(me.json()).toEqual({ address: household(0).address.toLowerCase(), roles: ["household"] });
      const operator = (await signin(await signedSiwe(app, c.community.operator, at()))).json();
      expect(operator.roles).toEqual(["operator"]);
      expect((await signin(await signedSiwe(app, c.community.grid, at()))).json().roles).toEqual(["gridOperator"]);
      expect((await app.inject({ method: "POST", url: "/api/auth/signout", headers: bearer(body.token) })).statusCode).toBe(204);
      const after = await app.inject({ method: "GET", url: "/api/auth/me", headers: bearer(body.token) });
      expect(after.statusCode).toBe(401);
      expect(after.json().error.code).toBe("session_invalid");
    });

    it("ends sessions when they expire on the injected clock", async () => {
      const token = await signIn(app, household(1), at());
      clock += 3599n;
      expect((await app.inject({ method: "GET", url: "/api/auth/me", headers: bearer(token) })).statusCode).toBe(200);
      clock += 1n;
      expect((await app.inject({ method: "GET", url: "/api/auth/me", headers: bearer(token) })).statusCode).toBe(401);
    });

    const refusals: [string, (account: PrivateKeyAccount) => Promise<{ message: string; signature: string }>, number, string][] =
      [
        ["a wrong domain", (a) => signedSiwe(app, a, at(), { domain: "evil.example" }), 401, "siwe_bad_domain"],
        ["a wrong URI", (a) => signedSiwe(app, a, at(), { uri: "https://evil.example" }), 401, "siwe_bad_uri"],
        ["a wrong chain id", (a) => signedSiwe(app, a, at(), { chainId: 1 }), 401, "siwe_bad_chain"],
        [
          "an expired message",
          (a) => signedSiwe(app, a, at(), { expirationTime: new Date(Number(clock - 1n) * 1000) }),
          401,
          "siwe_expired",
        ],
        [
          "a message not valid yet",
          (a) => signedSiwe(app, a, at(), { notBefore: new Date(Number(clock + 600n) * 1000) }),
          401,
          "siwe_not_yet_valid",
        ],
        [
          "an issued-at in the future",
          (a) => signedSiwe(app, a, new Date(Number(clock + 3600n) * 1000)),
          401,
          "siwe_issued_in_future",
        ],
        [
          "a nonce the server never issued",
          (a) => signedSiwe(app, a, at(), { nonce: "neverIssued12345" }),
          401,
          "siwe_nonce_unknown",
        ],
        [
          "a message signed by another wallet",
          async (a) => {
            const { message } = await signedSiwe(app, a, at());
            return { message, signature: await household(3).signMessage({ message }) };
          },
          401,
          "siwe_bad_signature",
        ],
        [
          "a garbage signature",
          async (a) => ({ ...(await signedSiwe(app, a, at())), signature: "0x1234" }),
          401,
          "siwe_bad_signature",
        ],
        ["something that is not EIP-4361", async () => ({ message: "hello", signature: "0x1234" }), 400, "siwe_malformed"],
      ];
    it.each(refusals)("refuses %s", async (_name, make, status, code) => {
      const response = await signin(await make(household(2)));
      expect(response.statusCode).toBe(status);
      expect(response.json().error.code).toBe(code);
    });

    it("refuses a replayed message and an expired nonce", async () => {
      const body = await signedSiwe(app, household(2), at());
      expect((await signin(body)).statusCode).toBe(200);
      const replay = await signin(body);
      expect(replay.statusCode).toBe(401);
      expect(replay.json().error.code).toBe("siwe_nonce_used");
      const late = await signedSiwe(app, household(2), at());
      clock += 601n;
      const expired = await signin(late);
      expect(expired.json().error.code).toBe("siwe_nonce_expired");
    });

    it("refuses a missing or malformed bearer token", async () => {
      expect((await app.inject({ method: "GET", url: "/api/auth/me" })).json().error.code).toBe("auth_required");
      const malformed = await app.inject({ method: "GET", url: "/api/auth/me", headers: { authorization: "Basic abc" } });
      expect(malformed.json().error.code).toBe("auth_malformed");
    });
  });

  describe("the permission matrix", () => {
    const tokens: Record<string, string | undefined> = {};
    const roles = ["anonymous", "A", "B", "operator", "grid"] as const;
    beforeAll(async () => {
      tokens.A = await signIn(app, household(0), at());
      tokens.B = await signIn(app, household(1), at());
      tokens.operator = await signIn(app, c.community.operator, at());
      tokens.grid = await signIn(app, c.community.grid, at());
    });
    // Writes get a body that is not a transaction: once the caller may use the endpoint, the answer is
    // 400 tx_malformed; before that 401 or 403. Nothing reaches the chain.
    const junk = { signedTransaction: "0x00" };
    // Expected status per role, in the order of `roles`.
    const matrix: [string, string, string, [number, number, number, number, number]][] = [
      ["read", "GET", "/api/intervals", [200, 200, 200, 200, 200]],
      ["read", "GET", "/api/auth/me", [401, 200, 200, 200, 200]],
      ["read", "GET", "/api/accounts/:A", [401, 200, 403, 200, 403]],
      ["read", "GET", "/api/accounts/:A/trades", [401, 200, 403, 200, 403]],
      ["read", "GET", "/api/accounts/:A/funds", [401, 200, 403, 200, 403]],
      ["read", "GET", "/api/accounts/:A/statements?month=2026-06", [401, 200, 403, 200, 403]],
      ["read", "GET", "/api/accounts/:A/statements.csv?month=2026-06", [401, 200, 403, 200, 403]],
      ["read", "GET", "/api/accounts/:B", [401, 403, 200, 200, 403]],
      ["read", "GET", "/api/agreements", [401, 200, 200, 200, 200]],
      ["read", "GET", "/api/agreements?account=:B", [401, 403, 200, 200, 403]],
      ["read", "GET", "/api/export/trades.csv", [401, 403, 403, 200, 403]],
      ["write", "POST", "/api/participants", [401, 403, 403, 400, 403]],
      ["write", "POST", "/api/participants/:B/deactivate", [401, 403, 403, 400, 403]],
      ["write", "POST", "/api/participants/:B/activate", [401, 403, 403, 400, 403]],
      ["write", "POST", "/api/meters", [401, 403, 403, 400, 403]],
      ["write", "POST", "/api/meters/1/deactivate", [401, 403, 403, 400, 403]],
      ["write", "POST", "/api/meters/1/reactivate", [401, 403, 403, 400, 403]],
      ["write", "PUT", "/api/accounts/:A/standing-order", [401, 400, 403, 403, 403]],
      ["write", "POST", "/api/accounts/:A/withdraw", [401, 400, 403, 403, 403]],
      ["write", "POST", "/api/accounts/:A/approve", [401, 400, 403, 403, 403]],
      ["write", "POST", "/api/accounts/:A/deposit", [401, 400, 400, 400, 400]],
      ["write", "POST", "/api/agreements", [401, 400, 400, 403, 403]],
      ["write", "POST", "/api/agreements/1/accept", [401, 400, 400, 400, 400]],
      ["write", "PUT", "/api/tariffs", [401, 403, 403, 403, 400]],
      ["write", "PUT", "/api/zones/1/limits", [401, 403, 403, 403, 400]],
    ];
    const cases = matrix.flatMap(([kind, method, path, expected]) =>
      roles.map((role, i) => ({ kind, method, path, role, expected: expected[i] as number })),
    );
    const codes: Record<number, string> = { 400: "tx_malformed", 401: "auth_required", 403: "forbidden" };
    it.each(cases)("$role: $method $path → $expected", async ({ kind, method, path, role, expected }) => {
      const url = path.replace(":A", household(0).address).replace(":B", household(1).address);
      const response = await app.inject({
        method: method as "GET",
        url,
        headers: bearer(tokens[role]),
        ...(kind === "write" ? { payload: junk } : {}),
      });
      expect(response.statusCode).toBe(expected);
      if (codes[expected]) expect(response.json().error.code).toBe(codes[expected]);
    });
  });

  describe("relayed writes", () => {
    let tokenA: string;
    let tokenOperator: string;
    let tokenGrid: string;
    beforeAll(async () => {
      tokenA = await signIn(app, household(0), at());
      tokenOperator = await signIn(app, c.community.operator, at());
      tokenGrid = await signIn(app, c.community.grid, at());
    });
    const send = (method: "POST" | "PUT", url: string, token: string, signedTransaction: Hex) =>
      app.inject({ method, url, headers: bearer(token), payload: { signedTransaction } });

    it("relays a household's own standing order, which lands on chain", async () => {
      const a = household(0);
      const order = { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 300_000n, maxBuyWh: 1_234n };
      const raw = await signedCall(a, c.deployment.market, energyMarketAbi, "setStandingOrder", [order]);
      const response = await send("PUT", `/api/accounts/${a.address}/standing-order`, tokenA, raw);
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.status).toBe("success");
      const receipt = await c.chain.public.getTransactionReceipt({ hash: body.hash });
      expect(receipt.blockNumber.toString()).toBe(body.blockNumber);
      const [stored] = await readAccounts(c.chain, c.deployment, [a.address]);
      expect(stored?.order).toEqual(order);
    });

    it("relays concurrent writes of several households, each into a block", async () => {
      const order = (maxBuyWh: bigint) => ({ askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 300_000n, maxBuyWh });
      const writers = [2, 3].map((i) => ({ account: household(i), order: order(1_000n + BigInt(i)) }));
      const tokens = await Promise.all(writers.map((w) => signIn(app, w.account, at())));
      const raws = await Promise.all(
        writers.map((w) => signedCall(w.account, c.deployment.market, energyMarketAbi, "setStandingOrder", [w.order])),
      );
      const responses = await Promise.all(
        writers.map((w, i) =>
          send("PUT", `/api/accounts/${w.account.address}/standing-order`, tokens[i] as string, raws[i] as Hex),
        ),
      );
      expect(responses.map((r) => r.statusCode)).toEqual([200, 200]);
      const stored = await readAccounts(
        c.chain,
        c.deployment,
        writers.map((w) => w.account.address),
      );
      expect(stored.map((s) => s.order)).toEqual(writers.map((w) => w.order));
    });

    it("relays an operator's onboarding of a new participant", async () => {
      const newcomer = privateKeyToAccount(generatePrivateKey());
      const raw = await signedCall(c.community.operator, c.deployment.registry, communityRegistryAbi, "registerParticipant", [
        newcomer.address,
        2,
      ]);
      const response = await send("POST", "/api/participants", tokenOperator, raw);
      expect(response.statusCode).toBe(200);
      const p = await c.chain.public.readContract({
        address: c.deployment.registry,
        abi: communityRegistryAbi,
        functionName: "participant",
        args: [newcomer.address],
      });
      expect(p).toMatchObject({ registered: true, active: true, zone: 2 });
    });

    it("relays a grid operator's zone limits and tariffs", async () => {
      const limits = { importCapWh: 10_000n, exportCapWh: 20_000n, feeMicroPerKwh: 5_000 };
      const raw = await signedCall(c.community.grid, c.deployment.market, energyMarketAbi, "setZoneLimits", [2, limits]);
      expect((await send("PUT", "/api/zones/2/limits", tokenGrid, raw)).statusCode).toBe(200);
      const stored = await c.chain.public.readContract({
        address: c.deployment.market,
        abi: energyMarketAbi,
        functionName: "zoneLimitsOf",
        args: [2],
      });
      expect(stored).toEqual(limits);
      const tariffs = { feedInMicroPerKwh: 81_000n, retailMicroPerKwh: 321_000n };
      const rawTariffs = await signedCall(c.community.grid, c.deployment.market, energyMarketAbi, "setTariffs", [tariffs]);
      const tariffsSet = await send("PUT", "/api/tariffs", tokenGrid, rawTariffs);
      expect([tariffsSet.statusCode, tariffsSet.body]).toEqual([200, expect.any(String)]);
      expect(await readTariffs(c.chain, c.deployment)).toEqual(tariffs);
    });

    it("refuses transactions that are not the endpoint's call, not the caller's, or not for the path", async () => {
      const op = c.community.operator;
      const a = household(0);
      const b = household(1);
      const deactivateA = await signedCall(op, c.deployment.registry, communityRegistryAbi, "setParticipantActive", [
        a.address,
        false,
      ]);
      const cases: [string, Promise<Hex>, string, string, number, string][] = [
        ["another function", Promise.resolve(deactivateA), "POST", "/api/participants", 400, "tx_wrong_function"],
        [
          "another contract",
          signedCall(op, c.deployment.market, energyMarketAbi, "setTariffs", [{ feedInMicroPerKwh: 1n, retailMicroPerKwh: 2n }]),
          "POST",
          "/api/participants",
          400,
          "tx_wrong_contract",
        ],
        [
          "another account than the path's",
          Promise.resolve(deactivateA),
          "POST",
          `/api/participants/${b.address}/deactivate`,
          400,
          "tx_args_mismatch",
        ],
        [
          "the opposite action",
          Promise.resolve(deactivateA),
          "POST",
          `/api/participants/${a.address}/activate`,
          400,
          "tx_args_mismatch",
        ],
      ];
      for (const [name, raw, method, url, status, code] of cases) {
        const response = await send(method as "POST", url, tokenOperator, await raw);
        expect([name, response.statusCode, response.json().error.code]).toEqual([name, status, code]);
      }
      // Signed by B, sent with A's session to A's own endpoint.
      const order = { askMicroPerKwh: 0n, maxSellWh: 0n, bidMicroPerKwh: 300_000n, maxBuyWh: 1_000n };
      const byB = await signedCall(b, c.deployment.market, energyMarketAbi, "setStandingOrder", [order]);
      const wrongSigner = await send("PUT", `/api/accounts/${a.address}/standing-order`, tokenA, byB);
      expect([wrongSigner.statusCode, wrongSigner.json().error.code]).toEqual([403, "tx_wrong_signer"]);
      // Signed for another chain.
      const foreign = await a.signTransaction({
        type: "legacy",
        chainId: 1,
        nonce: 0,
        gas: 100_000n,
        gasPrice: 1n,
        to: c.deployment.market,
        data: encodeFunctionData({ abi: energyMarketAbi, functionName: "setStandingOrder", args: [order] }),
      });
      const wrongChain = await send("PUT", `/api/accounts/${a.address}/standing-order`, tokenA, foreign);
      expect(wrongChain.json().error.code).toBe("tx_wrong_chain");
      // A stays active: nothing above reached the chain.
      const p = await c.chain.public.readContract({
        address: c.deployment.registry,
        abi: communityRegistryAbi,
        functionName: "participant",
        args: [a.address],
      });
      expect(p.active).toBe(true);
    });

    it("answers the contract's own refusal as JSON, and the contract refuses what the server refuses", async () => {
      const a = household(0);
      const again = await signedCall(c.community.operator, c.deployment.registry, communityRegistryAbi, "registerParticipant", [
        a.address,
        1,
      ]);
      const response = await send("POST", "/api/participants", tokenOperator, again);
      expect(response.statusCode).toBe(422);
      expect(response.json().error).toMatchObject({
        code: "contract_refused",
        details: { errorName: "ParticipantAlreadyRegistered", args: { account: a.address }, action: "registerParticipant" },
      });
      const tooMuch = await signedCall(a, c.deployment.market, energyMarketAbi, "withdraw", [10n ** 30n]);
      const withdraw = await send("POST", `/api/accounts/${a.address}/withdraw`, tokenA, tooMuch);
      expect(withdraw.statusCode).toBe(422);
      expect(withdraw.json().error.details.errorName).toMatch(/Insufficient|InvalidAmount/);
      // The server refuses an operator's zone limits (403 in the matrix); so would the contract.
      const simulated = await c.chain.public
        .simulateContract({
          account: c.community.operator,
          address: c.deployment.market,
          abi: energyMarketAbi,
          functionName: "setZoneLimits",
          args: [1, { importCapWh: 1n, exportCapWh: 1n, feeMicroPerKwh: 0 }],
        })
        .then(
          () => "accepted",
          (e: Error) => e.message,
        );
      expect(simulated).toContain("AccessControlUnauthorizedAccount");
    });
  });
});
