import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import { type DemoCommunity, demoPrivateKey } from "../../demo/demoCommunity.ts";
import type { ZodApp } from "../context.ts";
import type { Role } from "../roles.ts";

/** A demo wallet, for the dashboard's sign-in picker: a household, the operator or the grid operator. */
export type DemoAccount = { address: `0x${string}`; privateKey: `0x${string}`; label: string; role: Role };

/**
 * The demo community's wallets (address, private key, a label, its role): every household, then the
 * operator and the grid operator. The keys come from `demoPrivateKey`, as `createDemoCommunity` derives
 * them, and each is checked against the community's address, so a change there cannot hand out wrong keys
 * silently.
 */
export function demoAccountsOf(community: DemoCommunity): DemoAccount[] {
  const keyOf = (label: string, address: `0x${string}`, name: string) => {
    const privateKey = demoPrivateKey(community.seed, label);
    if (privateKeyToAccount(privateKey).address !== address) {
      throw new Error(`demo key of ${name} does not derive from the seed as expected`);
    }
    return privateKey;
  };
  const households = community.households.map((h): DemoAccount => {
    const pv = h.profile.pvKwp > 0 ? `${h.profile.pvKwp.toFixed(1)} kWp PV` : "no PV";
    return {
      address: h.account.address,
      privateKey: keyOf(`household:${h.profile.index}`, h.account.address, h.profile.name),
      label: `${h.profile.name} (${pv}, zone ${h.zone})`,
      role: "household",
    };
  });
  return [
    ...households,
    {
      address: community.operator.address,
      privateKey: keyOf("operator", community.operator.address, "the operator"),
      label: "Community operator",
      role: "operator",
    },
    {
      address: community.grid.address,
      privateKey: keyOf("grid", community.grid.address, "the grid operator"),
      label: "Grid operator",
      role: "gridOperator",
    },
  ];
}

/**
 * DEMO ONLY. GET /api/demo/accounts hands out the PRIVATE KEYS of the embedded demo community's households,
 * operator and grid operator so the dashboard can offer a "sign in as House 07" picker. Register it only
 * when the server runs the embedded demo community (`peergrid start` on the embedded chain): these keys
 * derive from a public seed and hold nothing of value. Never register it for a real community: anyone
 * could sign in as its households and operators.
 */
export function registerDemoRoutes(app: ZodApp, demoAccounts: readonly DemoAccount[]) {
  const accounts = demoAccounts.map((a) => ({
    address: a.address.toLowerCase(),
    privateKey: a.privateKey,
    label: a.label,
    role: a.role,
  }));
  app.get(
    "/api/demo/accounts",
    {
      schema: {
        tags: ["demo"],
        summary:
          "DEMO ONLY: the embedded demo community's wallets (households, operator, grid operator), private keys included, for the dashboard's sign-in picker",
        description:
          "Served only by `peergrid start` with the embedded demo community, whose keys derive from a public seed. " +
          "A real community never serves this route (404).",
        response: {
          200: z.object({
            demo: z.literal(true),
            warning: z.string(),
            accounts: z.array(
              z.object({
                address: z.string(),
                privateKey: z.string(),
                label: z.string(),
                role: z.enum(["household", "operator", "gridOperator"]),
              }),
            ),
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
