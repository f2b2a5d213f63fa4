/**
 * Writes a simulation's report files into a directory (the I/O half of report.ts).
 */

import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { householdsCsv, intervalsCsv, renderReportHtml, summaryJson } from "./report.ts";
import type { SimulationResult } from "./result.ts";

/**
 * Create `dir` (and its parents) and write `report.html`, `summary.json`, `intervals.csv` and
 * `households.csv` into it. Each file is written to a temporary file beside it and renamed into place,
 * so a reader never sees a half-written file. Returns the written paths.
 *
 * @example
 * const { files } = await writeReport("out/demo", result);
 * // files: ["out/demo/report.html", "out/demo/summary.json", "out/demo/intervals.csv", "out/demo/households.csv"]
 */
export async function writeReport(dir: string, result: SimulationResult): Promise<{ files: string[] }> {
  await mkdir(dir, { recursive: true });
  const contents: [string, (r: SimulationResult) => string][] = [
    ["report.html", renderReportHtml],
    ["summary.json", summaryJson],
    ["intervals.csv", intervalsCsv],
    ["households.csv", householdsCsv],
  ];
  const files: string[] = [];
  for (const [name, render] of contents) {
    const path = join(dir, name);
    const temp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      await writeFile(temp, render(result), "utf8");
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    files.push(path);
  }
  return { files };
}
