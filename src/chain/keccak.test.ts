import fc from "fast-check";
import { bytesToHex, keccak256 } from "viem";
import { describe, expect, it } from "vitest";
import { keccak256Bytes, keccak256Hex } from "./keccak.ts";

describe("keccak256Bytes", () => {
  it("equals viem's keccak256 on any input, short or long", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (data) => {
        expect(bytesToHex(keccak256Bytes(data))).toBe(keccak256(data));
        expect(keccak256Hex(bytesToHex(data))).toBe(keccak256(data));
      }),
    );
    const large = new Uint8Array(200_000).map((_, i) => i % 251);
    expect(bytesToHex(keccak256Bytes(large))).toBe(keccak256(large));
  });
});
