import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { decodeErrorResult, encodeFunctionData, type Hex, numberToHex, type PrivateKeyAccount } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { communityCreditAbi, energyMarketAbi } from "../../chain/generated/contracts.ts";
import { type OpenCommunity, openCommunity } from "../../cli/openCommunity.ts";
import { communityOptions } from "../../cli/options.ts";
import { indexerSchemas } from "../../indexer/schema.ts";
import { type TestDb, testStores } from "../../store/testDb.ts";
import { buildApp } from "../app.ts";
import { authSchema } from "../auth.ts";
import { createLiveHub } from "../liveHub.ts";
import { profilesSchema } from "../profiles.ts";
import { bearer, signIn } from "../testSupport.ts";
import { RPC_MAX_BATCH } from "./rpc.ts";

type RpcAnswer = { jsonrpc: string; id: unknown; result?: unknown; error?: { code: number; message: string; data?: Hex } };
type Funds = { walletMicro: string; allowanceMicro: string; escrowMicro: string; blockNumber: string };

let dir: string;
let c: OpenCommunity;
let db: TestDb;
let app: FastifyInstance;
const household = (i: number) => c.community.households[i]?.account as PrivateKeyAccount;

const rpc = (payload: unknown) =>
  app.inject({ method: "POST", url: "/rpc", headers: { "content-type": "application/json" }, payload: JSON.stringify(payload) });
const call = async (method: string, params: unknown[] = []): Promise<RpcAnswer> =>
  (await rpc({ jsonrpc: "2.0", id: 1, method, params })).json();

