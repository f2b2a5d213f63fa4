import { Worker } from "node:worker_threads";
import type { ReadingDomain, SignedReading } from "../metering/reading.ts";
import { type ReadingVerifier, verifyInThread } from "./gateway.ts";
import type { VerifyRequest, VerifyResponse } from "./verifyWorker.ts";

export type VerifierPool = { verify: ReadingVerifier; close(): Promise<void> };

/** Below this many readings a batch is verified in the calling thread: a round trip costs more. */
const MIN_OFFLOAD = 32;

/**
 * Signature verification on worker threads: a batch is split evenly over `threads` workers, so the main
 * thread stays free for HTTP, JSON and the store. The bench (bench/ingest.ts) measures both ways.
 * @example const pool = createVerifierPool(); createGateway({ …, verify: pool.verify }); … await pool.close()
 */
export function createVerifierPool(threads = 2): VerifierPool {
  const workers = Array.from({ length: threads }, () => new Worker(new URL("./verifyWorker.mjs", import.meta.url)));
  const pending = new Map<number, { resolve: (valid: boolean[]) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let failed: Error | undefined;
  for (const worker of workers) {
    worker.unref();
    worker.on("message", ({ id, valid }: VerifyResponse) => {
      pending.get(id)?.resolve(valid);
      pending.delete(id);
    });
    worker.on("error", (error) => {
      failed = error;
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    });
  }
  const run = (worker: Worker, domain: ReadingDomain, readings: SignedReading[]) =>
    new Promise<boolean[]>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, domain, readings } satisfies VerifyRequest);
    });
  let turn = 0;

  const verify: ReadingVerifier = async (domain, readings) => {
    if (failed) throw failed;
    if (readings.length < MIN_OFFLOAD) return verifyInThread(domain, readings);
    const size = Math.ceil(readings.length / workers.length);
    const parts = await Promise.all(
      workers.map((_, k) => {
        const worker = workers[(turn + k) % workers.length] as Worker;
        return run(worker, domain, readings.slice(k * size, (k + 1) * size));
      }),
    );
    turn++;
    return parts.flat();
  };
  return {
    verify,
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
