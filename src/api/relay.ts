import {
  type Abi,
  type Address,
  decodeFunctionData,
  type Hex,
  parseTransaction,
  recoverTransactionAddress,
  type TransactionReceipt,
} from "viem";
import type { ChainClient } from "../chain/chainClient.ts";
import { ContractRevertError, toPeerGridError } from "../chain/errors.ts";
import { ApiError } from "./errors.ts";

/** What a write endpoint accepts: a call of `functionName` on `contract`, with `check` on its decoded arguments. */
export type WriteSpec = {
  contract: Address;
  abi: Abi;
  functionName: string;
  /** Throws an ApiError when the call's arguments do not match the request (e.g. the path's id). */
  check?: (args: readonly unknown[]) => void;
};

export type RelayResult = { hash: Hex; status: "success"; blockNumber: bigint };

const bad = (code: string, message: string, details?: unknown) =>
  new ApiError(400, code, message, details === undefined ? {} : { details });

/** JSON-safe form of decoded contract arguments. */
export function jsonArgs(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(jsonArgs);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonArgs(v)]));
  return value;
}

/** A contract's refusal as API error: 422 `contract_refused` with the decoded error name and arguments. */
export function contractRefusal(error: ContractRevertError): ApiError {
  return new ApiError(422, "contract_refused", error.message.split("\n")[0] ?? error.message, {
    details: { errorName: error.errorName, args: jsonArgs(error.args), action: error.action },
    ...(error.hint ? { hint: error.hint } : {}),
  });
}

/**
 * Checks a raw signed transaction against the endpoint and the session, then relays it: the signer
 * must be `signer` (the signed-in wallet), the chain this one, the target `spec.contract`, the call
 * `spec.functionName` with arguments `spec.check` accepts, and no value. The call is simulated first,
 * so a transaction the contract would refuse answers 422 with the decoded error and is never sent.
 * On the embedded chain (which mines on demand) a block is mined and journalled to include it; on an
 * external node the receipt is awaited.
 */
export async function relaySignedTransaction(
  chain: ChainClient,
  signer: Address,
  raw: Hex,
  spec: WriteSpec,
): Promise<RelayResult> {
  let tx: ReturnType<typeof parseTransaction>;
  let from: Address;
  try {
    tx = parseTransaction(raw);
    from = await recoverTransactionAddress({ serializedTransaction: raw as never });
  } catch (error) {
    throw bad("tx_malformed", "signedTransaction is not a signed transaction", (error as Error).message.split("\n")[0]);
  }
  if (from.toLowerCase() !== signer.toLowerCase()) {
    throw new ApiError(403, "tx_wrong_signer", `the transaction is signed by ${from}, but you are signed in as ${signer}`);
  }
  if (tx.chainId !== undefined && tx.chainId !== chain.chainId) {
    throw bad("tx_wrong_chain", `the transaction is for chain ${tx.chainId}, this community runs on chain ${chain.chainId}`);
  }
  if (tx.chainId === undefined)
    throw bad("tx_wrong_chain", "the transaction has no chain id (EIP-155 replay protection required)");
  if (!tx.to || tx.to.toLowerCase() !== spec.contract.toLowerCase()) {
    throw bad(
      "tx_wrong_contract",
      `this endpoint relays calls to ${spec.contract}, the transaction goes to ${tx.to ?? "nobody"}`,
    );
  }
  if ((tx.value ?? 0n) !== 0n) throw bad("tx_has_value", "the transaction must not send ether");
  let call: { functionName: string; args: readonly unknown[] | undefined };
  try {
    call = decodeFunctionData({ abi: spec.abi, data: tx.data ?? "0x" }) as typeof call;
  } catch {
    throw bad(
      "tx_wrong_function",
      `this endpoint relays ${spec.functionName}; the transaction's call data is not a known function`,
    );
  }
  if (call.functionName !== spec.functionName) {
    throw bad("tx_wrong_function", `this endpoint relays ${spec.functionName}, the transaction calls ${call.functionName}`);
  }
  spec.check?.(call.args ?? []);

  let receipt: TransactionReceipt;
  try {
    // Simulated first (a refusal is decoded and nothing is sent), then sent and mined.
    receipt = await chain.sendRaw(raw, spec.abi, spec.functionName);
  } catch (error) {
    throw relayError(error, spec);
  }
  const hash = receipt.transactionHash;
  if (receipt.status !== "success") {
    throw new ApiError(409, "tx_reverted", `${spec.functionName} reverted in block ${receipt.blockNumber}`, {
      details: { hash, blockNumber: receipt.blockNumber.toString() },
      hint: "the chain changed between the check and inclusion; sign again",
    });
  }
  return { hash, status: "success", blockNumber: receipt.blockNumber };
}

function relayError(error: unknown, spec: WriteSpec): ApiError {
  const decoded = toPeerGridError(error, spec.abi, spec.functionName);
  if (decoded instanceof ContractRevertError) return contractRefusal(decoded);
  return new ApiError(409, "tx_rejected", `the node refused the transaction: ${decoded.message.split("\n")[0]}`, {
    hint: "check the nonce, gas and gas price, then sign again",
  });
}
