import { z } from "zod";

/** A 0x address, any case; handlers lower-case it (the index stores lower-case addresses). */
export const addressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte hex address")
  .transform((a) => a.toLowerCase() as `0x${string}`)
  .describe("0x-prefixed 20-byte address (any case)");

/** An integer sent as a decimal string (JSON numbers lose precision above 2^53). */
export const decimalSchema = z
  .string()
  .regex(/^-?\d+$/)
  .describe("integer as a decimal string");

/** A non-negative integer from a path or query string, parsed to bigint. */
export const uintParam = z
  .string()
  .regex(/^\d{1,20}$/, "expected a non-negative integer")
  .transform((s) => BigInt(s))
  .describe("non-negative integer");

export const hexSchema = z.string().regex(/^0x[0-9a-fA-F]*$/, "expected 0x-prefixed hex");
export const txHashSchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected a 32-byte 0x hex hash");

/** Page size of list endpoints: 1–500, default 50. */
export const limitSchema = z.coerce.number().int().min(1).max(500).default(50).describe("page size (1–500, default 50)");

/** The JSON error body every failure answers with. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe("stable machine-readable code"),
      message: z.string(),
      details: z.unknown().optional(),
      hint: z.string().optional(),
    }),
  })
  .describe("error");

/** Body of every write endpoint: a transaction signed by the caller's wallet, relayed as is. */
export const signedTxBody = z.object({
  signedTransaction: hexSchema.min(4).describe("the raw signed transaction (RLP / typed envelope), 0x hex"),
});

export const txResultSchema = z.object({
  hash: txHashSchema,
  status: z.enum(["success"]),
  blockNumber: decimalSchema,
});

/** bigint → decimal string (responses). */
export const dec = (value: bigint | number): string => value.toString();
/** Nullable bigint → decimal string or null. */
export const decOrNull = (value: bigint | number | null | undefined): string | null =>
  value === null || value === undefined ? null : value.toString();

/** A point in time: unix seconds, or an ISO 8601 date / date-time (UTC unless it has an offset). */
export const timeParam = z
  .string()
  .transform((s, issue) => {
    if (/^\d{1,12}$/.test(s)) return BigInt(s);
    const ms = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : Date.parse(s);
    if (!/^\d{4}-\d{2}-\d{2}/.test(s) || Number.isNaN(ms)) {
      issue.addIssue({ code: "custom", message: "expected unix seconds or an ISO 8601 date / date-time" });
      return z.NEVER;
    }
    return BigInt(Math.floor(ms / 1000));
  })
  .describe("unix seconds, or ISO 8601 date / date-time (UTC unless an offset is given)");

/** An address in a response (lower-case as the index stores it). */
export const addressOut = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/)
  .describe("0x address, lower-case");
