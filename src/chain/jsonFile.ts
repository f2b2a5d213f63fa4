import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";

/**
 * Writes all of `text` to an open file and fsyncs it: one writeSync may write less than asked.
 * @example writeAllAndSync(fd, "line\n")
 */
export function writeAllAndSync(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
  fsyncSync(fd);
}

/**
 * Reads a JSON file, or returns undefined when it does not exist.
 * @example const deployment = readJsonFile<DeploymentFile>(".peergrid/deployment.json")
 */
export function readJsonFile<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return JSON.parse(text) as T;
}

/**
 * Writes a file so that a crash leaves either the old file or the new one, never half of one:
 * write a temporary file, fsync it, rename it over the target.
 * @example writeTextFileAtomic(".peergrid/chain/checkpoint.json", text)
 */
export function writeTextFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  writeAllAndSync(fd, text);
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * Writes JSON atomically (see writeTextFileAtomic). Bigints are written as strings.
 * @example writeJsonFileAtomic(".peergrid/deployment.json", deployment)
 */
export function writeJsonFileAtomic(path: string, value: unknown): void {
  writeTextFileAtomic(path, `${JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`);
}
