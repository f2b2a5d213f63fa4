// Money and wallets in a real browser (Debian's Chromium, playwright-core) against a real community
// in-process (embedded chain, contracts, demo households, server, keeper): a household withdraws from and
// deposits into its escrow from the Funds panel, checked against the chain through the API; a withdrawal
// the contract refuses shows the contract's error; and a household whose injected wallet only sends
// transactions (it refuses eth_signTransaction, as most extensions do) is pointed at the community's chain
// (/rpc) and changes its standing order with eth_sendTransaction. Screenshots at 1280 px and 375 px go to
// test-results/wallet/. Without /usr/bin/chromium it is skipped.
import type { Route } from "playwright-core";
import { type Hex, hexToNumber } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemoAccount } from "../../src/api/routes/demo.ts";
import { credits, pricePerKwh } from "../src/format.ts";
import { dashboardHarness, hasChromium } from "./harness.ts";

const h = dashboardHarness({ name: "wallet", households: 4, start: "2026-06-15T11:00:00+02:00", settledBefore: 1 });
const { api, tokenOf, capture } = h;

type Funds = { walletMicro: string; allowanceMicro: string; escrowMicro: string; blockNumber: string };
type AccountJson = {
  balanceMicro: string;
  standingOrder: { bidMicroPerKwh: string; maxBuyWh: string } | null;
  history: { kind: string; amountMicro: string; txHash: string | null }[];
};

/** Signs in through the demo picker. */
async function signInAs(account: DemoAccount) {
  await h.page.goto(`${h.services.url}/signin`);
  await h.page.getByLabel("Household or operator").selectOption(account.address.toLowerCase());
  await h.page.getByRole("button", { name: /^Sign in as this household$/ }).click();
  await h.page.waitForURL(`${h.services.url}/household`);
}

