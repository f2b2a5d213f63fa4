import type { FastifyInstance } from "fastify";
import type { PrivateKeyAccount } from "viem";
import { createSiweMessage } from "viem/siwe";

export type SiweOverrides = Partial<Parameters<typeof createSiweMessage>[0]>;

/** An EIP-4361 message for `account` with a fresh nonce from the app, signed; fields can be overridden. */
export async function signedSiwe(
  app: FastifyInstance,
  account: PrivateKeyAccount,
  issuedAt: Date,
  overrides: SiweOverrides = {},
) {
  const nonce = (await app.inject({ method: "GET", url: "/api/auth/nonce" })).json() as {
    nonce: string;
    domain: string;
    uri: string;
    chainId: number;
  };
  const message = createSiweMessage({
    address: account.address,
    domain: nonce.domain,
    uri: nonce.uri,
    chainId: nonce.chainId,
    nonce: nonce.nonce,
    version: "1",
    issuedAt,
    statement: "Sign in to PeerGrid",
    ...overrides,
  });
  return { message, signature: await account.signMessage({ message }) };
}

/** Signs `account` in and returns its bearer token (fails the test when sign-in fails). */
export async function signIn(app: FastifyInstance, account: PrivateKeyAccount, issuedAt: Date): Promise<string> {
  const body = await signedSiwe(app, account, issuedAt);
  const response = await app.inject({ method: "POST", url: "/api/auth/signin", payload: body });
  if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`);
  return (response.json() as { token: string }).token;
}

export const bearer = (token: string | undefined) => (token ? { authorization: `Bearer ${token}` } : {});
