import type { Address } from "viem";
import { keccak256, toHex } from "viem";
import type { ChainClient } from "../chain/chainClient.ts";
import type { Deployment } from "../chain/deploy.ts";
import { communityRegistryAbi } from "../chain/generated/contracts.ts";
import { authRequired, forbidden } from "./errors.ts";

export const OPERATOR_ROLE = keccak256(toHex("OPERATOR_ROLE"));
export const GRID_OPERATOR_ROLE = keccak256(toHex("GRID_OPERATOR_ROLE"));

/** What a signed-in account is: `household` = an active participant of the registry. */
export type Role = "operator" | "gridOperator" | "household";

/** A signed-in caller: its (lower-case) address and its roles as the registry says now (cached briefly). */
export type Identity = { address: Address; roles: readonly Role[] };

/**
 * Reads an account's roles from the registry, caching each answer for `cacheSeconds` of the injected
 * clock, so a burst of requests costs one round of chain reads. The contracts check roles again on
 * every write; the cache only delays what the API shows by at most `cacheSeconds`.
 */
export function createRoleReader(chain: ChainClient, deployment: Deployment, now: () => bigint, cacheSeconds = 5n) {
  const cache = new Map<string, { at: bigint; roles: Promise<Role[]> }>();
  const read = async (account: Address): Promise<Role[]> => {
    const registry = { address: deployment.registry, abi: communityRegistryAbi } as const;
    const [operator, grid, participant] = await Promise.all([
      chain.public.readContract({ ...registry, functionName: "hasRole", args: [OPERATOR_ROLE, account] }),
      chain.public.readContract({ ...registry, functionName: "hasRole", args: [GRID_OPERATOR_ROLE, account] }),
      chain.public.readContract({ ...registry, functionName: "participant", args: [account] }),
    ]);
    const roles: Role[] = [];
    if (operator) roles.push("operator");
    if (grid) roles.push("gridOperator");
    if (participant.active) roles.push("household");
    return roles;
  };
  return (account: Address): Promise<Role[]> => {
    const key = account.toLowerCase();
    const hit = cache.get(key);
    const t = now();
    if (hit && t - hit.at < cacheSeconds) return hit.roles;
    const roles = read(account);
    cache.set(key, { at: t, roles });
    roles.catch(() => cache.delete(key));
    return roles;
  };
}

/** The identity, or 401. */
export function requireSession(who: Identity | undefined): Identity {
  if (!who) throw authRequired();
  return who;
}

/** The identity if it holds `role`, else 401 (anonymous) or 403. */
export function requireRole(who: Identity | undefined, role: Role): Identity {
  const id = requireSession(who);
  if (!id.roles.includes(role)) throw forbidden(`this needs the ${role} role; ${id.address} does not hold it`);
  return id;
}

/** The identity if it is `address` itself, else 401/403: acting for an account is only ever its own wallet's. */
export function requireSelf(who: Identity | undefined, address: string): Identity {
  const id = requireSession(who);
  if (id.address !== address.toLowerCase()) throw forbidden(`only ${address} itself may do this`);
  return id;
}

/** The identity if it is `address` itself or an operator (private reads), else 401/403. */
export function requireSelfOrOperator(who: Identity | undefined, address: string): Identity {
  const id = requireSession(who);
  if (id.address !== address.toLowerCase() && !id.roles.includes("operator")) {
    throw forbidden(`the private data of ${address} is visible only to itself and to operators`);
  }
  return id;
}

export const isOperator = (who: Identity | undefined) => who?.roles.includes("operator") ?? false;
