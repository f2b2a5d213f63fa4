import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "./main.ts";
import { progressLine } from "./simulate.ts";
import type { CommandIo } from "./start.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "peergrid-simulate-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  let now = 0;
  const value: CommandIo = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    sleep: async () => {},
    nowMs: () => (now += 250),
    progress: (line) => progress.push(line),
  };
  return { value, out, err, progress };
}

describe("peergrid simulate", () => {
  it("runs a scenario on the chain, shows progress and writes the report, summary and tables", async () => {
    const file = join(dir, "tiny.yaml");
    await writeFile(
      file,
      `name: Tiny
seed: cli
location: { latitude: 48.1, longitude: 11.6, timeZone: Europe/Berlin }
start: "2026-07-01"
days: 1
intervalMinutes: 120
tariffs: { retailMicroPerKwh: 300000, feedInMicroPerKwh: 80000 }
households: { count: 4, pvShare: 0.5 }
`,
    );
    const out = join(dir, "out");
    const t = io();
    expect(await main(["simulate", file, "--out", out], t.value)).toBe(0);
    expect(t.err).toEqual([]);
    expect(t.out.join("\n")).toMatch(/Tiny: 4 households, 12 intervals settled on chain/);
    expect(t.progress.at(-1)).toMatch(/100%\s+12\/12 intervals/);
    expect((await readdir(out)).sort()).toEqual(["households.csv", "intervals.csv", "report.html", "summary.json"]);
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary.community.households).toBe(4);
    expect((await readFile(join(out, "intervals.csv"), "utf8")).trim().split("\n")).toHaveLength(13);
    expect(await readFile(join(out, "report.html"), "utf8")).toContain("<title>");
  }, 60_000);

  it("refuses a bad scenario with the path of every bad field, and a missing file", async () => {
    const file = join(dir, "bad.json");
    await writeFile(
      file,
      JSON.stringify({
        name: "Bad",
        location: { latitude: 95, longitude: 11.6, timeZone: "Europe/Berlin" },
        start: "2026-07-01",
        days: 1,
        tariffs: { retailMicroPerKwh: 300000, feedInMicroPerKwh: 0.08 },
        households: { count: 4 },
      }),
    );
    const t = io();
    expect(await main(["simulate", file], t.value)).toBe(1);
    expect(t.err.join("\n")).toMatch(/location\.latitude/);
    expect(t.err.join("\n")).toMatch(/tariffs\.feedInMicroPerKwh/);
    const missing = io();
    expect(await main(["simulate", join(dir, "nope.yaml")], missing.value)).toBe(1);
    expect(missing.err.join("\n")).toMatch(/nope\.yaml/);
    const none = io();
    expect(await main(["simulate"], none.value)).toBe(1);
    expect(none.err.join("\n")).toMatch(/exactly one scenario file/);
  });
});

describe("progressLine", () => {
  it("draws a bar with percentage, count and ETA", () => {
    expect(progressLine(0, 96, 0, 10)).toBe("[----------]   0%  0/96 intervals");
    expect(progressLine(48, 96, 24_000, 10)).toBe("[#####-----]  50%  48/96 intervals  ETA 24 s");
    expect(progressLine(10, 100, 60_000, 10)).toBe("[#---------]  10%  10/100 intervals  ETA 9 min");
  });
});
