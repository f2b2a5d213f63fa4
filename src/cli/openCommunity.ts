import { join } from "node:path";
import type { Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_DEV_KEY } from "../chain/anvil.ts";
import { type ChainClient, createChainClient } from "../chain/chainClient.ts";
import { type Deployment, deployPeerGrid } from "../chain/deploy.ts";
import { openEmbeddedChain } from "../chain/embeddedChain.ts";
import { PeerGridError } from "../chain/errors.ts";
import { readJsonFile, writeJsonFileAtomic } from "../chain/jsonFile.ts";
import { intervalAt } from "../core/interval.ts";
import { createDemoCommunity, type DemoCommunity, type DemoTimeline, demoTariffs } from "../demo/demoCommunity.ts";
import { fundDemoAccounts, onboardDemoCommunity } from "../demo/onboardDemoCommunity.ts";
import { resolveCommunitySettings } from "./options.ts";

export type CommunityOptions = {
  dataDir: string;
  rpcUrl: string | undefined;
  /** Undefined: the data directory's community, or the default for a new one. */
  seed: string | undefined;
  households: number | undefined;
  /** Simulated start of the community (unix seconds). */
  startAt: bigint | undefined;
  intervalSeconds: bigint;
  readingWindowSeconds: bigint;
  /** Key that pays gas money to the demo accounts on an external chain. */
  funderKey: `0x${string}` | undefined;
  /** Block gas limit of a new embedded chain; internal (the bench's), no flag sets it. */
  blockGasLimit?: bigint;
};

export type OpenCommunity = {
  chain: ChainClient;
  deployment: Deployment;
  community: DemoCommunity;
  timeline: DemoTimeline;
  close(): Promise<void>;
};

type DeploymentFile = Record<keyof Deployment, string | number>;

function parseDeployment(file: DeploymentFile): Deployment {
  return {
    chainId: Number(file.chainId),
    registry: file.registry as Address,
    settlementToken: file.settlementToken as Address,
    energyToken: file.energyToken as Address,
    agreements: file.agreements as Address,
    market: file.market as Address,
    deployedAtBlock: BigInt(file.deployedAtBlock),
    intervalSeconds: BigInt(file.intervalSeconds),
    readingWindowSeconds: BigInt(file.readingWindowSeconds),
    firstInterval: BigInt(file.firstInterval),
  };
}

/**
 * Opens the chain (embedded by default, or the node at `rpcUrl`), and the community kept in the data
 * directory. With `create`, deploys and onboards whatever is missing; every step is idempotent, so a
 * start interrupted anywhere completes on the next start.
 */
export async function openCommunity(options: CommunityOptions, create: boolean): Promise<OpenCommunity> {
  const { dataDir } = options;
  const communityFile = join(dataDir, "community.json");
  const saved = readJsonFile<{ seed: string; households: number; startAt: string }>(communityFile);
  if (!saved && !create) {
    throw new PeerGridError(`no PeerGrid community in ${dataDir}`, { hint: "run `peergrid start` first, or pass --data-dir" });
  }
  const settings = resolveCommunitySettings(options, saved);

  let chain: ChainClient;
  let close: () => Promise<void>;
  if (options.rpcUrl) {
    chain = await createChainClient({ rpcUrl: options.rpcUrl, pollingIntervalMs: 200 });
    close = async () => {};
  } else {
    const embedded = await openEmbeddedChain(
      join(dataDir, "chain"),
      settings.startAt - options.intervalSeconds,
      (message) => process.stderr.write(`${message}\n`),
      { blockGasLimit: options.blockGasLimit },
    );
    chain = embedded.chain;
    close = embedded.close;
  }
  try {
    const community = createDemoCommunity({ seed: settings.seed, households: settings.households, tariffs: demoTariffs });
    const deploymentFile = join(dataDir, `deployment-${chain.chainId}.json`);
    const savedDeployment = readJsonFile<DeploymentFile>(deploymentFile);
    if (create) {
      writeJsonFileAtomic(communityFile, settings);
      await fundDemoAccounts(chain, privateKeyToAccount(options.funderKey ?? ANVIL_DEV_KEY), community);
    }
    let deployment: Deployment;
    if (savedDeployment) {
      deployment = parseDeployment(savedDeployment);
      const code = await chain.public.getCode({ address: deployment.market });
      if (!code || code === "0x") {
        throw new PeerGridError(`the market recorded in ${deploymentFile} has no code on chain ${chain.chainId}`, {
          hint: "the chain was reset; move the data directory away and start again",
        });
      }
    } else if (!create) {
      throw new PeerGridError(`nothing deployed on chain ${chain.chainId} from ${dataDir}`, {
        hint: "run `peergrid start` first",
      });
    } else {
      deployment = await deployPeerGrid(chain, {
        operator: community.operator,
        gridAccount: community.grid.address,
        gateway: community.gateway.address,
        intervalSeconds: options.intervalSeconds,
        readingWindowSeconds: options.readingWindowSeconds,
        firstInterval: intervalAt(await chain.now(), options) + 1n,
        tariffs: demoTariffs,
      });
      writeJsonFileAtomic(deploymentFile, deployment);
    }
    if (create) await onboardDemoCommunity(chain, deployment, community);
    const timeline = {
      startAt: settings.startAt,
      firstInterval: deployment.firstInterval,
      intervalSeconds: deployment.intervalSeconds,
    };
    return { chain, deployment, community, timeline, close };
  } catch (error) {
    await close();
    throw error;
  }
}
