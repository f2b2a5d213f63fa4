import type { FastifyRequest } from "fastify";
import type { Address, Hex } from "viem";
import { z } from "zod";
import {
  bilateralAgreementsAbi,
  communityCreditAbi,
  communityRegistryAbi,
  energyMarketAbi,
} from "../../chain/generated/contracts.ts";
import type { ApiContext, ZodApp } from "../context.ts";
import { ApiError } from "../errors.ts";
import { relaySignedTransaction, type WriteSpec } from "../relay.ts";
import { type Identity, requireRole, requireSelf, requireSession } from "../roles.ts";
import { addressSchema, dec, errorBodySchema, signedTxBody, txResultSchema, uintParam } from "../schemas.ts";

const responses = {
  200: txResultSchema,
  400: errorBodySchema,
  401: errorBodySchema,
  403: errorBodySchema,
  409: errorBodySchema,
  422: errorBodySchema,
};

/** 400 when a decoded argument differs from what the request's path says. */
const mustEqual = (what: string, actual: unknown, expected: unknown) => {
  const norm = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : String(v));
  if (norm(actual) !== norm(expected)) {
    throw new ApiError(
      400,
      "tx_args_mismatch",
      `the transaction's ${what} is ${String(actual)}, the request says ${String(expected)}`,
    );
  }
};

/**
 * Write endpoints. Each takes `{ signedTransaction }` signed by the caller's own wallet; the server checks
 * who may call the endpoint (roles), that the transaction is the endpoint's call with the path's
 * arguments, and relays it. The contracts check the roles again.
 */
