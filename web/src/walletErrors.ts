// How an injected EIP-1193 wallet said no. Wallets throw plain objects, Errors, or Errors with a `code`;
// the codes are EIP-1193's (4001 rejected by the user, 4100 unauthorized, 4200 unsupported method,
// 4902 unknown chain) and JSON-RPC's (-32601 method not found).

/** An EIP-1193 error's code (when it has one) and message. */
export function walletError(error: unknown): { code: number | undefined; message: string } {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  return {
    code: typeof e.code === "number" ? e.code : undefined,
    message: typeof e.message === "string" ? e.message : String(error),
  };
}

/**
 * Whether the person said no (4001): not a reason to try another way.
 * @example rejectedByUser({ code: 4001, message: "User rejected the request." }) // true
 */
export const rejectedByUser = (error: unknown): boolean => walletError(error).code === 4001;

/**
 * Whether the wallet refused a method as one it does not offer (4200 unsupported, 4100 unauthorized,
 * -32601 / -32004 method not found or not supported, or a message saying so), rather than failing to do it.
 * @example refusesMethod({ code: 4200, message: "The requested method is not supported" }) // true
 */
export function refusesMethod(error: unknown): boolean {
  const { code, message } = walletError(error);
  if (code === 4001) return false;
  if (code === 4200 || code === 4100 || code === -32601 || code === -32004) return true;
  return /not supported|unsupported|does not exist|not available|not implemented|unknown method|method not found/i.test(message);
}

/**
 * Whether a wallet_switchEthereumChain failed because the wallet does not know the chain (4902, or a
 * wallet that says so in words): the chain must be added first.
 * @example unknownChain({ code: 4902, message: "Unrecognized chain ID" }) // true
 */
export function unknownChain(error: unknown): boolean {
  const { code, message } = walletError(error);
  return code === 4902 || /unrecognized chain|not been added|unknown chain/i.test(message);
}
