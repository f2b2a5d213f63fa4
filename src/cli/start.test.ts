import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEventLogs } from "viem";
import { afterEach, describe, expect, it } from "vitest";
import { anvilBinary } from "../chain/anvil.ts";
import { communityCreditAbi, energyMarketAbi } from "../chain/generated/contracts.ts";
import { readNextIntervalToSettle } from "../chain/market.ts";
import { createRandom } from "../sim/random.ts";
import { main } from "./main.ts";
import { openCommunity } from "./openCommunity.ts";
import { communityOptions } from "./options.ts";

const root = join(import.meta.dirname, "..", "..");
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "peergrid-start-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type Run = { child: ChildProcess; lines: string[]; exited: Promise<number | null> };

/** Runs `peergrid start` in its own process group, collecting stdout lines. */
function runStart(args: string[]): Run {
  const child = spawn(process.execPath, [join(root, "bin", "peergrid.js"), "start", "--port", "0", ...args], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanup.push(() => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {}
  });
  const lines: string[] = [];
  let buffer = "";
  child.stdout?.on("data", (d: Buffer) => {
    buffer += d.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    lines.push(...parts);
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      if (code) lines.push(`[stderr] ${stderr}`);
      resolve(code);
    }),
  );
  return { child, lines, exited };
}

/** A CommandIo that keeps every line printed, for calling `main` in-process. */
function captureIo() {
  const out: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), sleep: async () => {}, nowMs: () => 0 };
  return { out, io };
}

