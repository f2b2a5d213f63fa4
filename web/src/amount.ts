import { credits, parseScaled } from "./format.ts";

/**
 * An amount of credits typed into a form, checked against what it may take: decimal digits with at most 6
 * decimals (the settlement token's), more than 0, not above `limitMicro` (what `where` holds). The amount in
 * micro-credits, or a message for under the field. Integer arithmetic only.
 * @example checkAmount("2.5", 3_000_000n, "your escrow") // { value: 2500000n }
 * @example checkAmount("4", 3_000_000n, "your escrow") // { error: "more than your escrow holds (3.000000 credits)" }
 */
export function checkAmount(input: string, limitMicro: bigint, where: string): { value: bigint } | { error: string } {
  const parsed = parseScaled(input, 6);
  if ("error" in parsed) return parsed;
  if (parsed.value === 0n) return { error: "enter more than 0" };
  if (parsed.value > limitMicro) return { error: `more than ${where} holds (${credits(limitMicro.toString(), 6)})` };
  return parsed;
}
