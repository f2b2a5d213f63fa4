import { resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { PeerGridError } from "../chain/errors.ts";
import type { CommunityOptions } from "./openCommunity.ts";

/** Options every command that opens a community understands. */
export const communityOptionSpec = {
  "data-dir": { type: "string" },
  "rpc-url": { type: "string" },
  seed: { type: "string" },
  households: { type: "string" },
  start: { type: "string" },
  "interval-seconds": { type: "string" },
  "reading-window-seconds": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

export const communityOptionHelp = `
Chain and community:
  --data-dir <dir>               where the embedded chain and the community live (default .peergrid,
                                 or $PEERGRID_DATA_DIR)
  --rpc-url <url>                use this EVM JSON-RPC node instead of the embedded chain
                                 (or $PEERGRID_RPC_URL); $PEERGRID_FUNDER_KEY pays the demo accounts' gas
  --households <n>               households in a new demo community (default 20)
  --seed <text>                  seed of a new demo community: same seed, same community (default "demo")
  --start <iso time>             simulated start of a new community (default 2026-06-15T09:00:00+02:00)
  --interval-seconds <n>         market interval length, at first deployment (default 900)
  --reading-window-seconds <n>   how long readings are accepted after an interval ends (default 300)
  -h, --help                     show this help`;

/** Parses a non-negative number option, with an error that names the option. */
export function nonNegative(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new PeerGridError(`--${name} must be a number ≥ 0, got "${value}"`);
  }
  return n;
}

/** Parses a positive integer option, with an error that names the option. */
export function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) <= 0) {
    throw new PeerGridError(`--${name} must be a positive whole number, got "${value}"`);
  }
  return Number(value);
}

/** The demo community's defaults, used when neither a flag nor the data directory says otherwise. */
export const communityDefaults = { seed: "demo", households: 20, start: "2026-06-15T09:00:00+02:00" } as const;

function parseStart(text: string): bigint {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new PeerGridError(`--start must be an ISO date and time, got "${text}"`);
  return BigInt(Math.floor(ms / 1000));
}

/**
 * Turns parsed options and the environment into CommunityOptions. Seed, household count and start are
 * left undefined when not given, so an existing community's own settings apply.
 */
export function communityOptions(values: Record<string, string | boolean | undefined>, env = process.env): CommunityOptions {
  const str = (k: string) => values[k] as string | undefined;
  const funderKey = env.PEERGRID_FUNDER_KEY;
  if (funderKey !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(funderKey)) {
    throw new PeerGridError("PEERGRID_FUNDER_KEY must be a 32-byte hex private key starting with 0x");
  }
  const households = str("households");
  const start = str("start");
  return {
    dataDir: resolve(str("data-dir") ?? env.PEERGRID_DATA_DIR ?? ".peergrid"),
    rpcUrl: str("rpc-url") ?? env.PEERGRID_RPC_URL,
    seed: str("seed"),
    households: households === undefined ? undefined : positiveInteger("households", households, 0),
    startAt: start === undefined ? undefined : parseStart(start),
    intervalSeconds: BigInt(positiveInteger("interval-seconds", str("interval-seconds"), 900)),
    readingWindowSeconds: BigInt(positiveInteger("reading-window-seconds", str("reading-window-seconds"), 300)),
    funderKey: funderKey as `0x${string}` | undefined,
  };
}

/** Seed, households and start: the flag, else what the data directory recorded, else the default. */
export function resolveCommunitySettings(
  options: CommunityOptions,
  saved: { seed: string; households: number; startAt: string } | undefined,
): { seed: string; households: number; startAt: bigint } {
  const resolved = {
    seed: options.seed ?? saved?.seed ?? communityDefaults.seed,
    households: options.households ?? saved?.households ?? communityDefaults.households,
    startAt: options.startAt ?? (saved ? BigInt(saved.startAt) : parseStart(communityDefaults.start)),
  };
  if (
    saved &&
    (resolved.seed !== saved.seed || resolved.households !== saved.households || resolved.startAt.toString() !== saved.startAt)
  ) {
    throw new PeerGridError(
      `${options.dataDir} holds a community of ${saved.households} households (seed "${saved.seed}", start ${saved.startAt}), not ${resolved.households} (seed "${resolved.seed}", start ${resolved.startAt})`,
      { hint: "leave out --households, --seed and --start to use the recorded ones, or use another --data-dir" },
    );
  }
  return resolved;
}

/** parseArgs with errors turned into PeerGridErrors that point at --help. */
export function parseCommandArgs<T extends ParseArgsConfig["options"]>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    throw new PeerGridError(`peergrid ${command}: ${(error as Error).message}`, { hint: `run \`peergrid ${command} --help\`` });
  }
}

/** Options of the commands that run the server. */
export const serverOptionSpec = {
  host: { type: "string" },
  port: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

export const serverOptionHelp = `
Server:
  --host <address>               where the API listens (default 127.0.0.1)
  --port <n>                     its port (default 8080; 0 picks a free one)
  $DATABASE_URL                  postgres://… keeps the index in PostgreSQL instead of the embedded
                                 store under the data directory
  $MQTT_URL                      mqtt://host:port: the meter gateway also takes readings over MQTT`;

/** The server's settings from its options and the environment. */
export function serverOptions(values: Record<string, string | boolean | undefined>, env = process.env) {
  const port = values.port as string | undefined;
  if (port !== undefined && (!/^\d+$/.test(port) || Number(port) > 65_535)) {
    throw new PeerGridError(`--port must be a whole number from 0 to 65535, got "${port}"`);
  }
  return {
    host: (values.host as string | undefined) ?? "127.0.0.1",
    port: port === undefined ? 8080 : Number(port),
    databaseUrl: env.DATABASE_URL || undefined,
    mqttUrl: env.MQTT_URL || undefined,
  };
}
