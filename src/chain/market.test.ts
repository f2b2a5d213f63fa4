import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChainClient } from "./chainClient.ts";
import { firstBlockAtOrAfter } from "./market.ts";

/** Only the two calls the search makes, over a list of block timestamps. */
function chainOf(timestamps: readonly bigint[]): { chain: ChainClient; requests: () => number } {
  let requests = 0;
  const chain = {
    public: {
      getBlockNumber: async () => BigInt(timestamps.length - 1),
      getBlock: async ({ blockNumber }: { blockNumber: bigint }) => {
        requests++;
        return { timestamp: timestamps[Number(blockNumber)] as bigint };
      },
    },
  } as unknown as ChainClient;
  return { chain, requests: () => requests };
}

describe("firstBlockAtOrAfter", () => {
  it("finds the first block at or after a time, from any low bound, or the head when there is none", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 1_600 }),
        fc.nat(),
        async (gaps, time, lowSeed) => {
          let t = 1_000n;
          const timestamps = gaps.map((gap) => (t += BigInt(gap)));
          const low = BigInt(lowSeed % timestamps.length);
          const target = BigInt(time);
          const head = BigInt(timestamps.length - 1);
          let expected = head;
          for (let b = low; b <= head; b++) {
            if ((timestamps[Number(b)] as bigint) >= target) {
              expected = b;
              break;
            }
          }
          expect(await firstBlockAtOrAfter(chainOf(timestamps).chain, target, low)).toBe(expected);
        },
      ),
    );
  });

  it("needs a few requests when the block is near the head of a long chain", async () => {
    const timestamps = Array.from({ length: 70_000 }, (_, i) => BigInt(i * 450));
    const { chain, requests } = chainOf(timestamps);
    expect(await firstBlockAtOrAfter(chain, 69_997n * 450n, 0n)).toBe(69_997n);
    expect(requests()).toBeLessThanOrEqual(5);
  });
});
