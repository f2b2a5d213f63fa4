import { type Address, encodeDeployData, getContractAddress, keccak256, type PrivateKeyAccount, toHex } from "viem";
import type { Tariffs } from "../core/clearing.ts";
import type { ChainClient } from "./chainClient.ts";
import {
  bilateralAgreementsAbi,
  bilateralAgreementsBytecode,
  communityCreditAbi,
  communityCreditBytecode,
  communityRegistryAbi,
  communityRegistryBytecode,
  energyMarketAbi,
  energyMarketBytecode,
  energyMarketLibraries,
  energyTokenAbi,
  energyTokenBytecode,
  zonalPricesAbi,
  zonalPricesBytecode,
} from "./generated/contracts.ts";
import { callTx } from "./market.ts";

/** Where a PeerGrid community lives on a chain. */
export type Deployment = {
  chainId: number;
  registry: Address;
  settlementToken: Address;
  energyToken: Address;
  /** The bilateral agreements the market executes (BilateralAgreements). */
  agreements: Address;
  market: Address;
  deployedAtBlock: bigint;
  intervalSeconds: bigint;
  readingWindowSeconds: bigint;
  firstInterval: bigint;
};

export type DeployParameters = {
  /** Deploys, and becomes admin and operator of the registry, credit and energy token. */
  operator: PrivateKeyAccount;
  gridAccount: Address;
  gateway: Address;
  intervalSeconds: bigint;
  readingWindowSeconds: bigint;
  firstInterval: bigint;
  tariffs: Tariffs;
  /** An existing ERC-20 to settle in; when absent a CommunityCredit token is deployed. */
  settlementToken?: Address;
};

export const roles = {
  gridOperator: keccak256(toHex("GRID_OPERATOR_ROLE")),
  meterGateway: keccak256(toHex("METER_GATEWAY_ROLE")),
  minter: keccak256(toHex("MINTER_ROLE")),
} as const;

/**
 * Deploys the registry, settlement token (unless given), energy token and market in one block, then
 * grants the market the minter role and the grid account and gateway their roles in a second.
 * @example const deployment = await deployPeerGrid(chain, { operator, gridAccount, gateway, ... });
 */
export async function deployPeerGrid(chain: ChainClient, p: DeployParameters): Promise<Deployment> {
  const from = p.operator.address;
  let nonce = await chain.public.getTransactionCount({ address: from, blockTag: "pending" });
  const next = () => getContractAddress({ from, nonce: BigInt(nonce++) });
  const registry = next();
  const settlementToken = p.settlementToken ?? next();
  const energyToken = next();
  const agreements = next();
  const zonalPrices = next();
  const market = next();
  const deploy = (abi: never, bytecode: `0x${string}`, args: unknown[], action: string) => ({
    account: p.operator,
    data: encodeDeployData({ abi, bytecode, args } as never),
    abi,
    action,
  });
  const receipts = await chain.send([
    deploy(communityRegistryAbi as never, communityRegistryBytecode, [from], "deploy CommunityRegistry"),
    ...(p.settlementToken
      ? []
      : [deploy(communityCreditAbi as never, communityCreditBytecode, [from], "deploy CommunityCredit")]),
    deploy(
      energyTokenAbi as never,
      energyTokenBytecode,
      [from, "https://peergrid.example/energy/{id}.json"],
      "deploy EnergyToken",
    ),
    deploy(
      bilateralAgreementsAbi as never,
      bilateralAgreementsBytecode,
      [registry, Number(p.intervalSeconds)],
      "deploy BilateralAgreements",
    ),
    deploy(zonalPricesAbi as never, zonalPricesBytecode, [], "deploy ZonalPrices"),
    deploy(
      energyMarketAbi as never,
      linkBytecode(energyMarketBytecode, energyMarketLibraries, { ZonalPrices: zonalPrices }),
      [
        registry,
        energyToken,
        settlementToken,
        agreements,
        p.gridAccount,
        Number(p.intervalSeconds),
        Number(p.readingWindowSeconds),
        p.firstInterval,
        p.tariffs,
      ],
      "deploy EnergyMarket",
    ),
  ]);
  const deployed = receipts.map((r) => r.contractAddress?.toLowerCase());
  for (const address of [
    registry,
    energyToken,
    agreements,
    zonalPrices,
    market,
    ...(p.settlementToken ? [] : [settlementToken]),
  ]) {
    if (!deployed.includes(address.toLowerCase())) throw new Error(`contract not deployed at the expected address ${address}`);
  }
  await chain.send([
    callTx(p.operator, energyToken, energyTokenAbi, "grantRole", [roles.minter, market]),
    callTx(p.operator, registry, communityRegistryAbi, "grantRole", [roles.gridOperator, p.gridAccount]),
    callTx(p.operator, registry, communityRegistryAbi, "grantRole", [roles.meterGateway, p.gateway]),
    callTx(p.operator, agreements, bilateralAgreementsAbi, "setMarket", [market]),
  ]);
  return {
    chainId: chain.chainId,
    registry,
    settlementToken,
    energyToken,
    agreements,
    market,
    deployedAtBlock: (receipts[0] as { blockNumber: bigint }).blockNumber,
    intervalSeconds: p.intervalSeconds,
    readingWindowSeconds: p.readingWindowSeconds,
    firstInterval: p.firstInterval,
  };
}

/**
 * `bytecode` with each library placeholder (as compiled: see scripts/compileContracts.ts) replaced by the
 * library's deployed address.
 * @example linkBytecode(energyMarketBytecode, energyMarketLibraries, { ZonalPrices: "0x…" })
 */
export function linkBytecode<L extends string>(
  bytecode: `0x${string}`,
  placeholders: Readonly<Record<L, string>>,
  addresses: Readonly<Record<L, Address>>,
): `0x${string}` {
  let linked: string = bytecode;
  for (const library of Object.keys(placeholders) as L[]) {
    linked = linked.replaceAll(placeholders[library], addresses[library].slice(2).toLowerCase());
  }
  if (linked.includes("__$")) throw new Error("bytecode still has an unlinked library placeholder");
  return linked as `0x${string}`;
}
