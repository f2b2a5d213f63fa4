// Test helper for db.test.ts (run as a child process): commits one row per transaction into the PGlite
// store at argv[2] (after the rows already there) and prints "acked <id>" after each commit, until it is killed.
import { openDb } from "./db.ts";

const db = await openDb({ dataDir: process.argv[2] }, [
  { name: "001_crash", sql: "create table acked (id int8 primary key, payload text not null)" },
]);
const [last] = await db.query<{ top: bigint }>("select coalesce(max(id), 0::int8) as top from acked");
for (let id = (last?.top ?? 0n) + 1n; ; id++) {
  await db.transaction(async (tx) => {
    await tx.query("insert into acked (id, payload) values ($1, $2)", [id, `reading ${id}`.repeat(20)]);
  });
  process.stdout.write(`acked ${id}\n`);
}
