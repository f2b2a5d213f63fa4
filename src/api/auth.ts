import { createHash, randomBytes } from "node:crypto";
import { type Address, type Hex, recoverMessageAddress } from "viem";
import { generateSiweNonce, parseSiweMessage } from "viem/siwe";
import type { Migration, Sql } from "../store/db.ts";
import { ApiError } from "./errors.ts";

/** Sign-in nonces (single use, expiring) and sessions (only the token's SHA-256 is stored). */
export const authSchema: Migration = {
  name: "api_001_auth",
  sql: `
create table api_nonces (nonce text primary key, expires_at int8 not null, used boolean not null default false);

create table api_sessions (
  token_sha256 text primary key, address text not null, created_at int8 not null, expires_at int8 not null);
create index api_sessions_address on api_sessions (address);
`,
};

export type SiweSettings = {
  /** RFC 3986 authority the message must name (e.g. "peergrid.example" or "localhost:8080"). */
  domain: string;
  /** The URI the message must name (e.g. "https://peergrid.example"). */
  uri: string;
  chainId: number;
  /** How long a nonce may be used after it was issued (default 600 s). */
  nonceSeconds?: bigint;
  /** How long a session lasts (default 24 h). */
  sessionSeconds?: bigint;
  /** How long a session looked up in the store is reused without asking it again (default 10 s). */
  sessionCacheSeconds?: bigint;
  /** Tolerated clock difference for `issuedAt` in the future (default 30 s). */
  clockSkewSeconds?: bigint;
};

export type Session = { address: Address; expiresAt: bigint };

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const siweError = (code: string, message: string, hint?: string) => new ApiError(401, code, message, hint ? { hint } : {});
const seconds = (d: Date) => BigInt(Math.floor(d.getTime() / 1000));

/**
 * Sign-In with Ethereum (EIP-4361) on a store: issues nonces, verifies signed messages against the
 * injected clock, and keeps bearer sessions.
 * @example const auth = createAuth(db, settings, () => 1_781_500_000n); const { nonce } = await auth.issueNonce()
 */
export function createAuth(db: Sql, settings: SiweSettings, now: () => bigint) {
  const nonceSeconds = settings.nonceSeconds ?? 600n;
  const sessionSeconds = settings.sessionSeconds ?? 86_400n;
  const skew = settings.clockSkewSeconds ?? 30n;
  const sessionCacheSeconds = settings.sessionCacheSeconds ?? 10n;

  async function issueNonce(): Promise<{ nonce: string; expiresAt: bigint }> {
    const nonce = generateSiweNonce();
    const expiresAt = now() + nonceSeconds;
    await db.query("delete from api_nonces where expires_at < $1", [now() - 86_400n]);
    await db.query("insert into api_nonces (nonce, expires_at) values ($1, $2)", [nonce, expiresAt]);
    return { nonce, expiresAt };
  }

  /** Verifies `message` and `signature`, consumes the nonce and opens a session. */
  async function signIn(message: string, signature: Hex): Promise<Session & { token: string }> {
    const m = parseSiweMessage(message);
    if (!m.address || !m.domain || !m.uri || !m.version || !m.nonce || !m.issuedAt || m.chainId === undefined) {
      throw new ApiError(
        400,
        "siwe_malformed",
        "not an EIP-4361 message with domain, address, URI, version, chain id, nonce and issued-at",
      );
    }
    for (const d of [m.issuedAt, m.expirationTime, m.notBefore]) {
      if (d && Number.isNaN(d.getTime())) throw new ApiError(400, "siwe_malformed", "a date of the message is not RFC 3339");
    }
    const t = now();
    if (m.domain !== settings.domain)
      throw siweError("siwe_bad_domain", `the message is for ${m.domain}, this is ${settings.domain}`);
    if (m.uri !== settings.uri) throw siweError("siwe_bad_uri", `the message names URI ${m.uri}, expected ${settings.uri}`);
    if (m.version !== "1") throw siweError("siwe_bad_version", `unsupported message version ${m.version}`);
    if (m.chainId !== settings.chainId) {
      throw siweError(
        "siwe_bad_chain",
        `the message is for chain ${m.chainId}, this community runs on chain ${settings.chainId}`,
      );
    }
    if (seconds(m.issuedAt) > t + skew) throw siweError("siwe_issued_in_future", "the message's issued-at time is in the future");
    if (m.expirationTime && seconds(m.expirationTime) <= t) throw siweError("siwe_expired", "the message has expired");
    if (m.notBefore && seconds(m.notBefore) > t)
      throw siweError("siwe_not_yet_valid", "the message is not valid yet (not-before)");
    const [stored] = await db.query<{ expires_at: bigint; used: boolean }>(
      "select expires_at, used from api_nonces where nonce = $1",
      [m.nonce],
    );
    if (!stored) throw siweError("siwe_nonce_unknown", "this nonce was not issued by this server", "GET /api/auth/nonce");
    if (stored.used) throw siweError("siwe_nonce_used", "this nonce was used already", "GET /api/auth/nonce for a new one");
    if (stored.expires_at <= t)
      throw siweError("siwe_nonce_expired", "this nonce has expired", "GET /api/auth/nonce for a new one");
    let signer: Address;
    try {
      signer = await recoverMessageAddress({ message, signature });
    } catch {
      throw siweError("siwe_bad_signature", "the signature cannot be decoded");
    }
    if (signer.toLowerCase() !== m.address.toLowerCase()) {
      throw siweError("siwe_bad_signature", `the message was not signed by ${m.address}`);
    }
    const consumed = await db.query("update api_nonces set used = true where nonce = $1 and not used returning nonce", [m.nonce]);
    if (consumed.length === 0) throw siweError("siwe_nonce_used", "this nonce was used already");
    const token = randomBytes(32).toString("base64url");
    const address = m.address.toLowerCase() as Address;
    let expiresAt = t + sessionSeconds;
    if (m.expirationTime && seconds(m.expirationTime) < expiresAt) expiresAt = seconds(m.expirationTime);
    await db.query("insert into api_sessions (token_sha256, address, created_at, expires_at) values ($1, $2, $3, $4)", [
      sha256(token),
      address,
      t,
      expiresAt,
    ]);
    return { token, address, expiresAt };
  }

  /** The session of a bearer token, if it exists and has not expired. */
  // Sessions found in the store are remembered for `sessionCacheSeconds`: a signed-in dashboard's burst
  // of requests costs one lookup. A sign-out here forgets at once; one on another instance of the API
  // sharing the store takes effect here within `sessionCacheSeconds`.
  const cache = new Map<string, { session: Session; at: bigint }>();
  async function session(token: string): Promise<Session | undefined> {
    const key = sha256(token);
    const t = now();
    const hit = cache.get(key);
    if (hit && t - hit.at < sessionCacheSeconds) return hit.session.expiresAt > t ? hit.session : undefined;
    const [row] = await db.query<{ address: string; expires_at: bigint }>(
      "select address, expires_at from api_sessions where token_sha256 = $1",
      [key],
    );
    if (!row || row.expires_at <= t) {
      cache.delete(key);
      return undefined;
    }
    const found = { address: row.address as Address, expiresAt: row.expires_at };
    if (cache.size >= 10_000) cache.clear();
    cache.set(key, { session: found, at: t });
    return found;
  }

  async function signOut(token: string): Promise<void> {
    cache.delete(sha256(token));
    await db.query("delete from api_sessions where token_sha256 = $1", [sha256(token)]);
  }

  return { issueNonce, signIn, session, signOut };
}

export type Auth = ReturnType<typeof createAuth>;
