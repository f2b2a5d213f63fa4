import { type Hex, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";

// Shapes of the API's answers (see /api/openapi.json). Integers are decimal strings.
export type Interval = {
  interval: string;
  startsAt: string;
  settledAt: string;
  txHash: string;
  priceMicroPerKwh: string;
  feedInMicroPerKwh: string;
  retailMicroPerKwh: string;
  meters: number;
  exportWh: string;
  importWh: string;
  tradedWh: string;
  bilateralWh: string;
  toGridWh: string;
  fromGridWh: string;
  trades: number;
  blockNumber: string;
};
export type Trade = {
  interval: string;
  index: number;
  kind: string;
  agreementId?: string | null;
  seller: string;
  buyer: string;
  energyWh: string;
  sellerPriceMicroPerKwh: string;
  buyerPriceMicroPerKwh: string;
  sellerReceivedMicro: string;
  buyerPaidMicro: string;
  blockNumber: string;
};
export type Totals = {
  intervals: number;
  exportWh: string;
  importWh: string;
  soldLocalWh: string;
  boughtLocalWh: string;
  soldGridWh: string;
  boughtGridWh: string;
  earnedMicro: string;
  paidMicro: string;
  netCostMicro: string;
  gridOnlyBillMicro: string;
  savingsMicro: string;
};
export type Statement = { account: string; month: string; timeZone: string; totals: Totals; days: (Totals & { date: string })[] };
export type Account = {
  address: string;
  participant: { zone: number; active: boolean } | null;
  balanceMicro: string;
  standingOrder?: StandingOrder | null;
  history: {
    kind: string;
    interval: string | null;
    amountMicro: string;
    balanceMicro: string;
    txHash: string | null;
    blockNumber: string;
  }[];
};
export type Block = { number: string; hash: string; parentHash: string; timestamp: string; transactions: number };
export type Tx = {
  hash: string;
  blockNumber: string;
  index: number;
  from: string;
  to: string | null;
  contract: string | null;
  functionName: string | null;
  status: string;
  gasUsed: string;
};
export type ChainEvent = { blockNumber: string; logIndex: number; txHash: string; contract: string; name: string; args: unknown };
export type Role = "household" | "operator" | "gridOperator";
export type DemoAccount = { address: string; privateKey: Hex; label: string; role?: Role };
export type StandingOrder = {
  askMicroPerKwh: string;
  maxSellWh: string;
  bidMicroPerKwh: string;
  maxBuyWh: string;
  blockNumber: string;
};
export type SignedReadingJson = {
  meterId: number;
  meter: string;
  owner: string;
  zone: number;
  exportWh: string;
  importWh: string;
  r: Hex;
  vs: Hex;
  txHash: string | null;
};
export type ReadingDomainJson = { name: string; version: string; chainId: number; verifyingContract: string };
export type TradeDetail = {
  interval: string;
  idx: number;
  kind: string;
  agreementId: string | null;
  seller: string;
  sellerMeterId: number | null;
  buyer: string;
  buyerMeterId: number | null;
  energyWh: string;
  sellerPriceMicroPerKwh: string;
  buyerPriceMicroPerKwh: string;
  sellerReceivedMicro: string;
  buyerPaidMicro: string;
  tokenId: string | null;
  txHash: string;
  domain: ReadingDomainJson;
  sellerReading: SignedReadingJson | null;
  buyerReading: SignedReadingJson | null;
};
export type AccountInterval = {
  interval: string;
  startsAt: string;
  meterId: number | null;
  exportWh: string;
  importWh: string;
  soldLocalWh: string;
  boughtLocalWh: string;
  soldGridWh: string;
  boughtGridWh: string;
  earnedMicro: string;
  paidMicro: string;
  gridOnlyBillMicro: string;
};
export type ZoneLimits = { zone: number; importCapWh: string; exportCapWh: string; feeMicroPerKwh: string; blockNumber: string };
export type ZoneResult = { zone: number; netExportWh: string; priceMicroPerKwh: string; capacityBound: boolean };
/** One step of a cumulative supply or demand curve (GET /api/intervals/:interval/book). */
export type CurveStep = { priceMicroPerKwh: string; fromWh: string; toWh: string };
export type BookCurves = { supply: CurveStep[]; demand: CurveStep[] };
export type BookOrder = {
  account: string;
  meterId: number;
  zone: number;
  side: "ask" | "bid";
  limitMicroPerKwh: string;
  quantityWh: string;
  filledWh: string;
};
export type BookZone = ZoneResult & {
  households: number;
  boundLimit: "import" | "export" | null;
  importCapWh: string;
  exportCapWh: string;
  feeMicroPerKwh: string;
  soldLocalWh: string;
  boughtLocalWh: string;
  toGridWh: string;
  fromGridWh: string;
  curves: BookCurves;
};
export type IntervalBook = {
  interval: string;
  startsAt: string;
  feedInMicroPerKwh: string;
  retailMicroPerKwh: string;
  priceMicroPerKwh: string;
  tradedWh: string;
  bilateralWh: string;
  reproduced: boolean;
  orders: BookOrder[];
  curves: BookCurves;
  zones: BookZone[];
};
export type Meter = {
  meterId: number;
  signer: string;
  owner: string;
  zone: number;
  source: number;
  active: boolean;
  registeredAt: string;
  deactivatedBlock: string | null;
  registeredBlock: string;
};
export type Participant = { account: string; zone: number; active: boolean; sinceBlock: string };
/** A participant as GET /api/participants lists it (displayName only for operators' requests). */
export type ParticipantEntry = Participant & {
  registeredBlock: string;
  registeredAt: string | null;
  displayName: string | null;
  meters: { meterId: number; active: boolean }[];
};
/** One change of the grid tariffs (GET /api/tariffs/history). */
export type TariffChange = {
  feedInMicroPerKwh: string;
  retailMicroPerKwh: string;
  blockNumber: string;
  logIndex: number;
  at: string | null;
  by: string | null;
  txHash: string;
};
export type Contracts = {
  chainId: number;
  registry: Hex;
  market: Hex;
  agreements: Hex;
  settlementToken: Hex;
  energyToken: Hex;
  intervalSeconds: string;
  currentInterval: string;
};
export type Keeper = {
  chainTime: string;
  nextIntervalToSettle: string;
  lastSettledInterval: string | null;
  lastSettledAt: string | null;
  lagIntervals: string | number;
  indexedBlock: string;
  headBlock: string;
  gatewayReadingsWaiting: string | number;
};
export type Kpis = {
  intervals: string;
  exportWh: string;
  importWh: string;
  tradedWh: string;
  bilateralWh: string;
  localShareOfDemandBps: string;
  meanPriceMicroPerKwh: string | null;
  tradeWeightedPriceMicroPerKwh: string | null;
  savingsMicro: string;
};
export type Agreement = {
  id: string;
  status: "proposed" | "active" | "ended" | "cancelled";
  lastEvent: string;
  seller: string;
  buyer: string;
  maxWhPerInterval: string;
  priceMicroPerKwh: string;
  startInterval: string;
  endInterval: string;
  noticeIntervals: string;
  proposer: string | null;
  events: { event: string; by: string | null; blockNumber: string }[];
};
/** One page of an agreement's deliveries (`GET /api/agreements/:id/deliveries`); totals count every delivery. */
export type AgreementDeliveries = {
  agreementId: string;
  totals: { intervals: string; energyWh: string; moneyMicro: string };
  deliveries: {
    interval: string;
    index: number;
    startsAt: string | null;
    energyWh: string;
    priceMicroPerKwh: string;
    moneyMicro: string;
    txHash: string | null;
    blockNumber: string;
  }[];
  nextBefore: string | null;
};
export type Profile = { displayName: string | null; showOnLeaderboard: boolean };
/** GET /api/accounts/:address/funds: settlement tokens (micro-credits) in the wallet, allowed to the market, in escrow. */
export type Funds = { address: string; walletMicro: string; allowanceMicro: string; escrowMicro: string; blockNumber: string };
export type Leaderboard = {
  month: string;
  entries: { rank: number; name: string; savingsMicro: string; tradedLocalWh: string }[];
};
export type Session = { token: string; address: string; roles: string[]; expiresAt: string; demoKey?: Hex; label?: string };

/** A failed request, with the API's error code and message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly hint?: string,
  ) {
    super(message);
  }
}

async function request<T>(path: string, init: RequestInit = {}, token?: string): Promise<T> {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  if (init.body) headers.set("content-type", "application/json");
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiFailure(0, "network", "the server cannot be reached");
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as
      | { error?: { code: string; message: string; details?: unknown; hint?: string } }
      | undefined;
    throw new ApiFailure(
      response.status,
      body?.error?.code ?? "http_error",
      body?.error?.message ?? `HTTP ${response.status}`,
      body?.error?.details,
      body?.error?.hint,
    );
  }
  return (response.headers.get("content-type") ?? "").includes("json")
    ? ((await response.json()) as T)
    : ((await response.text()) as T);
}

/** Public reads. */
export const get = <T>(path: string): Promise<T> => request<T>(path);

type Signer = { address: string; sign(message: string): Promise<Hex> };

/**
 * Sign-in with Ethereum: a nonce from the server, an EIP-4361 message naming the server's domain, URI
 * and chain, signed by the wallet. The message's issued-at is the server's clock (the demo chain runs in
 * simulated time), i.e. the nonce's expiry minus its 10-minute lifetime.
 */
async function signIn(signer: Signer): Promise<Omit<Session, "demoKey" | "label">> {
  let last: unknown;
  // The demo chain's clock runs fast: a nonce may expire while the message is signed; take a new one.
  for (let attempt = 0; attempt < 4; attempt++) {
    const nonce = await get<{ nonce: string; expiresAt: string; domain: string; uri: string; chainId: number }>(
      "/api/auth/nonce",
    );
    const issuedAt = new Date((Number(nonce.expiresAt) - 600) * 1000);
    const message = createSiweMessage({
      address: signer.address as Hex,
      domain: nonce.domain,
      uri: nonce.uri,
      chainId: nonce.chainId,
      nonce: nonce.nonce,
      version: "1",
      issuedAt,
      statement: "Sign in to the PeerGrid dashboard.",
    });
    const signature = await signer.sign(message);
    try {
      return await request<Session>("/api/auth/signin", { method: "POST", body: JSON.stringify({ message, signature }) });
    } catch (error) {
      last = error;
      if (!(error instanceof ApiFailure) || !["siwe_nonce_expired", "siwe_issued_in_future"].includes(error.code)) throw error;
    }
  }
  throw last;
}

/** Signs in with a demo account's key (the embedded demo only). */
export async function signInWithDemoKey(account: DemoAccount): Promise<Session> {
  const wallet = privateKeyToAccount(account.privateKey);
  const session = await signIn({ address: wallet.address, sign: (message) => wallet.signMessage({ message }) });
  return { ...session, demoKey: account.privateKey, label: account.label };
}

export type Call = <T>(path: string, init?: RequestInit) => Promise<T>;

type Eip1193 = { request(args: { method: string; params?: unknown[] }): Promise<unknown> };
export const injectedWallet = (): Eip1193 | undefined => (window as unknown as { ethereum?: Eip1193 }).ethereum;

/** Signs in with an injected EIP-1193 wallet (window.ethereum): eth_requestAccounts, then personal_sign. */
export async function signInWithInjectedWallet(): Promise<Session> {
  const wallet = injectedWallet();
  if (!wallet) throw new ApiFailure(0, "no_wallet", "no browser wallet found (window.ethereum)");
  const accounts = (await wallet.request({ method: "eth_requestAccounts" })) as string[];
  const address = accounts[0];
  if (!address) throw new ApiFailure(0, "no_account", "the wallet shared no account");
  return signIn({
    address,
    sign: async (message) => (await wallet.request({ method: "personal_sign", params: [toHex(message), address] })) as Hex,
  });
}

/** Private reads with the session; a demo session that expired (the demo clock runs fast) signs in again. */
export function authed(session: Session, renew: (s: Session) => void) {
  let current = session;
  let renewing: Promise<Session> | undefined; // one sign-in for a burst of expired requests
  return async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const used = current;
    try {
      return await request<T>(path, init, used.token);
    } catch (error) {
      const demoKey = used.demoKey;
      if (!(error instanceof ApiFailure) || error.code !== "session_invalid" || !demoKey) throw error;
      if (current === used) {
        renewing ??= signInWithDemoKey({ address: used.address, privateKey: demoKey, label: used.label ?? "" }).finally(() => {
          renewing = undefined;
        });
        current = await renewing;
        renew(current);
      }
      return request<T>(path, init, current.token);
    }
  };
}

export function describeError(error: unknown): string {
  if (error instanceof ApiFailure) {
    const details = error.details as { errorName?: string; args?: unknown } | { path: string; message: string }[] | undefined;
    let extra = "";
    if (details && !Array.isArray(details) && details.errorName) {
      extra = `: the contract refused with ${details.errorName}${details.args !== undefined ? ` ${JSON.stringify(details.args)}` : ""}`;
    } else if (Array.isArray(details) && details.length > 0) {
      extra = `: ${details.map((d) => `${d.path} ${d.message}`).join("; ")}`;
    }
    return `${error.message} (${error.code})${extra}${error.hint ? `. ${error.hint}` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}
