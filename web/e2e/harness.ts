// What the browser suites share: Debian's Chromium driven by playwright-core, against a real community
// (embedded chain, contracts, demo households), the server (indexer, gateway, API serving web/dist) and
// the keeper settling intervals in between. Screenshots go to test-results/<name>/.
// `scripts/install-browser.sh` installs Chromium; without /usr/bin/chromium the suites are skipped.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { expect } from "vitest";
import { type DemoAccount, demoAccountsOf } from "../../src/api/routes/demo.ts";
import { type OpenCommunity, openCommunity } from "../../src/cli/openCommunity.ts";
import { communityOptions } from "../../src/cli/options.ts";
import { intervalBounds } from "../../src/core/interval.ts";
import { demoReadings } from "../../src/demo/demoCommunity.ts";
import { toWire } from "../../src/gateway/wire.ts";
import { createKeeper, type Keeper } from "../../src/server/keeper.ts";
import { type Services, startServices } from "../../src/server/services.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
export const TZ = "Europe/Berlin";

const webDir = join(import.meta.dirname, "..");

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

export interface HarnessOptions {
  /** The suite's name: in the skip warning, the temporary directories and the screenshot folder under test-results/. */
  name: string;
  /** Demo households in the community. */
  households: number;
  /** When the community's chain starts (ISO 8601 with offset). */
  start: string;
  /** Intervals settled before the browser starts. */
  settledBefore: number;
}

/** A community, its services and keeper, and a browser on its dashboard: filled by `open()`, released by `close()`. */
export class DashboardHarness {
  readonly shots: string;
  c!: OpenCommunity;
  services!: Services;
  keeper!: Keeper;
  browser!: BrowserContext;
  /** The tab the helpers (capture) act on; a suite may replace it with a new tab. */
  page!: Page;
  accounts!: DemoAccount[];
  readonly settled: bigint[] = [];
  /** How long `open()` took to check (and if need be run) the web build, in ms. */
  buildMs = 0;
  private dir: string | undefined;
  private profileDir: string | undefined;

  constructor(readonly options: HarnessOptions) {
    this.shots = join(webDir, "..", "test-results", options.name);
    if (!hasChromium)
      console.warn(`${options.name} browser tests skipped: ${CHROMIUM} is missing (scripts/install-browser.sh installs it)`);
  }

  /** For beforeAll: builds the web app, opens the community, starts the services, settles the first intervals, launches Chromium. */
  async open(): Promise<void> {
    const { name, households, start, settledBefore } = this.options;
    const builtAt = Date.now();
    await ensureBuilt();
    this.buildMs = Date.now() - builtAt;
    const dir = mkdtempSync(join(tmpdir(), `peergrid-web-${name}-`));
    this.dir = dir;
    this.profileDir = mkdtempSync(join(tmpdir(), `peergrid-chromium-${name}-`));
    mkdirSync(this.shots, { recursive: true });
    this.c = await openCommunity(communityOptions({ "data-dir": dir, households: String(households), start }, {}), true);
    this.accounts = demoAccountsOf(this.c.community);
    const services = await startServices({
      chain: this.c.chain,
      deployment: this.c.deployment,
      dataDir: dir,
      databaseUrl: undefined,
      host: "127.0.0.1",
      port: 0,
      mqttUrl: undefined,
      log: () => {},
      demoAccounts: this.accounts,
    });
    this.services = services;
    this.keeper = createKeeper({
      chain: this.c.chain,
      deployment: this.c.deployment,
      gateway: this.c.community.gateway,
      settler: this.c.community.keeper,
      readings: (i) => services.gateway.readingsFor(i),
    });
    for (let k = 0; k < settledBefore; k++) await this.settleNext();
    this.browser = await chromium.launchPersistentContext(this.profileDir, {
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
    this.page = this.browser.pages()[0] ?? (await this.browser.newPage());
    this.page.setDefaultTimeout(15_000);
  }

  /** For afterAll: closes whatever `open()` got to, and removes the temporary directories. */
  async close(): Promise<void> {
    await this.browser?.close();
    await this.services?.close();
    await this.c?.close();
    for (const d of [this.dir, this.profileDir]) if (d) rmSync(d, { recursive: true, force: true });
  }

  /** GETs an API path (as `token` when given): parsed JSON, or the text of a non-JSON answer (a CSV). */
  api = async <T>(path: string, token?: string): Promise<T> => {
    const response = await fetch(`${this.services.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return ((response.headers.get("content-type") ?? "").includes("json") ? response.json() : response.text()) as Promise<T>;
  };

  /** One interval: the demo meters report through the gateway, the keeper settles, the indexer catches up. */
  settleNext = async (): Promise<bigint> => {
    const { c, services, keeper } = this;
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
    this.settled.push(interval);
    return interval;
  };

  /** Signs in from node as the browser does, to read what the dashboard should show. */
  tokenOf = async (account: DemoAccount): Promise<string> => {
    const wallet = privateKeyToAccount(account.privateKey);
    const nonce = await this.api<{ nonce: string; domain: string; uri: string; chainId: number }>("/api/auth/nonce");
    const message = createSiweMessage({
      address: wallet.address,
      domain: nonce.domain,
      uri: nonce.uri,
      chainId: nonce.chainId,
      nonce: nonce.nonce,
      version: "1",
      issuedAt: new Date(Number(this.services.clock.now()) * 1000),
    });
    const response = await fetch(`${this.services.url}/api/auth/signin`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message, signature: await wallet.signMessage({ message }) }),
    });
    return ((await response.json()) as { token: string }).token;
  };

  /** A screenshot at desktop and at phone width; the phone view must not scroll sideways. */
  capture = async (name: string): Promise<void> => {
    const { page } = this;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: join(this.shots, `${name}.png`), fullPage: true });
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
    await page.screenshot({ path: join(this.shots, `${name}-375.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  };
}

/** The shared setup of a browser suite; call `open()` in beforeAll and `close()` in afterAll. */
export function dashboardHarness(options: HarnessOptions): DashboardHarness {
  return new DashboardHarness(options);
}
