import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { ChainClient } from "../chain/chainClient.ts";
import type { Deployment } from "../chain/deploy.ts";
import type { Db } from "../store/db.ts";
import type { Auth } from "./auth.ts";
import type { Identity, Role } from "./roles.ts";

/** The Fastify instance route modules get: zod schemas for validation, serialization and OpenAPI. */
export type ZodApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** A live update: "interval", "clearing", "trades", … with its JSON-ready data. */
export type LiveEvent = { type: string; data: unknown };

/** Where live updates come from (the keeper or the indexer publishes into it). */
export type LiveFeed = { subscribe(listener: (event: LiveEvent) => void): () => void };

export type IndexerStatus = { indexedBlock: bigint; headBlock: bigint };

export type ApiDeps = {
  db: Db;
  chain: ChainClient;
  deployment: Deployment;
  /** The market's clock (unix seconds; the chain's, accelerated on the embedded demo): statements' "current month", roles' cache. */
  now: () => bigint;
  /**
   * The sign-in clock (unix seconds; default `now`): nonces and sessions expire in real time even when the
   * market runs at 3,600× — a person approving a wallet prompt needs real seconds.
   */
  authNow?: () => bigint;
  live: LiveFeed;
  indexerStatus: () => Promise<IndexerStatus>;
  /** Sign-in domain and URI messages must name (default "localhost" and "http://localhost"). */
  siweDomain?: string;
  siweUri?: string;
  /** Session lifetime (default 24 h). */
  sessionSeconds?: bigint;
  /** How long roles read from the registry are reused (default 5 s of `now`). */
  roleCacheSeconds?: bigint;
  /** SSE heartbeat period (default 15,000 ms). */
  heartbeatMs?: number;
  /** More routes, e.g. the gateway's: `(app) => registerGatewayRoutes(app, …)`. Paths should start with /api. */
  plugins?: ((app: ZodApp) => void | Promise<void>)[];
  logger?: boolean;
  /** Check every response against its zod schema (tests; default off: it costs more than the queries). */
  validateResponses?: boolean;
};

/** What route modules share. */
export type ApiContext = {
  deps: ApiDeps;
  auth: Auth;
  roles: (account: `0x${string}`) => Promise<Role[]>;
  /** The signed-in caller of a request (Authorization: Bearer), or undefined when anonymous. */
  identify(request: FastifyRequest): Promise<Identity | undefined>;
  /**
   * `compute()`, or its answer from before if the index has not changed since (see indexCache.ts). Keys
   * are request URLs or names; authorization must be checked before, since the answer is shared.
   */
  fromIndex<T>(key: string, compute: () => Promise<T>): Promise<T>;
  /** Observers of the live feed (for the metrics). */
  liveClients: { count: number };
};
