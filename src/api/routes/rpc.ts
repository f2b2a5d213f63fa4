import type { FastifyError, FastifyReply } from "fastify";
import { type Abi, type Address, type Hex, keccak256, parseTransaction, recoverTransactionAddress } from "viem";
import type { ChainClient } from "../../chain/chainClient.ts";
import type { Deployment } from "../../chain/deploy.ts";
import {
  bilateralAgreementsAbi,
  communityCreditAbi,
  communityRegistryAbi,
  energyMarketAbi,
  energyTokenAbi,
} from "../../chain/generated/contracts.ts";
import type { ApiContext, ZodApp } from "../context.ts";

/** What a wallet needs to show balances, estimate, send and follow its transactions; nothing else is forwarded. */
export const RPC_METHODS: ReadonlySet<string> = new Set([
  "eth_chainId",
  "net_version",
  "eth_blockNumber",
  "eth_getBalance",
  "eth_getTransactionCount",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_feeHistory",
  "eth_estimateGas",
  "eth_call",
  "eth_getCode",
  "eth_getBlockByNumber",
  "eth_getTransactionByHash",
  "eth_getTransactionReceipt",
  "eth_sendRawTransaction",
]);

/** Requests in one JSON-RPC batch. */
export const RPC_MAX_BATCH = 50;
/** The largest request body, in bytes (a PeerGrid transaction is well under 10 kB). */
export const RPC_BODY_LIMIT = 128 * 1024;

type RpcId = string | number | null;
type RpcError = { code: number; message: string; data?: unknown };
type RpcAnswer = { jsonrpc: "2.0"; id: RpcId } & ({ result: unknown } | { error: RpcError });

const answer = (id: RpcId, result: unknown): RpcAnswer => ({ jsonrpc: "2.0", id, result });
const failure = (id: RpcId, error: RpcError): RpcAnswer => ({ jsonrpc: "2.0", id, error });

/** The node's own JSON-RPC error from a viem error (its cause chain ends in the node's `{ code, message, data }`). */
function nodeError(error: unknown): RpcError {
  let rpcCode: number | undefined;
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 10; depth++) {
    const o = e as { code?: unknown; message?: unknown; data?: unknown; cause?: unknown; shortMessage?: unknown };
    if (!(e instanceof Error) && typeof o.code === "number" && typeof o.message === "string") {
      return { code: o.code, message: o.message, ...(o.data !== undefined ? { data: o.data } : {}) };
    }
    if (rpcCode === undefined && typeof o.code === "number") rpcCode = o.code;
    e = o.cause;
  }
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return { code: rpcCode ?? -32603, message: `the community's node did not answer: ${message}` };
}

/**
 * Relays a raw transaction a wallet signed, to one of the community's contracts only. It is executed first
 * (a refusal comes back as the node's revert, with its data, and nothing is sent). On the embedded chain,
 * which mines on demand, it is mined and journalled like the API's relayed writes; an external node gets
 * it as it is. Answers the transaction's hash.
 */
async function sendRawTransaction(
  chain: ChainClient,
  deployment: Deployment,
  params: unknown,
): Promise<RpcError | { hash: Hex }> {
  const raw = Array.isArray(params) ? params[0] : undefined;
  if (typeof raw !== "string" || !/^0x[0-9a-fA-F]+$/.test(raw)) {
    return { code: -32602, message: "eth_sendRawTransaction takes one parameter: the signed transaction as 0x-hex" };
  }
  let tx: ReturnType<typeof parseTransaction>;
  let from: Address;
  try {
    tx = parseTransaction(raw as Hex);
    from = await recoverTransactionAddress({ serializedTransaction: raw as never });
  } catch (error) {
    return { code: -32602, message: `not a signed transaction: ${(error as Error).message.split("\n")[0]}` };
  }
  if (tx.chainId !== chain.chainId) {
    return {
      code: -32000,
      message: `the transaction is for chain ${tx.chainId ?? "none (no EIP-155 replay protection)"}, this community runs on chain ${chain.chainId}`,
    };
  }
  const abis: Record<string, Abi> = {
    [deployment.registry.toLowerCase()]: communityRegistryAbi,
    [deployment.market.toLowerCase()]: energyMarketAbi,
    [deployment.agreements.toLowerCase()]: bilateralAgreementsAbi,
    [deployment.settlementToken.toLowerCase()]: communityCreditAbi,
    [deployment.energyToken.toLowerCase()]: energyTokenAbi,
  };
  const abi = tx.to ? abis[tx.to.toLowerCase()] : undefined;
  if (!tx.to || !abi) {
    return {
      code: -32000,
      message: `this endpoint relays transactions to the community's contracts only (registry, market, agreements, settlement token, energy token); this one goes to ${tx.to ?? "a new contract"}`,
    };
  }
  const call = { from, to: tx.to, data: tx.data ?? "0x", value: `0x${(tx.value ?? 0n).toString(16)}` };
  try {
    await chain.public.request({ method: "eth_call", params: [call, "latest"] } as never);
  } catch (error) {
    return nodeError(error);
  }
  try {
    if (chain.embedded) return { hash: (await chain.sendRaw(raw as Hex, abi, "the wallet's transaction")).transactionHash };
    await chain.public.request({ method: "eth_sendRawTransaction", params: [raw] } as never);
    return { hash: keccak256(raw as Hex) };
  } catch (error) {
    const relayed = nodeError(error);
    return error instanceof Error && relayed.code === -32603
      ? { code: -32000, message: error.message.split("\n")[0] ?? "the node refused the transaction" }
      : relayed;
  }
}

