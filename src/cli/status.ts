import { communityCreditAbi, energyTokenAbi } from "../chain/generated/contracts.ts";
import { type AccountState, readAccounts, readNextIntervalToSettle, readTariffs } from "../chain/market.ts";
import { formatFixed } from "../core/money.ts";
import { formatLocalTime } from "./formatReport.ts";
import { openCommunity } from "./openCommunity.ts";
import { communityOptionHelp, communityOptionSpec, communityOptions, parseCommandArgs } from "./options.ts";
import type { CommandIo } from "./start.ts";

export const statusHelp = `Usage: peergrid status [options]

Shows the chain, the contracts, the last settled interval and every account's escrow. Reads only:
on the embedded chain it replays the journal into a fresh node and changes nothing.
${communityOptionHelp}`;

/** `peergrid status`. */
export async function status(argv: string[], io: CommandIo): Promise<void> {
  const { values } = parseCommandArgs("status", argv, communityOptionSpec);
  if (values.help) return io.out(statusHelp);
  const { chain, deployment, community, close } = await openCommunity(communityOptions(values), false);
  try {
    const read = chain.public.readContract;
    const market = deployment.market;
    const [block, next, tariffs, held] = await Promise.all([
      chain.public.getBlock({ blockTag: "latest" }),
      readNextIntervalToSettle(chain, deployment),
      readTariffs(chain, deployment),
      read({ address: deployment.settlementToken, abi: communityCreditAbi, functionName: "balanceOf", args: [market] }),
    ]);
    const credit = (micro: bigint) => `${formatFixed(micro, 6, 2)} PGC`;
    io.out(
      `chain        ${chain.chainId} ${chain.embedded ? "(embedded)" : chain.rpcUrl}, block ${block.number} at ${formatLocalTime(block.timestamp)}`,
    );
    io.out(`registry     ${deployment.registry}`);
    io.out(`market       ${market}`);
    io.out(`energy token ${deployment.energyToken}`);
    io.out(`settlement   ${deployment.settlementToken}`);
    io.out(
      `tariffs      feed-in ${formatFixed(tariffs.feedInMicroPerKwh, 6, 4)}/kWh, retail ${formatFixed(tariffs.retailMicroPerKwh, 6, 4)}/kWh`,
    );
    io.out(
      `intervals    ${deployment.intervalSeconds} s, reading window ${deployment.readingWindowSeconds} s, first ${deployment.firstInterval}`,
    );
    if (next > deployment.firstInterval) {
      const last = next - 1n;
      const minted = await read({ address: deployment.energyToken, abi: energyTokenAbi, functionName: "mintedWh", args: [last] });
      io.out(
        `last settled interval ${last} (${formatLocalTime(last * deployment.intervalSeconds)}), ${next - deployment.firstInterval} settled in all; energy tokens minted for it: ${formatFixed(minted, 3, 3)} kWh`,
      );
    } else {
      io.out("no interval settled yet");
    }
    io.out(`escrow held by the market: ${credit(held)}`);
    const accounts = [
      { name: "grid account", address: community.grid.address },
      ...community.households.map((h) => ({
        name: `${h.profile.name}${h.profile.pvKwp > 0 ? ` (${h.profile.pvKwp} kWp)` : " (no PV)"}`,
        address: h.account.address,
      })),
    ];
    const states = await readAccounts(
      chain,
      deployment,
      accounts.map((a) => a.address),
    );
    for (const [i, a] of accounts.entries()) {
      const balance = (states[i] as AccountState).balanceMicro;
      const held = balance > 0n ? balance : 0n;
      io.out(
        `  ${a.name.padEnd(24)} ${a.address}  ${credit(held).padStart(16)}${balance < 0n ? `  owes grid ${credit(-balance)}` : ""}`,
      );
    }
  } finally {
    await close();
  }
}