const intervalLines = (lines: string[]) => lines.filter((l) => / #\d+ /.test(l));
const intervalOf = (line: string) => BigInt(/ #(\d+) /.exec(line)?.[1] ?? "-1");

describe("peergrid start", () => {
  it("prints help for every command and refuses bad options", async () => {
    const { out, io } = captureIo();
    expect(await main(["--help"], io)).toBe(0);
    expect(await main(["start", "--help"], io)).toBe(0);
    expect(await main(["status", "--help"], io)).toBe(0);
    expect(out.join("\n")).toContain("--intervals <n>");
    expect(await main(["start", "--households", "many"], io)).toBe(1);
    expect(out.at(-1)).toContain("--households must be a positive whole number");
    expect(await main(["start", "--bogus"], io)).toBe(1);
    expect(await main(["nope"], io)).toBe(2);
  });

  it("survives kill -9 at any moment: resumes after the last settled interval, settles none twice", async () => {
    const dir = tempDir();
    // Starting at 07:00, however far the killed runs got, the final run's intervals fall in daylight.
    const args = ["--data-dir", dir, "--speed", "0", "--households", "20", "--start", "2026-06-15T07:00:00+02:00"];
    const random = createRandom("kill -9");
    const acknowledged: bigint[] = [];
    for (let round = 0; round < 4; round++) {
      const run = runStart([...args, "--intervals", "50"]);
      // The first round is killed in the middle of running intervals; the others anywhere from
      // start-up (deploying, onboarding, replaying the journal) to a few intervals in.
      if (round === 0) {
        while (intervalLines(run.lines).length < 2) await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, Math.floor(random.next() * (round === 0 ? 300 : 3000))));
      process.kill(-(run.child.pid as number), "SIGKILL");
      await run.exited;
      acknowledged.push(...intervalLines(run.lines).map(intervalOf));
    }
    // The kills landed after some intervals were acknowledged, so the final run really resumes.
    expect(acknowledged.length).toBeGreaterThan(0);
    // What a new user checks: `npm start -- --intervals 8` prints 8 intervals, priced within
    // [feed-in 0.08, retail 0.32], trading energy.
    const final = runStart([...args, "--intervals", "8"]);
    expect(await final.exited).toBe(0);
    const finalLines = intervalLines(final.lines);
    expect(finalLines).toHaveLength(8);
    for (const line of finalLines) {
      const price = Number(/price (\d+\.\d+)\/kWh/.exec(line)?.[1]);
      expect(price).toBeGreaterThanOrEqual(0.08);
      expect(price).toBeLessThanOrEqual(0.32);
      expect(line).not.toMatch(/traded +0\.000 kWh/);
    }
    const finalIntervals = finalLines.map(intervalOf);
    const all = [...acknowledged, ...finalIntervals];
    expect(new Set(all).size).toBe(all.length); // no interval printed (settled) twice
    for (let i = 1; i < all.length; i++) expect(all[i]).toBe((all[i - 1] as bigint) + 1n);

    const { out, io } = captureIo();
    expect(await main(["status", "--data-dir", dir], io)).toBe(0);
    expect(out.join("\n")).toContain(`last settled interval ${all.at(-1)}`);

    // The chain agrees: every interval settled exactly once, in order, and the ledger adds up.
    const c = await openCommunity(communityOptions({ "data-dir": dir }, {}), false);
    try {
      const next = await readNextIntervalToSettle(c.chain, c.deployment);
      expect(next - 1n).toBe(all.at(-1));
      const logs = await c.chain.public.getLogs({ address: c.deployment.market, fromBlock: 0n });
      const settled = parseEventLogs({ abi: energyMarketAbi, eventName: "IntervalSettled", logs }).map((l) => l.args.interval);
      expect(settled).toEqual(
        Array.from({ length: Number(next - c.deployment.firstInterval) }, (_, i) => c.deployment.firstInterval + BigInt(i)),
      );
      for (const interval of all) expect(settled).toContain(interval);
      const held = await c.chain.public.readContract({
        address: c.deployment.settlementToken,
        abi: communityCreditAbi,
        functionName: "balanceOf",
        args: [c.deployment.market],
      });
      const accounts = [c.community.grid.address, ...c.community.households.map((h) => h.account.address)];
      const balances = await Promise.all(
        accounts.map((a) =>
          c.chain.public.readContract({
            address: c.deployment.market,
            abi: energyMarketAbi,
            functionName: "balanceOf",
            args: [a],
          }),
        ),
      );
      expect(balances.reduce((s, b) => s + b, 0n)).toBe(held);
    } finally {
      await c.close();
    }
  }, 180_000);

  it("stops cleanly on Ctrl-C (SIGINT to the whole process group, anvil included) and resumes", async () => {
    const dir = tempDir();
    const args = ["--data-dir", dir, "--households", "20"];
    const run = runStart([...args, "--speed", "1800"]);
    while (intervalLines(run.lines).length < 2) await new Promise((r) => setTimeout(r, 20));
    process.kill(-(run.child.pid as number), "SIGINT");
    expect(await run.exited).toBe(0);
    expect(run.lines.some((l) => /^\d+ intervals: traded/.test(l))).toBe(true);
    expect(run.lines.at(-1)).toMatch(/^(stopped|interrupted)/);
    const settled = intervalLines(run.lines).map(intervalOf);

    const again = runStart([...args, "--speed", "0", "--intervals", "2"]);
    expect(await again.exited).toBe(0);
    // Next after the last printed one, or one later when the interrupt came after the settlement was
    // journalled but before its line was printed (durable, just not shown).
    const first = intervalLines(again.lines).map(intervalOf)[0] as bigint;
    expect([(settled.at(-1) as bigint) + 1n, (settled.at(-1) as bigint) + 2n]).toContain(first);
  }, 120_000);

  it("runs the whole flow on a separately started node with 1-second blocks", async () => {
    const port = 18_545 + Math.floor(Math.random() * 1000);
    const node = spawn(anvilBinary(), ["--port", String(port), "--block-time", "1", "--silent"], { stdio: "ignore" });
    cleanup.push(() => node.kill("SIGKILL"));
    await new Promise((r) => setTimeout(r, 500));
    const dir = tempDir();
    const run = runStart([
      "--data-dir",
      dir,
      "--rpc-url",
      `http://127.0.0.1:${port}`,
      "--households",
      "8",
      "--interval-seconds",
      "6",
      "--reading-window-seconds",
      "4",
      "--start",
      "2026-06-15T12:00:00+02:00",
      "--intervals",
      "3",
    ]);
    expect(await run.exited, run.lines.join("\n")).toBe(0);
    const lines = intervalLines(run.lines);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const price = /price (\d+\.\d+)\/kWh/.exec(line)?.[1];
      expect(Number(price)).toBeGreaterThanOrEqual(0.08);
      expect(Number(price)).toBeLessThanOrEqual(0.32);
    }
    expect(lines.some((l) => !/traded +0\.000 kWh/.test(l))).toBe(true);
  }, 120_000);
});
