// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against a real community
// (embedded chain, contracts, demo households), the server (indexer, gateway, API serving web/dist) and
// the keeper settling intervals in between (all set up by ./harness.ts). Screenshots of every view go to
// test-results/dashboard/. `scripts/install-browser.sh` installs Chromium; without /usr/bin/chromium the suite is skipped.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemoAccount } from "../../src/api/routes/demo.ts";
import { credits, kwh, pricePerKwh } from "../src/format.ts";
import { dashboardHarness, hasChromium, TZ } from "./harness.ts";

const h = dashboardHarness({ name: "dashboard", households: 6, start: "2026-06-15T11:00:00+02:00", settledBefore: 3 });
const { api, settleNext, tokenOf, capture } = h;
/** The household the sign-in test picked (it sold to a neighbour), signed in for the later tests. */
let sellerAddress = "";

describe.skipIf(!hasChromium)("the web dashboard in Chromium (sign-in, household, market, explorer)", () => {
  beforeAll(async () => {
    await h.open();
    console.log(`dashboard e2e: web build checked in ${h.buildMs} ms`);
  }, 180_000);

  afterAll(() => h.close());

  it("serves the app for its routes and keeps the API's JSON 404", async () => {
    for (const path of ["/", "/market", `/explorer/tx/0x${"ab".repeat(32)}`]) {
      const r = await fetch(`${h.services.url}${path}`);
      expect(r.status, path).toBe(200);
      expect(await r.text()).toContain('<div id="root">');
    }
    const missing = await fetch(`${h.services.url}/api/no-such-thing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "route_not_found" } });
    expect((await fetch(`${h.services.url}/assets/no-such-file.js`)).status).toBe(404);
  });

  it("signs in a demo household from the picker and shows its real figures, trades and statement", async () => {
    // A household that sold to a neighbour in the last interval, so its trade list is not empty.
    const trades = await api<{ trades: { seller: string }[] }>(`/api/intervals/${h.settled[h.settled.length - 1]}/trades`);
    const seller = trades.trades[0]?.seller;
    expect(seller, "the demo community trades at noon").toBeDefined();
    const me = h.accounts.find((a) => a.address.toLowerCase() === seller) as DemoAccount;
    sellerAddress = me.address.toLowerCase();

    await h.page.goto(`${h.services.url}/`);
    await expect.poll(() => h.page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true);
    await h.page.getByLabel("Household").waitFor();
    await h.page.keyboard.press("Tab");
    expect(await h.page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await capture("01-sign-in");
    await h.page.getByLabel("Household").selectOption(me.address.toLowerCase());
    await h.page.getByRole("button", { name: "Sign in as this household" }).click();
    await h.page.getByTestId("day-exportWh").waitFor();
    expect(h.page.url()).toBe(`${h.services.url}/household`);
    expect(await h.page.getByRole("heading", { level: 1 }).textContent()).toBe(me.label);

    const token = await tokenOf(me);
    const address = me.address.toLowerCase();
    type Day = Record<string, string> & { intervals: number };
    const statement = await api<{ month: string; days: Day[]; totals: Record<string, string> }>(
      `/api/accounts/${address}/statements?tz=${encodeURIComponent(TZ)}`,
      token,
    );
    const day = [...statement.days].reverse().find((d) => d.intervals > 0) as Day;
    expect(day.intervals).toBe(h.settled.length);
    const shown = async (id: string) => (await h.page.getByTestId(id).textContent())?.trim();
    for (const field of ["exportWh", "importWh", "boughtLocalWh", "boughtGridWh", "soldLocalWh", "soldGridWh"]) {
      expect(await shown(`day-${field}`), field).toBe(kwh(day[field] as string));
    }
    for (const field of ["earnedMicro", "paidMicro", "gridOnlyBillMicro", "savingsMicro"]) {
      expect(await shown(`day-${field}`), field).toBe(credits(day[field] as string));
    }
    expect(BigInt(day.soldLocalWh as string)).toBeGreaterThan(0n);
    expect(await shown("month-savingsMicro")).toBe(credits(statement.totals.savingsMicro as string));

    // The trade history's first page (20 rows unless the address asks for another page size).
    const mine = await api<{ trades: unknown[] }>(`/api/accounts/${address}/trades?limit=20`, token);
    await expect.poll(() => h.page.getByTestId("trades").locator("tbody tr").count()).toBe(mine.trades.length);
    await expect.poll(() => h.page.getByRole("figure", { name: /Energy traded with neighbours/ }).isVisible()).toBe(true);

    // The monthly statement downloads as the API's CSV.
    const download = h.page.waitForEvent("download");
    await h.page.getByRole("button", { name: /Download statement .* \(CSV\)/ }).click();
    const file = await (await download).path();
    const csv = await api<string>(
      `/api/accounts/${address}/statements.csv?month=${statement.month}&tz=${encodeURIComponent(TZ)}`,
      token,
    );
    expect(readFileSync(file, "utf8")).toBe(csv);
    await capture("02-household");
  });

  it("shows the settled intervals' prices and adds a new interval live, without reloading", async () => {
    await h.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Market" }).click();
    await expect.poll(() => h.page.getByTestId("timeline").locator("tbody tr").count()).toBe(h.settled.length);
    await expect.poll(() => h.page.getByTestId("live-status").textContent()).toContain("Live");
    const intervals = await api<{ intervals: { interval: string; priceMicroPerKwh: string }[] }>("/api/intervals?limit=48");
    for (const i of intervals.intervals) {
      const row = h.page.locator(`tr[data-interval="${i.interval}"]`);
      expect(await row.locator("td").nth(1).textContent()).toBe(pricePerKwh(i.priceMicroPerKwh));
    }
    await capture("03-market");

    await h.page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const next = await settleNext();
    await h.page.locator(`tr[data-interval="${next}"]`).waitFor();
    expect(await h.page.getByTestId("timeline").locator("tbody tr").count()).toBe(h.settled.length);
    const latest = await api<{ priceMicroPerKwh: string }>(`/api/intervals/${next}`);
    expect(await h.page.getByTestId("latest-price").textContent()).toBe(pricePerKwh(latest.priceMicroPerKwh));
    expect(await h.page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await capture("04-market-live");
  });

  it("opens a trade's settlement transaction in the explorer with its decoded events", async () => {
    await h.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Household" }).click();
    const link = h.page
      .getByTestId("trades")
      .locator("tbody tr")
      .first()
      .getByRole("link", { name: /Settlement transaction/ });
    await link.waitFor();
    await link.click();
    await h.page.getByTestId("tx-call").waitFor();
    const hash = h.page.url().split("/").pop() as string;
    const tx = await api<{ contract: string; functionName: string; events: { name: string }[] }>(`/api/explorer/tx/${hash}`);
    expect(await h.page.getByTestId("tx-call").textContent()).toBe(`${tx.contract}.${tx.functionName}`);
    expect(tx.events.length).toBeGreaterThan(0);
    expect(await h.page.getByTestId("tx-event").count()).toBe(tx.events.length);
    expect(await h.page.getByRole("heading", { level: 1 }).evaluate((h) => h === document.activeElement)).toBe(true);
    await capture("05-transaction");

    // A reload of the client route works (the server answers index.html).
    await h.page.reload();
    await h.page.getByTestId("tx-call").waitFor();
    await h.page.getByRole("link", { name: "← Explorer" }).click();
    await h.page.getByRole("heading", { name: "Recent blocks" }).waitFor();
    await h.page
      .getByRole("link", { name: /^Block \d+$/ })
      .first()
      .waitFor();
    await capture("06-explorer");
    await h.page
      .getByRole("link", { name: /^Block \d+$/ })
      .first()
      .click();
    await h.page.getByRole("heading", { name: "PeerGrid transactions" }).waitFor();
    await capture("07-block");

    // Error state: an unknown transaction.
    await h.page.goto(`${h.services.url}/explorer/tx/0x${"00".repeat(32)}`);
    await h.page.getByRole("alert").waitFor();
    expect(await h.page.getByRole("alert").textContent()).toContain("Transaction not found");
    await capture("08-error");
  });

  it("pages the trade history with the API's cursors: Load older, Newer, the end of the list", async () => {
    type TradeKey = { interval: string; index: number };
    type TradePage = { trades: TradeKey[]; nextBefore: string | null };
    const me = h.accounts.find((a) => a.address.toLowerCase() === sellerAddress) as DemoAccount;
    const token = await tokenOf(me);
    const all = await api<TradePage>(`/api/accounts/${sellerAddress}/trades?limit=500`, token);
    expect(all.trades.length, "the household traded in more than one interval").toBeGreaterThan(2);
    // Short pages over the real trades: at least two pages.
    const size = 2;
    await h.page.goto(`${h.services.url}/household?pageSize=${size}`);
    const table = h.page.getByTestId("trades");
    const range = h.page.getByTestId("trades-pages-range");
    const older = h.page.getByRole("navigation", { name: "Pages of trades" }).getByRole("button", { name: "Load older" });
    const newer = h.page.getByRole("navigation", { name: "Pages of trades" }).getByRole("button", { name: "Newer" });
    const shownKeys = () =>
      table
        .locator("tbody tr")
        .evaluateAll((rows) => rows.map((r) => `${r.getAttribute("data-interval")}:${r.getAttribute("data-index")}`));
    const keys = (p: TradePage) => p.trades.map((t) => `${t.interval}:${t.index}`);
    await table.waitFor();
    let before: string | null = null;
    const visited: string[][] = [];
    for (let n = 0; ; n++) {
      const page: TradePage = await api<TradePage>(
        `/api/accounts/${sellerAddress}/trades?limit=${size}${before ? `&before=${before}` : ""}`,
        token,
      );
      await expect.poll(shownKeys).toEqual(keys(page));
      const first = n * size + 1;
      const end = page.nextBefore === null;
      expect(await range.textContent()).toBe(
        `Showing trades ${first}–${first + page.trades.length - 1}${end ? " · end of the list" : ""}`,
      );
      expect(await older.getAttribute("aria-disabled")).toBe(String(end));
      expect(await newer.getAttribute("aria-disabled")).toBe(String(n === 0));
      visited.push(keys(page));
      if (n === 1) await capture("09-trades-older");
      if (end) break;
      // Keyboard: focus the button and press Enter.
      await older.focus();
      await h.page.keyboard.press("Enter");
      before = page.nextBefore;
    }
    expect(visited.flat()).toEqual(keys(all));
    await capture("10-trades-end");
    // At the end, Load older does nothing and keeps the focus; Newer goes back one page.
    await older.focus();
    await h.page.keyboard.press("Enter");
    expect(await older.evaluate((b) => b === document.activeElement)).toBe(true);
    await newer.click();
    await expect.poll(shownKeys).toEqual(visited[visited.length - 2]);
  });

  it("pages the explorer's blocks and events with the API's cursors", async () => {
    type Blocks = { blocks: { number: string }[]; nextBefore: string | null };
    type Events = { events: { blockNumber: string; logIndex: number }[]; nextBefore: string | null };
    // A page size (2 or more) that ends the first page of events inside a block: the cursor must be block:logIndex.
    const newest = (await api<Events>("/api/explorer/events?limit=100")).events;
    const size = newest.findIndex((e, k) => k >= 2 && e.blockNumber === newest[k - 1]?.blockNumber);
    expect(size, "a block with several events").toBeGreaterThanOrEqual(2);
    await h.page.goto(`${h.services.url}/explorer?pageSize=${size}`);
    const blockList = h.page.getByTestId("blocks");
    const shownBlocks = () =>
      blockList.getByRole("link").evaluateAll((links) => links.map((l) => l.textContent?.replace("Block ", "") ?? ""));
    const blocks1 = await api<Blocks>(`/api/explorer/blocks?limit=${size}`);
    await blockList.waitFor();
    await expect.poll(shownBlocks).toEqual(blocks1.blocks.map((b) => b.number));
    expect(blocks1.nextBefore).not.toBeNull();
    await h.page.getByRole("navigation", { name: "Pages of blocks" }).getByRole("button", { name: "Load older" }).click();
    const blocks2 = await api<Blocks>(`/api/explorer/blocks?limit=${size}&before=${blocks1.nextBefore}`);
    await expect.poll(shownBlocks).toEqual(blocks2.blocks.map((b) => b.number));
    expect(await h.page.getByTestId("blocks-pages-range").textContent()).toMatch(
      new RegExp(`^Showing blocks ${size + 1}–${size + blocks2.blocks.length}`),
    );

    // Events: a settlement logs many events in one block, so the cursor is block:logIndex.
    const eventList = h.page.getByTestId("events");
    const shownEvents = () =>
      eventList
        .locator("li")
        .evaluateAll((items) => items.map((i) => `${i.getAttribute("data-block")}:${i.getAttribute("data-log-index")}`));
    const eventKeys = (p: Events) => p.events.map((e) => `${e.blockNumber}:${e.logIndex}`);
    const events1 = await api<Events>(`/api/explorer/events?limit=${size}`);
    await eventList.waitFor();
    await expect.poll(shownEvents).toEqual(eventKeys(events1));
    const pager = h.page.getByRole("navigation", { name: "Pages of events" });
    await pager.getByRole("button", { name: "Load older" }).click();
    const events2 = await api<Events>(`/api/explorer/events?limit=${size}&before=${events1.nextBefore}`);
    await expect.poll(shownEvents).toEqual(eventKeys(events2));
    expect(events2.events[0]?.blockNumber, "the page boundary falls inside a block").toBe(events1.events[size - 1]?.blockNumber);
    await pager.getByRole("button", { name: "Load older" }).click();
    const events3 = await api<Events>(`/api/explorer/events?limit=${size}&before=${events2.nextBefore}`);
    await expect.poll(shownEvents).toEqual(eventKeys(events3));
    await capture("11-explorer-paged");
    await pager.getByRole("button", { name: "Newer" }).click();
    await expect.poll(shownEvents).toEqual(eventKeys(events2));
  });

  it("pages the market's interval timeline with the API's cursors, to the first settled interval", async () => {
    type Intervals = { intervals: { interval: string }[]; nextBefore: string | null };
    const all = (await api<Intervals>("/api/intervals?limit=500")).intervals.map((i) => i.interval);
    expect(all.length, "enough settled intervals for three pages").toBeGreaterThanOrEqual(3);
    await h.page.goto(`${h.services.url}/market?pageSize=1`);
    const timeline = h.page.getByTestId("timeline");
    const shown = () => timeline.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-interval")));
    await expect.poll(shown).toEqual(all.slice(0, 1));
    const pager = h.page.getByRole("navigation", { name: "Pages of intervals" });
    await pager.getByRole("button", { name: "Load older" }).click();
    await expect.poll(shown).toEqual(all.slice(1, 2));
    expect(await h.page.getByTestId("timeline-range").textContent()).toMatch(/^Showing intervals 2–2/);
    // Newer goes back to the first page; then older pages follow each other to the end of the list.
    await pager.getByRole("button", { name: "Newer" }).click();
    await expect.poll(shown).toEqual(all.slice(0, 1));
    for (let from = 1; from < all.length; from++) {
      await pager.getByRole("button", { name: "Load older" }).click();
      await expect.poll(shown).toEqual(all.slice(from, from + 1));
    }
    await expect.poll(() => h.page.getByTestId("timeline-range").textContent()).toContain("end of the list");
    await capture("12-market-timeline-end");
  });
});
