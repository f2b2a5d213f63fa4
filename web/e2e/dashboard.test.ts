// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against a real community
// (embedded chain, contracts, demo households), the server (indexer, gateway, API serving web/dist) and
// the keeper settling intervals in between. Screenshots of every view go to test-results/dashboard/.
// `scripts/install-browser.sh` installs Chromium; without /usr/bin/chromium the suite is skipped.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoAccount, demoAccountsOf } from "../../src/api/routes/demo.ts";
import { type OpenCommunity, openCommunity } from "../../src/cli/openCommunity.ts";
import { communityOptions } from "../../src/cli/options.ts";
import { intervalBounds } from "../../src/core/interval.ts";
import { demoReadings } from "../../src/demo/demoCommunity.ts";
import { toWire } from "../../src/gateway/wire.ts";
import { createKeeper, type Keeper } from "../../src/server/keeper.ts";
import { type Services, startServices } from "../../src/server/services.ts";
import { credits, kwh, pricePerKwh } from "../src/format.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (scripts/install-browser.sh installs it)`);

const webDir = join(import.meta.dirname, "..");
const shots = join(webDir, "..", "test-results", "dashboard");
const TZ = "Europe/Berlin";

/** Builds web/dist when it is missing or older than a source file. */
async function ensureBuilt() {
  const built = join(webDir, "dist", "index.html");
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  const sources = Math.max(
    newest(join(webDir, "src")),
    statSync(join(webDir, "index.html")).mtimeMs,
    statSync(join(webDir, "vite.config.ts")).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const { build } = await import("vite");
  await build({ root: webDir, configFile: join(webDir, "vite.config.ts"), logLevel: "warn" });
}

let dir: string;
let profileDir: string;
let c: OpenCommunity;
let services: Services;
let keeper: Keeper;
let browser: BrowserContext;
let page: Page;
let accounts: DemoAccount[];
const settled: bigint[] = [];

const api = async <T>(path: string, token?: string): Promise<T> => {
  const response = await fetch(`${services.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return ((response.headers.get("content-type") ?? "").includes("json") ? response.json() : response.text()) as Promise<T>;
};

/** One interval: the demo meters report through the gateway, the keeper settles, the indexer catches up. */
async function settleNext(): Promise<bigint> {
  const interval = await keeper.nextInterval();
  await c.chain.advanceTo(intervalBounds(interval, c.deployment).endsAt);
  await services.clock.refresh();
  const domain = { chainId: c.chain.chainId, verifyingContract: c.deployment.market };
  await services.gateway.submit(demoReadings(c.community, domain, c.timeline, interval).map(toWire));
  await keeper.closeInterval(interval);
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`${services.url}/api/intervals/${interval}`);
    if (r.ok) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  settled.push(interval);
  return interval;
}

/** Signs in from node as the browser does, to read what the dashboard should show. */
async function tokenOf(account: DemoAccount): Promise<string> {
  const wallet = privateKeyToAccount(account.privateKey);
  const nonce = await api<{ nonce: string; domain: string; uri: string; chainId: number }>("/api/auth/nonce");
  const message = createSiweMessage({
    address: wallet.address,
    domain: nonce.domain,
    uri: nonce.uri,
    chainId: nonce.chainId,
    nonce: nonce.nonce,
    version: "1",
    issuedAt: new Date(Number(services.clock.now()) * 1000),
  });
  const response = await fetch(`${services.url}/api/auth/signin`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message, signature: await wallet.signMessage({ message }) }),
  });
  return ((await response.json()) as { token: string }).token;
}

/** A screenshot at desktop and at phone width; the phone view must not scroll sideways. */
async function capture(name: string) {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(100);
  const overflow = await page.evaluate(() => {
    // Elements, and text overflowing its element, that reach past the right edge (tables scroll in their own box).
    const wide: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const parent = n.parentElement;
      if (!parent || parent.closest(".table-wrap, .sr-only")) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      if (range.getBoundingClientRect().right > window.innerWidth + 0.5)
        wide.push(`${parent.tagName.toLowerCase()}.${parent.className}: ${n.textContent?.slice(0, 30)}`);
    }
    return { by: document.documentElement.scrollWidth - window.innerWidth, wide: wide.slice(-5) };
  });
  expect(overflow.by, `${name} scrolls sideways at 375 px: ${overflow.wide.join(", ")}`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(shots, `${name}-375.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe.skipIf(!hasChromium)("the web dashboard in Chromium (sign-in, household, market, explorer)", () => {
  beforeAll(async () => {
    const builtAt = Date.now();
    await ensureBuilt();
    console.log(`dashboard e2e: web build checked in ${Date.now() - builtAt} ms`);
    dir = mkdtempSync(join(tmpdir(), "peergrid-web-"));
    profileDir = mkdtempSync(join(tmpdir(), "peergrid-chromium-"));
    mkdirSync(shots, { recursive: true });
    c = await openCommunity(communityOptions({ "data-dir": dir, households: "6", start: "2026-06-15T11:00:00+02:00" }, {}), true);
    accounts = demoAccountsOf(c.community);
    services = await startServices({
      chain: c.chain,
      deployment: c.deployment,
      dataDir: dir,
      databaseUrl: undefined,
      host: "127.0.0.1",
      port: 0,
      mqttUrl: undefined,
      log: () => {},
      demoAccounts: accounts,
    });
    keeper = createKeeper({
      chain: c.chain,
      deployment: c.deployment,
      gateway: c.community.gateway,
      settler: c.community.keeper,
      readings: (i) => services.gateway.readingsFor(i),
    });
    for (let k = 0; k < 3; k++) await settleNext();
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 900 },
      timezoneId: TZ,
      locale: "en-GB",
      acceptDownloads: true,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(15_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await services?.close();
    await c?.close();
    for (const d of [dir, profileDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("serves the app for its routes and keeps the API's JSON 404", async () => {
    for (const path of ["/", "/market", `/explorer/tx/0x${"ab".repeat(32)}`]) {
      const r = await fetch(`${services.url}${path}`);
      expect(r.status, path).toBe(200);
      expect(await r.text()).toContain('<div id="root">');
    }
    const missing = await fetch(`${services.url}/api/no-such-thing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "route_not_found" } });
    expect((await fetch(`${services.url}/assets/no-such-file.js`)).status).toBe(404);
  });

  it("signs in a demo household from the picker and shows its real figures, trades and statement", async () => {
    // A household that sold to a neighbour in the last interval, so its trade list is not empty.
    const trades = await api<{ trades: { seller: string }[] }>(`/api/intervals/${settled[settled.length - 1]}/trades`);
    const seller = trades.trades[0]?.seller;
    expect(seller, "the demo community trades at noon").toBeDefined();
    const me = accounts.find((a) => a.address.toLowerCase() === seller) as DemoAccount;

    await page.goto(`${services.url}/`);
    await expect.poll(() => page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true);
    await page.getByLabel("Household").waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await capture("01-sign-in");
    await page.getByLabel("Household").selectOption(me.address.toLowerCase());
    await page.getByRole("button", { name: "Sign in as this household" }).click();
    await page.getByTestId("day-exportWh").waitFor();
    expect(page.url()).toBe(`${services.url}/household`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(me.label);

    const token = await tokenOf(me);
    const address = me.address.toLowerCase();
    type Day = Record<string, string> & { intervals: number };
    const statement = await api<{ month: string; days: Day[]; totals: Record<string, string> }>(
      `/api/accounts/${address}/statements?tz=${encodeURIComponent(TZ)}`,
      token,
    );
    const day = [...statement.days].reverse().find((d) => d.intervals > 0) as Day;
    expect(day.intervals).toBe(settled.length);
    const shown = async (id: string) => (await page.getByTestId(id).textContent())?.trim();
    for (const field of ["exportWh", "importWh", "boughtLocalWh", "boughtGridWh", "soldLocalWh", "soldGridWh"]) {
      expect(await shown(`day-${field}`), field).toBe(kwh(day[field] as string));
    }
    for (const field of ["earnedMicro", "paidMicro", "gridOnlyBillMicro", "savingsMicro"]) {
      expect(await shown(`day-${field}`), field).toBe(credits(day[field] as string));
    }
    expect(BigInt(day.soldLocalWh as string)).toBeGreaterThan(0n);
    expect(await shown("month-savingsMicro")).toBe(credits(statement.totals.savingsMicro as string));

    const mine = await api<{ trades: unknown[] }>(`/api/accounts/${address}/trades?limit=200`, token);
    await expect.poll(() => page.getByTestId("trades").locator("tbody tr").count()).toBe(mine.trades.length);
    await expect.poll(() => page.getByRole("figure", { name: /Energy traded with neighbours/ }).isVisible()).toBe(true);

    // The monthly statement downloads as the API's CSV.
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: /Download statement .* \(CSV\)/ }).click();
    const file = await (await download).path();
    const csv = await api<string>(
      `/api/accounts/${address}/statements.csv?month=${statement.month}&tz=${encodeURIComponent(TZ)}`,
      token,
    );
    expect(readFileSync(file, "utf8")).toBe(csv);
    await capture("02-household");
  });

  it("shows the settled intervals' prices and adds a new interval live, without reloading", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Market" }).click();
    await expect.poll(() => page.getByTestId("timeline").locator("tbody tr").count()).toBe(settled.length);
    await expect.poll(() => page.getByTestId("live-status").textContent()).toContain("Live");
    const intervals = await api<{ intervals: { interval: string; priceMicroPerKwh: string }[] }>("/api/intervals?limit=48");
    for (const i of intervals.intervals) {
      const row = page.locator(`tr[data-interval="${i.interval}"]`);
      expect(await row.locator("td").nth(1).textContent()).toBe(pricePerKwh(i.priceMicroPerKwh));
    }
    await capture("03-market");

    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const next = await settleNext();
    await page.locator(`tr[data-interval="${next}"]`).waitFor();
    expect(await page.getByTestId("timeline").locator("tbody tr").count()).toBe(settled.length);
    const latest = await api<{ priceMicroPerKwh: string }>(`/api/intervals/${next}`);
    expect(await page.getByTestId("latest-price").textContent()).toBe(pricePerKwh(latest.priceMicroPerKwh));
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await capture("04-market-live");
  });

  it("opens a trade's settlement transaction in the explorer with its decoded events", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Household" }).click();
    const link = page
      .getByTestId("trades")
      .locator("tbody tr")
      .first()
      .getByRole("link", { name: /Settlement transaction/ });
    await link.waitFor();
    await link.click();
    await page.getByTestId("tx-call").waitFor();
    const hash = page.url().split("/").pop() as string;
    const tx = await api<{ contract: string; functionName: string; events: { name: string }[] }>(`/api/explorer/tx/${hash}`);
    expect(await page.getByTestId("tx-call").textContent()).toBe(`${tx.contract}.${tx.functionName}`);
    expect(tx.events.length).toBeGreaterThan(0);
    expect(await page.getByTestId("tx-event").count()).toBe(tx.events.length);
    expect(await page.getByRole("heading", { level: 1 }).evaluate((h) => h === document.activeElement)).toBe(true);
    await capture("05-transaction");

    // A reload of the client route works (the server answers index.html).
    await page.reload();
    await page.getByTestId("tx-call").waitFor();
    await page.getByRole("link", { name: "← Explorer" }).click();
    await page.getByRole("heading", { name: "Recent blocks" }).waitFor();
    await page
      .getByRole("link", { name: /^Block \d+$/ })
      .first()
      .waitFor();
    await capture("06-explorer");
    await page
      .getByRole("link", { name: /^Block \d+$/ })
      .first()
      .click();
    await page.getByRole("heading", { name: "PeerGrid transactions" }).waitFor();
    await capture("07-block");

    // Error state: an unknown transaction.
    await page.goto(`${services.url}/explorer/tx/0x${"00".repeat(32)}`);
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toContain("Transaction not found");
    await capture("08-error");
  });
});
