import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openBlockJournal } from "./journal.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const journalPath = () => {
  const dir = mkdtempSync(join(tmpdir(), "peergrid-journal-"));
  dirs.push(dir);
  return join(dir, "blocks.jsonl");
};

describe("openBlockJournal", () => {
  it.each([true, false])("keeps the appended blocks for the next opening (sync %s)", (sync) => {
    const path = journalPath();
    const journal = openBlockJournal(path, { sync });
    journal.append({ number: 1, timestamp: "900", txs: [] });
    journal.append({ number: 2, timestamp: "1800", txs: ["0x01"] });
    expect(journal.lastNumber).toBe(2);
    journal.close();
    const again = openBlockJournal(path, { sync });
    expect(again.blocks).toEqual([
      { number: 1, timestamp: "900", txs: [] },
      { number: 2, timestamp: "1800", txs: ["0x01"] },
    ]);
    expect(again.lastNumber).toBe(2);
    again.close();
  });

  it("cuts off a line torn by a crash, and appends after the last whole block", () => {
    const path = journalPath();
    const journal = openBlockJournal(path);
    journal.append({ number: 1, timestamp: "900", txs: [] });
    journal.close();
    appendFileSync(path, '{"number":2,"timest');
    const again = openBlockJournal(path);
    expect(again.blocks.map((b) => b.number)).toEqual([1]);
    again.append({ number: 2, timestamp: "1800", txs: [] });
    again.close();
    expect(
      readFileSync(path, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).number),
    ).toEqual([1, 2]);
  });
});
