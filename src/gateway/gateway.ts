import type { Address, Hex } from "viem";
import type { ChainClient } from "../chain/chainClient.ts";
import type { Deployment } from "../chain/deploy.ts";
import { type RegistryMeter, readMeters } from "../chain/market.ts";
import { intervalBounds } from "../core/interval.ts";
import { type ReadingDomain, type SignedReading, verifyReading } from "../metering/reading.ts";
import type { Db } from "../store/db.ts";
import { type FieldIssue, fromWire } from "./wire.ts";

/** Why a reading was refused; stable, clients branch on it. */
export type RejectionCode =
  /** The reading is not well-formed wire data; `issues` names each bad field. */
  | "reading_malformed"
  /** The EIP-712 signature does not recover the meter's address for this chain and market. */
  | "reading_bad_signature"
  /** The registry knows no meter with this signing address. */
  | "meter_unknown"
  /** The meter was deactivated (replaced or removed). */
  | "meter_deactivated"
  /** The meter was registered after the interval started: it may only report later intervals. */
  | "meter_registered_after_interval"
  /** The market opened after this interval: it will never be settled. */
  | "interval_before_market"
  /** The interval has not ended yet: readings are taken from its end. */
  | "interval_not_ended"
  /** The interval's reading window has closed: it can be settled (or was), a reading can no longer be recorded. */
  | "reading_window_closed"
  /** A different reading for the same meter and interval is already stored; stored readings are never replaced. */
  | "reading_conflict"
  /** MQTT only: the reading's meter is not the meter named in the topic. */
  | "topic_meter_mismatch";

/** The outcome of one submitted reading. `accepted` and `duplicate` both mean: stored, durably. */
export type ReadingResult =
  | { status: "accepted" | "duplicate"; meter: Address; interval: string }
  | {
      status: "rejected";
      code: RejectionCode;
      message: string;
      meter?: Address | undefined;
      interval?: string | undefined;
      issues?: FieldIssue[] | undefined;
    };

/** Counts and results: the answer of POST /api/readings and of the MQTT results topic. */
export type SubmitSummary = { accepted: number; duplicate: number; rejected: number; results: ReadingResult[] };

export function summarize(results: ReadingResult[]): SubmitSummary {
  const count = (status: ReadingResult["status"]) => results.filter((r) => r.status === status).length;
  return { accepted: count("accepted"), duplicate: count("duplicate"), rejected: count("rejected"), results };
}

/** Checks signatures: one boolean per reading, in order (in-thread by default; see verifierPool.ts). */
export type ReadingVerifier = (domain: ReadingDomain, readings: readonly SignedReading[]) => boolean[] | Promise<boolean[]>;

export const verifyInThread: ReadingVerifier = (domain, readings) => readings.map((r) => verifyReading(domain, r));

export type GatewayOptions = {
  db: Db;
  chain: ChainClient;
  deployment: Deployment;
  /** The gateway's clock, unix seconds: decides whether an interval has ended and its window is open. */
  now: () => bigint;
  log?: (message: string) => void;
  /** How long a registry record is trusted before it is read again (gateway clock seconds; default 60). */
  registryTtlSeconds?: bigint;
  verify?: ReadingVerifier;
  /**
   * Stop taking an interval's readings this long before its window closes (default 0), so that they are
   * all in the store when the keeper reads them for its last submission: the contract takes an interval's
   * readings in increasing meter id, so one stored after that submission may never reach the chain.
   */
  windowMarginSeconds?: bigint;
};

/** What a device needs to sign readings for this gateway. */
export type GatewayDomainInfo = {
  chainId: number;
  verifyingContract: Address;
  intervalSeconds: bigint;
  readingWindowSeconds: bigint;
};

export type Gateway = {
  /** Checks, stores (one transaction) and answers each input, in order; resolves only once stored. */
  submit(inputs: readonly unknown[]): Promise<ReadingResult[]>;
  /** The stored readings of `interval`, by meter address: the keeper's ReadingSource. */
  readingsFor(interval: bigint): Promise<SignedReading[]>;
  /** The gateway's clock (unix seconds). */
  now(): bigint;
  readonly domainInfo: GatewayDomainInfo;
};

