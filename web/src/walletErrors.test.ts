import { describe, expect, it } from "vitest";
import { refusesMethod, rejectedByUser, unknownChain, walletError } from "./walletErrors.ts";

const coded = (code: number, message: string) => Object.assign(new Error(message), { code });

describe("reading an injected wallet's refusals", () => {
  it("takes the code and message from objects and Errors", () => {
    expect(walletError({ code: 4200, message: "nope" })).toEqual({ code: 4200, message: "nope" });
    expect(walletError(coded(4001, "User rejected"))).toEqual({ code: 4001, message: "User rejected" });
    expect(walletError("plain")).toEqual({ code: undefined, message: "plain" });
    expect(walletError(undefined)).toEqual({ code: undefined, message: "undefined" });
  });
  it("tells a method the wallet does not offer from a person's no", () => {
    for (const e of [
      coded(4200, "The requested method is not supported"),
      { code: 4100, message: "Unauthorized" },
      { code: -32601, message: "the method eth_signTransaction does not exist/is not available" },
      new Error("The method eth_signTransaction is not supported"),
      new Error("Unknown method: eth_signTransaction"),
    ]) {
      expect(refusesMethod(e), String((e as Error).message)).toBe(true);
    }
    // A refusal by the person, even when worded oddly, is not a missing method.
    expect(refusesMethod(coded(4001, "User rejected: method not supported by you"))).toBe(false);
    expect(rejectedByUser(coded(4001, "User rejected the request."))).toBe(true);
    expect(rejectedByUser(coded(4200, "unsupported"))).toBe(false);
    expect(refusesMethod(new Error("insufficient funds for gas"))).toBe(false);
    expect(refusesMethod({ code: -32000, message: "nonce too low" })).toBe(false);
  });
  it("recognises a chain the wallet does not know", () => {
    expect(unknownChain({ code: 4902, message: "Unrecognized chain ID 0x7a69" })).toBe(true);
    expect(unknownChain(new Error("Chain 0x7a69 has not been added to MetaMask"))).toBe(true);
    expect(unknownChain(coded(4001, "User rejected the request."))).toBe(false);
  });
});
