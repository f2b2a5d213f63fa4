// The browser's wallet for writes. A demo session, or an injected wallet that signs transactions, signs a
// legacy transaction (chain id, nonce and gas price from GET /api/accounts/:address/tx-params, a fixed
// generous gas limit) and hands it to one of the API's write endpoints, which checks and relays it.
//   - a demo session signs with the demo key it signed in with (the embedded demo only);
//   - an injected EIP-1193 wallet is asked for `eth_signTransaction`. Most wallets refuse it: they only
//     send transactions themselves, through an RPC of their own. Those are pointed at the community's
//     chain (the server's restricted JSON-RPC endpoint, /rpc), the call is executed there first so a
//     contract's refusal is shown without bothering the wallet, and the wallet sends it with
//     `eth_sendTransaction`; the receipt is then awaited from /rpc.
import { type Abi, decodeErrorResult, encodeFunctionData, type Hex, numberToHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  bilateralAgreementsAbi,
  communityCreditAbi,
  communityRegistryAbi,
  energyMarketAbi,
} from "../../src/chain/generated/contracts.ts";
import { ApiFailure, type Call, type Contracts, get, injectedWallet, type Session } from "./api.ts";
import { refusesMethod, rejectedByUser, unknownChain, walletError } from "./walletErrors.ts";

export { bilateralAgreementsAbi, communityCreditAbi, communityRegistryAbi, energyMarketAbi };

/** Enough for every PeerGrid write (the relay simulates first: a refused call never costs gas). */
export const GAS_LIMIT = 500_000n;

/** How long a transaction the wallet sent itself is waited for before the page gives up watching it. */
const RECEIPT_TIMEOUT_MS = 120_000;

export type TxResult = { hash: string; status: string; blockNumber: string };

let contracts: Promise<Contracts> | undefined;
/** The community's contract addresses (fetched once). */
export function contractsOnce(): Promise<Contracts> {
  contracts ??= get<Contracts>("/api/contracts").catch((error: unknown) => {
    contracts = undefined;
    throw error;
  });
  return contracts;
}

/** Whether this session can sign transactions in the browser, and if not, why. */
export function signingSupport(session: Session): { ok: true; how: string } | { ok: false; why: string } {
  if (session.demoKey) return { ok: true, how: "the demo key you signed in with" };
  if (injectedWallet())
    return {
      ok: true,
      how: "your browser wallet (eth_signTransaction), or sent by your wallet on the community's chain if it only sends transactions",
    };
  return {
    ok: false,
    why: "No key to sign with: sign in again with your browser wallet (or a demo account) to make changes.",
  };
}

type Write<A extends Abi> = {
  /** The write endpoint, e.g. `/api/accounts/0x…/standing-order`. */
  endpoint: string;
  method: "POST" | "PUT";
  contract: keyof Pick<Contracts, "registry" | "market" | "agreements" | "settlementToken">;
  abi: A;
  functionName: string;
  args: readonly unknown[];
};

const rejected = () => new ApiFailure(0, "wallet_rejected", "you rejected the request in your wallet; nothing was sent");

const cannotWrite = (error: unknown) =>
  new ApiFailure(
    0,
    "wallet_cannot_sign",
    `your wallet neither signed the transaction nor sent it (${walletError(error).message}). PeerGrid needs a wallet that ` +
      "signs transactions (eth_signTransaction) or sends them on the community's chain (eth_sendTransaction)",
  );

type RpcAnswer = { result?: unknown; error?: { code: number; message: string; data?: unknown } };

/** One request to the community's chain through the server's restricted JSON-RPC endpoint (/rpc). */
async function rpc(method: string, params: unknown[]): Promise<RpcAnswer> {
  let response: Response;
  try {
    response = await fetch("/rpc", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
  } catch {
    throw new ApiFailure(0, "network", "the server cannot be reached");
  }
  const body = (await response.json().catch(() => undefined)) as RpcAnswer | undefined;
  if (!body)
    throw new ApiFailure(
      response.status,
      "rpc_failed",
      `the community's chain did not answer ${method} (HTTP ${response.status})`,
    );
  return body;
}

/** JSON-safe decoded error arguments (bigints as decimal strings), as the API's contract_refused details carry them. */
const jsonArgs = (value: unknown): unknown =>
  typeof value === "bigint"
    ? value.toString()
    : Array.isArray(value)
      ? value.map(jsonArgs)
      : value && typeof value === "object"
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonArgs(v)]))
        : value;

/**
 * Executes the call on the community's chain as `from` without sending it: a call the contract would refuse
 * throws 422 contract_refused with the error decoded from `abi`, like the relay's answer; a chain that
 * cannot run it, 502 rpc_failed.
 */
async function dryRun(from: string, to: Hex, data: Hex, abi: Abi, functionName: string): Promise<void> {
  const { error } = await rpc("eth_call", [{ from, to, data, gas: numberToHex(GAS_LIMIT) }, "latest"]);
  if (!error) return;
  if (typeof error.data === "string" && error.data.startsWith("0x") && error.data.length >= 10) {
    try {
      const decoded = decodeErrorResult({ abi, data: error.data as Hex });
      const inputs = abi.find((x) => x.type === "error" && x.name === decoded.errorName);
      const names = inputs && "inputs" in inputs ? inputs.inputs.map((input, i) => input.name || String(i)) : [];
      const args = Object.fromEntries((decoded.args ?? []).map((v, i) => [names[i] ?? String(i), jsonArgs(v)]));
      throw new ApiFailure(422, "contract_refused", `${functionName} was refused by the contract: ${decoded.errorName}`, {
        errorName: decoded.errorName,
        args,
        action: functionName,
      });
    } catch (decodeError) {
      if (decodeError instanceof ApiFailure) throw decodeError;
    }
  }
  if (error.code === 3 || /revert/i.test(error.message)) {
    throw new ApiFailure(422, "contract_refused", `${functionName} was refused by the contract: ${error.message}`);
  }
  throw new ApiFailure(502, "rpc_failed", `the community's chain could not try ${functionName}: ${error.message}`);
}

