import {
  type Abi,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  encodeFunctionData,
  type PrivateKeyAccount,
} from "viem";
import type { MeterPosition, Tariffs } from "../core/clearing.ts";
import type { ChainClient, TxRequest } from "./chainClient.ts";
import type { Deployment } from "./deploy.ts";
import { PeerGridError } from "./errors.ts";
import { communityRegistryAbi, energyMarketAbi } from "./generated/contracts.ts";

type Writable = "nonpayable" | "payable";

/**
 * A typed contract call as a transaction request.
 * @example callTx(operator, deployment.registry, communityRegistryAbi, "registerParticipant", [account, 1])
 */
export function callTx<const abi extends Abi, name extends ContractFunctionName<abi, Writable>>(
  account: PrivateKeyAccount,
  address: Address,
  abi: abi,
  functionName: name,
  args: ContractFunctionArgs<abi, Writable, name>,
): TxRequest {
  return {
    account,
    to: address,
    data: encodeFunctionData({ abi, functionName, args } as never),
    abi,
    action: functionName,
  };
}

/** The market's grid tariffs as they are on chain now. */
export async function readTariffs(chain: ChainClient, deployment: Deployment): Promise<Tariffs> {
  const [feedInMicroPerKwh, retailMicroPerKwh] = await chain.public.readContract({
    address: deployment.market,
    abi: energyMarketAbi,
    functionName: "tariffs",
  });
  return { feedInMicroPerKwh, retailMicroPerKwh };
}

export async function readNextIntervalToSettle(chain: ChainClient, deployment: Deployment): Promise<bigint> {
  return chain.public.readContract({ address: deployment.market, abi: energyMarketAbi, functionName: "nextIntervalToSettle" });
}

/** A meter's position in an interval, with its owner. */
export type IntervalPosition = MeterPosition & { owner: Address };

/**
 * Every meter with a recorded reading in `interval`, with its owner's standing order and escrow: the
 * whole input of the clearing, read in one call. Checks it found as many meters as the market counted.
 * @example const positions = await readIntervalPositions(chain, deployment, 123n)
 */
export async function readIntervalPositions(
  chain: ChainClient,
  deployment: Deployment,
  interval: bigint,
): Promise<IntervalPosition[]> {
  const [meterCount, counted] = await Promise.all([
    chain.public.readContract({ address: deployment.registry, abi: communityRegistryAbi, functionName: "meterCount" }),
    chain.public.readContract({
      address: deployment.market,
      abi: energyMarketAbi,
      functionName: "meterCountIn",
      args: [interval],
    }),
  ]);
  const ids = Array.from({ length: meterCount }, (_, i) => i + 1);
  const snapshots = ids.length
    ? await chain.public.readContract({
        address: deployment.market,
        abi: energyMarketAbi,
        functionName: "snapshot",
        args: [interval, ids],
      })
    : [];
  const positions = snapshots
    .filter((s) => s.position.recorded)
    .map((s) => ({
      meterId: s.meterId,
      owner: s.owner,
      exportWh: s.position.exportWh,
      importWh: s.position.importWh,
      order: { ...s.order },
      balanceMicro: s.balance,
    }));
  if (positions.length !== counted) {
    throw new PeerGridError(`found ${positions.length} readings for interval ${interval}, the market counts ${counted}`, {
      retryable: true,
    });
  }
  return positions;
}
