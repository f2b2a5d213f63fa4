import type { Sql } from "../store/db.ts";

/** A column of a batched insert and the SQL type its text form is cast to. */
export type Column = readonly [name: string, type: "int8" | "int4" | "text" | "bool" | "numeric" | "jsonb"];

/** Rows per statement: large enough to amortise the round trip, small enough to keep one message modest. */
const ROWS_PER_STATEMENT = 20_000;

const text = (value: unknown): string | null =>
  value === null || value === undefined ? null : typeof value === "string" ? value : String(value);

/**
 * Inserts `rows` (values in `columns` order; bigint, number, boolean, string or null) with one statement per
 * 20,000 rows: each column goes as one text array, unnested and cast server-side. Works the same on PGlite
 * and PostgreSQL, and costs one round trip per statement instead of one per row.
 * @example await insertRows(tx, "escrow_log", [["account", "text"], ["amount_micro", "numeric"]], [["0xab…", 5n]])
 */
export async function insertRows(
  sql: Sql,
  table: string,
  columns: readonly Column[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`invalid table name "${table}"`);
  const names = columns.map(([name]) => name).join(", ");
  const casts = columns.map(([, type], i) => `c${i}::${type}`).join(", ");
  const arrays = columns.map((_, i) => `$${i + 1}::text[]`).join(", ");
  const aliases = columns.map((_, i) => `c${i}`).join(", ");
  const statement = `insert into ${table} (${names}) select ${casts} from unnest(${arrays}) as u(${aliases})`;
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const batch = rows.slice(start, start + ROWS_PER_STATEMENT);
    const params = columns.map((_, i) => batch.map((row) => text(row[i])));
    await sql.query(statement, params);
  }
}