/** Points the wallet at the community's chain: switch to it, adding it first (with /rpc) if the wallet does not know it. */
async function useCommunityChain(wallet: NonNullable<ReturnType<typeof injectedWallet>>, chainId: number): Promise<void> {
  const current = await wallet.request({ method: "eth_chainId" });
  if (Number(current) === chainId) return;
  const switchTo = () => wallet.request({ method: "wallet_switchEthereumChain", params: [{ chainId: numberToHex(chainId) }] });
  try {
    await switchTo();
  } catch (error) {
    if (!unknownChain(error)) throw error;
    await wallet.request({
      method: "wallet_addEthereumChain",
      params: [
        {
          chainId: numberToHex(chainId),
          chainName: `PeerGrid community (${window.location.host})`,
          rpcUrls: [`${window.location.origin}/rpc`],
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        },
      ],
    });
    // Most wallets switch when they add a chain; asking again costs nothing when they did.
    if (Number(await wallet.request({ method: "eth_chainId" })) !== chainId) await switchTo();
  }
}

/** The receipt of a transaction the wallet sent, from /rpc, as the relay's result (a revert is an error). */
async function receiptOf(hash: Hex, functionName: string): Promise<TxResult> {
  const deadline = Date.now() + RECEIPT_TIMEOUT_MS;
  for (let wait = 250; Date.now() < deadline; wait = Math.min(wait * 2, 2_000)) {
    const { result } = await rpc("eth_getTransactionReceipt", [hash]);
    const receipt = result as { status: Hex; blockNumber: Hex } | null | undefined;
    if (receipt) {
      const blockNumber = BigInt(receipt.blockNumber).toString();
      if (receipt.status !== "0x1") {
        throw new ApiFailure(
          409,
          "tx_reverted",
          `${functionName} reverted in block ${blockNumber}`,
          { hash, blockNumber },
          "the chain changed before inclusion; try again",
        );
      }
      return { hash, status: "success", blockNumber };
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  throw new ApiFailure(
    0,
    "tx_pending",
    `your wallet sent ${functionName} as ${hash}, but it is not in a block after ${RECEIPT_TIMEOUT_MS / 1000} s`,
    undefined,
    "it may still be included: look it up in the explorer before trying again",
  );
}

/** Whether the injected wallet of this page refused eth_signTransaction before (it is not asked again). */
let walletOnlySends = false;

/**
 * Signs `functionName(args)` on the community's `contract` with the session's key and relays it through
 * `endpoint`; a wallet that only sends transactions sends it itself on the community's chain. Resolves
 * with the mined transaction; rejects with the API's error (e.g. 422 contract_refused with the contract's
 * error name) or the wallet's.
 */
export async function signAndRelay<A extends Abi>(session: Session, call: Call, write: Write<A>): Promise<TxResult> {
  const [addresses, params] = await Promise.all([
    contractsOnce(),
    call<{ chainId: string | number; nonce: string; gasPrice: string }>(
      `/api/accounts/${session.address.toLowerCase()}/tx-params`,
    ),
  ]);
  const to = addresses[write.contract];
  const data = encodeFunctionData({ abi: write.abi as Abi, functionName: write.functionName, args: write.args as unknown[] });
  const tx = {
    type: "legacy" as const,
    chainId: Number(params.chainId),
    nonce: Number(params.nonce),
    gasPrice: BigInt(params.gasPrice),
    gas: GAS_LIMIT,
    to,
    data,
    value: 0n,
  };
  let signedTransaction: Hex;
  if (session.demoKey) {
    signedTransaction = await privateKeyToAccount(session.demoKey).signTransaction(tx);
  } else {
    const wallet = injectedWallet();
    if (!wallet) throw new ApiFailure(0, "no_wallet", "no browser wallet found (window.ethereum) to sign with");
    const sendThroughWallet = async (): Promise<TxResult> => {
      await dryRun(session.address, to, data, write.abi as Abi, write.functionName);
      let hash: Hex;
      try {
        await useCommunityChain(wallet, tx.chainId);
        hash = (await wallet.request({
          method: "eth_sendTransaction",
          params: [{ from: session.address, to, data, value: "0x0", gas: numberToHex(GAS_LIMIT) }],
        })) as Hex;
      } catch (error) {
        throw rejectedByUser(error) ? rejected() : cannotWrite(error);
      }
      return receiptOf(hash, write.functionName);
    };
    if (walletOnlySends) return sendThroughWallet();
    try {
      signedTransaction = (await wallet.request({
        method: "eth_signTransaction",
        params: [
          {
            from: session.address,
            to,
            data,
            value: "0x0",
            gas: numberToHex(GAS_LIMIT),
            gasPrice: numberToHex(tx.gasPrice),
            nonce: numberToHex(tx.nonce),
            chainId: numberToHex(tx.chainId),
            type: "0x0",
          },
        ],
      })) as Hex;
    } catch (error) {
      if (rejectedByUser(error)) throw rejected();
      if (!refusesMethod(error)) throw cannotWrite(error);
      walletOnlySends = true;
      return sendThroughWallet();
    }
  }
  return call<TxResult>(write.endpoint, { method: write.method, body: JSON.stringify({ signedTransaction }) });
}
