import { z } from "zod";
import { communityCreditAbi, energyMarketAbi } from "../../chain/generated/contracts.ts";
import type { ApiContext, ZodApp } from "../context.ts";
import { requireSelfOrOperator } from "../roles.ts";
import { addressOut, addressSchema, dec, decimalSchema, errorBodySchema } from "../schemas.ts";

/** A household's money as the chain holds it now: in its wallet, allowed to the market, escrowed for buying. */
export function registerFundsRoutes(app: ZodApp, ctx: ApiContext) {
  const { chain, deployment } = ctx.deps;
  app.get(
    "/api/accounts/:address/funds",
    {
      schema: {
        tags: ["accounts"],
        summary:
          "An account's settlement tokens in its wallet and in escrow, read from the chain's latest block (self or operator)",
        description:
          "walletMicro: the settlement token's balanceOf(account); allowanceMicro: allowance(account, market), what a deposit " +
          "may take without a new approve; escrowMicro: market.balanceOf(account), the escrow a withdrawal may take (0 when " +
          "the account owes the grid). All in the token's smallest unit (6 decimals).",
        security: [{ bearer: [] }],
        params: z.object({ address: addressSchema }),
        response: {
          200: z.object({
            address: addressOut,
            walletMicro: decimalSchema,
            allowanceMicro: decimalSchema,
            escrowMicro: decimalSchema,
            blockNumber: decimalSchema.describe("the block the balances were read at"),
          }),
          401: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { address } = request.params;
      requireSelfOrOperator(await ctx.identify(request), address);
      const blockNumber = await chain.public.getBlockNumber();
      const token = { address: deployment.settlementToken, abi: communityCreditAbi, blockNumber } as const;
      const [walletMicro, allowanceMicro, escrowMicro] = await Promise.all([
        chain.public.readContract({ ...token, functionName: "balanceOf", args: [address] }),
        chain.public.readContract({ ...token, functionName: "allowance", args: [address, deployment.market] }),
        chain.public.readContract({
          address: deployment.market,
          abi: energyMarketAbi,
          functionName: "balanceOf",
          args: [address],
          blockNumber,
        }),
      ]);
      return {
        address,
        walletMicro: dec(walletMicro),
        allowanceMicro: dec(allowanceMicro),
        escrowMicro: dec(escrowMicro),
        blockNumber: dec(blockNumber),
      };
    },
  );
}
