// Test helpers of the gateway's tests: a real community on a real embedded chain, and a minimal Fastify app.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ApiError } from "../api/errors.ts";
import { communityRegistryAbi } from "../chain/generated/contracts.ts";
import { callTx } from "../chain/market.ts";
import { type OpenCommunity, openCommunity } from "../cli/openCommunity.ts";
import { communityOptions } from "../cli/options.ts";
import { type MeterKey, meterKey } from "../metering/reading.ts";
import type { Gateway } from "./gateway.ts";
import { registerGatewayRoutes } from "./routes.ts";

/** A demo community in a temporary directory; `close` removes it. */
export async function openTestCommunity(seed: string, households: number): Promise<OpenCommunity> {
  const dir = mkdtempSync(join(tmpdir(), "peergrid-gateway-"));
  const options = communityOptions(
    { "data-dir": dir, households: String(households), seed, start: "2026-06-15T11:00:00+02:00" },
    {},
  );
  const c = await openCommunity(options, true);
  return {
    ...c,
    async close() {
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Registers a new participant with a new meter (now, on chain); `deactivate` then retires the meter. */
export async function registerMeter(c: OpenCommunity, deactivate = false): Promise<MeterKey> {
  const owner = privateKeyToAccount(generatePrivateKey()).address;
  const meter = meterKey(generatePrivateKey());
  const op = c.community.operator;
  const registry = c.deployment.registry;
  await c.chain.send([callTx(op, registry, communityRegistryAbi, "registerParticipant", [owner, 1])]);
  await c.chain.send([callTx(op, registry, communityRegistryAbi, "registerMeter", [meter.address, owner, 1])]);
  if (deactivate) {
    const id = await c.chain.public.readContract({
      address: registry,
      abi: communityRegistryAbi,
      functionName: "meterIdOf",
      args: [meter.address as Address],
    });
    await c.chain.send([callTx(op, registry, communityRegistryAbi, "deactivateMeter", [id])]);
  }
  return meter;
}

/** A minimal app around the gateway's routes, with the API's error body. */
export async function gatewayTestApp(gateway: Gateway): Promise<FastifyInstance> {
  const app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error instanceof ApiError) return reply.status(error.status).send(error.toJSON());
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((v) => ({ path: v.instancePath, message: v.message ?? "invalid" }));
      return reply.status(400).send(new ApiError(400, "validation_failed", "the request is invalid", { details }).toJSON());
    }
    const status = error.statusCode ?? 500;
    const code = status === 500 ? "internal" : (error.code ?? "bad_request").toLowerCase();
    return reply.status(status).send(new ApiError(status, code, error.message).toJSON());
  });
  registerGatewayRoutes(app, gateway);
  await app.ready();
  return app;
}
