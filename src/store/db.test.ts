import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Migration, openDb } from "./db.ts";
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

describe("embedded store durability", () => {
  it("keeps every committed transaction when its process is killed (SIGKILL) at any moment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "peergrid-store-crash-"));
    try {
      let acked = 0n;
      for (const waitMs of [300, 900, 1700]) {
        const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "crashWriter.ts"), dir], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        const exited = new Promise((resolve) => child.on("exit", resolve));
        let runAcked = 0n;
        child.stdout.on("data", (d: Buffer) => {
          for (const m of d.toString().matchAll(/acked (\d+)/g)) runAcked = BigInt(m[1] as string);
        });
        // Kill once it has committed something, at a moment unrelated to its transactions.
        while (runAcked === 0n && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
        expect(child.exitCode, "the writer died before committing").toBeNull();
        await new Promise((r) => setTimeout(r, waitMs));
        child.kill("SIGKILL");
        await exited;
        expect(runAcked).toBeGreaterThan(acked);
        acked = runAcked;
        // Reopening finds every acknowledged row, each whole, and nothing beyond the one in flight.
        const db = await openDb({ dataDir: dir });
        const [row] = await db.query<{ n: bigint; top: bigint; bad: bigint }>(
          "select count(*)::int8 as n, max(id) as top, count(*) filter (where payload <> repeat('reading ' || id, 20))::int8 as bad from acked",
        );
        await db.close();
        expect(row?.bad).toBe(0n);
        expect(row?.top).toBe(row?.n);
        expect(row?.n).toBeGreaterThanOrEqual(acked);
        expect(row?.n).toBeLessThanOrEqual(acked + 1n);
        acked = row?.n ?? acked;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
