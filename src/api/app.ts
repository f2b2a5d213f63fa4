import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Address } from "viem";
import { createAuth } from "./auth.ts";
import type { ApiContext, ApiDeps, ZodApp } from "./context.ts";
import { ApiError } from "./errors.ts";
import { createIndexCache } from "./indexCache.ts";
import { createMetrics } from "./metrics.ts";
import { createRoleReader, type Identity } from "./roles.ts";
import { registerAccountRoutes } from "./routes/accounts.ts";
import { registerAuthRoutes } from "./routes/auth.ts";
import { registerCommunityRoutes } from "./routes/community.ts";
import { registerExplorerRoutes } from "./routes/explorer.ts";
import { registerFundsRoutes } from "./routes/funds.ts";
import { registerGridRoutes } from "./routes/grid.ts";
import { registerHouseholdRoutes } from "./routes/household.ts";
import { registerIntervalRoutes } from "./routes/intervals.ts";
import { registerLiveRoutes } from "./routes/live.ts";
import { registerParticipantRoutes } from "./routes/participants.ts";
import { registerReadingRoutes } from "./routes/readings.ts";
import { registerRpcRoutes } from "./routes/rpc.ts";
import { registerStatusRoutes } from "./routes/status.ts";
import { registerWriteRoutes } from "./routes/writes.ts";
import { registerWeb } from "./web.ts";

export type { ApiDeps, LiveEvent, LiveFeed, ZodApp } from "./context.ts";

/**
 * The HTTP API: JSON over REST under /api, live updates as server-sent events (/api/live), the OpenAPI
 * document (/api/openapi.json) and its interactive page (/api/docs), Prometheus metrics (/metrics).
 * Every failure answers `{ error: { code, message, details?, hint? } }`.
 * @example const app = await buildApp({ db, chain, deployment, now, live, indexerStatus }); await app.listen({ port: 8080 })
 */
export async function buildApp(
  deps: ApiDeps & { /** The built dashboard (web/dist) to serve at `/`; none: API only. */ webRoot?: string },
): Promise<FastifyInstance> {
  const base = Fastify({ logger: deps.logger ?? false, return503OnClosing: true, forceCloseConnections: true });
  base.setValidatorCompiler(validatorCompiler);
  // Responses are built from typed rows; checking each against its schema again costs more than the
  // query behind it. Tests turn the check on (validateResponses) so a schema never drifts from the code.
  base.setSerializerCompiler(deps.validateResponses ? serializerCompiler : () => (data) => JSON.stringify(data));
  const app = base.withTypeProvider<ZodTypeProvider>() as unknown as ZodApp;

  const auth = createAuth(
    deps.db,
    {
      domain: deps.siweDomain ?? "localhost",
      uri: deps.siweUri ?? "http://localhost",
      chainId: deps.chain.chainId,
      ...(deps.sessionSeconds !== undefined ? { sessionSeconds: deps.sessionSeconds } : {}),
    },
    deps.authNow ?? deps.now,
  );
  const roles = createRoleReader(deps.chain, deps.deployment, deps.now, deps.roleCacheSeconds ?? 5n);
  const identities = new WeakMap<FastifyRequest, Promise<Identity | undefined>>();
  const identify = (request: FastifyRequest): Promise<Identity | undefined> => {
    let found = identities.get(request);
    if (!found) {
      found = (async () => {
        const header = request.headers.authorization;
        if (!header) return undefined;
        const match = /^Bearer\s+(\S+)$/i.exec(header);
        if (!match?.[1]) throw new ApiError(401, "auth_malformed", "the Authorization header must be `Bearer <token>`");
        const session = await auth.session(match[1]);
        if (!session) {
          throw new ApiError(401, "session_invalid", "the session token is unknown or expired", { hint: "sign in again" });
        }
        return { address: session.address as Address, roles: await roles(session.address) };
      })();
      identities.set(request, found);
    }
    return found;
  };
  const indexCache = createIndexCache(deps.db);
  const ctx: ApiContext = { deps, auth, roles, identify, fromIndex: indexCache.get, liveClients: { count: 0 } };
  const metrics = createMetrics(ctx);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ApiError) return reply.status(error.status).send(error.toJSON());
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = (error as { validationContext?: string }).validationContext ?? "request";
      const details = error.validation.map((v) => ({
        path: [where, ...v.instancePath.split("/").filter((p) => p !== "")].join("."),
        message: v.message ?? "invalid",
      }));
      return reply.status(400).send(new ApiError(400, "validation_failed", "the request is not valid", { details }).toJSON());
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" ? "unsupported_media_type" : "bad_request";
      return reply.status(status).send(new ApiError(status, code, error.message).toJSON());
    }
    request.log.error({ err: error }, "request failed");
    if (!deps.logger) process.stderr.write(`peergrid api: ${request.method} ${request.url} failed: ${error.stack ?? error}\n`);
    return reply.status(500).send(new ApiError(500, "internal", "internal error; it was logged").toJSON());
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(new ApiError(404, "route_not_found", `no route ${request.method} ${request.url.split("?")[0]}`).toJSON()),
  );
  app.addHook("onRequest", async (request) => {
    (request as { startedAt?: bigint }).startedAt = process.hrtime.bigint();
  });
  app.addHook("onResponse", async (request, reply) => {
    const started = (request as { startedAt?: bigint }).startedAt;
    if (started === undefined) return;
    const route = request.routeOptions.url ?? "unmatched";
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.requestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "PeerGrid API",
        description:
          "Peer-to-peer neighbourhood electricity market. Sign in with Ethereum (EIP-4361), then send `Authorization: Bearer <token>`. " +
          "Writes carry a transaction signed by your own wallet, which the server checks and relays. Integers (energy in Wh, money in " +
          "the settlement token's smallest unit) are decimal strings.",
        version: "1.0.0",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/api/docs" });
  app.get("/api/openapi.json", { schema: { hide: true } }, async (_request, reply) =>
    reply.type("application/json").send(app.swagger()),
  );
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  registerAuthRoutes(app, ctx);
  registerStatusRoutes(app, ctx);
  registerParticipantRoutes(app, ctx);
  registerIntervalRoutes(app, ctx);
  registerGridRoutes(app, ctx);
  registerAccountRoutes(app, ctx);
  registerReadingRoutes(app, ctx);
  registerHouseholdRoutes(app, ctx);
  registerCommunityRoutes(app, ctx);
  registerExplorerRoutes(app, ctx);
  registerLiveRoutes(app, ctx);
  registerWriteRoutes(app, ctx);
  registerFundsRoutes(app, ctx);
  registerRpcRoutes(app, ctx);
  for (const plugin of deps.plugins ?? []) await plugin(app);
  if (deps.webRoot !== undefined) await registerWeb(app as unknown as FastifyInstance, deps.webRoot);
  await app.ready();
  return app as unknown as FastifyInstance;
}
