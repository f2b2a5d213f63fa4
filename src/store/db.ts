import { mkdirSync } from "node:fs";
import { PGlite, types as pgliteTypes } from "@electric-sql/pglite";
import pg from "pg";
import { PeerGridError } from "../chain/errors.ts";

/** Runs SQL (PostgreSQL dialect). Integers (int8, numeric) come back as `bigint`; pass `bigint` for them. */
export type Sql = {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
};

/** The store: PGlite (PostgreSQL in wasm, in the data directory) by default, a PostgreSQL server with `DATABASE_URL`. */
export type Db = Sql & {
  readonly kind: "pglite" | "postgres";
  /** Runs `fn` in one transaction: everything it wrote is committed together, or nothing is. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

export type DbOptions = {
  /** postgres://… : a PostgreSQL server. Otherwise PGlite, in `dataDir` (in memory when omitted). */
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  /**
   * PostgreSQL schema holding PeerGrid's tables (created if missing; default `public`). Tests give each
   * run its own so that they can share one database.
   */
  schema?: string | undefined;
};

const toBigInt = (text: string) => BigInt(text);

/**
 * Opens the store and applies every migration not applied yet.
 * @example const db = await openDb({ dataDir: ".peergrid/index" }, [indexerSchema, gatewaySchema])
 */
export async function openDb(options: DbOptions, migrations: readonly Migration[] = []): Promise<Db> {
  const schema = options.schema ?? "public";
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new PeerGridError(`invalid schema name "${schema}"`);
  const db = options.databaseUrl ? await openPostgres(options.databaseUrl, schema) : await openPglite(options.dataDir, schema);
  try {
    await migrate(db, migrations);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

async function openPglite(dataDir: string | undefined, schema: string): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const lite = new PGlite({ dataDir, parsers: { [pgliteTypes.INT8]: toBigInt, [pgliteTypes.NUMERIC]: toBigInt } });
  await lite.waitReady;
  await lite.exec(`create schema if not exists ${schema}; set search_path to ${schema}`);
  // PGlite is one connection: transactions must not interleave with other queries.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };
  const query = async <Row>(text: string, params?: readonly unknown[]) =>
    (await lite.query<Row>(text, params as unknown[] | undefined)).rows;
  return {
    kind: "pglite",
    query: (text, params) => serial(() => query(text, params)),
    transaction: (fn) =>
      serial(() =>
        lite.transaction((tx) =>
          fn({ query: async (text, params) => (await tx.query(text, params as unknown[])).rows as never }),
        ),
      ),
    close: () => serial(() => lite.close()),
  };
}

async function openPostgres(databaseUrl: string, schema: string): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 8,
    options: `-c search_path=${schema}`,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === 20 || oid === 1700 ? toBigInt : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  try {
    await pool.query(`create schema if not exists ${schema}`);
  } catch (error) {
    await pool.end();
    throw new PeerGridError(`cannot reach PostgreSQL at ${redact(databaseUrl)}`, {
      cause: error,
      details: (error as Error).message,
      hint: "check DATABASE_URL, or unset it to use the embedded store",
      retryable: true,
    });
  }
  const params = (p?: readonly unknown[]) => p?.map((v) => (typeof v === "bigint" ? v.toString() : v));
  return {
    kind: "postgres",
    query: async (text, p) => (await pool.query(text, params(p))).rows,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const result = await fn({ query: async (text, p) => (await client.query(text, params(p))).rows });
        await client.query("commit");
        return result;
      } catch (error) {
        await client.query("rollback").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");

/** A named, append-only schema change. Names are applied once each, in the order given. */
export type Migration = { name: string; sql: string };

async function migrate(db: Db, migrations: readonly Migration[]): Promise<void> {
  await db.query("create table if not exists migrations (name text primary key, applied_at timestamptz not null default now())");
  for (const migration of migrations) {
    await db.transaction(async (tx) => {
      // Several processes may open one PostgreSQL store at once; the lock makes them migrate one at a time.
      if (db.kind === "postgres") await tx.query("select pg_advisory_xact_lock(7403)");
      const done = await tx.query("select 1 from migrations where name = $1", [migration.name]);
      if (done.length > 0) return;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query("insert into migrations (name) values ($1)", [migration.name]);
    });
  }
}

/** Splits a script on `;` at line ends (migrations hold no procedural code). */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
