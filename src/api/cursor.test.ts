import { describe, expect, it } from "vitest";
import { pageOf, pairCursorParam, pairCursorText } from "./cursor.ts";

describe("list cursors", () => {
  it("reads N:M and N (= N:0), and refuses anything else", () => {
    expect(pairCursorParam.parse("1979452:3")).toEqual([1979452n, 3n]);
    expect(pairCursorParam.parse("17")).toEqual([17n, 0n]);
    expect(pairCursorParam.parse(pairCursorText(12n, 0))).toEqual([12n, 0n]);
    for (const bad of ["", "x", "1:", ":1", "1:2:3", "-1", "1.5", " 1", "1234567890123456789"]) {
      expect(pairCursorParam.safeParse(bad).success, bad).toBe(false);
    }
  });

  it("cuts a page fetched with limit + 1 and names the next page's cursor only when a row follows", () => {
    const rows = [5, 4, 3].map((id) => ({ id }));
    expect(pageOf(rows, 2, (r) => String(r.id))).toEqual({ rows: rows.slice(0, 2), nextBefore: "4" });
    expect(pageOf(rows, 3, (r) => String(r.id))).toEqual({ rows, nextBefore: null });
    expect(pageOf([], 3, () => "x")).toEqual({ rows: [], nextBefore: null });
  });
});
