import { generatePrivateKey } from "viem/accounts";
import { afterAll, describe, expect, it } from "vitest";
import { meterKey, type SignedReading, signReading } from "../metering/reading.ts";
import { verifyInThread } from "./gateway.ts";
import { createVerifierPool } from "./verifierPool.ts";

describe("verifier pool (worker threads)", () => {
  const pool = createVerifierPool(2);
  afterAll(() => pool.close());
  const domain = { chainId: 31337, verifyingContract: "0x00000000000000000000000000000000000000aa" } as const;
  const keys = Array.from({ length: 10 }, () => meterKey(generatePrivateKey()));
  const readings: SignedReading[] = Array.from({ length: 301 }, (_, i) => {
    const signed = signReading(keys[i % keys.length] as ReturnType<typeof meterKey>, domain, {
      interval: BigInt(i),
      exportWh: 2n ** 64n - 1n - BigInt(i),
      importWh: 7n,
    });
    // Every seventh is forged: its value changed after signing.
    return i % 7 === 3 ? { ...signed, importWh: 8n } : signed;
  });

  it("answers exactly as verification in the calling thread, in order, for large and small batches", async () => {
    const expected = readings.map((_, i) => i % 7 !== 3);
    expect(verifyInThread(domain, readings)).toEqual(expected);
    expect(await pool.verify(domain, readings)).toEqual(expected);
    expect(await pool.verify(domain, readings.slice(0, 5))).toEqual(expected.slice(0, 5));
    expect(await pool.verify({ ...domain, chainId: 1 }, readings)).toEqual(readings.map(() => false));
  }, 30_000);
});
