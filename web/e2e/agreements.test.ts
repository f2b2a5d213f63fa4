// Bilateral agreements from the household view, in Chromium against a real community (harness.ts): a
// household proposes one to a neighbour of its zone (and is refused, with the contract's error, for a
// household of another zone), the neighbour signs in and accepts, both see it active (UI and API), the
// interval it starts in settles with a `bilateral` trade for it when the seller exported and the buyer
// imported, and the neighbour cancels it. Screenshots at 1280 px and 375 px under test-results/agreements/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemoAccount } from "../../src/api/routes/demo.ts";
import { credits, kwh } from "../src/format.ts";
import { dashboardHarness, hasChromium } from "./harness.ts";

const h = dashboardHarness({ name: "agreements", households: 6, start: "2026-06-15T11:00:00+02:00", settledBefore: 2 });
const { api, settleNext, tokenOf, capture } = h;

async function signInAs(account: DemoAccount) {
  await h.page.goto(`${h.services.url}/signin`);
  const out = h.page.getByRole("button", { name: "Sign out" });
  if (await out.isVisible()) {
    await out.click();
    await h.page.getByRole("heading", { name: "Sign in" }).waitFor();
  }
  await h.page.getByLabel("Household or operator").selectOption(account.address.toLowerCase());
  await h.page.getByRole("button", { name: /^Sign in as this household$/ }).click();
  await h.page.waitForURL(`${h.services.url}/household`);
  await h.page.getByRole("heading", { name: "Agreements" }).waitFor();
}

type Agreement = {
  id: string;
  status: string;
  lastEvent: string;
  seller: string;
  buyer: string;
  maxWhPerInterval: string;
  priceMicroPerKwh: string;
  startInterval: string;
  endInterval: string;
  noticeIntervals: string;
  proposer: string | null;
};
type TradeRow = {
  kind: string;
  agreementId: string | null;
  seller: string;
  buyer: string;
  energyWh: string;
  sellerPriceMicroPerKwh: string;
  buyerPaidMicro: string;
};
type Row = { interval: string; exportWh: string; importWh: string };

