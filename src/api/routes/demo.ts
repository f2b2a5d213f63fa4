import { keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import type { DemoCommunity } from "../../demo/demoCommunity.ts";
import type { ZodApp } from "../context.ts";

/** A demo household's wallet, for the dashboard's sign-in picker. */
export type DemoAccount = { address: `0x${string}`; privateKey: `0x${string}`; label: string };

/**
 * The demo households' wallets (address, private key, a label) of the embedded demo community. The keys
 * are derived from the community seed exactly as `createDemoCommunity` derives them, and each is checked
 * against the household's address, so a change there cannot hand out wrong keys silently.
 */
export function demoAccountsOf(community: DemoCommunity): DemoAccount[] {
  return community.households.map((h) => {
    const privateKey = keccak256(toHex(`peergrid demo key:${community.seed}:household:${h.profile.index}`));
    if (privateKeyToAccount(privateKey).address !== h.account.address) {
      throw new Error(`demo key of ${h.profile.name} does not derive from the seed as expected`);
    }
    const pv = h.profile.pvKwp > 0 ? `${h.profile.pvKwp.toFixed(1)} kWp PV` : "no PV";
    return { address: h.account.address, privateKey, label: `${h.profile.name} (${pv}, zone ${h.zone})` };
  });
}

/**
 * DEMO ONLY. GET /api/demo/accounts hands out the PRIVATE KEYS of the embedded demo households so the
 * dashboard can offer a "sign in as House 07" picker. Register it only when the server runs the embedded
 * demo community (`peergrid start` on the embedded chain): these keys derive from a public seed and hold
 * nothing of value. Never register it for a real community: anyone could sign in as its households.
 */
export function registerDemoRoutes(app: ZodApp, households: readonly DemoAccount[]) {
  const accounts = households.map((h) => ({ address: h.address.toLowerCase(), privateKey: h.privateKey, label: h.label }));
  app.get(
    "/api/demo/accounts",
    {
      schema: {
        tags: ["demo"],
        summary: "DEMO ONLY: the embedded demo households' wallets, private keys included, for the dashboard's sign-in picker",
        description:
          "Served only by `peergrid start` with the embedded demo community, whose keys derive from a public seed. " +
          "A real community never serves this route (404).",
        response: {
          200: z.object({
            demo: z.literal(true),
            warning: z.string(),
            accounts: z.array(z.object({ address: z.string(), privateKey: z.string(), label: z.string() })),
          }),
        },
      },
    },
    async () => ({
      demo: true as const,
      warning: "demo keys derived from a public seed: never use them for anything of value",
      accounts,
    }),
  );
}
