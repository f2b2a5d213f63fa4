import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { readingDigest, signReading, verifyReading } from "./reading.ts";

const domain = { chainId: 31337, verifyingContract: "0x00000000000000000000000000000000000000aa" } as const;
const meter = privateKeyToAccount(generatePrivateKey());

describe("meter readings", () => {
  it("verifies a reading signed by its meter", async () => {
    const signed = await signReading(meter, domain, { interval: 7n, exportWh: 120n, importWh: 0n });
    expect(signed.meter).toBe(meter.address);
    expect(await verifyReading(domain, signed)).toBe(true);
  });

  it("refuses a changed value, another meter, another chain and another contract", async () => {
    const signed = await signReading(meter, domain, { interval: 7n, exportWh: 120n, importWh: 0n });
    const other = privateKeyToAccount(generatePrivateKey());
    expect(await verifyReading(domain, { ...signed, exportWh: 121n })).toBe(false);
    expect(await verifyReading(domain, { ...signed, meter: other.address })).toBe(false);
    expect(await verifyReading({ ...domain, chainId: 1 }, signed)).toBe(false);
    expect(await verifyReading({ ...domain, verifyingContract: other.address }, signed)).toBe(false);
    expect(await verifyReading(domain, { ...signed, r: `0x${"00".repeat(32)}` })).toBe(false);
  });

  it("rejects values that do not fit the contract's uint64", async () => {
    await expect(signReading(meter, domain, { interval: 1n, exportWh: -1n, importWh: 0n })).rejects.toThrow(/exportWh/);
    expect(() => readingDigest(domain, { meter: meter.address, interval: 2n ** 64n, exportWh: 0n, importWh: 0n })).toThrow(
      /interval/,
    );
  });
});
