import { randomBytes } from "node:crypto";
import { type Db, type Migration, openDb } from "./db.ts";

/**
 * The stores every store-backed test runs against: embedded PGlite always, and PostgreSQL when
 * `PEERGRID_TEST_DATABASE_URL` is set (`.ci/run` sets it to the CI machine's server). Each opened store
 * gets a fresh schema (PostgreSQL) or a fresh in-memory database (PGlite).
 * @example describe.each(testStores())("indexer on %s", (kind, open) => { … const db = await open([indexerSchema]) })
 */
export function testStores(): [kind: string, open: (migrations: readonly Migration[]) => Promise<TestDb>][] {
  const stores: [string, (migrations: readonly Migration[]) => Promise<TestDb>][] = [["pglite", (m) => openTestDb(undefined, m)]];
  const url = process.env.PEERGRID_TEST_DATABASE_URL;
  if (url) stores.push(["postgres", (m) => openTestDb(url, m)]);
  return stores;
}

export type TestDb = Db & { /** Closes the store and, on PostgreSQL, drops the test's schema. */ dispose(): Promise<void> };

async function openTestDb(databaseUrl: string | undefined, migrations: readonly Migration[]): Promise<TestDb> {
  const schema = databaseUrl ? `test_${randomBytes(6).toString("hex")}` : undefined;
  const db = await openDb({ databaseUrl, schema }, migrations);
  return {
    ...db,
    async dispose() {
      if (schema) await db.query(`drop schema ${schema} cascade`);
      await db.close();
    },
  };
}
