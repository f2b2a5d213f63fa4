// The dashboard's second slice in a real browser (Debian's Chromium, playwright-core) against a real
// community in-process (embedded chain, contracts, six demo households, server, keeper): a household signs
// and relays a new standing order and sees it take effect in the next settled interval; trade pages verify
// both signed meter readings in the browser; the community view and its opt-in leaderboard; the operator
// onboards a household and pauses a meter, pages through the participant list, deactivates and reactivates a
// participant and reactivates a meter; the grid operator sets the tariffs (seen atop the tariff history) and a
// zone's limits (the form shows a chosen zone's current ones). Screenshots of every view at 1280 px and 375 px
// go to test-results/operations/. Without /usr/bin/chromium it is skipped.
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemoAccount } from "../../src/api/routes/demo.ts";
import { credits, dateTime, kwh, pricePerKwh, toInput } from "../src/format.ts";
import { dashboardHarness, hasChromium, TZ } from "./harness.ts";

const h = dashboardHarness({ name: "operations", households: 6, start: "2026-06-15T11:00:00+02:00", settledBefore: 3 });
const { api, settleNext, tokenOf, capture } = h;
const timings: Record<string, number> = {};

/** Signs in through the demo picker (signing out first when someone is signed in). */
async function signInAs(account: DemoAccount, landing: string) {
  await h.page.goto(`${h.services.url}/signin`);
  const out = h.page.getByRole("button", { name: "Sign out" });
  if (await out.isVisible()) {
    await out.click();
    await h.page.getByRole("heading", { name: "Sign in" }).waitFor();
  }
  await h.page.getByLabel("Household or operator").selectOption(account.address.toLowerCase());
  await h.page.getByRole("button", { name: /^Sign in as this (household|operator)$/ }).click();
  await h.page.waitForURL(`${h.services.url}${landing}`);
}

type IntervalRow = { interval: string; exportWh: string; soldLocalWh: string };
type ParticipantJson = {
  account: string;
  zone: number;
  active: boolean;
  registeredBlock: string;
  registeredAt: string | null;
  displayName: string | null;
  meters: { meterId: number; active: boolean }[];
};
/** The household the operator onboarded (its meter is paused by then), for the participant list's test. */
let onboarded: { account: string; meterId: number } | undefined;

