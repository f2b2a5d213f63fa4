import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Address } from "viem";
import { afterAll, describe, expect, it } from "vitest";
import { createDemoCommunity, demoReadings, demoTariffs } from "../demo/demoCommunity.ts";
import { toWire } from "../gateway/wire.ts";
import { main } from "./main.ts";

const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "peergrid-serve-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quietIo = { out: () => {}, err: () => {}, sleep: async () => {}, nowMs: () => 0 };

describe("peergrid serve", () => {
  it("settles the readings real meters post to its gateway during the reading window", async () => {
    // A community with one settled interval, then served with no demo meters.
    const args = ["--data-dir", dir, "--households", "6", "--start", "2026-06-15T12:00:00+02:00"];
    expect(await main(["start", ...args, "--intervals", "1", "--speed", "0", "--port", "0"], quietIo)).toBe(0);
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child = spawn(
      process.execPath,
      [join(root, "bin", "peergrid.js"), "serve", "--data-dir", dir, "--port", String(port), "--speed", "60", "--intervals", "1"],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      // The meters: the demo community's keys, signing as devices would, for the interval that just ended.
      const settings = JSON.parse(readFileSync(join(dir, "community.json"), "utf8")) as { seed: string; startAt: string };
      const deployment = JSON.parse(readFileSync(join(dir, "deployment-31337.json"), "utf8")) as Record<string, string>;
      const community = createDemoCommunity({ seed: settings.seed, households: 6, tariffs: demoTariffs });
      const timeline = {
        startAt: BigInt(settings.startAt),
        firstInterval: BigInt(deployment.firstInterval as string),
        intervalSeconds: BigInt(deployment.intervalSeconds as string),
      };
      const domain = { chainId: 31337, verifyingContract: deployment.market as Address };
      const due = timeline.firstInterval + 1n;

      // serve ends the interval after one interval of wall time / speed (15 s) and leaves meters the
      // window (240 s / 60 = 4 s) before the keeper takes the readings.
      let posted: { accepted?: number } | undefined;
      for (let i = 0; i < 400 && !posted; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const info = await fetch(`http://127.0.0.1:${port}/api/gateway/domain`)
          .then((r) => r.json() as Promise<{ latestEndedInterval?: string }>)
          .catch(() => undefined);
        if (info?.latestEndedInterval !== String(due)) continue;
        const readings = demoReadings(community, domain, timeline, due).map(toWire);
        const response = await fetch(`http://127.0.0.1:${port}/api/readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ readings }),
        });
        posted = (await response.json()) as { accepted?: number };
      }
      expect(posted, output).toMatchObject({ accepted: 6, rejected: 0 });
      expect(await exited, output).toBe(0);
      // The settled interval holds the posted readings: their export reached the grid or neighbours.
      const line = output.split("\n").find((l) => l.includes(` #${due} `));
      expect(line, output).toBeDefined();
      expect(line).not.toMatch(/to grid +0\.000 kWh +from grid +0\.000 kWh +trades +0/);
    } finally {
      child.kill("SIGKILL");
    }
  }, 120_000);
});
