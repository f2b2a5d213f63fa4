// The market's supply and demand curves and volumes by zone, and the community's zone diagram, in
// Chromium against a real community (harness.ts): zone 2 is cut off from the other zones by caps of 0, so
// a limit binds; the market view shows the latest interval's clearing point and per-zone volumes as the
// API gives them, steps back to the previous interval, and follows a newly settled interval without a
// reload; the community view draws the zones with the API's figures. Screenshots at 1280 px and 375 px
// under test-results/market/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { energyMarketAbi } from "../../src/chain/generated/contracts.ts";
import { callTx } from "../../src/chain/market.ts";
import type { IntervalBook } from "../src/api.ts";
import { kwh, pricePerKwh, sum } from "../src/format.ts";
import { dashboardHarness, hasChromium } from "./harness.ts";

const h = dashboardHarness({ name: "market", households: 6, start: "2026-06-15T11:00:00+02:00", settledBefore: 2 });
const { api, settleNext, capture } = h;

const UNLIMITED = (2n ** 64n - 1n).toString();
const capText = (wh: string) => (wh === UNLIMITED ? "unlimited" : kwh(wh));
const netText = (wh: string) => {
  const net = BigInt(wh);
  return net === 0n ? "no exchange" : `${net > 0n ? "exports" : "imports"} ${kwh((net < 0n ? -net : net).toString())}`;
};
const soldIn = (book: IntervalBook, zone?: number) =>
  sum(book.orders.filter((o) => o.side === "ask" && (zone === undefined || o.zone === zone)).map((o) => o.filledWh));