/** One JSON-RPC request answered: forwarded to the node when its method is allowed, refused with -32601 when not. */
async function answerOne(chain: ChainClient, deployment: Deployment, request: unknown): Promise<RpcAnswer> {
  const r = (request && typeof request === "object" && !Array.isArray(request) ? request : {}) as Record<string, unknown>;
  const id: RpcId = typeof r.id === "string" || typeof r.id === "number" ? r.id : null;
  if (r.jsonrpc !== "2.0" || typeof r.method !== "string" || (r.params !== undefined && !Array.isArray(r.params))) {
    return failure(id, {
      code: -32600,
      message: 'not a JSON-RPC 2.0 request: expected { "jsonrpc": "2.0", "id": …, "method": "…", "params": [ … ] }',
    });
  }
  if (!RPC_METHODS.has(r.method)) {
    return failure(id, {
      code: -32601,
      message: `${r.method} is not available here: this endpoint forwards only what a wallet needs (${[...RPC_METHODS].join(", ")})`,
    });
  }
  const params = (r.params as unknown[] | undefined) ?? [];
  if (r.method === "eth_sendRawTransaction") {
    const sent = await sendRawTransaction(chain, deployment, params);
    return "hash" in sent ? answer(id, sent.hash) : failure(id, sent);
  }
  try {
    return answer(id, await chain.public.request({ method: r.method, params } as never));
  } catch (error) {
    return failure(id, nodeError(error));
  }
}

const badRequest = (reply: FastifyReply, status: number, code: number, message: string) =>
  reply.status(status).send(failure(null, { code, message }));

/**
 * The community's chain for browser wallets (`POST /rpc`): a restricted JSON-RPC endpoint that forwards
 * the read methods a wallet needs and `eth_sendRawTransaction` (to the community's contracts only) to the
 * server's node; wallets that only send transactions themselves (most extensions) are pointed at it with
 * `wallet_addEthereumChain`. Any other method answers JSON-RPC error -32601. A body that is not JSON-RPC
 * answers HTTP 400 with a JSON-RPC error (-32700 not JSON, -32600 not a request or batch).
 */
export function registerRpcRoutes(app: ZodApp, ctx: ApiContext) {
  const { chain, deployment } = ctx.deps;
  app.route({
    method: "POST",
    url: "/rpc",
    bodyLimit: RPC_BODY_LIMIT,
    schema: {
      tags: ["chain"],
      summary: "The community's chain for browser wallets: a JSON-RPC 2.0 endpoint restricted to what a wallet needs",
      description:
        `Forwards ${[...RPC_METHODS].join(", ")} (single requests or batches of at most ${RPC_MAX_BATCH}) to the server's node. ` +
        "eth_sendRawTransaction takes only transactions to the community's contracts, for this chain; it executes them first " +
        "(a refusal answers the node's revert error with its data) and mines them on the embedded chain. Other methods answer " +
        "error -32601. Not JSON: HTTP 400 with error -32700; not a request or batch: HTTP 400 with -32600.",
    },
    errorHandler: (error: FastifyError, _request, reply) => {
      const status = error.statusCode ?? 500;
      if (status === 413) return badRequest(reply, 413, -32600, `the request is larger than ${RPC_BODY_LIMIT} bytes`);
      if (status >= 400 && status < 500) return badRequest(reply, status, -32700, `not JSON: ${error.message}`);
      throw error;
    },
    handler: async (request, reply) => {
      const body = request.body as unknown;
      if (Array.isArray(body)) {
        if (body.length === 0 || body.length > RPC_MAX_BATCH) {
          return badRequest(reply, 400, -32600, `a batch holds 1 to ${RPC_MAX_BATCH} requests; this one holds ${body.length}`);
        }
        // In order: a batch's transactions go to the node one after another, as the wallet numbered them.
        const answers: RpcAnswer[] = [];
        for (const one of body) answers.push(await answerOne(chain, deployment, one));
        return reply.send(answers);
      }
      if (!body || typeof body !== "object") {
        return badRequest(reply, 400, -32600, "the body must be a JSON-RPC 2.0 request object or a batch (array) of them");
      }
      const one = await answerOne(chain, deployment, body);
      if ("error" in one && one.error.code === -32600) return reply.status(400).send(one);
      return reply.send(one);
    },
  });
}