/** `account` signs `data` to `to` as a legacy transaction, nonce and gas price from the endpoint itself. */
async function signed(account: PrivateKeyAccount, to: Hex, data: Hex): Promise<Hex> {
  const [nonce, gasPrice] = await Promise.all([
    call("eth_getTransactionCount", [account.address, "pending"]),
    call("eth_gasPrice"),
  ]);
  return account.signTransaction({
    type: "legacy",
    chainId: c.chain.chainId,
    nonce: Number(nonce.result),
    gasPrice: BigInt(gasPrice.result as string),
    gas: 500_000n,
    to,
    data,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-api-rpc-"));
  c = await openCommunity(communityOptions({ "data-dir": dir, households: "2", start: "2026-06-15T11:00:00+02:00" }, {}), true);
  const [, open] = testStores()[0] as typeof testStores extends () => (infer T)[] ? T : never;
  db = await open([...indexerSchemas, authSchema, profilesSchema]);
  const now = await c.chain.now();
  app = await buildApp({
    db,
    chain: c.chain,
    deployment: c.deployment,
    now: () => now,
    live: createLiveHub(),
    indexerStatus: async () => ({ indexedBlock: 0n, headBlock: await c.chain.public.getBlockNumber() }),
    validateResponses: true,
    roleCacheSeconds: 0n,
  });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await db?.dispose();
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("POST /rpc, the community's chain for browser wallets", () => {
  it("is described in the OpenAPI document, as is the funds route", async () => {
    const spec = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    expect(spec.paths["/rpc"].post.summary).toContain("JSON-RPC");
    expect(spec.paths["/api/accounts/{address}/funds"].get).toBeDefined();
  });

  it("forwards an allowed method to the node and answers what the node answers", async () => {
    const chainId = await call("eth_chainId");
    expect(chainId).toEqual({ jsonrpc: "2.0", id: 1, result: numberToHex(c.chain.chainId) });
    const head = await call("eth_blockNumber");
    expect(BigInt(head.result as string)).toBe(await c.chain.public.getBlockNumber());
    const balance = await call("eth_getBalance", [household(0).address, "latest"]);
    expect(BigInt(balance.result as string)).toBe(await c.chain.public.getBalance({ address: household(0).address }));
    // A node error comes back as the node's JSON-RPC error.
    const bad = await call("eth_getBalance", ["0x1234", "latest"]);
    expect(bad.result).toBeUndefined();
    expect(typeof bad.error?.code).toBe("number");
  });

  it("refuses every other method with -32601, and nothing reaches the node", async () => {
    const before = await c.chain.public.getBlockNumber();
    for (const method of ["evm_mine", "anvil_setBalance", "eth_accounts", "eth_sendTransaction", "debug_traceTransaction"]) {
      const response = await rpc({ jsonrpc: "2.0", id: "x", method, params: [] });
      expect(response.statusCode).toBe(200);
      const body = response.json() as RpcAnswer;
      expect(body.id).toBe("x");
      expect(body.error?.code).toBe(-32601);
      expect(body.error?.message).toContain(`${method} is not available here`);
    }
    expect(await c.chain.public.getBlockNumber()).toBe(before);
  });

  it("answers a batch in order, each request on its own", async () => {
    const response = await rpc([
      { jsonrpc: "2.0", id: 1, method: "eth_chainId" },
      { jsonrpc: "2.0", id: 2, method: "anvil_mine", params: [] },
      { jsonrpc: "2.0", id: 3, method: "net_version", params: [] },
      { id: 4, method: "eth_chainId" },
    ]);
    expect(response.statusCode).toBe(200);
    const answers = response.json() as RpcAnswer[];
    expect(answers.map((a) => a.id)).toEqual([1, 2, 3, 4]);
    expect(answers[0]?.result).toBe(numberToHex(c.chain.chainId));
    expect(answers[1]?.error?.code).toBe(-32601);
    expect(answers[2]?.result).toBe(String(c.chain.chainId));
    expect(answers[3]?.error?.code).toBe(-32600);
  });

  it("answers a body that is not JSON-RPC with HTTP 400 and a JSON-RPC error", async () => {
    const notJson = await app.inject({
      method: "POST",
      url: "/rpc",
      headers: { "content-type": "application/json" },
      payload: '{"jsonrpc": "2.0", "method": ',
    });
    expect(notJson.statusCode).toBe(400);
    expect((notJson.json() as RpcAnswer).error?.code).toBe(-32700);
    for (const payload of [
      42,
      "eth_chainId",
      { method: "eth_chainId" },
      { jsonrpc: "2.0", id: 1, method: "eth_call", params: {} },
    ]) {
      const response = await rpc(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect((response.json() as RpcAnswer).error?.code).toBe(-32600);
    }
    for (const batch of [
      [],
      Array.from({ length: RPC_MAX_BATCH + 1 }, (_, id) => ({ jsonrpc: "2.0", id, method: "eth_chainId" })),
    ]) {
      const response = await rpc(batch);
      expect(response.statusCode).toBe(400);
      expect((response.json() as RpcAnswer).error?.message).toContain(`1 to ${RPC_MAX_BATCH} requests`);
    }
    const huge = await rpc({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ data: `0x${"00".repeat(200_000)}` }] });
    expect(huge.statusCode).toBe(413);
    expect((huge.json() as RpcAnswer).error?.code).toBe(-32600);
  });

  it("relays a wallet's transaction to the market and mines it; a refused one comes back as the contract's revert", async () => {
    const me = household(0);
    const fundsOf = async (): Promise<Funds> => {
      const token = await signIn(app, me, new Date(Number(await c.chain.now()) * 1000));
      const response = await app.inject({ method: "GET", url: `/api/accounts/${me.address}/funds`, headers: bearer(token) });
      expect(response.statusCode).toBe(200);
      return response.json();
    };
    const before = await fundsOf();
    expect(BigInt(before.escrowMicro)).toBeGreaterThan(1_000_000n);

    const amount = 1_000_000n;
    const raw = await signed(
      me,
      c.deployment.market,
      encodeFunctionData({ abi: energyMarketAbi, functionName: "withdraw", args: [amount] }),
    );
    const sent = await call("eth_sendRawTransaction", [raw]);
    expect(sent.error).toBeUndefined();
    const receipt = await call("eth_getTransactionReceipt", [sent.result]);
    expect((receipt.result as { status: string }).status).toBe("0x1");
    const after = await fundsOf();
    expect(BigInt(after.escrowMicro)).toBe(BigInt(before.escrowMicro) - amount);
    expect(BigInt(after.walletMicro)).toBe(BigInt(before.walletMicro) + amount);

    // More than the escrow: the node's revert, whose data names the contract's error; nothing is sent.
    const nonce = await c.chain.public.getTransactionCount({ address: me.address });
    const tooMuch = BigInt(after.escrowMicro) + 1n;
    const refused = await call("eth_sendRawTransaction", [
      await signed(
        me,
        c.deployment.market,
        encodeFunctionData({ abi: energyMarketAbi, functionName: "withdraw", args: [tooMuch] }),
      ),
    ]);
    expect(refused.result).toBeUndefined();
    const decoded = decodeErrorResult({ abi: energyMarketAbi, data: refused.error?.data as Hex });
    expect(decoded.errorName).toBe("InsufficientEscrow");
    expect(decoded.args).toEqual([me.address, tooMuch, BigInt(after.escrowMicro)]);
    expect(await c.chain.public.getTransactionCount({ address: me.address })).toBe(nonce);
    expect(await fundsOf()).toMatchObject({ escrowMicro: after.escrowMicro, walletMicro: after.walletMicro });

    // Only the community's contracts, and only this chain.
    const elsewhere = await call("eth_sendRawTransaction", [await signed(me, household(1).address, "0x")]);
    expect(elsewhere.error?.code).toBe(-32000);
    expect(elsewhere.error?.message).toContain("community's contracts only");
    const otherChain = await me.signTransaction({
      type: "legacy",
      chainId: 1,
      nonce,
      gasPrice: 1n,
      gas: 50_000n,
      to: c.deployment.market,
    });
    expect((await call("eth_sendRawTransaction", [otherChain])).error?.message).toContain(`runs on chain ${c.chain.chainId}`);
    expect((await call("eth_sendRawTransaction", ["0x1234"])).error?.code).toBe(-32602);
  });
});

describe("GET /api/accounts/:address/funds", () => {
  it("answers the wallet's tokens, the market's allowance and the escrow as the chain holds them, to the account and operators", async () => {
    const at = new Date(Number(await c.chain.now()) * 1000);
    const me = household(1);
    const [mine, other, operator] = await Promise.all([
      signIn(app, me, at),
      signIn(app, household(0), at),
      signIn(app, c.community.operator, at),
    ]);
    const url = `/api/accounts/${me.address}/funds`;
    expect((await app.inject({ method: "GET", url })).statusCode).toBe(401);
    expect((await app.inject({ method: "GET", url, headers: bearer(other) })).statusCode).toBe(403);
    const response = await app.inject({ method: "GET", url, headers: bearer(mine) });
    expect(response.statusCode).toBe(200);
    const funds = response.json() as Funds & { address: string };
    const read = (address: Hex, abi: typeof communityCreditAbi | typeof energyMarketAbi, functionName: string, args: unknown[]) =>
      c.chain.public.readContract({
        address,
        abi,
        functionName,
        args,
        blockNumber: BigInt(funds.blockNumber),
      } as never) as Promise<bigint>;
    expect(funds).toEqual({
      address: me.address.toLowerCase(),
      walletMicro: String(await read(c.deployment.settlementToken, communityCreditAbi, "balanceOf", [me.address])),
      allowanceMicro: String(
        await read(c.deployment.settlementToken, communityCreditAbi, "allowance", [me.address, c.deployment.market]),
      ),
      escrowMicro: String(await read(c.deployment.market, energyMarketAbi, "balanceOf", [me.address])),
      blockNumber: funds.blockNumber,
    });
    expect(BigInt(funds.escrowMicro)).toBeGreaterThan(0n);
    expect((await app.inject({ method: "GET", url, headers: bearer(operator) })).statusCode).toBe(200);
  });
});