describe.skipIf(!hasChromium)("supply and demand, volumes by zone and the zone diagram (Chromium)", () => {
  beforeAll(async () => {
    await h.open();
    await h.c.chain.send([
      callTx(h.c.community.grid, h.c.deployment.market, energyMarketAbi, "setZoneLimits", [
        2,
        { importCapWh: 0n, exportCapWh: 0n, feeMicroPerKwh: 0 },
      ]),
    ]);
    await settleNext();
  }, 180_000);
  afterAll(() => h.close());

  /** The clearing point and the zone table of the page equal the API's book of `interval`. */
  async function expectBook(interval: bigint) {
    const book = await api<IntervalBook>(`/api/intervals/${interval}/book`);
    expect(book.reproduced).toBe(true);
    await expect.poll(() => h.page.getByLabel("Interval", { exact: true }).inputValue()).toBe(String(interval));
    await expect.poll(() => h.page.getByTestId("clearing-price").textContent()).toBe(pricePerKwh(book.priceMicroPerKwh));
    expect(await h.page.getByTestId("clearing-volume").textContent()).toBe(kwh(book.tradedWh));
    expect(soldIn(book)).toBe(book.tradedWh);
    // The screen-reader table holds every step of both curves.
    const steps = h.page.getByTestId("book-steps").locator("tbody tr");
    expect(await steps.count()).toBe(book.curves.supply.length + book.curves.demand.length);
    const first = book.curves.supply[0];
    if (first) {
      expect(await steps.first().locator("td").allTextContents()).toEqual([
        pricePerKwh(first.priceMicroPerKwh),
        kwh(first.fromWh),
        kwh(first.toWh),
      ]);
    }
    const rows = h.page.getByTestId("zone-volumes").locator("tbody tr");
    expect(await rows.count()).toBe(book.zones.length);
    for (const z of book.zones) {
      const cells = await h.page.locator(`[data-testid="zone-volumes"] tr[data-zone="${z.zone}"] td`).allTextContents();
      expect(cells).toEqual([
        String(z.households),
        pricePerKwh(z.priceMicroPerKwh),
        kwh(z.soldLocalWh),
        kwh(z.boughtLocalWh),
        netText(z.netExportWh),
        capText(z.importCapWh),
        capText(z.exportCapWh),
        kwh(z.toGridWh),
        kwh(z.fromGridWh),
        z.boundLimit === "import"
          ? "Import cap bound"
          : z.boundLimit === "export"
            ? "Export cap bound"
            : z.capacityBound
              ? "A limit bound"
              : "No",
      ]);
    }
    return book;
  }

  it("shows the latest interval's curves, clearing point and volumes by zone as the API gives them", async () => {
    await h.page.goto(`${h.services.url}/market`);
    await h.page.getByTestId("book-chart").waitFor();
    const latest = h.settled[h.settled.length - 1] as bigint;
    const book = await expectBook(latest);
    // Zone 2 may neither import nor export: it trades nothing with zone 1, and the table says why.
    const zone2 = book.zones.find((z) => z.zone === 2);
    expect(zone2?.netExportWh).toBe("0");
    expect(zone2?.capacityBound).toBe(true);
    expect(await h.page.locator('[data-testid="zone-volumes"] tr[data-zone="2"] td').last().textContent()).toMatch(/bound/);
    await capture("01-market-book");

    // One zone's curves: its own price and what its sellers sold.
    await h.page.getByLabel("Curves of").selectOption("2");
    await expect.poll(() => h.page.getByTestId("clearing-price").textContent()).toBe(pricePerKwh(zone2?.priceMicroPerKwh ?? ""));
    expect(await h.page.getByTestId("clearing-volume").textContent()).toBe(kwh(soldIn(book, 2)));
    expect(await h.page.getByTestId("book-steps").locator("tbody tr").count()).toBe(
      (zone2?.curves.supply.length ?? 0) + (zone2?.curves.demand.length ?? 0),
    );
    await capture("02-market-zone");
    await h.page.getByLabel("Curves of").selectOption("all");
  });

  it("steps back to the previous interval, and follows a new interval live once back on the latest", async () => {
    const [previous, latest] = h.settled.slice(-2) as [bigint, bigint];
    await h.page.getByRole("button", { name: "← Previous interval" }).click();
    await expectBook(previous);
    expect(await h.page.getByTestId("book-following").textContent()).toContain("older interval");
    await capture("03-market-previous");

    // A new interval does not move the page off the interval being looked at.
    await h.page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const next = await settleNext();
    await h.page.locator(`tr[data-interval="${next}"]`).waitFor();
    expect(await h.page.getByLabel("Interval", { exact: true }).inputValue()).toBe(String(previous));
    await h.page.getByRole("button", { name: "Next interval →" }).click();
    await expectBook(latest);
    await h.page.getByRole("button", { name: "Latest" }).click();
    await expectBook(next);
    // Following the latest: the next settled interval replaces it by itself.
    const after = await settleNext();
    await expectBook(after);
    expect(await h.page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await capture("04-market-live");
  });

  it("draws the community's zones with the API's households, caps, flows and bound limits", async () => {
    await h.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Community" }).click();
    await h.page.getByTestId("zone-diagram").waitFor();
    const latest = h.settled[h.settled.length - 1] as bigint;
    const book = await api<IntervalBook>(`/api/intervals/${latest}/book`);
    const diagram = h.page.getByTestId("zone-diagram");
    for (const z of book.zones) {
      const node = diagram.locator(`g[data-zone="${z.zone}"]`);
      const text = (await node.locator("text").allTextContents()).join(" | ");
      expect(text).toContain(`Zone ${z.zone}`);
      expect(text).toContain(`${z.households} household`);
      expect(text).toContain(`import cap ${capText(z.importCapWh)}`);
      expect(text).toContain(`export cap ${capText(z.exportCapWh)}`);
      expect(await node.getByTestId("zone-flow").textContent()).toBe(netText(z.netExportWh));
      expect(await node.getByTestId("zone-diagram-bound").count()).toBe(z.capacityBound ? 1 : 0);
      const row = await h.page.locator(`[data-testid="zones"] tr[data-zone="${z.zone}"] td`).allTextContents();
      expect(row[0]).toBe(String(z.households));
      expect(row[4]).toBe(pricePerKwh(z.priceMicroPerKwh));
      expect(row[5]).toBe(netText(z.netExportWh));
    }
    // Zone 2's caps held: the diagram says so in words, not only in colour.
    expect(await diagram.locator('g[data-zone="2"]').getByTestId("zone-diagram-bound").textContent()).toMatch(/^LIMIT BOUND/);
    expect(await h.page.locator("#zone-diagram-desc").textContent()).toContain("Zone 2:");
    await capture("05-community-zones");
  });
});
