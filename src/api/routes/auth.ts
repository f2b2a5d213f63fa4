import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { authRequired } from "../errors.ts";
import { requireSession } from "../roles.ts";
import { addressOut, dec, decimalSchema, errorBodySchema } from "../schemas.ts";

const roleSchema = z.enum(["operator", "gridOperator", "household"]);
const bearer = (header: string | undefined) => /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];

/** Sign-In with Ethereum: nonce, sign-in, sign-out, who am I. */
export function registerAuthRoutes(app: ZodApp, ctx: ApiContext) {
  const { domain, uri, chainId } = {
    domain: ctx.deps.siweDomain ?? "localhost",
    uri: ctx.deps.siweUri ?? "http://localhost",
    chainId: ctx.deps.chain.chainId,
  };
  app.get(
    "/api/auth/nonce",
    {
      schema: {
        tags: ["auth"],
        summary: "A single-use nonce for an EIP-4361 sign-in message, with the fields the message must carry",
        response: {
          200: z.object({
            nonce: z.string(),
            expiresAt: decimalSchema,
            domain: z.string(),
            uri: z.string(),
            chainId: z.number(),
          }),
        },
      },
    },
    async () => {
      const { nonce, expiresAt } = await ctx.auth.issueNonce();
      return { nonce, expiresAt: dec(expiresAt), domain, uri, chainId };
    },
  );
  app.post(
    "/api/auth/signin",
    {
      schema: {
        tags: ["auth"],
        summary: "Sign in with a wallet-signed EIP-4361 message; answers a bearer token",
        body: z.object({
          message: z.string().min(1).max(4096).describe("the EIP-4361 message, exactly as signed"),
          signature: z
            .string()
            .regex(/^0x[0-9a-fA-F]+$/)
            .describe("personal_sign signature, 0x hex"),
        }),
        response: {
          200: z.object({ token: z.string(), address: addressOut, roles: z.array(roleSchema), expiresAt: decimalSchema }),
          400: errorBodySchema,
          401: errorBodySchema,
        },
      },
    },
    async (request) => {
      const session = await ctx.auth.signIn(request.body.message, request.body.signature as `0x${string}`);
      const roles = await ctx.roles(session.address);
      return { token: session.token, address: session.address, roles, expiresAt: dec(session.expiresAt) };
    },
  );
  app.post(
    "/api/auth/signout",
    {
      schema: {
        tags: ["auth"],
        summary: "Ends the session",
        security: [{ bearer: [] }],
        response: { 204: z.null(), 401: errorBodySchema },
      },
    },
    async (request, reply) => {
      const token = bearer(request.headers.authorization);
      if (!token) throw authRequired();
      await ctx.auth.signOut(token);
      return reply.status(204).send(null);
    },
  );
  app.get(
    "/api/auth/me",
    {
      schema: {
        tags: ["auth"],
        summary: "The signed-in account and its roles",
        security: [{ bearer: [] }],
        response: { 200: z.object({ address: addressOut, roles: z.array(roleSchema) }), 401: errorBodySchema },
      },
    },
    async (request) => {
      const who = requireSession(await ctx.identify(request));
      return { address: who.address, roles: [...who.roles] };
    },
  );
}
