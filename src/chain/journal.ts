import { closeSync, existsSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import type { Hex } from "viem";
import { writeAllAndSync } from "./jsonFile.ts";

/** One block the embedded chain mined: number, timestamp, hash and raw signed transactions, in order. */
export type JournalBlock = { number: number; timestamp: string; hash?: Hex; txs: Hex[] };

export type BlockJournal = {
  /** The blocks on disk when the journal was opened: what a restart replays. Appended blocks are not kept. */
  readonly blocks: readonly JournalBlock[];
  /** Number of the last block on disk (0 when the journal is empty). */
  readonly lastNumber: number;
  append(block: JournalBlock): void;
  close(): void;
};

/**
 * An append-only, fsync'd log of every block the embedded chain mined. It is what makes a block
 * durable: a block counts as acknowledged once its line is on disk, and replaying the log into a fresh
 * node rebuilds exactly the same chain. A line torn by a crash mid-write was never acknowledged; it is
 * cut off when the journal is opened.
 * With `sync: false` the lines are written but not fsync'd: a crash of the machine (not of the process)
 * may lose the last blocks. For simulations, which a crash restarts from the beginning anyway.
 * @example const journal = openBlockJournal(".peergrid/blocks.jsonl"); journal.append({ number: 1, timestamp: "900", txs: [] });
 */
export function openBlockJournal(path: string, options: { sync?: boolean } = {}): BlockJournal {
  const sync = options.sync ?? true;
  const blocks: JournalBlock[] = [];
  if (existsSync(path)) {
    const text = readFileSync(path, "utf8");
    let goodBytes = 0;
    for (const line of text.split("\n")) {
      if (line.length === 0) break;
      let block: JournalBlock;
      try {
        block = JSON.parse(line) as JournalBlock;
      } catch {
        break;
      }
      if (typeof block.number !== "number" || !Array.isArray(block.txs)) break;
      blocks.push(block);
      goodBytes += Buffer.byteLength(line) + 1;
    }
    if (goodBytes < Buffer.byteLength(text)) truncateSync(path, goodBytes);
  }
  const fd = openSync(path, "a");
  // A long simulation appends gigabytes of transactions: they stay on disk, not in memory.
  let lastNumber = blocks.at(-1)?.number ?? 0;
  return {
    blocks,
    get lastNumber() {
      return lastNumber;
    },
    append(block) {
      const line = `${JSON.stringify(block)}\n`;
      if (sync) writeAllAndSync(fd, line);
      else {
        const bytes = Buffer.from(line);
        for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
      }
      lastNumber = block.number;
    },
    close() {
      closeSync(fd);
    },
  };
}