export function registerWriteRoutes(app: ZodApp, ctx: ApiContext) {
  const d = ctx.deps.deployment;
  const registry = (functionName: string, check?: WriteSpec["check"]): WriteSpec => ({
    contract: d.registry,
    abi: communityRegistryAbi,
    functionName,
    ...(check ? { check } : {}),
  });
  const market = (functionName: string, check?: WriteSpec["check"]): WriteSpec => ({
    contract: d.market,
    abi: energyMarketAbi,
    functionName,
    ...(check ? { check } : {}),
  });
  const agreements = (functionName: string, check?: WriteSpec["check"]): WriteSpec => ({
    contract: d.agreements,
    abi: bilateralAgreementsAbi,
    functionName,
    ...(check ? { check } : {}),
  });

  type Req = FastifyRequest<{ Body: { signedTransaction: string }; Params: Record<string, unknown> }>;
  /** A write route: `authorize` checks the caller, `spec` says which call the transaction must be. */
  const write = <P extends z.ZodType | undefined>(
    method: "POST" | "PUT",
    url: string,
    summary: string,
    params: P,
    authorize: (who: Identity | undefined, params: P extends z.ZodType ? z.output<P> : undefined) => Identity,
    spec: (params: P extends z.ZodType ? z.output<P> : undefined, who: Identity) => WriteSpec,
  ) => {
    app.route({
      method,
      url,
      schema: {
        tags: ["writes"],
        summary,
        security: [{ bearer: [] }],
        ...(params ? { params } : {}),
        body: signedTxBody,
        response: responses,
      },
      handler: async (request) => {
        const r = request as unknown as Req;
        const p = r.params as never;
        const who = authorize(await ctx.identify(request), p);
        const result = await relaySignedTransaction(ctx.deps.chain, who.address, r.body.signedTransaction as Hex, spec(p, who));
        return { hash: result.hash, status: result.status, blockNumber: dec(result.blockNumber) };
      },
    });
  };

  const addressParams = z.object({ address: addressSchema });
  const operator = (who: Identity | undefined) => requireRole(who, "operator");
  const grid = (who: Identity | undefined) => requireRole(who, "gridOperator");

  write("POST", "/api/participants", "Onboard a participant (registry.registerParticipant; operators)", undefined, operator, () =>
    registry("registerParticipant"),
  );
  for (const [action, active] of [
    ["deactivate", false],
    ["activate", true],
  ] as const) {
    write(
      "POST",
      `/api/participants/:address/${action}`,
      `${action === "activate" ? "Reactivate" : "Deactivate"} a participant (registry.setParticipantActive(address, ${active}); operators)`,
      addressParams,
      operator,
      (p) =>
        registry("setParticipantActive", (args) => {
          mustEqual("account", args[0], p.address);
          mustEqual("active flag", args[1], active);
        }),
    );
  }
  write("POST", "/api/meters", "Register a meter (registry.registerMeter; operators)", undefined, operator, () =>
    registry("registerMeter"),
  );
  write(
    "POST",
    "/api/meters/:id/deactivate",
    "Deactivate a meter (registry.deactivateMeter; operators)",
    z.object({ id: uintParam }),
    operator,
    (p) => registry("deactivateMeter", (args) => mustEqual("meter id", args[0], p.id)),
  );
  write(
    "POST",
    "/api/meters/:id/reactivate",
    "Reactivate a deactivated meter (registry.reactivateMeter; operators)",
    z.object({ id: uintParam }),
    operator,
    (p) => registry("reactivateMeter", (args) => mustEqual("meter id", args[0], p.id)),
  );
  write(
    "PUT",
    "/api/accounts/:address/standing-order",
    "Set one's own standing order (market.setStandingOrder)",
    addressParams,
    (who, p) => requireSelf(who, p.address),
    () => market("setStandingOrder"),
  );
  write(
    "POST",
    "/api/accounts/:address/deposit",
    "Deposit into an account's escrow (market.depositFor; anyone signed in, for any participant)",
    addressParams,
    (who) => requireSession(who),
    (p) => market("depositFor", (args) => mustEqual("account", args[0], p.address)),
  );
  write(
    "POST",
    "/api/accounts/:address/withdraw",
    "Withdraw from one's own escrow (market.withdraw)",
    addressParams,
    (who, p) => requireSelf(who, p.address),
    () => market("withdraw"),
  );
  write(
    "POST",
    "/api/accounts/:address/approve",
    "Allow the market to take one's settlement tokens for deposits (settlementToken.approve(market, amount))",
    addressParams,
    (who, p) => requireSelf(who, p.address),
    () => ({
      contract: d.settlementToken,
      abi: communityCreditAbi,
      functionName: "approve",
      check: (args) => mustEqual("spender", args[0], d.market),
    }),
  );
  write(
    "POST",
    "/api/agreements",
    "Propose a bilateral agreement as its seller or buyer (agreements.propose; households)",
    undefined,
    (who) => requireRole(who, "household"),
    (_p, who) =>
      agreements("propose", (args) => {
        const terms = args[0] as { seller: Address; buyer: Address };
        if (terms.seller.toLowerCase() !== who.address && terms.buyer.toLowerCase() !== who.address) {
          throw new ApiError(403, "forbidden", "you can only propose agreements you are a party of");
        }
      }),
  );
  for (const action of ["accept", "cancel"] as const) {
    write(
      "POST",
      `/api/agreements/:id/${action}`,
      `${action === "accept" ? "Accept" : "Cancel"} agreement :id (agreements.${action}; its parties)`,
      z.object({ id: uintParam }),
      (who) => requireSession(who),
      (p) => agreements(action, (args) => mustEqual("agreement id", args[0], p.id)),
    );
  }
  write("PUT", "/api/tariffs", "Set the grid tariffs (market.setTariffs; grid operators)", undefined, grid, () =>
    market("setTariffs"),
  );
  write(
    "PUT",
    "/api/zones/:zone/limits",
    "Set a zone's capacities and import fee (market.setZoneLimits; grid operators)",
    z.object({ zone: z.coerce.number().int().min(0).max(65535) }),
    grid,
    (p) => market("setZoneLimits", (args) => mustEqual("zone", args[0], p.zone)),
  );
}
