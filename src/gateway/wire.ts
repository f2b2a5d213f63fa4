import { type Address, getAddress, type Hex } from "viem";
import { z } from "zod";
import type { SignedReading } from "../metering/reading.ts";

// The JSON wire format of a signed reading. Integers travel as decimal strings, so JSON never rounds a
// uint64; JSON numbers are accepted too while they are safe integers (≤ 2^53−1).
//
//   { "meter": "0x…20 bytes", "interval": "1979452", "exportWh": "456", "importWh": "0",
//     "r": "0x…32 bytes", "vs": "0x…32 bytes" }

export const U64_MAX = 2n ** 64n - 1n;
const UINT_TEXT = /^(0|[1-9][0-9]{0,19})$/;
const UINT64_MESSAGE = "must be an integer string ≤ 2^64−1 (or a JSON integer ≤ 2^53−1)";
const ADDRESS_MESSAGE = "must be a 20-byte address: 0x and 40 hex digits";
const WORD_MESSAGE = "must be 32 bytes of hex: 0x and 64 hex digits";

const uint64 = z
  .union(
    [
      z
        .string()
        .regex(UINT_TEXT, { error: UINT64_MESSAGE })
        .refine((text) => text.length < 20 || BigInt(text) <= U64_MAX, { error: UINT64_MESSAGE }),
      z
        .number({ error: UINT64_MESSAGE })
        .int({ error: UINT64_MESSAGE })
        .min(0, { error: UINT64_MESSAGE })
        .max(Number.MAX_SAFE_INTEGER, { error: UINT64_MESSAGE }),
    ],
    { error: UINT64_MESSAGE },
  )
  .meta({ description: "unsigned 64-bit integer as a decimal string (a JSON number is accepted up to 2^53−1)", example: "456" });

const address = z
  .string({ error: ADDRESS_MESSAGE })
  .regex(/^0x[0-9a-fA-F]{40}$/, { error: ADDRESS_MESSAGE })
  .meta({ description: "the meter's signing address", example: "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4" });
const word = z.string({ error: WORD_MESSAGE }).regex(/^0x[0-9a-fA-F]{64}$/, { error: WORD_MESSAGE });

/** The wire shape of a signed reading, as it is documented (no conversion: the body as it arrives). */
export const wireReadingSchema = z
  .object(
    {
      meter: address,
      interval: uint64.meta({ description: "interval number: floor(unix seconds / intervalSeconds)" }),
      exportWh: uint64.meta({ description: "energy exported to the grid in the interval, Wh" }),
      importWh: uint64.meta({ description: "energy imported from the grid in the interval, Wh" }),
      r: word.meta({ description: "EIP-2098 compact signature: r" }),
      vs: word.meta({ description: "EIP-2098 compact signature: yParity << 255 | s" }),
    },
    { error: "must be a reading object { meter, interval, exportWh, importWh, r, vs }" },
  )
  .meta({ id: "SignedReading", description: "A meter reading signed by the meter (EIP-712, see GET /api/gateway/domain)" });

export type WireReading = {
  meter: Address;
  interval: string;
  exportWh: string;
  importWh: string;
  r: Hex;
  vs: Hex;
};

/**
 * A signed reading as JSON-safe wire data (integers as decimal strings).
 * @example JSON.stringify(toWire(signReading(key, domain, { interval: 5n, exportWh: 10n, importWh: 0n })))
 */
export function toWire(reading: SignedReading): WireReading {
  return {
    meter: reading.meter,
    interval: reading.interval.toString(),
    exportWh: reading.exportWh.toString(),
    importWh: reading.importWh.toString(),
    r: reading.r,
    vs: reading.vs,
  };
}

/** One problem in an input: where (`readings[3].exportWh`) and what. */
export type FieldIssue = { path: string; message: string };

export type ParsedReading = { ok: true; reading: SignedReading } | { ok: false; issues: FieldIssue[] };

/** Renders a zod path as `readings[3].exportWh`, under `prefix`. */
export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`;
  return out === "" ? "(body)" : out;
}

/** The issues of a failed zod parse, one per field (the first one zod reports for it). */
export function fieldIssues(error: z.ZodError, prefix = ""): FieldIssue[] {
  const seen = new Map<string, string>();
  for (const issue of error.issues) {
    const path = formatPath(prefix, issue.path);
    if (!seen.has(path)) seen.set(path, issue.message);
  }
  return [...seen].map(([path, message]) => ({ path, message }));
}

/**
 * Parses one reading from wire data; `prefix` names it in the issues (`readings[3]`).
 * @example fromWire(JSON.parse(body)) // { ok: true, reading } or { ok: false, issues: [{ path: "exportWh", message }] }
 */
export function fromWire(input: unknown, prefix = ""): ParsedReading {
  const parsed = wireReadingSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: fieldIssues(parsed.error, prefix) };
  const w = parsed.data;
  return {
    ok: true,
    reading: {
      meter: getAddress(w.meter.toLowerCase()),
      interval: BigInt(w.interval),
      exportWh: BigInt(w.exportWh),
      importWh: BigInt(w.importWh),
      r: w.r.toLowerCase() as Hex,
      vs: w.vs.toLowerCase() as Hex,
    },
  };
}
