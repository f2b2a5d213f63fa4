// A verification worker (see verifierPool.ts): checks the signatures of the readings it is sent.
import { parentPort } from "node:worker_threads";
import { type ReadingDomain, type SignedReading, verifyReading } from "../metering/reading.ts";

export type VerifyRequest = { id: number; domain: ReadingDomain; readings: SignedReading[] };
export type VerifyResponse = { id: number; valid: boolean[] };

parentPort?.on("message", ({ id, domain, readings }: VerifyRequest) => {
  parentPort?.postMessage({ id, valid: readings.map((r) => verifyReading(domain, r)) } satisfies VerifyResponse);
});
