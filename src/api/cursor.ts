import { z } from "zod";

/** A position in a list ordered by two integer columns, the first not unique (interval/idx, block/log index). */
export type PairCursor = readonly [major: bigint, minor: bigint];

/** Larger than any interval, block number or index the store holds: "before the end" (the first page). */
export const CURSOR_END: PairCursor = [2n ** 62n, 0n];

/**
 * A `before` cursor over two columns from a query string: `"major:minor"` (rows strictly before that
 * pair, newest first), or just `"major"` — the same as `"major:0"`, i.e. everything before `major`,
 * which keeps the single-number cursors of earlier clients working. Each part is a decimal of at most
 * 18 digits (below 2^62, so it fits the store's int8 and the end marker).
 * @example pairCursorParam.parse("1979452:3") // [1979452n, 3n]
 */
export const pairCursorParam = z
  .string()
  .regex(/^\d{1,18}(:\d{1,18})?$/, "expected a cursor: N or N:M (decimal integers), e.g. a page's nextBefore")
  .transform((s): PairCursor => {
    const [major, minor] = s.split(":");
    return [BigInt(major as string), BigInt(minor ?? "0")];
  })
  .describe("paging cursor `N:M` or `N` (from the previous page's nextBefore)");

/** A list page's `nextBefore`: the cursor to pass as `before` for the next page, or null at the end. */
export const nextBeforeSchema = z.string().nullable().describe("the next page's `before`; null: this page ends the list");

/** A cursor's wire form (`major:minor`), as `pairCursorParam` reads it back. */
export const pairCursorText = (major: bigint | number | string, minor: bigint | number | string): string => `${major}:${minor}`;

/**
 * One page of rows fetched with `limit + 1`: the first `limit` rows and the cursor of the next page (the
 * last row shown), or null when there is no further row — so null means the end of the list, exactly.
 * @example pageOf([r1, r2, r3], 2, (r) => r.id) // { rows: [r1, r2], nextBefore: "…r2's id" }
 */
export function pageOf<T>(
  rows: readonly T[],
  limit: number,
  cursorOf: (row: T) => string,
): { rows: T[]; nextBefore: string | null } {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return { rows: shown, nextBefore: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