describe.skipIf(!hasChromium)("deposits, withdrawals and send-only wallets in Chromium", () => {
  beforeAll(async () => {
    await h.open();
  }, 180_000);

  afterAll(async () => {
    await h.close();
  });

  it("a household withdraws from and deposits into its escrow and sees both balances change; bad amounts and refusals change nothing", async () => {
    const me = h.accounts.find((a) => a.role === "household") as DemoAccount;
    const address = me.address.toLowerCase();
    const token = await tokenOf(me);
    const funds = () => api<Funds>(`/api/accounts/${address}/funds`, token);
    const shown = async () => ({
      wallet: await h.page.getByTestId("funds-wallet").textContent(),
      escrow: await h.page.getByTestId("funds-escrow").textContent(),
    });
    const expectShown = (f: Funds) =>
      expect.poll(shown, { timeout: 10_000 }).toEqual({ wallet: credits(f.walletMicro, 6), escrow: credits(f.escrowMicro, 6) });

    await signInAs(me);
    await h.page.getByTestId("funds-escrow").waitFor();
    const start = await funds();
    expect(BigInt(start.escrowMicro), "the demo deposits for every household").toBeGreaterThan(5_000_000n);
    await expectShown(start);
    await capture("01-funds");

    // Refused in the form, before anything is signed.
    const withdrawField = h.page.getByLabel("Withdraw (credits)");
    const withdrawButton = h.page.getByRole("button", { name: "Sign and withdraw" });
    for (const [input, message] of [
      ["1.2345678", "at most 6 decimals"],
      ["-1", "enter a number"],
      ["0", "enter more than 0"],
      [`${BigInt(start.escrowMicro) / 1_000_000n + 1n}`, "more than your escrow holds"],
    ] as const) {
      await withdrawField.fill(input);
      await withdrawButton.click();
      await expect.poll(() => h.page.locator("#funds-withdraw-error").textContent()).toContain(message);
      expect(await withdrawField.getAttribute("aria-invalid")).toBe("true");
    }
    await h.page.getByLabel("Deposit (credits)").fill(`${BigInt(start.walletMicro) / 1_000_000n + 1n}`);
    await h.page.getByRole("button", { name: "Sign and deposit" }).click();
    await expect.poll(() => h.page.locator("#funds-deposit-error").textContent()).toContain("more than your wallet holds");
    await capture("02-funds-refused-in-form");
    expect(await funds()).toMatchObject({ walletMicro: start.walletMicro, escrowMicro: start.escrowMicro });

    // Withdraw 2.5 credits: escrow down, wallet up, by exactly that; the index has the withdrawal.
    await withdrawField.fill("2.5");
    await withdrawButton.click();
    await expect
      .poll(() => h.page.getByTestId("funds-withdraw-status").getAttribute("data-state"), { timeout: 20_000 })
      .toBe("done");
    const afterWithdraw = await funds();
    expect(BigInt(afterWithdraw.escrowMicro)).toBe(BigInt(start.escrowMicro) - 2_500_000n);
    expect(BigInt(afterWithdraw.walletMicro)).toBe(BigInt(start.walletMicro) + 2_500_000n);
    await expectShown(afterWithdraw);
    await expect
      .poll(async () => (await api<AccountJson>(`/api/accounts/${address}`, token)).history.map((e) => e.amountMicro), {
        timeout: 15_000,
      })
      .toContain("-2500000");

    // Deposit 1.25 of it back: approve, then depositFor (two transactions).
    await h.page.getByLabel("Deposit (credits)").fill("1.25");
    await h.page.getByRole("button", { name: "Sign and deposit" }).click();
    await expect
      .poll(() => h.page.getByTestId("funds-deposit-status").getAttribute("data-state"), { timeout: 20_000 })
      .toBe("done");
    const afterDeposit = await funds();
    expect(BigInt(afterDeposit.escrowMicro)).toBe(BigInt(afterWithdraw.escrowMicro) + 1_250_000n);
    expect(BigInt(afterDeposit.walletMicro)).toBe(BigInt(afterWithdraw.walletMicro) - 1_250_000n);
    expect(afterDeposit.allowanceMicro).toBe("0");
    await expectShown(afterDeposit);
    await expect
      .poll(async () => (await api<AccountJson>(`/api/accounts/${address}`, token)).history.map((e) => e.amountMicro), {
        timeout: 15_000,
      })
      .toContain("1250000");
    await expect
      .poll(async () => (await api<AccountJson>(`/api/accounts/${address}`, token)).balanceMicro, { timeout: 15_000 })
      .toBe(afterDeposit.escrowMicro);
    await capture("03-funds-deposited");

    // The page believes in 1,000 credits more escrow than there is (a stale figure): the form lets the
    // withdrawal through, the contract refuses it with InsufficientEscrow, and nothing changes.
    const inflate = async (route: Route) => {
      const response = await route.fetch();
      const body = (await response.json()) as Funds;
      await route.fulfill({ response, json: { ...body, escrowMicro: String(BigInt(body.escrowMicro) + 1_000_000_000n) } });
    };
    await h.page.route("**/api/accounts/*/funds", inflate);
    await h.page.reload();
    await expect
      .poll(() => h.page.getByTestId("funds-escrow").textContent(), { timeout: 10_000 })
      .toBe(credits(String(BigInt(afterDeposit.escrowMicro) + 1_000_000_000n), 6));
    await h.page.getByLabel("Withdraw (credits)").fill(String(BigInt(afterDeposit.escrowMicro) / 1_000_000n + 1n));
    await h.page.getByRole("button", { name: "Sign and withdraw" }).click();
    await expect
      .poll(() => h.page.getByTestId("funds-withdraw-status").getAttribute("data-state"), { timeout: 20_000 })
      .toBe("failed");
    const refusal = await h.page.getByTestId("funds-withdraw-status").textContent();
    expect(refusal).toContain("contract_refused");
    expect(refusal).toContain("InsufficientEscrow");
    await capture("04-funds-refused-by-contract");
    await h.page.unroute("**/api/accounts/*/funds", inflate);
    expect(await funds()).toMatchObject({ walletMicro: afterDeposit.walletMicro, escrowMicro: afterDeposit.escrowMicro });
  });

  it("a household whose wallet only sends transactions is pointed at the community's chain and changes its standing order", async () => {
    const household = h.accounts.filter((a) => a.role === "household")[1] as DemoAccount;
    const wallet = privateKeyToAccount(household.privateKey);
    const address = wallet.address.toLowerCase();
    const communityChain = h.c.chain.chainId;
    const asked: string[] = [];
    const added: { chainId: Hex; rpcUrls: string[]; chainName: string; nativeCurrency: { symbol: string } }[] = [];
    let walletChain = 1;

    /** What the wallet's own RPC answers: the URL the page gave it in wallet_addEthereumChain. */
    const walletRpc = async (method: string, params: unknown[]) => {
      const url = added[0]?.rpcUrls[0];
      if (!url) throw new Error("the wallet knows no RPC for this chain");
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      return (await response.json()) as { result?: unknown; error?: { code: number; message: string } };
    };

    /** An injected EIP-1193 wallet that refuses eth_signTransaction (4200) and sends through its RPC. */
    const answer = async (
      method: string,
      params: unknown[],
    ): Promise<{ result?: unknown; error?: { code: number; message: string } }> => {
      asked.push(method);
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts":
          return { result: [wallet.address] };
        case "personal_sign":
          return { result: await wallet.signMessage({ message: { raw: params[0] as Hex } }) };
        case "eth_chainId":
          return { result: `0x${walletChain.toString(16)}` };
        case "wallet_switchEthereumChain": {
          const id = hexToNumber((params[0] as { chainId: Hex }).chainId);
          if (id !== 1 && !added.some((a) => hexToNumber(a.chainId) === id))
            return {
              error: { code: 4902, message: "Unrecognized chain ID. Try adding the chain using wallet_addEthereumChain first." },
            };
          walletChain = id;
          return { result: null };
        }
        case "wallet_addEthereumChain":
          added.push(params[0] as (typeof added)[number]);
          walletChain = hexToNumber(added[0]?.chainId as Hex);
          return { result: null };
        case "eth_sendTransaction": {
          const t = params[0] as { from: string; to: Hex; data: Hex; gas: Hex };
          if (walletChain !== communityChain)
            return { error: { code: -32000, message: `the wallet is on chain ${walletChain}` } };
          const [nonce, gasPrice] = await Promise.all([
            walletRpc("eth_getTransactionCount", [t.from, "pending"]),
            walletRpc("eth_gasPrice", []),
          ]);
          const raw = await wallet.signTransaction({
            type: "legacy",
            chainId: walletChain,
            nonce: hexToNumber(nonce.result as Hex),
            gasPrice: BigInt(gasPrice.result as Hex),
            gas: BigInt(t.gas),
            to: t.to,
            data: t.data,
          });
          return walletRpc("eth_sendRawTransaction", [raw]);
        }
        default:
          return { error: { code: 4200, message: `The requested method ${method} is not supported by this wallet` } };
      }
    };

    h.page = await h.browser.newPage(); // a new tab: nobody signed in (the session lives in sessionStorage)
    await h.page.exposeFunction("peergridSendOnlyWallet", answer);
    await h.page.addInitScript(() => {
      type Answer = { result?: unknown; error?: { code: number; message: string } };
      const w = window as unknown as { ethereum: unknown; peergridSendOnlyWallet: (m: string, p: unknown[]) => Promise<Answer> };
      w.ethereum = {
        request: async ({ method, params }: { method: string; params?: unknown[] }) => {
          const a = await w.peergridSendOnlyWallet(method, params ?? []);
          if (a.error) throw Object.assign(new Error(a.error.message), { code: a.error.code });
          return a.result;
        },
      };
    });
    await h.page.goto(`${h.services.url}/signin`);
    await h.page.getByRole("button", { name: "Connect wallet" }).click();
    await h.page.waitForURL(`${h.services.url}/household`);
    await h.page.getByTestId("order-bid").waitFor();
    expect(await h.page.locator("#order-signing").textContent()).toContain("sent by your wallet on the community's chain");

    const token = await tokenOf(household);
    const before = (await api<AccountJson>(`/api/accounts/${address}`, token)).standingOrder;
    const sends = () => asked.filter((m) => m === "eth_sendTransaction").length;

    // A call the contract would refuse (buying far more than the escrow covers) is shown decoded from the
    // dry run, and the wallet is never asked to send it.
    await h.page.getByLabel("Highest price I buy at (credits/kWh)").fill("0.288");
    await h.page.getByLabel("Most I buy per interval (kWh)").fill("4000000");
    await h.page.getByRole("button", { name: "Sign and save standing order" }).click();
    await expect.poll(() => h.page.getByTestId("order-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("failed");
    expect(await h.page.getByTestId("order-status").textContent()).toContain("InsufficientEscrow");
    expect(asked).toContain("eth_signTransaction");
    expect(sends()).toBe(0);
    expect((await api<AccountJson>(`/api/accounts/${address}`, token)).standingOrder).toEqual(before);

    await h.page.getByLabel("Most I buy per interval (kWh)").fill("1");
    await h.page.getByRole("button", { name: "Sign and save standing order" }).click();
    await expect.poll(() => h.page.getByTestId("order-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    expect(sends()).toBe(1);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      chainId: `0x${communityChain.toString(16)}`,
      rpcUrls: [`${h.services.url}/rpc`],
      nativeCurrency: { symbol: "ETH" },
    });
    expect(asked).toEqual(expect.arrayContaining(["wallet_switchEthereumChain", "wallet_addEthereumChain"]));
    await expect
      .poll(async () => (await api<AccountJson>(`/api/accounts/${address}`, token)).standingOrder, { timeout: 15_000 })
      .toMatchObject({ bidMicroPerKwh: "288000", maxBuyWh: "1000" });
    await expect.poll(() => h.page.getByTestId("order-bid").textContent(), { timeout: 15_000 }).toBe(pricePerKwh("288000"));
    // The transaction the page reports is the one the wallet sent, mined on the community's chain.
    const link = await h.page.getByTestId("order-status").getByRole("link").getAttribute("href");
    const hash = link?.split("/").pop() as Hex;
    const receipt = await h.c.chain.public.getTransactionReceipt({ hash });
    expect([receipt.status, receipt.from.toLowerCase(), receipt.to?.toLowerCase()]).toEqual([
      "success",
      address,
      h.c.deployment.market.toLowerCase(),
    ]);
    await capture("05-send-only-wallet");
  });
});