describe.skipIf(!hasChromium)("the dashboard's operations in Chromium (orders, trades, community, operators)", () => {
  beforeAll(async () => {
    const started = Date.now();
    await h.open();
    timings.setup = Date.now() - started;
  }, 180_000);

  afterAll(async () => {
    console.log(`operations e2e timings (ms): ${JSON.stringify(timings)}`);
    await h.close();
  });

  it("a household raises its ask above retail, signs it in the browser, and sells nothing locally in the next interval", async () => {
    const started = Date.now();
    const last = h.settled[h.settled.length - 1] as bigint;
    const trades = await api<{ trades: { seller: string }[] }>(`/api/intervals/${last}/trades`);
    const seller = trades.trades[0]?.seller;
    expect(seller, "the demo community trades at noon").toBeDefined();
    const me = h.accounts.find((a) => a.address.toLowerCase() === seller) as DemoAccount;
    const address = me.address.toLowerCase();
    const token = await tokenOf(me);

    await signInAs(me, "/household");
    await h.page.getByTestId("order-ask").waitFor();
    type Order = { askMicroPerKwh: string; maxSellWh: string; bidMicroPerKwh: string; maxBuyWh: string };
    const before = await api<{ standingOrder: Order }>(`/api/accounts/${address}`, token);
    expect(await h.page.getByTestId("order-ask").textContent()).toBe(pricePerKwh(before.standingOrder.askMicroPerKwh));
    expect(await h.page.getByTestId("order-maxSell").textContent()).toBe(kwh(before.standingOrder.maxSellWh));
    expect(await h.page.getByLabel("Lowest price I sell at (credits/kWh)").inputValue()).toBe(
      toInput(before.standingOrder.askMicroPerKwh, 6),
    );

    // The per-interval figures: the latest settled interval as the API has it, sold locally > 0.
    const rows = await api<{ intervals: IntervalRow[] }>(`/api/accounts/${address}/intervals?limit=10`, token);
    const newest = rows.intervals[0] as IntervalRow;
    expect(newest.interval).toBe(last.toString());
    expect(BigInt(newest.soldLocalWh)).toBeGreaterThan(0n);
    await expect.poll(() => h.page.getByTestId("latest-soldLocalWh").textContent()).toBe(kwh(newest.soldLocalWh));
    expect(await h.page.getByTestId("latest-exportWh").textContent()).toBe(kwh(newest.exportWh));
    await expect.poll(() => h.page.getByRole("figure", { name: /Production and consumption/ }).isVisible()).toBe(true);

    // A bad value is refused in the form, before anything is signed.
    await h.page.getByLabel("Lowest price I sell at (credits/kWh)").fill("0.1234567");
    await h.page.getByRole("button", { name: "Sign and save standing order" }).click();
    await h.page.getByText("at most 6 decimals").waitFor();
    expect(await h.page.getByLabel("Lowest price I sell at (credits/kWh)").getAttribute("aria-invalid")).toBe("true");

    // Ask above retail: no neighbour's bid (≤ retail) can meet it.
    const interval = await api<{ retailMicroPerKwh: string }>(`/api/intervals/${last}`);
    const ask = (BigInt(interval.retailMicroPerKwh) + 100_000n).toString();
    await h.page.getByLabel("Lowest price I sell at (credits/kWh)").fill(toInput(ask, 6));
    await h.page.getByRole("button", { name: "Sign and save standing order" }).click();
    await expect.poll(() => h.page.getByTestId("order-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    await expect.poll(() => h.page.getByTestId("order-ask").textContent()).toBe(pricePerKwh(ask));
    const after = await api<{ standingOrder: Order }>(`/api/accounts/${address}`, token);
    const { blockNumber: _was, ...unchanged } = before.standingOrder as Order & { blockNumber: string };
    expect(after.standingOrder).toMatchObject({ ...unchanged, askMicroPerKwh: ask });
    await capture("01-household-order");

    // The next interval settles with the new ask: the household still feeds in, but sells nothing to neighbours.
    const next = await settleNext();
    await expect
      .poll(() => h.page.getByTestId("latest-interval").getAttribute("data-interval"), { timeout: 20_000 })
      .toBe(next.toString());
    const now = await api<{ intervals: IntervalRow[] }>(`/api/accounts/${address}/intervals?limit=10`, token);
    const row = now.intervals[0] as IntervalRow;
    expect(row.interval).toBe(next.toString());
    expect(BigInt(row.exportWh), "the household still produces").toBeGreaterThan(0n);
    expect(row.soldLocalWh).toBe("0");
    expect(await h.page.getByTestId("latest-soldLocalWh").textContent()).toBe(kwh("0"));
    const sold = await api<{ trades: { seller: string }[] }>(`/api/intervals/${next}/trades`);
    expect(sold.trades.some((t) => t.seller === address)).toBe(false);
    await capture("02-household-after");
    timings.order = Date.now() - started;
  });

  it("opens a trade from the household's history and verifies both signed meter readings in the browser", async () => {
    const started = Date.now();
    const link = h.page
      .getByTestId("trades")
      .locator("tbody tr")
      .first()
      .getByRole("link", { name: /^Trade \d+ of interval/ });
    await link.click();
    await h.page.getByTestId("reading-seller-check").waitFor();
    const [, , , intervalText, idx] = new URL(h.page.url()).pathname.split("/");
    type R = { meter: string; owner: string } | null;
    const trade = await api<{
      txHash: string;
      energyWh: string;
      seller: string;
      buyer: string;
      sellerReading: R;
      buyerReading: R;
    }>(`/api/intervals/${intervalText}/trades/${idx}`);
    expect(await h.page.getByTestId("trade-energy").textContent()).toBe(kwh(trade.energyWh));
    expect(await h.page.getByTestId("trade-tx").textContent()).toBe(trade.txHash);
    for (const side of ["seller", "buyer"] as const) {
      const reading = side === "seller" ? trade.sellerReading : trade.buyerReading;
      expect(reading, `${side} reading`).not.toBeNull();
      expect(reading?.owner.toLowerCase()).toBe(trade[side]);
      expect(await h.page.getByTestId(`reading-${side}-owner`).textContent()).toContain(`(the ${side})`);
      const check = h.page.getByTestId(`reading-${side}-check`);
      expect(await check.getAttribute("data-valid")).toBe("true");
      expect((await check.textContent())?.toLowerCase()).toContain(
        `signature valid: recovered ${(reading as { meter: string }).meter.toLowerCase()} = meter`,
      );
    }
    expect(await h.page.getByRole("heading", { level: 1 }).evaluate((h) => h === document.activeElement)).toBe(true);
    await capture("03-trade");

    // The check is real: the same page with a reading whose figure was altered in transit fails.
    await h.page.route(`**/api/intervals/${intervalText}/trades/${idx}`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { sellerReading: { exportWh: string } };
      body.sellerReading.exportWh = (BigInt(body.sellerReading.exportWh) + 1n).toString();
      await route.fulfill({ response, json: body });
    });
    await h.page.reload();
    await h.page.getByTestId("reading-seller-check").waitFor();
    expect(await h.page.getByTestId("reading-seller-check").getAttribute("data-valid")).toBe("false");
    expect(await h.page.getByTestId("reading-seller-check").textContent()).toContain("signature NOT valid");
    expect(await h.page.getByTestId("reading-buyer-check").getAttribute("data-valid")).toBe("true");
    await capture("04-trade-tampered");
    await h.page.unroute(`**/api/intervals/${intervalText}/trades/${idx}`);

    // The explorer lists the latest interval's trades, each linking to its trade h.page.
    await h.page.goto(`${h.services.url}/explorer`);
    const fromExplorer = h.page.getByTestId("latest-trades").getByRole("link").first();
    await fromExplorer.waitFor();
    await fromExplorer.click();
    await h.page.getByTestId("reading-buyer-check").waitFor();
    expect(h.page.url()).toMatch(/\/explorer\/trade\/\d+\/\d+$/);
    expect(await h.page.getByTestId("reading-buyer-check").getAttribute("data-valid")).toBe("true");

    // An unknown trade is a clear error.
    await h.page.goto(`${h.services.url}/explorer/trade/${intervalText}/9999`);
    await h.page.getByRole("alert").waitFor();
    expect(await h.page.getByRole("alert").textContent()).toContain("Could not load this trade");
    timings.trade = Date.now() - started;
  });

  it("a household opts in to the leaderboard, and the community view shows KPIs, the leaderboard and the zones", async () => {
    const started = Date.now();
    await h.page.goto(`${h.services.url}/household`);
    await h.page.getByLabel("Display name").waitFor();
    await h.page.getByLabel("Display name").fill("Sunny Seller");
    await h.page.getByLabel("Show me on the community's savings leaderboard").check();
    await h.page.getByRole("button", { name: "Save profile" }).click();
    await expect.poll(() => h.page.getByTestId("profile-saved").textContent()).toContain("Saved");

    await h.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Community" }).click();
    await h.page.getByTestId("leaderboard").waitFor();
    const latest = await api<{ intervals: { startsAt: string }[] }>("/api/intervals?limit=1");
    const month = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit" }).format(
      new Date(Number(latest.intervals[0]?.startsAt) * 1000),
    );
    const board = await api<{ entries: { rank: number; name: string; savingsMicro: string }[] }>(
      `/api/leaderboard?month=${month}&tz=${encodeURIComponent(TZ)}`,
    );
    expect(board.entries.map((e) => e.name)).toContain("Sunny Seller");
    const rows = h.page.getByTestId("leaderboard").locator("tbody tr");
    expect(await rows.count()).toBe(board.entries.length);
    const mine = board.entries.find((e) => e.name === "Sunny Seller");
    const row = rows.filter({ hasText: "Sunny Seller" });
    expect(await row.locator("td").nth(2).textContent()).toBe(credits(mine?.savingsMicro ?? ""));

    const kpis = await api<{ localShareOfDemandBps: string; intervals: string }>("/api/kpis");
    expect(await h.page.getByTestId("kpi-intervals").textContent()).toBe(kpis.intervals);
    expect(await h.page.getByTestId("kpi-share").textContent()).toMatch(/ %$/);
    await expect.poll(() => h.page.getByRole("figure", { name: /Local share of demand/ }).isVisible()).toBe(true);
    await h.page.getByTestId("zones").waitFor();
    await capture("05-community");
    timings.community = Date.now() - started;
  });

  it("the operator onboards a household with a meter, sees a refusal explained, and pauses the meter", async () => {
    const started = Date.now();
    const operator = h.accounts.find((a) => a.role === "operator") as DemoAccount;
    expect(operator, "the demo hands out the operator's key").toBeDefined();
    await signInAs(operator, "/operator");
    await h.page.getByTestId("keeper-lag").waitFor();
    const keeperState = await api<{ lagIntervals: string; lastSettledInterval: string }>("/api/keeper");
    expect(await h.page.getByTestId("keeper-last").textContent()).toBe(keeperState.lastSettledInterval);
    expect(await h.page.getByTestId("keeper-lag").textContent()).toBe(`${keeperState.lagIntervals} intervals`);
    await h.page.getByTestId("meters").waitFor();
    await capture("06-operator");

    // A household that is already registered: the contract's refusal is shown, by name.
    const existing = h.accounts.find((a) => a.role === "household") as DemoAccount;
    await h.page.getByLabel("Household account").fill(existing.address);
    await h.page.getByRole("button", { name: "Generate a new meter key" }).click();
    await h.page.getByRole("button", { name: "Sign and register household and meter" }).click();
    await expect.poll(() => h.page.getByTestId("onboard-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("failed");
    expect(await h.page.getByTestId("onboard-status").textContent()).toContain("ParticipantAlreadyRegistered");
    expect(await h.page.getByTestId("onboard-status").textContent()).toContain("contract_refused");

    // A new household, keys generated in the h.browser.
    await h.page.getByRole("button", { name: "Generate a new household key" }).click();
    const account = (await h.page.getByLabel("Household account").inputValue()).toLowerCase();
    const meter = (await h.page.getByLabel("Meter signing address").inputValue()).toLowerCase();
    expect(account).toMatch(/^0x[0-9a-f]{40}$/);
    await h.page.getByLabel("Household's zone").fill("1");
    await h.page.getByRole("button", { name: "Sign and register household and meter" }).click();
    await h.page.getByTestId("onboarded").waitFor({ timeout: 30_000 });
    expect((await h.page.getByTestId("onboarded-account").textContent())?.toLowerCase()).toBe(account);
    const participant = await api<{ zone: number; active: boolean; meters: { meterId: number; signer: string }[] }>(
      `/api/participants/${account}`,
    );
    expect(participant).toMatchObject({ zone: 1, active: true });
    expect(participant.meters.map((m) => m.signer.toLowerCase())).toEqual([meter]);
    const meterId = participant.meters[0]?.meterId as number;
    await h.page.getByRole("button", { name: "Refresh" }).click();
    const row = h.page.locator(`tr[data-meter="${meterId}"]`);
    await row.waitFor();
    expect(await row.getAttribute("data-owner")).toBe(account);
    expect(await row.getByTestId("meter-state").textContent()).toBe("active");
    await capture("07-operator-onboarded");

    await row.getByRole("button", { name: `Pause meter ${meterId}` }).click();
    await expect.poll(() => row.getByTestId("meter-state").textContent(), { timeout: 20_000 }).toBe("paused");
    const paused = await api<{ active: boolean; deactivatedBlock: string | null }>(`/api/meters/${meterId}`);
    expect(paused.active).toBe(false);
    expect(paused.deactivatedBlock).not.toBeNull();
    onboarded = { account, meterId };
    timings.operator = Date.now() - started;
  });

  it("the operator pages through the participants, deactivates and reactivates one, and reactivates its paused meter", async () => {
    const started = Date.now();
    const operator = h.accounts.find((a) => a.role === "operator") as DemoAccount;
    const token = await tokenOf(operator);
    const { account, meterId } = onboarded as { account: string; meterId: number };
    const all = (await api<{ participants: ParticipantJson[] }>("/api/participants?limit=500", token)).participants;
    expect(all.length).toBe(7); // six demo households and the one onboarded
    expect(all.find((p) => p.account === account)?.meters).toEqual([{ meterId, active: false }]);
    expect(
      all.some((p) => p.displayName === "Sunny Seller"),
      "operators see the display names",
    ).toBe(true);

    // Four a page: the first page, then the next, each row as the API lists it.
    await h.page.goto(`${h.services.url}/operator?pageSize=4`);
    const table = h.page.getByTestId("participants");
    const checkRows = async (expected: ParticipantJson[]) => {
      await expect
        .poll(() => table.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-account"))))
        .toEqual(expected.map((p) => p.account));
      for (const p of expected) {
        const row = table.locator(`tr[data-account="${p.account}"]`);
        expect(await row.getByTestId("participant-zone").textContent()).toBe(String(p.zone));
        expect(await row.getByTestId("participant-state").textContent()).toBe(p.active ? "active" : "deactivated");
        expect(await row.getByTestId("participant-name").textContent()).toBe(p.displayName ?? "–");
        expect(await row.getByTestId("participant-meter").allTextContents()).toEqual(
          p.meters.map((m) => `#${m.meterId} ${m.active ? "active" : "paused"}`),
        );
        expect(await row.getByTestId("participant-registered").textContent()).toBe(
          `${dateTime(p.registeredAt ?? "", TZ)} · block ${p.registeredBlock}`,
        );
      }
    };
    await checkRows(all.slice(0, 4));
    expect(await h.page.getByTestId("participants-range").textContent()).toBe("Showing participants 1–4");
    await capture("10-operator-participants");
    await h.page.getByRole("navigation", { name: "Pages of participants" }).getByRole("button", { name: "Next" }).click();
    await checkRows(all.slice(4));
    expect(await h.page.getByTestId("participants-range").textContent()).toBe("Showing participants 5–7 · end of the list");

    // The onboarded household: deactivated (the filter then shows it alone), reactivated, each checked in the API.
    await h.page.goto(`${h.services.url}/operator`);
    const row = table.locator(`tr[data-account="${account}"]`);
    await row.waitFor();
    await row.getByRole("button", { name: `Deactivate participant ${account}` }).click();
    await expect.poll(() => row.getByTestId("participant-state").textContent(), { timeout: 20_000 }).toBe("deactivated");
    expect((await api<ParticipantJson>(`/api/participants/${account}`)).active).toBe(false);
    await h.page.getByLabel("State").selectOption("false");
    await expect
      .poll(() => table.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-account"))))
      .toEqual([account]);
    await capture("11-operator-participant-deactivated");
    await h.page.getByLabel("State").selectOption("");
    await row.getByRole("button", { name: `Reactivate participant ${account}` }).click();
    await expect.poll(() => row.getByTestId("participant-state").textContent(), { timeout: 20_000 }).toBe("active");
    expect((await api<ParticipantJson>(`/api/participants/${account}`)).active).toBe(true);

    // Its meter, paused before: reactivated, paused, reactivated again (registry.reactivateMeter / deactivateMeter).
    const meter = row.locator(`li[data-meter="${meterId}"]`);
    type M = { active: boolean; deactivatedBlock: string | null };
    for (const active of [true, false, true]) {
      await meter.getByRole("button", { name: `${active ? "Reactivate" : "Pause"} meter ${meterId}` }).click();
      await expect
        .poll(() => meter.getByTestId("participant-meter").textContent(), { timeout: 20_000 })
        .toBe(`#${meterId} ${active ? "active" : "paused"}`);
      const now = await api<M>(`/api/meters/${meterId}`);
      expect(now.active).toBe(active);
      expect(now.deactivatedBlock === null).toBe(active);
      await expect
        .poll(() =>
          h.page.locator(`[data-testid="meters"] tr[data-meter="${meterId}"] [data-testid="meter-state"]`).textContent(),
        )
        .toBe(active ? "active" : "paused");
    }
    expect(await h.page.getByTestId("participant-status").getAttribute("data-state")).toBe("done");
    await capture("12-operator-meter-reactivated");
    timings.participants = Date.now() - started;
  });

  it("the grid operator sets a zone's limits", async () => {
    const started = Date.now();
    const grid = h.accounts.find((a) => a.role === "gridOperator") as DemoAccount;
    expect(grid, "the demo hands out the grid operator's key").toBeDefined();
    await signInAs(grid, "/operator");
    await h.page.getByRole("heading", { name: "Zone limits" }).waitFor();

    // New tariffs: the change heads the tariff history, as the API has it.
    type T = { feedInMicroPerKwh: string; retailMicroPerKwh: string };
    const was = (await api<{ current: T }>("/api/tariffs")).current;
    const feedIn = (BigInt(was.feedInMicroPerKwh) + 1_500n).toString();
    const retail = (BigInt(was.retailMicroPerKwh) + 2_500n).toString();
    await h.page.getByLabel("Feed-in tariff (credits/kWh)").fill(toInput(feedIn, 6));
    await h.page.getByLabel("Retail tariff (credits/kWh)").fill(toInput(retail, 6));
    await h.page.getByRole("button", { name: "Sign and set tariffs" }).click();
    await expect.poll(() => h.page.getByTestId("tariffs-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    const history = h.page.getByTestId("tariff-history").locator("tbody tr");
    await expect
      .poll(() => history.first().getByTestId("tariff-feedIn").textContent(), { timeout: 20_000 })
      .toBe(pricePerKwh(feedIn));
    type Change = T & { blockNumber: string; at: string; by: string };
    const changes = (await api<{ changes: Change[] }>("/api/tariffs/history?limit=500")).changes;
    expect(changes[0]).toMatchObject({ feedInMicroPerKwh: feedIn, retailMicroPerKwh: retail, by: grid.address.toLowerCase() });
    expect(await history.count()).toBe(Math.min(changes.length, 20));
    const top = history.first();
    expect(await top.getByTestId("tariff-retail").textContent()).toBe(pricePerKwh(retail));
    expect(await top.getByTestId("tariff-block").textContent()).toBe(changes[0]?.blockNumber);
    expect(await top.getByTestId("tariff-at").textContent()).toBe(dateTime(changes[0]?.at ?? "", TZ));
    expect((await top.getByTestId("tariff-by").getAttribute("title"))?.toLowerCase()).toBe(grid.address.toLowerCase());
    expect(await history.nth(1).getByTestId("tariff-feedIn").textContent()).toBe(pricePerKwh(was.feedInMicroPerKwh));
    await capture("13-grid-operator-tariff-history");

    await h.page.getByLabel("Zone", { exact: true }).fill("1");
    await h.page.getByLabel("Import cap (kWh per interval)").fill("5");
    await h.page.getByLabel("Export cap (kWh per interval)").fill("3.5");
    await h.page.getByLabel("Import fee (credits/kWh)").fill("0.01");
    await h.page.getByRole("button", { name: "Sign and set zone limits" }).click();
    await expect.poll(() => h.page.getByTestId("limits-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    type Z = { zone: number; importCapWh: string; exportCapWh: string; feeMicroPerKwh: string };
    await expect.poll(async () => (await api<{ zones: Z[] }>("/api/zones")).zones.some((z) => z.zone === 1)).toBe(true);
    const zones = await api<{ zones: Z[] }>("/api/zones");
    expect(zones.zones.find((z) => z.zone === 1)).toMatchObject({
      importCapWh: "5000",
      exportCapWh: "3500",
      feeMicroPerKwh: "10000",
    });
    await expect
      .poll(() => h.page.locator('[data-testid="zone-limits"] li[data-zone="1"] [data-testid="zone-limit-text"]').textContent())
      .toBe(`Zone 1: import ${kwh("5000")}, export ${kwh("3500")}, fee ${pricePerKwh("10000")}`);
    // Edit fills the form with the zone's current limits, as typed values.
    await h.page.getByLabel("Import cap (kWh per interval)").fill("");
    await h.page.getByRole("button", { name: "Edit the limits of zone 1" }).click();
    expect(await h.page.getByLabel("Import cap (kWh per interval)").inputValue()).toBe("5");
    expect(await h.page.getByLabel("Export cap (kWh per interval)").inputValue()).toBe("3.5");
    expect(await h.page.getByLabel("Import fee (credits/kWh)").inputValue()).toBe("0.01");

    // Choosing a zone fills the form with its current limits: one never configured is unlimited and free.
    const configured = new Set(zones.zones.map((z) => z.zone));
    const free = [0, 1, 2, 3, 4, 5].find((z) => !configured.has(z)) as number;
    await h.page.getByLabel("Zone", { exact: true }).fill(String(free));
    expect(await h.page.getByLabel("Import cap (kWh per interval)").inputValue()).toBe("");
    expect(await h.page.getByLabel("Export cap (kWh per interval)").inputValue()).toBe("");
    expect(await h.page.getByLabel("Import fee (credits/kWh)").inputValue()).toBe("0");
    expect(await h.page.getByTestId("limits-current").textContent()).toBe(`Zone ${free} has no limits yet: unlimited, no fee.`);
    await h.page.getByLabel("Zone", { exact: true }).fill("1");
    expect(await h.page.getByLabel("Import cap (kWh per interval)").inputValue()).toBe("5");
    expect(await h.page.getByLabel("Export cap (kWh per interval)").inputValue()).toBe("3.5");
    expect(await h.page.getByLabel("Import fee (credits/kWh)").inputValue()).toBe("0.01");
    expect(await h.page.getByTestId("limits-current").textContent()).toContain(`Zone 1 now: import ${kwh("5000")}`);
    await capture("08-grid-operator");
    timings.grid = Date.now() - started;
  });

  it("a household with an injected EIP-1193 wallet signs in and writes through eth_signTransaction, or is told why not", async () => {
    const started = Date.now();
    const household = h.accounts.filter((a) => a.role === "household")[1] as DemoAccount;
    const wallet = privateKeyToAccount(household.privateKey);
    const address = wallet.address.toLowerCase();
    let refuse = false;
    const asked: string[] = [];
    h.page = await h.browser.newPage(); // a new tab: nobody signed in (the session lives in sessionStorage)
    await h.page.exposeFunction("peergridTestWallet", async (method: string, params: unknown[]) => {
      asked.push(method);
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [wallet.address];
      if (method === "personal_sign") return wallet.signMessage({ message: { raw: params[0] as `0x${string}` } });
      if (method === "eth_signTransaction") {
        if (refuse) throw new Error("The method eth_signTransaction is not supported");
        const t = params[0] as Record<string, `0x${string}`>;
        return wallet.signTransaction({
          type: "legacy",
          chainId: Number(t.chainId),
          nonce: Number(t.nonce),
          gasPrice: BigInt(t.gasPrice as string),
          gas: BigInt(t.gas as string),
          to: t.to,
          data: t.data,
          value: 0n,
        });
      }
      throw new Error(`unsupported method ${method}`);
    });
    await h.page.addInitScript(() => {
      const w = window as unknown as { ethereum: unknown; peergridTestWallet: (m: string, p: unknown[]) => Promise<unknown> };
      w.ethereum = {
        request: ({ method, params }: { method: string; params?: unknown[] }) => w.peergridTestWallet(method, params ?? []),
      };
    });
    await h.page.goto(`${h.services.url}/signin`);
    await h.page.getByRole("button", { name: "Connect wallet" }).click();
    await h.page.waitForURL(`${h.services.url}/household`);
    await h.page.getByTestId("order-bid").waitFor();
    expect(await h.page.locator("#order-signing").textContent()).toContain("your browser wallet (eth_signTransaction)");

    await h.page.getByLabel("Highest price I buy at (credits/kWh)").fill("0.299");
    await h.page.getByRole("button", { name: "Sign and save standing order" }).click();
    await expect.poll(() => h.page.getByTestId("order-status").getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    expect(asked).toContain("eth_signTransaction");
    const token = await tokenOf(household);
    await expect
      .poll(
        async () =>
          (await api<{ standingOrder: { bidMicroPerKwh: string } }>(`/api/accounts/${address}`, token)).standingOrder
            .bidMicroPerKwh,
      )
      .toBe("299000");
    await expect.poll(() => h.page.getByTestId("order-bid").textContent()).toBe(pricePerKwh("299000"));

    // A wallet that will not sign transactions (most only send them): the form says why.
    refuse = true;
    await h.page.getByLabel("Highest price I buy at (credits/kWh)").fill("0.2");
    await h.page.getByRole("button", { name: "Sign and save standing order" }).click();
    await expect.poll(() => h.page.getByTestId("order-status").getAttribute("data-state")).toBe("failed");
    expect(await h.page.getByTestId("order-status").textContent()).toContain("wallet_cannot_sign");
    expect(
      (await api<{ standingOrder: { bidMicroPerKwh: string } }>(`/api/accounts/${address}`, token)).standingOrder.bidMicroPerKwh,
    ).toBe("299000");
    await capture("09-injected-wallet-refused");
    timings.injected = Date.now() - started;
  });
});