describe.skipIf(!hasChromium)("bilateral agreements in the household view (Chromium)", () => {
  beforeAll(() => h.open(), 180_000);
  afterAll(() => h.close());

  it("A proposes to B of its zone, B accepts, it delivers before the auction, and B cancels it", async () => {
    // A pair of the same zone that traded at noon: A sold, B bought (so A exports and B imports).
    const last = h.settled[h.settled.length - 1] as bigint;
    const { participants } = await api<{ participants: { account: string; zone: number; active: boolean }[] }>(
      "/api/participants?limit=500",
    );
    const zoneOf = new Map(participants.map((p) => [p.account, p.zone]));
    const { trades } = await api<{ trades: TradeRow[] }>(`/api/intervals/${last}/trades`);
    const pair = trades.find((t) => zoneOf.get(t.seller) === zoneOf.get(t.buyer));
    expect(pair, "a trade inside one zone at noon").toBeDefined();
    const byAddress = (a: string) => h.accounts.find((x) => x.address.toLowerCase() === a) as DemoAccount;
    const A = byAddress(pair?.seller as string);
    const B = byAddress(pair?.buyer as string);
    const a = A.address.toLowerCase();
    const b = B.address.toLowerCase();
    const elsewhere = participants.find((p) => p.zone !== zoneOf.get(a) && byAddress(p.account)?.role !== "operator");
    const [tokenA, tokenB] = [await tokenOf(A), await tokenOf(B)];
    const contracts = await api<{ currentInterval: string; intervalSeconds: string }>("/api/contracts");

    await signInAs(A);
    const page = h.page;
    // A malformed amount is refused in the form; a household of another zone by the contract (422).
    await page.getByLabel("Up to (kWh per interval)").fill("0.5555");
    await page.getByLabel("Price (credits/kWh)").fill("0.1");
    await page.getByRole("button", { name: "Sign and propose agreement" }).click();
    await page.getByText("Up to (kWh per interval): at most 3 decimals").waitFor();
    expect(await page.getByLabel("Up to (kWh per interval)").getAttribute("aria-invalid")).toBe("true");
    await page.getByLabel("Up to (kWh per interval)").fill("0.5");
    await page.getByLabel("Notice (intervals)").fill("0");
    expect(elsewhere, "a household of the other zone").toBeDefined();
    await page.getByLabel("Neighbour's address").fill(elsewhere?.account as string);
    await page.getByRole("button", { name: "Sign and propose agreement" }).click();
    await expect.poll(() => page.getByTestId("propose-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("failed");
    const text = await page.getByTestId("propose-status").textContent();
    expect(text).toContain("contract_refused");
    expect(text).toContain("DifferentZones");
    // The picker offers the active households of A's zone (B among them, not the other zone's), and fills the address.
    const picker = page.getByLabel("Pick a neighbour of your zone");
    const offered = await picker.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    const zoneA = participants.filter((p) => p.zone === zoneOf.get(a) && p.account !== a && p.active).map((p) => p.account);
    expect(offered.filter((v) => v !== "").sort()).toEqual([...zoneA].sort());
    expect(offered).toContain(b);
    expect(offered).not.toContain(elsewhere?.account);
    await picker.selectOption(b);
    expect(await page.getByLabel("Neighbour's address").inputValue()).toBe(b);
    await capture("00-picker");
    await page.getByLabel("sell to this neighbour").check();
    await page.getByRole("button", { name: "Sign and propose agreement" }).click();
    await expect.poll(() => page.getByTestId("propose-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("done");

    const listOf = async (token: string, who: string) =>
      (await api<{ agreements: Agreement[] }>(`/api/agreements?account=${who}`, token)).agreements;
    // The relay answers once mined; the index (and so the API) follows a moment later.
    await expect.poll(async () => (await listOf(tokenA, a)).length, { timeout: 20_000 }).toBe(1);
    const proposed = (await listOf(tokenA, a))[0] as Agreement;
    expect(proposed).toMatchObject({
      status: "proposed",
      seller: a,
      buyer: b,
      maxWhPerInterval: "500",
      priceMicroPerKwh: "100000",
      noticeIntervals: "0",
      proposer: a,
      // The form's default start: the chain's next interval.
      startInterval: (BigInt(contracts.currentInterval) + 1n).toString(),
    });
    const id = proposed.id;
    const card = page.getByTestId(`agreement-${id}`);
    await expect.poll(() => card.getAttribute("data-status")).toBe("proposed");
    expect(await page.getByTestId(`agreement-${id}-terms`).textContent()).toBe("up to 0.500 kWh per interval at 0.1000 /kWh");
    expect(await card.getByRole("button", { name: `Accept agreement #${id}` }).count(), "the proposer cannot accept").toBe(0);
    await card.getByRole("button", { name: `Withdraw agreement #${id}` }).waitFor();
    await capture("01-proposed");

    // B accepts.
    await signInAs(B);
    const cardB = h.page.getByTestId(`agreement-${id}`);
    await cardB.getByRole("button", { name: `Accept agreement #${id}` }).click();
    await expect.poll(() => h.page.getByTestId("agreement-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    await expect.poll(() => cardB.getAttribute("data-status")).toBe("active");
    await expect.poll(async () => (await listOf(tokenB, b)).find((x) => x.id === id)?.status).toBe("active");
    const accepted = (await listOf(tokenB, b)).find((x) => x.id === id) as Agreement;
    expect((await listOf(tokenA, a)).find((x) => x.id === id)?.status).toBe("active");
    await capture("02-accepted");

    // Settle up to the agreement's first interval: the meters' figures decide what it delivered.
    const start = BigInt(accepted.startInterval);
    while ((h.settled[h.settled.length - 1] as bigint) < start) await settleNext();
    const rowOf = async (token: string, who: string) =>
      (await api<{ intervals: Row[] }>(`/api/accounts/${who}/intervals?limit=5`, token)).intervals.find(
        (r) => r.interval === start.toString(),
      );
    const [sellerRow, buyerRow] = [await rowOf(tokenA, a), await rowOf(tokenB, b)];
    const settledTrades = (await api<{ trades: TradeRow[] }>(`/api/intervals/${start}/trades`)).trades;
    const delivery = settledTrades.find((t) => t.kind === "bilateral" && t.agreementId === id);
    // The seeded demo is deterministic: at this hour the seller exports and the buyer imports.
    const exported = BigInt(sellerRow?.exportWh ?? "0");
    const imported = BigInt(buyerRow?.importWh ?? "0");
    expect(exported, "the seller exported").toBeGreaterThan(0n);
    expect(imported, "the buyer imported").toBeGreaterThan(0n);
    // Delivered first, before the auction: min(cap, export, import) (the buyer's escrow covers it), at the agreed price.
    const min = (...xs: bigint[]) => xs.reduce((m, x) => (x < m ? x : m));
    const wh = min(500n, exported, imported);
    expect(delivery, "a bilateral trade for the agreement").toMatchObject({
      seller: a,
      buyer: b,
      energyWh: wh.toString(),
      sellerPriceMicroPerKwh: "100000",
      buyerPaidMicro: ((wh * 100_000n) / 1000n).toString(),
    });
    expect(settledTrades.filter((t) => t.agreementId === id)).toHaveLength(1);
    // "Delivered" is the API's totals over all the agreement's deliveries; expanded, its deliveries interval by interval.
    type Deliveries = {
      totals: { intervals: string; energyWh: string; moneyMicro: string };
      deliveries: { interval: string; index: number; energyWh: string; moneyMicro: string; txHash: string | null }[];
      nextBefore: string | null;
    };
    const delivered = await api<Deliveries>(`/api/agreements/${id}/deliveries`, tokenB);
    expect(delivered.totals).toEqual({
      intervals: "1",
      energyWh: wh.toString(),
      moneyMicro: ((wh * 100_000n) / 1000n).toString(),
    });
    expect(delivered.deliveries).toHaveLength(1);
    expect(delivered.nextBefore).toBeNull();
    await expect
      .poll(() => h.page.getByTestId(`agreement-${id}-delivered`).textContent(), { timeout: 20_000 })
      .toBe(`${kwh(wh.toString())} in 1 interval for ${credits(delivered.totals.moneyMicro, 4)}`);
    const disclosure = cardB.getByRole("button", { name: `Show deliveries of agreement #${id}` });
    expect(await disclosure.getAttribute("aria-expanded")).toBe("false");
    expect(await h.page.getByTestId(`agreement-${id}-deliveries-table`).isVisible()).toBe(false);
    await disclosure.focus();
    await h.page.keyboard.press("Enter");
    const hide = cardB.getByRole("button", { name: `Hide deliveries of agreement #${id}` });
    expect(await hide.getAttribute("aria-expanded")).toBe("true");
    const table = h.page.getByTestId(`agreement-${id}-deliveries-table`);
    await table.waitFor();
    const rows = table.locator("tbody tr");
    expect(await rows.count()).toBe(delivered.deliveries.length);
    for (const [i, d] of delivered.deliveries.entries()) {
      const row = rows.nth(i);
      expect(await row.getAttribute("data-interval")).toBe(d.interval);
      expect(await row.locator("td").nth(1).textContent()).toBe(kwh(d.energyWh));
      expect(await row.locator("td").nth(3).textContent()).toBe(`−${credits(d.moneyMicro, 4)}`);
      expect(await row.getByRole("link", { name: /^Trade / }).getAttribute("href")).toBe(
        `/explorer/trade/${d.interval}/${d.index}`,
      );
    }
    expect(await h.page.getByTestId(`agreement-${id}-pages-range`).textContent()).toBe(
      "Showing deliveries 1–1 · end of the list",
    );
    await capture("02b-deliveries");

    // B cancels: with 0 intervals of notice, deliveries stop after the current interval.
    await cardB.getByRole("button", { name: `Cancel agreement #${id}` }).click();
    await expect.poll(() => h.page.getByTestId("agreement-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    const now = BigInt((await api<{ currentInterval: string }>("/api/contracts")).currentInterval);
    await expect.poll(async () => (await listOf(tokenB, b)).find((x) => x.id === id)?.lastEvent).toBe("cancelled");
    const cancelled = (await listOf(tokenB, b)).find((x) => x.id === id) as Agreement;
    expect(BigInt(cancelled.endInterval)).toBe(now + 1n);
    await expect.poll(() => cardB.getAttribute("data-last-event")).toBe("cancelled");
    expect(await cardB.getByRole("button", { name: `Cancel agreement #${id}` }).count()).toBe(0);
    expect(await h.page.getByTestId(`agreement-${id}-until`).textContent()).toContain("cancelled");
    await capture("03-cancelled");

    // A sees the same.
    await signInAs(A);
    await expect.poll(() => h.page.getByTestId(`agreement-${id}`).getAttribute("data-status")).toBe(cancelled.status);
    expect(await h.page.getByTestId(`agreement-${id}`).getAttribute("data-last-event")).toBe("cancelled");
  }, 120_000);
});
