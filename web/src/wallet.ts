// The browser's wallet for writes: it signs a legacy transaction (chain id, nonce and gas price from
// GET /api/accounts/:address/tx-params, a fixed generous gas limit) and hands it to one of the API's write
// endpoints, which checks and relays it. The browser needs no RPC of its own.
//   - a demo session signs with the demo key it signed in with (the embedded demo only);
//   - an injected EIP-1193 wallet is asked for `eth_signTransaction` (many wallets refuse it: they only
//     send transactions themselves, which our relay cannot use; the UI says so).
import { type Abi, encodeFunctionData, type Hex, numberToHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { bilateralAgreementsAbi, communityRegistryAbi, energyMarketAbi } from "../../src/chain/generated/contracts.ts";
import { ApiFailure, type Call, type Contracts, get, injectedWallet, type Session } from "./api.ts";

export { bilateralAgreementsAbi, communityRegistryAbi, energyMarketAbi };

/** Enough for every PeerGrid write (the relay simulates first: a refused call never costs gas). */
export const GAS_LIMIT = 500_000n;

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
  if (injectedWallet()) return { ok: true, how: "your browser wallet (eth_signTransaction)" };
  return {
    ok: false,
    why: "No key to sign with: sign in again with your browser wallet (or a demo account) to make changes.",
  };
}

type Write<A extends Abi> = {
  /** The write endpoint, e.g. `/api/accounts/0x…/standing-order`. */
  endpoint: string;
  method: "POST" | "PUT";
  contract: keyof Pick<Contracts, "registry" | "market" | "agreements">;
  abi: A;
  functionName: string;
  args: readonly unknown[];
};

/**
 * Signs `functionName(args)` on the community's `contract` with the session's key and relays it through
 * `endpoint`. Resolves with the mined transaction; rejects with the API's error (e.g. 422
 * contract_refused with the contract's error name) or the wallet's.
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
      const message = error instanceof Error ? error.message : String(error);
      throw new ApiFailure(
        0,
        "wallet_cannot_sign",
        `your wallet did not sign the transaction (${message}). PeerGrid relays transactions your wallet signs ` +
          "(eth_signTransaction); wallets that only send transactions themselves are not supported yet",
      );
    }
  }
  return call<TxResult>(write.endpoint, { method: write.method, body: JSON.stringify({ signedTransaction }) });
}
