import {
  compactSignatureToSignature,
  hashTypedData,
  parseSignature,
  recoverTypedDataAddress,
  serializeSignature,
  signatureToCompactSignature,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { meterKey, readingDigest, readingTypes, signReading, verifyReading } from "./reading.ts";

const domain = { chainId: 31337, verifyingContract: "0x00000000000000000000000000000000000000aa" } as const;
const meter = meterKey(generatePrivateKey());
const typedData = (message: { meter: `0x${string}`; interval: bigint; exportWh: bigint; importWh: bigint }) => ({
  domain: { name: "PeerGrid", version: "1", ...domain },
  types: readingTypes,
  primaryType: "Reading" as const,
  message,
});

describe("meter readings", () => {
  it("verifies a reading signed by its meter", () => {
    const signed = signReading(meter, domain, { interval: 7n, exportWh: 120n, importWh: 0n });
    expect(signed.meter).toBe(meter.address);
    expect(verifyReading(domain, signed)).toBe(true);
  });

  it("agrees with viem's EIP-712 implementation both ways", async () => {
    const reading = { meter: meter.address, interval: 123_456n, exportWh: 2n ** 40n + 7n, importWh: 999n };
    expect(readingDigest(domain, reading)).toBe(hashTypedData(typedData(reading)));

    const ours = signReading(meter, domain, reading);
    const recovered = await recoverTypedDataAddress({
      ...typedData(reading),
      signature: serializeSignature(compactSignatureToSignature({ r: ours.r, yParityAndS: ours.vs })),
    });
    expect(recovered).toBe(meter.address);

    const wallet = privateKeyToAccount(meter.privateKey);
    const { r, yParityAndS } = signatureToCompactSignature(parseSignature(await wallet.signTypedData(typedData(reading))));
    expect(verifyReading(domain, { ...reading, r, vs: yParityAndS })).toBe(true);
  });

  it("refuses a changed value, another meter, another chain and another contract", () => {
    const signed = signReading(meter, domain, { interval: 7n, exportWh: 120n, importWh: 0n });
    const other = meterKey(generatePrivateKey());
    expect(verifyReading(domain, { ...signed, exportWh: 121n })).toBe(false);
    expect(verifyReading(domain, { ...signed, meter: other.address })).toBe(false);
    expect(verifyReading({ ...domain, chainId: 1 }, signed)).toBe(false);
    expect(verifyReading({ ...domain, verifyingContract: other.address }, signed)).toBe(false);
    expect(verifyReading(domain, { ...signed, r: `0x${"00".repeat(32)}` })).toBe(false);
    expect(verifyReading(domain, { ...signed, r: "0x1234" })).toBe(false);
  });

  it("rejects values that do not fit the contract's uint64", () => {
    expect(() => signReading(meter, domain, { interval: 1n, exportWh: -1n, importWh: 0n })).toThrow(/exportWh/);
    expect(() => readingDigest(domain, { meter: meter.address, interval: 2n ** 64n, exportWh: 0n, importWh: 0n })).toThrow(
      /interval/,
    );
  });
});
