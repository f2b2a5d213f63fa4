// The HTTP API under load: p99 latency of typical read endpoints at a constant 200 requests/s.
// `measureApi()` opens an embedded community (sign-in roles come from its registry), fills an embedded
// store with a realistic index (100 households × 2 days of 15-minute intervals), starts the app on a local
// port and fires an open-loop schedule from this process over keep-alive connections (node:http, lighter
// than fetch, so the client takes less of the CPU the server needs): request i leaves at start + i × 5 ms
// whether or not earlier ones came back, and its latency counts from that scheduled moment, so a stall
// shows up in every request it delays. The mix cycles over ~700 distinct URLs (every interval, every
// household), and the index changes every 5 s during the run, so answers remembered by the API's index
// cache keep expiring as they would under a fast-settling market. BENCH_API_DEBUG=1 prints per-endpoint
// percentiles, CPU and event-loop delay. Run alone: `npx tsx bench/api.ts`.
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { FastifyInstance } from "fastify";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { buildApp } from "../src/api/app.ts";
import { createLiveHub } from "../src/api/liveHub.ts";
import { insertIndexFixture } from "../src/api/testFixtures.ts";
import { signIn } from "../src/api/testSupport.ts";
import { openCommunity } from "../src/cli/openCommunity.ts";
import { communityOptions } from "../src/cli/options.ts";
import { storeMigrations } from "../src/server/services.ts";
import { openDb } from "../src/store/db.ts";

const RATE_PER_SECOND = 200;
const WARMUP_SECONDS = 2;
const MEASURE_SECONDS = 15;
const HOUSEHOLDS = 100;
const INTERVALS = 192; // two days of 15-minute intervals
/** How often the index changes during the run (a real community settles every 15 minutes; this is 180× that). */
const INDEX_CHANGE_MS = 5_000;

/** The q-quantile (0..1) of `values`, nearest rank. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/** GET `url` over a keep-alive connection, reading the whole body; resolves with the status. */
function get(agent: Agent, url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.on("data", () => {});
      response.on("end", () => resolve(response.statusCode ?? 0));
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}

/**
 * Fires `count` requests at `rate` per second from `paths` (round robin) and returns each one's latency
 * in ms, measured from its scheduled start, and how many failed (non-2xx or network error).
 */
async function openLoop(base: string, paths: readonly string[], token: string, rate: number, count: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  const byPath: Record<string, number[]> = {};
  let errors = 0;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const path = paths[i % paths.length] as string;
    pending.push(
      get(agent, `${base}${path}`, token)
        .then((status) => {
          if (status < 200 || status >= 300) errors++;
        })
        .catch(() => {
          errors++;
        })
        .finally(() => {
          const ms = performance.now() - due;
          latencies.push(ms);
          if (process.env.BENCH_API_DEBUG) {
            const kind = path.replace(/0x[0-9a-f]{40}/, ":a").replace(/\d{7}/, ":i");
            byPath[kind] = [...(byPath[kind] ?? []), ms];
          }
        }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  if (process.env.BENCH_API_DEBUG) {
    for (const [kind, ms] of Object.entries(byPath)) {
      console.error(`${kind}: p50 ${quantile(ms, 0.5).toFixed(1)} p99 ${quantile(ms, 0.99).toFixed(1)} ms`);
    }
  }
  return { latencies, errors };
}

export async function measureApi(): Promise<{ apiP99Ms_200rps: number; requests: number; errors: number }> {
  const dir = mkdtempSync(join(tmpdir(), "peergrid-bench-api-"));
  const community = await openCommunity(
    communityOptions({ "data-dir": dir, households: "4", start: "2026-06-15T11:00:00+02:00" }, {}),
    true,
  );
  const db = await openDb({}, storeMigrations);
  let app: FastifyInstance | undefined;
  try {
    const households = [
      ...community.community.households.map((h) => h.account.address.toLowerCase()),
      ...Array.from({ length: HOUSEHOLDS - community.community.households.length }, () =>
        privateKeyToAccount(generatePrivateKey()).address.toLowerCase(),
      ),
    ];
    const intervalSeconds = community.deployment.intervalSeconds;
    const firstInterval = 1_780_272_000n / intervalSeconds; // 2026-06-01T00:00Z
    await insertIndexFixture(db, { households, firstInterval, intervals: INTERVALS, intervalSeconds });
    const lastInterval = firstInterval + BigInt(INTERVALS - 1);
    const nowSeconds = (lastInterval + 2n) * intervalSeconds;
    app = await buildApp({
      db,
      chain: community.chain,
      deployment: community.deployment,
      now: () => nowSeconds + BigInt(Math.floor(performance.now() / 1000)),
      live: createLiveHub(),
      indexerStatus: async () => ({ indexedBlock: 1_000n, headBlock: 1_001n }),
    });
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    const token = await signIn(app, community.community.operator, new Date(Number(nowSeconds) * 1000));
    const account = (k: number) => households[k % households.length] as string;
    const interval = (k: number) => lastInterval - BigInt((k * 37) % INTERVALS);
    const paths: string[] = [];
    for (let k = 0; k < 192; k++) {
      paths.push(
        "/api/intervals?limit=20",
        `/api/intervals/${interval(k)}`,
        `/api/accounts/${account(k)}`,
        `/api/accounts/${account(k + 7)}/statements?month=2026-06`,
        `/api/intervals/${interval(k + 3)}/trades`,
        `/api/accounts/${account(k + 11)}/trades?limit=20`,
        "/api/kpis?from=2026-06-02",
        "/api/health",
      );
    }
    await openLoop(base, paths, token, RATE_PER_SECOND, RATE_PER_SECOND * WARMUP_SECONDS);
    // The index changes while the API serves: a new block every INDEX_CHANGE_MS, as the indexer adds one with
    // every settlement it records. Each change invalidates every remembered answer (src/api/indexCache.ts).
    let block = 1_000_000n;
    const indexer = setInterval(() => {
      block++;
      void db.query("insert into chain_blocks (number, hash, parent_hash, timestamp, block_number) values ($1, $2, $3, $4, $1)", [
        block,
        `0x${block.toString(16).padStart(64, "0")}`,
        `0x${(block - 1n).toString(16).padStart(64, "0")}`,
        nowSeconds,
      ]);
    }, INDEX_CHANGE_MS);
    const delay = monitorEventLoopDelay({ resolution: 5 });
    const cpu = process.cpuUsage();
    delay.enable();
    const { latencies, errors } = await openLoop(base, paths, token, RATE_PER_SECOND, RATE_PER_SECOND * MEASURE_SECONDS);
    delay.disable();
    clearInterval(indexer);
    if (process.env.BENCH_API_DEBUG) {
      const used = process.cpuUsage(cpu);
      console.error(
        `cpu ${((used.user + used.system) / 1e6 / MEASURE_SECONDS).toFixed(2)} cores; event loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`,
      );
    }
    return { apiP99Ms_200rps: Math.round(quantile(latencies, 0.99) * 100) / 100, requests: latencies.length, errors };
  } finally {
    await app?.close();
    await db.close();
    await community.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  measureApi().then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
