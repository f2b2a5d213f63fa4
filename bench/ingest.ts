// The meter gateway's ingest rate: signed readings accepted, verified and stored per second through
// HTTP batches (POST /api/readings on a local Fastify server, PGlite on disk), and how many were lost
// (sent and answered, but not in the store afterwards). Signing happens before the clock starts.
//
//   npx tsx bench/ingest.ts      (or call measureIngest() from bench/run.ts)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCommunity } from "../src/cli/openCommunity.ts";
import { communityOptions } from "../src/cli/options.ts";
import { intervalBounds } from "../src/core/interval.ts";
import { demoReadings } from "../src/demo/demoCommunity.ts";
import { createGateway, type ReadingVerifier } from "../src/gateway/gateway.ts";
import { gatewaySchema } from "../src/gateway/schema.ts";
import { gatewayTestApp } from "../src/gateway/testSupport.ts";
import { createVerifierPool } from "../src/gateway/verifierPool.ts";
import { toWire, type WireReading } from "../src/gateway/wire.ts";
import { openDb } from "../src/store/db.ts";

const HOUSEHOLDS = Number(process.env.BENCH_INGEST_HOUSEHOLDS ?? 1_000);
const INTERVALS = Number(process.env.BENCH_INGEST_INTERVALS ?? 15);
const BATCH = 500;
const CONCURRENT_REQUESTS = 4;

export type IngestRun = { ingestReadingsPerSecond: number; readings: number; lost: number };

/**
 * Posts HOUSEHOLDS × INTERVALS signed readings in batches of 500, four requests at a time, and counts
 * what the store holds afterwards.
 * @example const { ingestReadingsPerSecond, lost } = await measureIngest()
 */
export async function measureIngest(): Promise<IngestRun> {
  const dir = mkdtempSync(join(tmpdir(), "peergrid-bench-ingest-"));
  // A reading window as long as the whole run, so every interval's readings are accepted at one gateway time.
  const windowSeconds = 900 * (INTERVALS + 1);
  const options = communityOptions(
    {
      "data-dir": join(dir, "community"),
      households: String(HOUSEHOLDS),
      seed: "bench-ingest",
      start: "2026-06-15T12:00:00+02:00",
      "reading-window-seconds": String(windowSeconds),
    },
    {},
  );
  const c = await openCommunity({ ...options, blockGasLimit: 1_000_000_000n }, true);
  const db = await openDb({ dataDir: join(dir, "store") }, [gatewaySchema]);
  const pool = process.env.BENCH_INGEST_WORKERS === "0" ? undefined : createVerifierPool();
  const verify: ReadingVerifier | undefined = pool?.verify;
  try {
    const domain = { chainId: c.chain.chainId, verifyingContract: c.deployment.market };
    const first = c.deployment.firstInterval;
    const last = first + BigInt(INTERVALS) - 1n;
    const now = intervalBounds(last, c.deployment).endsAt;
    const gateway = createGateway({ db, chain: c.chain, deployment: c.deployment, now: () => now, verify });
    const app = await gatewayTestApp(gateway);
    const address = await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const readings: WireReading[] = [];
      for (let i = first; i <= last; i++) readings.push(...demoReadings(c.community, domain, c.timeline, i).map(toWire));
      const bodies: string[] = [];
      for (let k = 0; k < readings.length; k += BATCH) bodies.push(JSON.stringify({ readings: readings.slice(k, k + BATCH) }));

      let answered = 0;
      let next = 0;
      const post = async () => {
        for (let k = next++; k < bodies.length; k = next++) {
          const response = await fetch(`${address}/api/readings`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: bodies[k],
          });
          const body = (await response.json()) as { accepted: number; rejected: number; results: unknown[] };
          if (response.status !== 200 || body.rejected > 0) {
            throw new Error(`batch ${k}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 500)}`);
          }
          answered += body.accepted;
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, post));
      const seconds = (performance.now() - started) / 1000;
      const [row] = await db.query<{ n: bigint }>("select count(*)::int8 as n from gateway_readings");
      const stored = Number(row?.n ?? 0n);
      if (answered !== readings.length) throw new Error(`only ${answered} of ${readings.length} readings were accepted`);
      return {
        ingestReadingsPerSecond: Math.round(readings.length / seconds),
        readings: readings.length,
        lost: readings.length - stored,
      };
    } finally {
      await app.close();
    }
  } finally {
    await pool?.close();
    await db.close();
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const run = await measureIngest();
  console.log(
    `gateway ingest: ${run.ingestReadingsPerSecond} readings/s (${run.readings} readings in batches of ${BATCH}, ${CONCURRENT_REQUESTS} requests at a time), lost ${run.lost}`,
  );
}
