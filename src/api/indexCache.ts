import type { Sql } from "../store/db.ts";

/**
 * Remembers answers computed from the index until the index changes. The index's version is its newest
 * block (number and hash): the indexer adds a block row with every change it records, and a rollback
 * after a reorganisation removes or replaces it, so an answer is never reused across either. One cheap
 * primary-key lookup replaces an aggregate over thousands of rows.
 * @example const kpis = await cache.get(`kpis:${from}:${to}`, () => computeKpis(from, to))
 */
export function createIndexCache(db: Sql, maxEntries = 1_000) {
  const entries = new Map<string, { version: string; value: Promise<unknown> }>();
  async function version(): Promise<string> {
    const [row] = await db.query<{ number: bigint; hash: string }>(
      "select number, hash from chain_blocks order by number desc limit 1",
    );
    return row ? `${row.number}:${row.hash}` : "empty";
  }
  return {
    async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
      const v = await version();
      const hit = entries.get(key);
      if (hit && hit.version === v) return hit.value as Promise<T>;
      const value = compute();
      if (entries.size >= maxEntries) entries.clear();
      entries.set(key, { version: v, value });
      value.catch(() => entries.delete(key));
      return value;
    },
  };
}
