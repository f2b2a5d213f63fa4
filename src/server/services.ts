import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../api/app.ts";
import { authSchema } from "../api/auth.ts";
import { profilesSchema } from "../api/profiles.ts";
import { type DemoAccount, registerDemoRoutes } from "../api/routes/demo.ts";
import { defaultWebRoot } from "../api/web.ts";
import type { ChainClient } from "../chain/chainClient.ts";
import type { Deployment } from "../chain/deploy.ts";
import { createGateway, type Gateway } from "../gateway/gateway.ts";
import { type MqttIngest, startMqttIngest } from "../gateway/mqtt.ts";
import { registerGatewayRoutes } from "../gateway/routes.ts";
import { gatewaySchema } from "../gateway/schema.ts";
import { createVerifierPool } from "../gateway/verifierPool.ts";
import { createIndexer, type Indexer } from "../indexer/indexer.ts";
import { indexerSchema, meterStatusSchema, readingsSchema } from "../indexer/schema.ts";
import { type Db, openDb } from "../store/db.ts";

/** Every table PeerGrid keeps: the index (rebuildable from the chain), received readings, sign-in sessions. */
export const storeMigrations = [indexerSchema, gatewaySchema, authSchema, readingsSchema, profilesSchema, meterStatusSchema];

export type StoreOptions = {
  dataDir: string;
  /** A PostgreSQL server (DATABASE_URL); otherwise the embedded store in `<dataDir>/store`. */
  databaseUrl: string | undefined;
};

/** Opens PeerGrid's store with every migration applied. */
export function openStore(options: StoreOptions): Promise<Db> {
  return openDb({ databaseUrl: options.databaseUrl, dataDir: join(options.dataDir, "store") }, storeMigrations);
}

/**
 * The chain's clock as a synchronous value for the gateway: the latest block's timestamp, refreshed in
 * the background (and on demand). On the embedded chain that is the accelerated market time; on a real
 * network it follows the wall clock within a block time.
 */
export type ChainClock = { now(): bigint; refresh(): Promise<bigint>; stop(): void };

export async function startChainClock(chain: ChainClient, everyMs = 1000): Promise<ChainClock> {
  let latest = await chain.now();
  const refresh = async () => {
    const t = await chain.now();
    if (t > latest) latest = t;
    return latest;
  };
  const timer = setInterval(() => void refresh().catch(() => {}), everyMs);
  timer.unref();
  return { now: () => latest, refresh, stop: () => clearInterval(timer) };
}

/**
 * When the keeper takes an interval's readings from a gateway that receives them from real meters: late
 * in the reading window (`keeperDelaySeconds` after the interval's end), leaving `window / 5` (at least
 * 1 s, at most 60 s) to submit them. The gateway stops accepting 2 s before that (`gatewayMarginSeconds`
 * before the window closes): its clock follows the chain's within a second, and a reading it acknowledged
 * after the keeper's moment would never reach the chain.
 */
export function readingSchedule(readingWindowSeconds: bigint): { keeperDelaySeconds: bigint; gatewayMarginSeconds: bigint } {
  const fifth = readingWindowSeconds / 5n;
  const margin = fifth < 1n ? 1n : fifth > 60n ? 60n : fifth;
  const keeperDelaySeconds = readingWindowSeconds > margin ? readingWindowSeconds - margin : 0n;
  return { keeperDelaySeconds, gatewayMarginSeconds: readingWindowSeconds - keeperDelaySeconds + 2n };
}

export type ServicesOptions = StoreOptions & {
  chain: ChainClient;
  deployment: Deployment;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** MQTT broker of the meter gateway (MQTT_URL); none: HTTP only. */
  mqttUrl: string | undefined;
  /** Blocks the indexer stays below the head (a real network's reorganisation depth). */
  confirmations?: number;
  /** The gateway refuses readings this close to the end of their window (see readingSchedule; default 0). */
  gatewayMarginSeconds?: bigint;
  log: (message: string) => void;
  /** The web dashboard: the built app served at `/` (default web/dist; null: none). */
  webRoot?: string | null;
  /** DEMO ONLY: the embedded demo's wallets, served at GET /api/demo/accounts. */
  demoAccounts?: readonly DemoAccount[];
};

export type Services = {
  db: Db;
  indexer: Indexer;
  gateway: Gateway;
  clock: ChainClock;
  app: FastifyInstance;
  /** Where the API listens, e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
};

/**
 * The server around a deployed community: the store, the indexer following the chain, the meter gateway
 * (HTTP, and MQTT when a broker is given) and the HTTP API with its live feed, listening on host:port.
 * @example const services = await startServices({ chain, deployment, dataDir, databaseUrl: process.env.DATABASE_URL, host: "127.0.0.1", port: 8080, mqttUrl: undefined, log: console.error })
 */
export async function startServices(options: ServicesOptions): Promise<Services> {
  const { chain, deployment, log } = options;
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch((e: unknown) => log(`while stopping: ${(e as Error).message}`));
  };
  try {
    const db = await openStore(options);
    closers.push(() => db.close());
    const indexer = createIndexer({ db, chain, deployment, confirmations: options.confirmations ?? 0, log });
    await indexer.syncOnce();
    const following = new AbortController();
    const follow = indexer.follow({ signal: following.signal, pollMs: 500 });
    closers.push(async () => {
      following.abort();
      await follow;
    });
    const clock = await startChainClock(chain);
    closers.push(async () => clock.stop());
    const verifier = createVerifierPool();
    closers.push(() => verifier.close());
    const gateway = createGateway({
      db,
      chain,
      deployment,
      now: clock.now,
      log,
      verify: verifier.verify,
      windowMarginSeconds: options.gatewayMarginSeconds ?? 0n,
    });
    let mqtt: MqttIngest | undefined;
    if (options.mqttUrl) {
      mqtt = await startMqttIngest({ url: options.mqttUrl, gateway, log });
      closers.push(() => (mqtt as MqttIngest).close());
    }
    const app = await buildApp({
      db,
      chain,
      deployment,
      now: clock.now,
      authNow: () => BigInt(Math.floor(Date.now() / 1000)),
      live: { subscribe: (listener) => indexer.subscribe((event) => listener({ type: event.type, data: event })) },
      indexerStatus: async () => ({
        indexedBlock: (await indexer.cursor())?.number ?? 0n,
        headBlock: await chain.public.getBlockNumber(),
      }),
      plugins: [
        (routes) => registerGatewayRoutes(routes, gateway),
        (routes) => options.demoAccounts && registerDemoRoutes(routes, options.demoAccounts),
      ],
      webRoot: options.webRoot === null ? undefined : (options.webRoot ?? defaultWebRoot),
      // Sign-in messages name the address the browser shows (a wallet warns when they differ).
      ...(options.port === 0
        ? {}
        : { siweDomain: `${options.host}:${options.port}`, siweUri: `http://${options.host}:${options.port}` }),
    });
    const address = await app.listen({ host: options.host, port: options.port });
    closers.push(() => app.close());
    return { db, indexer, gateway, clock, app, url: address, close };
  } catch (error) {
    await close();
    throw error;
  }
}
