import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { addressOut, dec, decimalSchema } from "../schemas.ts";

/** Health and the community's contracts. */
export function registerStatusRoutes(app: ZodApp, ctx: ApiContext) {
  const { deps } = ctx;
  app.get(
    "/api/health",
    {
      schema: {
        tags: ["status"],
        summary: "Liveness: the store answers, and how far the index is behind the chain (503 when the store fails)",
        response: {
          200: z.object({
            status: z.enum(["ok", "degraded"]),
            chainId: z.number(),
            headBlock: decimalSchema.nullable(),
            indexedBlock: decimalSchema.nullable(),
            lagBlocks: decimalSchema.nullable(),
            db: z.enum(["ok", "error"]),
          }),
          503: z.object({
            status: z.literal("error"),
            chainId: z.number(),
            headBlock: decimalSchema.nullable(),
            indexedBlock: decimalSchema.nullable(),
            lagBlocks: decimalSchema.nullable(),
            db: z.enum(["ok", "error"]),
          }),
        },
      },
    },
    async (_request, reply) => {
      const [db, index] = await Promise.all([
        deps.db.query("select 1").then(
          () => "ok" as const,
          () => "error" as const,
        ),
        deps.indexerStatus().catch(() => undefined),
      ]);
      const body = {
        chainId: deps.chain.chainId,
        headBlock: index ? dec(index.headBlock) : null,
        indexedBlock: index ? dec(index.indexedBlock) : null,
        lagBlocks: index ? dec(index.headBlock - index.indexedBlock) : null,
        db,
      };
      if (db === "error") return reply.status(503).send({ status: "error" as const, ...body });
      return { status: index ? ("ok" as const) : ("degraded" as const), ...body };
    },
  );
  app.get(
    "/api/contracts",
    {
      schema: {
        tags: ["status"],
        summary: "The chain, the community's contract addresses and the interval timing",
        response: {
          200: z.object({
            chainId: z.number(),
            registry: addressOut,
            market: addressOut,
            agreements: addressOut,
            settlementToken: addressOut,
            energyToken: addressOut,
            deployedAtBlock: decimalSchema,
            intervalSeconds: decimalSchema,
            readingWindowSeconds: decimalSchema,
            firstInterval: decimalSchema,
            currentInterval: decimalSchema,
          }),
        },
      },
    },
    async () => {
      const d = deps.deployment;
      return {
        chainId: d.chainId,
        registry: d.registry,
        market: d.market,
        agreements: d.agreements,
        settlementToken: d.settlementToken,
        energyToken: d.energyToken,
        deployedAtBlock: dec(d.deployedAtBlock),
        intervalSeconds: dec(d.intervalSeconds),
        readingWindowSeconds: dec(d.readingWindowSeconds),
        firstInterval: dec(d.firstInterval),
        currentInterval: dec(deps.now() / d.intervalSeconds),
      };
    },
  );
}
