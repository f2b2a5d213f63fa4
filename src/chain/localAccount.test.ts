import fc from "fast-check";
import { bytesToHex, parseTransaction, recoverTransactionAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { localAccount } from "./localAccount.ts";

const key = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((b) => b.some((x) => x !== 0) && b[0] !== 0xff)
  .map((b) => bytesToHex(b));
const data = fc.uint8Array({ maxLength: 2_000 }).map((b) => bytesToHex(b));

describe("localAccount", () => {
  it("signs legacy and EIP-1559 transactions exactly as viem does", async () => {
    await fc.assert(
      fc.asyncProperty(
        key,
        data,
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.boolean(),
        async (privateKey, input, nonce, legacy) => {
          const tx = legacy
            ? {
                type: "legacy" as const,
                chainId: 31337,
                nonce,
                gas: 500_000n,
                gasPrice: 1_000_000_000n,
                to: privateKeyToAccount(privateKey).address,
                data: input,
                value: 0n,
              }
            : {
                type: "eip1559" as const,
                chainId: 1,
                nonce,
                gas: 21_000n,
                maxFeePerGas: 3n,
                maxPriorityFeePerGas: 1n,
                to: null,
                data: input,
                value: 7n,
              };
          const ours = await localAccount(privateKey).signTransaction(tx);
          expect(ours).toBe(await privateKeyToAccount(privateKey).signTransaction(tx));
          expect(await recoverTransactionAddress({ serializedTransaction: ours as never })).toBe(
            localAccount(privateKey).address,
          );
          expect(parseTransaction(ours).nonce).toBe(nonce);
        },
      ),
      { numRuns: 50 },
    );
  });
});