type Candidate = { index: number; reading: SignedReading; key: string };
type StoredRow = { meter: string; interval: bigint; export_wh: bigint; import_wh: bigint; r: string; vs: string };

const keyOf = (meter: string, interval: bigint | string) => `${meter}:${interval}`;

/**
 * The meter gateway: takes signed readings (HTTP, MQTT), checks them as the contract will, and stores
 * what it accepts before it answers, so nothing acknowledged is lost. The keeper reads them back per
 * interval (`readingsFor`).
 *
 * Registry records are cached for `registryTtlSeconds`: a batch reads the registry once (`metersOf`) for
 * the signers it has no fresh record of. Unknown signers are not cached, so a newly registered meter is
 * accepted at once; a deactivation is seen within the TTL. A reading accepted in that gap costs nothing:
 * the keeper re-reads the registry before it submits and leaves such a reading out (the contract refuses it).
 * @example const gateway = createGateway({ db, chain, deployment, now: () => BigInt(Math.floor(Date.now() / 1000)) })
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { db, chain, deployment } = options;
  const log = options.log ?? (() => {});
  const ttl = options.registryTtlSeconds ?? 60n;
  const margin = options.windowMarginSeconds ?? 0n;
  const verify = options.verify ?? verifyInThread;
  const domain: ReadingDomain = { chainId: chain.chainId, verifyingContract: deployment.market };
  const timing = { intervalSeconds: deployment.intervalSeconds, readingWindowSeconds: deployment.readingWindowSeconds };
  const registry = new Map<Address, { meter: RegistryMeter; readAt: bigint }>();

  // Lookups in flight, so that concurrent batches naming the same new meters read the registry once.
  const reading = new Map<Address, Promise<RegistryMeter>>();

  async function metersOf(signers: Address[], now: bigint): Promise<Map<Address, RegistryMeter>> {
    const found = new Map<Address, RegistryMeter>();
    const missing: Address[] = [];
    const waiting: [Address, Promise<RegistryMeter>][] = [];
    for (const signer of new Set(signers)) {
      const cached = registry.get(signer);
      const inFlight = reading.get(signer);
      if (cached && now - cached.readAt < ttl) found.set(signer, cached.meter);
      else if (inFlight) waiting.push([signer, inFlight]);
      else missing.push(signer);
    }
    if (missing.length > 0) {
      const lookup = readMeters(chain, deployment, missing);
      for (const [i, signer] of missing.entries()) {
        const one = lookup.then((meters) => meters[i] as RegistryMeter);
        one.catch(() => {}); // a failed lookup is thrown to its first caller below; others see it through `one`
        reading.set(signer, one);
        waiting.push([signer, one]);
      }
      try {
        const meters = await lookup;
        for (const [i, signer] of missing.entries()) {
          const meter = meters[i] as RegistryMeter;
          if (meter.meterId !== 0) registry.set(signer, { meter, readAt: now });
          else registry.delete(signer);
        }
      } finally {
        for (const signer of missing) reading.delete(signer);
      }
    }
    for (const [signer, meter] of waiting) found.set(signer, await meter);
    return found;
  }

  async function storedOf(sql: Pick<Db, "query">, candidates: readonly Candidate[]): Promise<Map<string, StoredRow>> {
    if (candidates.length === 0) return new Map();
    const rows = await sql.query<StoredRow>(
      `select g.meter, g.interval, g.export_wh, g.import_wh, g.r, g.vs
         from gateway_readings g
         join unnest($1::text[], $2::numeric[]) as k(meter, interval) on g.meter = k.meter and g.interval = k.interval`,
      [candidates.map((c) => c.reading.meter), candidates.map((c) => c.reading.interval.toString())],
    );
    return new Map(rows.map((row) => [keyOf(row.meter, row.interval), row]));
  }

  /** `duplicate` when the stored reading has the same values (a valid signature of the same reading), else a conflict. */
  function against(stored: StoredRow, reading: SignedReading): ReadingResult {
    const meter = reading.meter;
    const interval = reading.interval.toString();
    if (stored.export_wh === reading.exportWh && stored.import_wh === reading.importWh)
      return { status: "duplicate", meter, interval };
    return {
      status: "rejected",
      code: "reading_conflict",
      meter,
      interval,
      message: `meter ${meter} already reported interval ${interval} (exportWh ${stored.export_wh}, importWh ${stored.import_wh}); a stored reading is never replaced`,
    };
  }

  async function submit(inputs: readonly unknown[]): Promise<ReadingResult[]> {
    const now = options.now();
    const results: (ReadingResult | undefined)[] = new Array(inputs.length);
    const reject = (index: number, code: RejectionCode, message: string, reading?: SignedReading, issues?: FieldIssue[]) => {
      results[index] = {
        status: "rejected",
        code,
        message,
        meter: reading?.meter,
        interval: reading?.interval.toString(),
        ...(issues ? { issues } : {}),
      };
    };

    // 1. Well-formed?
    let candidates: Candidate[] = [];
    for (const [index, input] of inputs.entries()) {
      const parsed = fromWire(input, `readings[${index}]`);
      if (!parsed.ok) {
        reject(
          index,
          "reading_malformed",
          parsed.issues.map((i) => `${i.path}: ${i.message}`).join("; "),
          undefined,
          parsed.issues,
        );
      } else {
        const { reading } = parsed;
        candidates.push({ index, reading, key: keyOf(reading.meter, reading.interval) });
      }
    }

    // 2. Already stored with the very same signature: a retry, answered without verifying again.
    const stored = await storedOf(db, candidates);
    const toVerify: Candidate[] = [];
    for (const c of candidates) {
      const s = stored.get(c.key);
      const same =
        s &&
        s.r === c.reading.r &&
        s.vs === c.reading.vs &&
        s.export_wh === c.reading.exportWh &&
        s.import_wh === c.reading.importWh;
      if (same) results[c.index] = { status: "duplicate", meter: c.reading.meter, interval: c.reading.interval.toString() };
      else toVerify.push(c);
    }

    // 3. Signed by the meter it names, for this chain and market?
    const valid = await verify(
      domain,
      toVerify.map((c) => c.reading),
    );
    candidates = [];
    for (const [k, c] of toVerify.entries()) {
      if (valid[k]) candidates.push(c);
      else
        reject(
          c.index,
          "reading_bad_signature",
          `the signature does not recover meter ${c.reading.meter} for this reading on chain ${domain.chainId}, market ${domain.verifyingContract}`,
          c.reading,
        );
    }

    // 4. Stored already (another signature of the same values, or different values), its time, its meter.
    const timed: Candidate[] = [];
    for (const c of candidates) {
      const s = stored.get(c.key);
      if (s) {
        results[c.index] = against(s, c.reading);
        continue;
      }
      const { interval } = c.reading;
      const { endsAt, closesAt } = intervalBounds(interval, timing);
      if (interval < deployment.firstInterval) {
        reject(
          c.index,
          "interval_before_market",
          `interval ${interval} is before the market's first interval ${deployment.firstInterval}`,
          c.reading,
        );
      } else if (now < endsAt) {
        reject(
          c.index,
          "interval_not_ended",
          `interval ${interval} ends at ${endsAt}; it is ${now}: send it after the interval ends`,
          c.reading,
        );
      } else if (now >= closesAt - margin) {
        const at =
          margin > 0n ? `${closesAt - margin}, ${margin} s before the chain's window closes at ${closesAt}` : `${closesAt}`;
        reject(
          c.index,
          "reading_window_closed",
          `the reading window of interval ${interval} closed at ${at} (it is ${now}); the interval is settled without this reading`,
          c.reading,
        );
      } else timed.push(c);
    }
    const meters = await metersOf(
      timed.map((c) => c.reading.meter),
      now,
    );
    const fresh = new Map<string, Candidate>();
    for (const c of timed) {
      const meter = meters.get(c.reading.meter) as RegistryMeter;
      const startsAt = c.reading.interval * deployment.intervalSeconds;
      if (meter.meterId === 0)
        reject(c.index, "meter_unknown", `no meter with signing address ${c.reading.meter} is registered`, c.reading);
      else if (!meter.active)
        reject(c.index, "meter_deactivated", `meter ${c.reading.meter} (id ${meter.meterId}) is deactivated`, c.reading);
      else if (BigInt(meter.registeredAt) > startsAt) {
        reject(
          c.index,
          "meter_registered_after_interval",
          `meter ${c.reading.meter} was registered at ${meter.registeredAt}, after interval ${c.reading.interval} started (${startsAt}); it reports from the next interval`,
          c.reading,
        );
      } else {
        const first = fresh.get(c.key);
        if (first) {
          results[c.index] = against(
            {
              meter: c.reading.meter,
              interval: c.reading.interval,
              export_wh: first.reading.exportWh,
              import_wh: first.reading.importWh,
              r: first.reading.r,
              vs: first.reading.vs,
            },
            c.reading,
          );
        } else fresh.set(c.key, c);
      }
    }

    // 5. Store what is new, in one transaction; whatever another request stored meanwhile is answered against it.
    const inserts = [...fresh.values()];
    if (inserts.length > 0) {
      await db.transaction(async (tx) => {
        const inserted = await tx.query<{ meter: string; interval: bigint }>(
          `insert into gateway_readings (meter, interval, export_wh, import_wh, r, vs, received_at)
           select k.meter, k.interval, k.export_wh, k.import_wh, k.r, k.vs, $7::int8
             from unnest($1::text[], $2::numeric[], $3::numeric[], $4::numeric[], $5::text[], $6::text[])
               as k(meter, interval, export_wh, import_wh, r, vs)
           on conflict (meter, interval) do nothing
           returning meter, interval`,
          [
            inserts.map((c) => c.reading.meter),
            inserts.map((c) => c.reading.interval.toString()),
            inserts.map((c) => c.reading.exportWh.toString()),
            inserts.map((c) => c.reading.importWh.toString()),
            inserts.map((c) => c.reading.r),
            inserts.map((c) => c.reading.vs),
            now,
          ],
        );
        const done = new Set(inserted.map((row) => keyOf(row.meter, row.interval)));
        const raced = inserts.filter((c) => !done.has(c.key));
        const nowStored = await storedOf(tx, raced);
        for (const c of inserts) {
          if (done.has(c.key)) {
            results[c.index] = { status: "accepted", meter: c.reading.meter, interval: c.reading.interval.toString() };
          } else {
            const s = nowStored.get(c.key);
            if (!s) throw new Error(`reading of ${c.key} was neither inserted nor found`);
            results[c.index] = against(s, c.reading);
          }
        }
      });
    }
    const out = results as ReadingResult[];
    const rejected = out.filter((r) => r.status === "rejected").length;
    if (rejected > 0) log(`gateway: ${inputs.length} readings, ${inserts.length} new, ${rejected} rejected`);
    return out;
  }

  async function readingsFor(interval: bigint): Promise<SignedReading[]> {
    const rows = await db.query<StoredRow>(
      "select meter, interval, export_wh, import_wh, r, vs from gateway_readings where interval = $1 order by meter",
      [interval.toString()],
    );
    return rows.map((row) => ({
      meter: row.meter as Address,
      interval: row.interval,
      exportWh: row.export_wh,
      importWh: row.import_wh,
      r: row.r as Hex,
      vs: row.vs as Hex,
    }));
  }

  return {
    submit,
    readingsFor,
    now: options.now,
    domainInfo: { chainId: domain.chainId, verifyingContract: domain.verifyingContract, ...timing },
  };
}
