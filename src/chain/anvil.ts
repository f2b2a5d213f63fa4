import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { PeerGridError } from "./errors.ts";

/** Anvil's first development account, funded at genesis on the embedded chain and on any test anvil. */
export const ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/**
 * The embedded chain's block gas limit unless told otherwise (above mainnet's 30M). A chain keeps the
 * limit it was created with: every block's base fee follows from it, so a replay must use the same.
 */
export const DEFAULT_BLOCK_GAS_LIMIT = 100_000_000n;

export type EmbeddedNode = { rpcUrl: string; stop(): Promise<void>; process: ChildProcess };

/** Path of the anvil binary shipped in the npm package @foundry-rs/anvil-linux-amd64 (or the platform's). */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  const platform = `${process.platform === "darwin" ? "darwin" : process.platform === "win32" ? "win32" : "linux"}-${process.arch === "arm64" ? "arm64" : "amd64"}`;
  const pkg = require.resolve(`@foundry-rs/anvil-${platform}/package.json`);
  return join(dirname(pkg), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Blocks of history a node started with `recentHistoryOnly` keeps. */
export const RECENT_BLOCKS = 256;

/**
 * Starts anvil as a child process with manual mining (the application mines every block, which is
 * what keeps bursts of transactions from stalling and what the block journal replays). The node keeps
 * its state in memory; durability comes from the journal, not from anvil's own state file.
 * The child stays in our process group, so killing the group kills it too.
 * @example const node = await startAnvil({ chainId: 31337, genesisTimestamp: 1_781_500_000n }); ... await node.stop();
 */
export async function startAnvil(options: {
  chainId: number;
  genesisTimestamp: bigint;
  port?: number;
  /** An anvil state dump (JSON) to start from. */
  loadState?: string;
  /** Block gas limit (default DEFAULT_BLOCK_GAS_LIMIT): no transaction can ask for more gas. */
  blockGasLimit?: bigint;
  /** The EVM rules (anvil's `--hardfork`); default anvil's own, the latest. */
  hardfork?: string;
  /**
   * Keep only recent history in memory (the last RECENT_BLOCKS blocks' states and transactions), for a
   * long simulation; an explorer or indexer needs the full history.
   */
  recentHistoryOnly?: boolean;
}): Promise<EmbeddedNode> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    anvilBinary(),
    [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--chain-id",
      String(options.chainId),
      "--timestamp",
      options.genesisTimestamp.toString(),
      "--no-mining",
      "--gas-limit",
      (options.blockGasLimit ?? DEFAULT_BLOCK_GAS_LIMIT).toString(),
      "--silent",
      ...(options.loadState ? ["--load-state", options.loadState] : []),
      ...(options.hardfork ? ["--hardfork", options.hardfork] : []),
      ...(options.recentHistoryOnly
        ? ["--prune-history", String(RECENT_BLOCKS), "--transaction-block-keeper", String(RECENT_BLOCKS)]
        : []),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const stopOnExit = () => child.kill("SIGKILL");
  process.once("exit", stopOnExit);
  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new PeerGridError("the embedded chain (anvil) exited at start", { details: stderr.trim() });
    }
    try {
      const res = await fetch(rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new PeerGridError("the embedded chain (anvil) did not answer within 10 s", { details: stderr.trim() });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    rpcUrl,
    process: child,
    async stop() {
      process.removeListener("exit", stopOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
