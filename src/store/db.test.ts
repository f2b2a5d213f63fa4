import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Migration } from "./db.ts";
import { type TestDb, testStores } from "./testDb.ts";

const migrations: Migration[] = [
  {
    name: "001_t",
    sql: "create table t (id int8 primary key, amount numeric(78, 0) not null, note text);\ncreate index t_note on t (note);",
  },
];

describe.each(testStores())("store on %s", (_kind, open) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await open(migrations);
  });
  afterAll(() => db?.dispose());

  it("round-trips integers beyond 2^53 as bigint", async () => {
    await db.query("insert into t (id, amount) values ($1, $2)", [2n ** 62n, 10n ** 40n + 1n]);
    const [row] = await db.query<{ id: bigint; amount: bigint }>("select id, amount from t where id = $1", [2n ** 62n]);
    expect(row).toEqual({ id: 2n ** 62n, amount: 10n ** 40n + 1n });
  });

  it("commits a transaction whole or not at all", async () => {
    await db.transaction(async (tx) => {
      await tx.query("insert into t (id, amount) values (1, 1)");
      await tx.query("insert into t (id, amount) values (2, 2)");
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query("insert into t (id, amount) values (3, 3)");
        await tx.query("insert into t (id, amount) values (1, 1)"); // duplicate key
      }),
    ).rejects.toThrow(/duplicate key/);
    const rows = await db.query<{ id: bigint }>("select id from t where id < 10 order by id");
    expect(rows.map((r) => r.id)).toEqual([1n, 2n]);
  });

  it("keeps queries outside a transaction consistent while it runs", async () => {
    const [inside, outside] = await Promise.all([
      db.transaction(async (tx) => {
        await tx.query("insert into t (id, amount) values (20, 20)");
        return (await tx.query<{ n: bigint }>("select count(*)::int8 as n from t where id = 20"))[0]?.n;
      }),
      db.query<{ n: bigint }>("select count(*)::int8 as n from t where id = 21"),
    ]);
    expect(inside).toBe(1n);
    expect(outside[0]?.n).toBe(0n);
  });
});
