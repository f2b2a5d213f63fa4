import { type Address, maxUint256, type PrivateKeyAccount, parseEther } from "viem";
import type { ChainClient, TxRequest } from "../chain/chainClient.ts";
import type { Deployment } from "../chain/deploy.ts";
import { communityCreditAbi, communityRegistryAbi, energyMarketAbi } from "../chain/generated/contracts.ts";
import { callTx, readAccounts } from "../chain/market.ts";
import type { DemoCommunity } from "./demoCommunity.ts";

const SOURCE_SOLAR = 1;
const SOURCE_OTHER = 4;

/**
 * Gas money a service account gets per household: the operator pays ~150k gas a household to onboard
 * it (register participant and meter, deposit), the gateway and keeper ~10k and ~20k a household every
 * interval. 0.01 ETH a household is ~50 onboardings' worth at the embedded chain's ~1–2 gwei, or days of
 * intervals; a start tops the accounts up again.
 */
const SERVICE_GAS_MONEY_PER_HOUSEHOLD = parseEther("0.01");

/**
 * Gives every demo account gas money from `funder`: 1 ETH, and the service accounts (operator, gateway,
 * keeper) more in a large community, since their gas grows with it. Skips accounts that have
 * at least half their amount.
 * @example await fundDemoAccounts(chain, funder, community)
 */
export async function fundDemoAccounts(chain: ChainClient, funder: PrivateKeyAccount, community: DemoCommunity) {
  // 1 ETH pays years of a household's gas at the embedded chain's fees, and the dev account's 10,000
  // reach 5,000 households with the service accounts' share.
  const household = parseEther("1");
  const scaled = SERVICE_GAS_MONEY_PER_HOUSEHOLD * BigInt(community.households.length);
  const service = scaled > household ? scaled : household;
  const accounts = [
    ...[community.operator, community.gateway, community.keeper].map((a) => ({ a, amount: service })),
    ...[community.grid, ...community.households.map((h) => h.account)].map((a) => ({ a, amount: household })),
  ];
  const balances = await Promise.all(accounts.map(({ a }) => chain.public.getBalance({ address: a.address })));
  const txs: TxRequest[] = accounts
    .filter(({ amount }, i) => (balances[i] as bigint) < amount / 2n)
    .map(({ a, amount }) => ({ account: funder, to: a.address, value: amount, abi: [], action: `fund ${a.address}` }));
  await chain.send(txs);
}

/**
 * Registers the demo households and their meters, escrows their opening credit and the grid account's,
 * and sets their standing orders. Every step checks the chain first, so running it again (after a
 * crash half-way, say) completes what is missing and repeats nothing.
 * @example await onboardDemoCommunity(chain, deployment, community)
 */
export async function onboardDemoCommunity(chain: ChainClient, deployment: Deployment, community: DemoCommunity) {
  const { operator, households } = community;
  const read = chain.public.readContract;
  const participants = await Promise.all(
    households.map((h) =>
      read({ address: deployment.registry, abi: communityRegistryAbi, functionName: "participant", args: [h.account.address] }),
    ),
  );
  await chain.send(
    households
      .filter((_, i) => !participants[i]?.registered)
      .map((h) =>
        callTx(operator, deployment.registry, communityRegistryAbi, "registerParticipant", [h.account.address, h.zone]),
      ),
  );
  const meterIds = await Promise.all(
    households.map((h) =>
      read({ address: deployment.registry, abi: communityRegistryAbi, functionName: "meterIdOf", args: [h.meter.address] }),
    ),
  );
  await chain.send(
    households
      .filter((_, i) => meterIds[i] === 0)
      .map((h) =>
        callTx(operator, deployment.registry, communityRegistryAbi, "registerMeter", [
          h.meter.address,
          h.account.address,
          h.profile.pvKwp > 0 ? SOURCE_SOLAR : SOURCE_OTHER,
        ]),
      ),
  );

  const deposits: { account: Address; amount: bigint }[] = [
    { account: community.grid.address, amount: community.gridDepositMicro },
    ...households.map((h) => ({ account: h.account.address, amount: h.depositMicro })),
  ];
  const escrow = await Promise.all(
    deposits.map((d) => read({ address: deployment.market, abi: energyMarketAbi, functionName: "balanceOf", args: [d.account] })),
  );
  const missing = deposits.filter((d, i) => escrow[i] === 0n && d.amount > 0n);
  if (missing.length > 0) {
    const total = missing.reduce((s, d) => s + d.amount, 0n);
    await chain.send([
      callTx(operator, deployment.settlementToken, communityCreditAbi, "mint", [operator.address, total]),
      callTx(operator, deployment.settlementToken, communityCreditAbi, "approve", [deployment.market, maxUint256]),
    ]);
    await chain.send(
      missing.map((d) => callTx(operator, deployment.market, energyMarketAbi, "depositFor", [d.account, d.amount])),
    );
  }

  const orders = (
    await readAccounts(
      chain,
      deployment,
      households.map((h) => h.account.address),
    )
  ).map((a) => a.order);
  await chain.send(
    households
      .filter((h, i) => {
        const o = orders[i];
        return (
          o?.askMicroPerKwh !== h.order.askMicroPerKwh ||
          o.maxSellWh !== h.order.maxSellWh ||
          o.bidMicroPerKwh !== h.order.bidMicroPerKwh ||
          o.maxBuyWh !== h.order.maxBuyWh
        );
      })
      .map((h) => callTx(h.account, deployment.market, energyMarketAbi, "setStandingOrder", [h.order])),
  );
}
