import { type FormEvent, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { type Address, isAddress } from "viem";
import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";
import {
  authed,
  type Call,
  describeError,
  get,
  type Keeper,
  type Meter,
  type ParticipantEntry,
  type Role,
  type Session,
  type TariffChange,
  type ZoneLimits,
} from "../api.ts";
import { dateTime, kwh, parseScaled, pricePerKwh, shortHex, toInput, U64_MAX } from "../format.ts";
import { useLive, useLoad } from "../hooks.ts";
import { type CursorPage, Pager, pageSizeFromUrl, useCursorPages } from "../paging.tsx";
import { Link } from "../router.tsx";
import { Empty, ErrorBox, LiveBadge, Loading, Stat, type WriteState, WriteStatus } from "../ui.tsx";
import { communityRegistryAbi, energyMarketAbi, signAndRelay, signingSupport } from "../wallet.ts";

const SOURCES = [
  { value: 1, label: "Solar" },
  { value: 2, label: "Wind" },
  { value: 3, label: "Battery" },
  { value: 4, label: "Other / consumption only" },
];
const UNLIMITED = U64_MAX.toString();
const U32_MAX = 2n ** 32n - 1n;

/** Community and grid operators: onboarding, meters, tariffs and zone limits, the keeper's health. */
export function Operator({ session, renew }: { session: Session; renew: (s: Session) => void }) {
  const call = useMemo(() => authed(session, renew), [session, renew]);
  const me = useLoad(() => call<{ address: string; roles: Role[] }>("/api/auth/me"), [call]);
  const roles = me.data?.roles ?? (session.roles as Role[]);
  const isOperator = roles.includes("operator");
  const isGrid = roles.includes("gridOperator");
  const refresh = useRef<() => void>(() => {});
  // A newly indexed block (it may hold a registry or tariff change) or one's own write bumps this: the lists
  // below reload (the API answers from its cache until the index changes).
  const [version, changed] = useReducer((v: number) => v + 1, 0);
  const live = useLive(["block", "interval"], (type) => {
    refresh.current();
    if (type === "block") changed();
  });

  return (
    <section aria-labelledby="operator-title">
      <div className="title-row">
        <h1 id="operator-title" tabIndex={-1}>
          Operator
        </h1>
        <LiveBadge status={live} />
      </div>
      <p className="hint">
        Signed in as <span className="mono mono-wrap">{session.address}</span> ·{" "}
        <span data-testid="operator-roles">
          {roles.length ? roles.map((r) => (r === "gridOperator" ? "grid operator" : r)).join(", ") : "no role"}
        </span>
      </p>
      {me.error ? <ErrorBox title="Could not check your roles" error={me.error} onRetry={me.reload} /> : null}
      {!isOperator && !isGrid ? (
        <div className="notice error" role="alert">
          <strong>Operators only</strong>
          <p>This account is neither a community operator nor a grid operator. Sign in with an operator's wallet.</p>
        </div>
      ) : (
        <>
          <KeeperHealth refresh={refresh} />
          {isOperator ? <Onboard session={session} call={call} /> : null}
          <Participants session={session} call={call} canChange={isOperator} version={version} changed={changed} />
          <Meters session={session} call={call} canPause={isOperator} version={version} changed={changed} />
          {isGrid ? <Tariffs session={session} call={call} changed={changed} /> : null}
          <TariffHistory version={version} />
          {isGrid ? <ZoneLimitsForm session={session} call={call} version={version} /> : null}
        </>
      )}
    </section>
  );
}

function KeeperHealth({ refresh }: { refresh: { current: () => void } }) {
  const keeper = useLoad(() => get<Keeper>("/api/keeper"), []);
  useEffect(() => {
    refresh.current = keeper.reload;
    const timer = setInterval(keeper.reload, 5000);
    return () => clearInterval(timer);
  }, [keeper.reload, refresh]);
  const k = keeper.data;
  const lag = k ? BigInt(k.lagIntervals) : 0n;
  return (
    <section className="card" aria-labelledby="keeper-title">
      <h2 id="keeper-title">Keeper health</h2>
      {keeper.error ? <ErrorBox title="Could not ask the keeper" error={keeper.error} onRetry={keeper.reload} /> : null}
      {!k && keeper.loading ? <Loading what="the keeper's state" /> : null}
      {k ? (
        <>
          <p className={lag > 1n ? "unverified" : "verified"} data-testid="keeper-verdict">
            {lag > 1n ? `Behind: ${lag} intervals wait for settlement` : "Keeping up"}
          </p>
          <dl className="stats">
            <Stat id="keeper-lag" label="Lag" value={`${k.lagIntervals} intervals`} />
            <Stat id="keeper-last" label="Last settled interval" value={k.lastSettledInterval ?? "none yet"} />
            <Stat id="keeper-lastAt" label="Settled at" value={k.lastSettledAt ? dateTime(k.lastSettledAt) : "–"} />
            <Stat id="keeper-next" label="Next to settle" value={k.nextIntervalToSettle} />
            <Stat id="keeper-waiting" label="Gateway readings waiting" value={String(k.gatewayReadingsWaiting)} />
            <Stat id="keeper-indexed" label="Indexed / head block" value={`${k.indexedBlock} / ${k.headBlock}`} />
          </dl>
        </>
      ) : null}
    </section>
  );
}

type Onboarded = {
  account: string;
  meter: string;
  zone: number;
  accountKey?: string;
  meterKey?: string;
  meterId?: number;
  txs: string[];
};

function Onboard({ session, call }: { session: Session; call: Call }) {
  const [account, setAccount] = useState("");
  const [meter, setMeter] = useState("");
  const [accountKey, setAccountKey] = useState<string>();
  const [meterKey, setMeterKey] = useState<string>();
  const [zone, setZone] = useState("0");
  const [source, setSource] = useState("1");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<WriteState>({ state: "idle" });
  const [done, setDone] = useState<Onboarded>();
  const support = signingSupport(session);

  const generate = (which: "account" | "meter") => {
    const key = generatePrivateKey();
    if (which === "account") {
      setAccount(privateKeyToAddress(key));
      setAccountKey(key);
    } else {
      setMeter(privateKeyToAddress(key));
      setMeterKey(key);
    }
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems: Record<string, string> = {};
    if (!isAddress(account.trim(), { strict: false })) problems.account = "an address: 0x and 40 hex digits";
    if (!isAddress(meter.trim(), { strict: false })) problems.meter = "an address: 0x and 40 hex digits";
    if (account.trim().toLowerCase() === meter.trim().toLowerCase() && !problems.account)
      problems.meter = "the meter's key must differ from the household's";
    const z = parseScaled(zone, 0, 65535n);
    if ("error" in z) problems.zone = `${z.error} (0–65535)`;
    setErrors(problems);
    if (Object.keys(problems).length > 0 || "error" in z) return;
    const owner = account.trim() as Address;
    const signer = meter.trim() as Address;
    const txs: string[] = [];
    try {
      setStatus({ state: "pending", what: "Registering the household" });
      txs.push(
        (
          await signAndRelay(session, call, {
            endpoint: "/api/participants",
            method: "POST",
            contract: "registry",
            abi: communityRegistryAbi,
            functionName: "registerParticipant",
            args: [owner, Number(z.value)],
          })
        ).hash,
      );
      setStatus({ state: "pending", what: "Registering the meter" });
      const result = await signAndRelay(session, call, {
        endpoint: "/api/meters",
        method: "POST",
        contract: "registry",
        abi: communityRegistryAbi,
        functionName: "registerMeter",
        args: [signer, owner, Number(source)],
      });
      txs.push(result.hash);
      setStatus({ state: "done", what: "Household and meter registered", hash: result.hash, blockNumber: result.blockNumber });
      let meterId: number | undefined;
      for (let i = 0; i < 20 && meterId === undefined; i++) {
        const meters = await get<{ meters: Meter[] }>(`/api/meters?owner=${owner.toLowerCase()}`).catch(() => ({ meters: [] }));
        meterId = meters.meters.find((m) => m.signer.toLowerCase() === signer.toLowerCase())?.meterId;
        if (meterId === undefined) await new Promise((r) => setTimeout(r, 250));
      }
      setDone({ account: owner, meter: signer, zone: Number(z.value), accountKey, meterKey, meterId, txs });
      setAccount("");
      setMeter("");
      setAccountKey(undefined);
      setMeterKey(undefined);
    } catch (error) {
      setStatus({
        state: "failed",
        what: txs.length === 0 ? "Registering the household" : "Registering the meter (the household is registered)",
        error: describeError(error),
      });
    }
  };
  const field = (id: string, label: string, value: string, set: (v: string) => void, gen?: "account" | "meter") => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className="mono"
        value={value}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => {
          set(e.target.value);
          if (gen === "account") setAccountKey(undefined);
          if (gen === "meter") setMeterKey(undefined);
        }}
        aria-invalid={errors[id] ? true : undefined}
        aria-describedby={errors[id] ? `${id}-error` : undefined}
      />
      {errors[id] ? (
        <p id={`${id}-error`} className="field-error">
          {label}: {errors[id]}
        </p>
      ) : null}
      {gen ? (
        <button type="button" className="secondary" onClick={() => generate(gen)}>
          Generate a new {gen === "account" ? "household" : "meter"} key
        </button>
      ) : null}
    </div>
  );
  return (
    <section className="card" aria-labelledby="onboard-title">
      <h2 id="onboard-title">Onboard a household</h2>
      <p className="hint">
        Registers the household's account in a zone, then its meter's signing key. Paste addresses, or generate keys here (they
        are shown once, after registration, to hand to the household and to load into the meter).
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="form-grid">
          {field("account", "Household account", account, setAccount, "account")}
          {field("meter", "Meter signing address", meter, setMeter, "meter")}
          <div className="field">
            <label htmlFor="zone">Household's zone</label>
            <input
              id="zone"
              inputMode="numeric"
              value={zone}
              onChange={(e) => setZone(e.target.value)}
              aria-invalid={errors.zone ? true : undefined}
              aria-describedby={errors.zone ? "zone-error" : undefined}
            />
            {errors.zone ? (
              <p id="zone-error" className="field-error">
                Household's zone: {errors.zone}
              </p>
            ) : null}
          </div>
          <div className="field">
            <label htmlFor="source">Meter source</label>
            <select id="source" value={source} onChange={(e) => setSource(e.target.value)}>
              {SOURCES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </div>
        </div>
        <p className="hint">{support.ok ? `Two transactions, signed with ${support.how}.` : support.why}</p>
        <button type="submit" disabled={!support.ok || status.state === "pending"}>
          Sign and register household and meter
        </button>
      </form>
      <WriteStatus status={status} id="onboard-status" />
      {done ? (
        <div className="notice" data-testid="onboarded">
          <strong>Registered</strong>
          <dl className="kv">
            <div className="kv-row">
              <dt>Household</dt>
              <dd className="mono mono-wrap" data-testid="onboarded-account">
                {done.account}
              </dd>
            </div>
            <div className="kv-row">
              <dt>Meter</dt>
              <dd className="mono mono-wrap" data-testid="onboarded-meter">
                {done.meter}
                {done.meterId !== undefined ? ` (id ${done.meterId})` : ""}, zone {done.zone}
              </dd>
            </div>
            {done.accountKey ? (
              <div className="kv-row">
                <dt>Household key</dt>
                <dd className="mono secret">{done.accountKey}</dd>
              </div>
            ) : null}
            {done.meterKey ? (
              <div className="kv-row">
                <dt>Meter key</dt>
                <dd className="mono secret">{done.meterKey}</dd>
              </div>
            ) : null}
          </dl>
          {done.accountKey || done.meterKey ? (
            <p className="hint">Copy the keys now: they exist only in this page and are gone when you leave it.</p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

/** A registry write from the operator view: what it does, its route and call, and how to see it in the index. */
type RegistryChange = {
  what: string;
  done: string;
  endpoint: string;
  functionName: "setParticipantActive" | "deactivateMeter" | "reactivateMeter";
  args: readonly unknown[];
  /** Whether the index shows the change yet (the write is relayed before the indexer has its block). */
  shown: () => Promise<boolean>;
};

/** Signs and relays `change`, waits (up to 5 s) for the index to show it, then reloads the lists. */
async function applyChange(
  session: Session,
  call: Call,
  change: RegistryChange,
  setStatus: (s: WriteState) => void,
  changed: () => void,
) {
  setStatus({ state: "pending", what: change.what });
  try {
    const r = await signAndRelay(session, call, {
      endpoint: change.endpoint,
      method: "POST",
      contract: "registry",
      abi: communityRegistryAbi,
      functionName: change.functionName,
      args: change.args as never,
    });
    setStatus({ state: "done", what: change.done, hash: r.hash, blockNumber: r.blockNumber });
    for (let i = 0; i < 20 && !(await change.shown().catch(() => false)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    changed();
  } catch (error) {
    setStatus({ state: "failed", what: change.what, error: describeError(error) });
  }
}

/** Pausing (registry.deactivateMeter) or reactivating (registry.reactivateMeter) meter `meterId`. */
const meterChange = (meterId: number, active: boolean): RegistryChange => ({
  what: `${active ? "Reactivating" : "Pausing"} meter ${meterId}`,
  done: `Meter ${meterId} ${active ? "reactivated" : "paused"}`,
  endpoint: `/api/meters/${meterId}/${active ? "reactivate" : "deactivate"}`,
  functionName: active ? "reactivateMeter" : "deactivateMeter",
  args: [meterId],
  shown: async () => (await get<Meter>(`/api/meters/${meterId}`)).active === active,
});

function MeterButton({
  meterId,
  active,
  disabled,
  onClick,
}: {
  meterId: number;
  active: boolean;
  disabled: boolean;
  onClick: () => void;
}) {
  return (
    <button
      type="button"
      className="secondary"
      disabled={disabled}
      onClick={onClick}
      aria-label={`${active ? "Pause" : "Reactivate"} meter ${meterId}`}
    >
      {active ? "Pause" : "Reactivate"}
    </button>
  );
}

type ParticipantPage = CursorPage<ParticipantEntry> & { items: ParticipantEntry[] };

/** All participants, a page at a time in address order, with their meters; operators (de)activate them and their meters. */
function Participants({
  session,
  call,
  canChange,
  version,
  changed,
}: {
  session: Session;
  call: Call;
  canChange: boolean;
  version: number;
  changed: () => void;
}) {
  const [zone, setZone] = useState("");
  const [state, setState] = useState<"" | "true" | "false">("");
  const [status, setStatus] = useState<WriteState>({ state: "idle" });
  const pageSize = useMemo(() => pageSizeFromUrl(), []);
  const zoneFilter = parseScaled(zone, 0, 65535n);
  const zoneError = zone.trim() !== "" && "error" in zoneFilter ? `${zoneFilter.error} (0–65535)` : undefined;
  const query = [
    `limit=${pageSize}`,
    zone.trim() !== "" && "value" in zoneFilter ? `zone=${zoneFilter.value}` : "",
    state ? `active=${state}` : "",
  ]
    .filter(Boolean)
    .join("&");
  const support = signingSupport(session);
  const busy = !support.ok || status.state === "pending";
  const setActive = (p: ParticipantEntry, active: boolean) =>
    applyChange(
      session,
      call,
      {
        what: `${active ? "Reactivating" : "Deactivating"} participant ${shortHex(p.account)}`,
        done: `Participant ${shortHex(p.account)} ${active ? "reactivated" : "deactivated"}`,
        endpoint: `/api/participants/${p.account}/${active ? "activate" : "deactivate"}`,
        functionName: "setParticipantActive",
        args: [p.account, active],
        shown: async () => (await get<ParticipantEntry>(`/api/participants/${p.account}`)).active === active,
      },
      setStatus,
      changed,
    );
  return (
    <section className="card" aria-labelledby="participants-title">
      <h2 id="participants-title">Participants</h2>
      <p className="hint">
        Every account the registry onboarded, in address order. A deactivated participant cannot trade; a paused meter's readings
        are refused until it is reactivated (it then reports from the next interval that starts).
      </p>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="participants-zone">Only zone</label>
          <input
            id="participants-zone"
            inputMode="numeric"
            value={zone}
            placeholder="all zones"
            onChange={(e) => setZone(e.target.value)}
            aria-invalid={zoneError ? true : undefined}
            aria-describedby={zoneError ? "participants-zone-error" : undefined}
          />
          {zoneError ? (
            <p id="participants-zone-error" className="field-error">
              Only zone: {zoneError}
            </p>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor="participants-state">State</label>
          <select id="participants-state" value={state} onChange={(e) => setState(e.target.value as "" | "true" | "false")}>
            <option value="">all</option>
            <option value="true">active only</option>
            <option value="false">deactivated only</option>
          </select>
        </div>
      </div>
      <WriteStatus status={status} id="participant-status" />
      {/* A new filter starts again at the first page. */}
      <ParticipantTable
        key={query}
        query={query}
        filtered={Boolean(zone || state)}
        pageSize={pageSize}
        call={call}
        version={version}
        canChange={canChange}
        busy={busy}
        onActive={(p, active) => void setActive(p, active)}
        onMeter={(meterId, active) => void applyChange(session, call, meterChange(meterId, active), setStatus, changed)}
      />
    </section>
  );
}

function ParticipantTable({
  query,
  filtered,
  pageSize,
  call,
  version,
  canChange,
  busy,
  onActive,
  onMeter,
}: {
  query: string;
  filtered: boolean;
  pageSize: number;
  call: Call;
  version: number;
  canChange: boolean;
  busy: boolean;
  onActive: (p: ParticipantEntry, active: boolean) => void;
  onMeter: (meterId: number, active: boolean) => void;
}) {
  // With the caller's session: operators see the households' display names.
  const pages = useCursorPages<ParticipantPage>(
    (after) =>
      call<{ participants: ParticipantEntry[]; nextAfter: string | null }>(
        `/api/participants?${query}${after ? `&after=${after}` : ""}`,
      ).then((r) => ({ items: r.participants, nextBefore: r.nextAfter })),
    [call, query, version],
  );
  const rows = pages.data?.items;
  return (
    <>
      {pages.error ? <ErrorBox title="Could not load the participants" error={pages.error} onRetry={pages.reload} /> : null}
      {!rows && pages.loading ? <Loading what="participants" /> : null}
      {rows && rows.length === 0 && pages.index === 0 ? (
        <Empty>{filtered ? "No participant matches these filters." : "No participant is registered yet."}</Empty>
      ) : null}
      {rows && rows.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="participants">
            <caption className="sr-only">Participants, their meters and when they were registered</caption>
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Name</th>
                <th scope="col">Zone</th>
                <th scope="col">State</th>
                <th scope="col">Meters</th>
                <th scope="col">Registered</th>
                {canChange ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.account} data-account={p.account}>
                  <td className="mono" title={p.account}>
                    {shortHex(p.account)}
                  </td>
                  <td data-testid="participant-name">{p.displayName ?? "–"}</td>
                  <td data-testid="participant-zone">{p.zone}</td>
                  <td data-testid="participant-state">{p.active ? "active" : "deactivated"}</td>
                  <td>
                    {p.meters.length === 0 ? "none" : null}
                    <ul className="meter-list">
                      {p.meters.map((m) => (
                        <li key={m.meterId} data-meter={m.meterId}>
                          <span data-testid="participant-meter">
                            #{m.meterId} {m.active ? "active" : "paused"}
                          </span>
                          {canChange ? (
                            <>
                              {" "}
                              <MeterButton
                                meterId={m.meterId}
                                active={m.active}
                                disabled={busy}
                                onClick={() => onMeter(m.meterId, !m.active)}
                              />
                            </>
                          ) : null}
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td data-testid="participant-registered">
                    {p.registeredAt ? dateTime(p.registeredAt) : "–"}
                    <span className="hint"> · block {p.registeredBlock}</span>
                  </td>
                  {canChange ? (
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        disabled={busy}
                        onClick={() => onActive(p, !p.active)}
                        aria-label={`${p.active ? "Deactivate" : "Reactivate"} participant ${p.account}`}
                      >
                        {p.active ? "Deactivate" : "Reactivate"}
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {/* Address order: "newer" and "older" would mislead here. */}
      <Pager
        id="participants"
        what="participants"
        pages={pages}
        pageSize={pageSize}
        labels={{ newer: "Previous", older: "Next" }}
      />
    </>
  );
}

function Meters({
  session,
  call,
  canPause,
  version,
  changed,
}: {
  session: Session;
  call: Call;
  canPause: boolean;
  version: number;
  changed: () => void;
}) {
  const meters = useLoad(() => get<{ meters: Meter[] }>("/api/meters?limit=500").then((r) => r.meters), [version]);
  const [status, setStatus] = useState<WriteState>({ state: "idle" });
  const support = signingSupport(session);
  return (
    <section className="card" aria-labelledby="meters-title">
      <div className="title-row">
        <h2 id="meters-title">Meters</h2>
        <button type="button" className="secondary" onClick={meters.reload}>
          Refresh
        </button>
      </div>
      <WriteStatus status={status} id="meter-status" />
      {meters.error ? <ErrorBox title="Could not load the meters" error={meters.error} onRetry={meters.reload} /> : null}
      {!meters.data && meters.loading ? <Loading what="meters" /> : null}
      {meters.data && meters.data.length === 0 ? <Empty>No meter is registered yet.</Empty> : null}
      {meters.data && meters.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="meters">
            <caption className="sr-only">Registered meters</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Owner</th>
                <th scope="col">Meter key</th>
                <th scope="col">Zone</th>
                <th scope="col">Source</th>
                <th scope="col">State</th>
                {canPause ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {meters.data.map((m) => (
                <tr key={m.meterId} data-meter={m.meterId} data-owner={m.owner.toLowerCase()}>
                  <td>{m.meterId}</td>
                  <td className="mono" title={m.owner}>
                    {shortHex(m.owner)}
                  </td>
                  <td className="mono" title={m.signer}>
                    {shortHex(m.signer)}
                  </td>
                  <td>{m.zone}</td>
                  <td>{SOURCES.find((s) => s.value === m.source)?.label ?? m.source}</td>
                  <td data-testid="meter-state">{m.active ? "active" : "paused"}</td>
                  {canPause ? (
                    <td>
                      <MeterButton
                        meterId={m.meterId}
                        active={m.active}
                        disabled={!support.ok || status.state === "pending"}
                        onClick={() => void applyChange(session, call, meterChange(m.meterId, !m.active), setStatus, changed)}
                      />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function Tariffs({ session, call, changed }: { session: Session; call: Call; changed: () => void }) {
  type T = { feedInMicroPerKwh: string; retailMicroPerKwh: string; blockNumber: string };
  const current = useLoad(() => get<{ current: T | null }>("/api/tariffs").then((r) => r.current), []);
  const [feedIn, setFeedIn] = useState<string>();
  const [retail, setRetail] = useState<string>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<WriteState>({ state: "idle" });
  const c = current.data;
  const feedInValue = feedIn ?? (c ? toInput(c.feedInMicroPerKwh, 6) : "");
  const retailValue = retail ?? (c ? toInput(c.retailMicroPerKwh, 6) : "");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const f = parseScaled(feedInValue, 6);
    const r = parseScaled(retailValue, 6);
    const problems: Record<string, string> = {};
    if ("error" in f) problems.feedIn = f.error;
    if ("error" in r) problems.retail = r.error;
    setErrors(problems);
    if ("error" in f || "error" in r) return;
    const what = "Setting the tariffs";
    setStatus({ state: "pending", what });
    try {
      const result = await signAndRelay(session, call, {
        endpoint: "/api/tariffs",
        method: "PUT",
        contract: "market",
        abi: energyMarketAbi,
        functionName: "setTariffs",
        args: [{ feedInMicroPerKwh: f.value, retailMicroPerKwh: r.value }],
      });
      setStatus({ state: "done", what: "Tariffs set", hash: result.hash, blockNumber: result.blockNumber });
      for (let i = 0; i < 20; i++) {
        const now = await get<{ current: T | null }>("/api/tariffs");
        if (now.current && BigInt(now.current.blockNumber) >= BigInt(result.blockNumber)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      setFeedIn(undefined);
      setRetail(undefined);
      current.reload();
      changed();
    } catch (error) {
      setStatus({ state: "failed", what, error: describeError(error) });
    }
  };
  return (
    <section className="card" aria-labelledby="tariffs-title">
      <h2 id="tariffs-title">Grid tariffs</h2>
      {current.error ? <ErrorBox title="Could not load the tariffs" error={current.error} onRetry={current.reload} /> : null}
      <p data-testid="tariffs-current">
        {c
          ? `Now: feed-in ${pricePerKwh(c.feedInMicroPerKwh)}, retail ${pricePerKwh(c.retailMicroPerKwh)} (block ${c.blockNumber})`
          : "No tariff change recorded yet."}
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="form-grid">
          <Decimal id="feedIn" label="Feed-in tariff (credits/kWh)" value={feedInValue} set={setFeedIn} error={errors.feedIn} />
          <Decimal id="retail" label="Retail tariff (credits/kWh)" value={retailValue} set={setRetail} error={errors.retail} />
        </div>
        <button type="submit" disabled={status.state === "pending"}>
          Sign and set tariffs
        </button>
      </form>
      <WriteStatus status={status} id="tariffs-status" />
    </section>
  );
}

type TariffPage = CursorPage<TariffChange> & { items: TariffChange[] };

/** Every tariff change, newest first, a page at a time (community and grid operators). */
function TariffHistory({ version }: { version: number }) {
  const pageSize = useMemo(() => pageSizeFromUrl(), []);
  const pages = useCursorPages<TariffPage>(
    (before) =>
      get<{ changes: TariffChange[]; nextBefore: string | null }>(
        `/api/tariffs/history?limit=${pageSize}${before ? `&before=${before}` : ""}`,
      ).then((r) => ({ items: r.changes, nextBefore: r.nextBefore })),
    [version],
  );
  const rows = pages.data?.items;
  return (
    <section className="card" aria-labelledby="tariff-history-title">
      <h2 id="tariff-history-title">Tariff history</h2>
      {pages.error ? <ErrorBox title="Could not load the tariff history" error={pages.error} onRetry={pages.reload} /> : null}
      {!rows && pages.loading ? <Loading what="the tariff history" /> : null}
      {rows && rows.length === 0 && pages.index === 0 ? <Empty>No tariff change is recorded yet.</Empty> : null}
      {rows && rows.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="tariff-history">
            <caption className="sr-only">Tariff changes, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Block</th>
                <th scope="col">Feed-in</th>
                <th scope="col">Retail</th>
                <th scope="col">Set by</th>
                <th scope="col">Transaction</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={`${t.blockNumber}:${t.logIndex}`} data-block={t.blockNumber}>
                  <td data-testid="tariff-at">{t.at ? dateTime(t.at) : "–"}</td>
                  <td data-testid="tariff-block">{t.blockNumber}</td>
                  <td data-testid="tariff-feedIn">{pricePerKwh(t.feedInMicroPerKwh)}</td>
                  <td data-testid="tariff-retail">{pricePerKwh(t.retailMicroPerKwh)}</td>
                  <td className="mono" title={t.by ?? undefined} data-testid="tariff-by">
                    {t.by ? shortHex(t.by) : "–"}
                  </td>
                  <td>
                    <Link href={`/explorer/tx/${t.txHash}`} className="mono">
                      {shortHex(t.txHash)}
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager id="tariff-history" what="tariff changes" pages={pages} pageSize={pageSize} />
    </section>
  );
}

/** A zone's limits as the form shows them: caps in kWh (empty: unlimited), the fee in credits/kWh. */
const limitInputs = (z: ZoneLimits | undefined) => ({
  importCap: !z || z.importCapWh === UNLIMITED ? "" : toInput(z.importCapWh, 3),
  exportCap: !z || z.exportCapWh === UNLIMITED ? "" : toInput(z.exportCapWh, 3),
  fee: z ? toInput(z.feeMicroPerKwh, 6) : "0",
});

function ZoneLimitsForm({ session, call, version }: { session: Session; call: Call; version: number }) {
  const zones = useLoad(() => get<{ zones: ZoneLimits[] }>("/api/zones").then((r) => r.zones), [version]);
  const [zone, setZone] = useState("0");
  // What the operator typed; undefined shows the chosen zone's current value (from /api/zones).
  const [typed, setTyped] = useState<{ importCap?: string; exportCap?: string; fee?: string }>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<WriteState>({ state: "idle" });
  const parsedZone = parseScaled(zone, 0, 65535n);
  const chosen = "value" in parsedZone ? zones.data?.find((z) => BigInt(z.zone) === parsedZone.value) : undefined;
  const current = limitInputs(chosen);
  const importCap = typed.importCap ?? current.importCap;
  const exportCap = typed.exportCap ?? current.exportCap;
  const fee = typed.fee ?? current.fee;
  const chooseZone = (text: string) => {
    setZone(text);
    setTyped({});
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems: Record<string, string> = {};
    const z = parseScaled(zone, 0, 65535n);
    const cap = (text: string, key: string) => {
      if (text.trim() === "") return U64_MAX;
      const r = parseScaled(text, 3);
      if ("error" in r) {
        problems[key] = r.error;
        return 0n;
      }
      return r.value;
    };
    const imp = cap(importCap, "importCap");
    const exp = cap(exportCap, "exportCap");
    const f = parseScaled(fee, 6, U32_MAX);
    if ("error" in z) problems.limitZone = `${z.error} (0–65535)`;
    if ("error" in f) problems.fee = f.error;
    setErrors(problems);
    if (Object.keys(problems).length > 0 || "error" in z || "error" in f) return;
    const what = `Setting the limits of zone ${z.value}`;
    setStatus({ state: "pending", what });
    try {
      const result = await signAndRelay(session, call, {
        endpoint: `/api/zones/${z.value}/limits`,
        method: "PUT",
        contract: "market",
        abi: energyMarketAbi,
        functionName: "setZoneLimits",
        args: [Number(z.value), { importCapWh: imp, exportCapWh: exp, feeMicroPerKwh: Number(f.value) }],
      });
      setStatus({ state: "done", what: `Zone ${z.value} limits set`, hash: result.hash, blockNumber: result.blockNumber });
      for (let i = 0; i < 20; i++) {
        const now = await get<{ zones: ZoneLimits[] }>("/api/zones");
        if (now.zones.some((x) => x.zone === Number(z.value) && BigInt(x.blockNumber) >= BigInt(result.blockNumber))) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      setTyped({});
      zones.reload();
    } catch (error) {
      setStatus({ state: "failed", what, error: describeError(error) });
    }
  };
  return (
    <section className="card" aria-labelledby="limits-title">
      <h2 id="limits-title">Zone limits</h2>
      {zones.error ? <ErrorBox title="Could not load the zones" error={zones.error} onRetry={zones.reload} /> : null}
      {zones.data && zones.data.length === 0 ? <Empty>No zone has limits: every zone is unlimited and free.</Empty> : null}
      {zones.data && zones.data.length > 0 ? (
        <ul className="list" data-testid="zone-limits">
          {zones.data.map((z) => (
            <li key={z.zone} data-zone={z.zone}>
              <span data-testid="zone-limit-text">
                Zone {z.zone}: import {z.importCapWh === UNLIMITED ? "unlimited" : kwh(z.importCapWh)}, export{" "}
                {z.exportCapWh === UNLIMITED ? "unlimited" : kwh(z.exportCapWh)}, fee {pricePerKwh(z.feeMicroPerKwh)}
              </span>{" "}
              <button
                type="button"
                className="link-inline"
                onClick={() => {
                  chooseZone(String(z.zone));
                  document.getElementById("importCap")?.focus();
                }}
                aria-label={`Edit the limits of zone ${z.zone}`}
              >
                Edit
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="form-grid">
          <Decimal id="limitZone" label="Zone" value={zone} set={chooseZone} error={errors.limitZone} />
          <Decimal
            id="importCap"
            label="Import cap (kWh per interval)"
            value={importCap}
            set={(v) => setTyped((t) => ({ ...t, importCap: v }))}
            error={errors.importCap}
            hint="empty: unlimited"
          />
          <Decimal
            id="exportCap"
            label="Export cap (kWh per interval)"
            value={exportCap}
            set={(v) => setTyped((t) => ({ ...t, exportCap: v }))}
            error={errors.exportCap}
            hint="empty: unlimited"
          />
          <Decimal
            id="fee"
            label="Import fee (credits/kWh)"
            value={fee}
            set={(v) => setTyped((t) => ({ ...t, fee: v }))}
            error={errors.fee}
          />
        </div>
        <p className="hint" data-testid="limits-current" aria-live="polite">
          {"error" in parsedZone
            ? "Type a zone number to see its current limits."
            : chosen
              ? `Zone ${chosen.zone} now: import ${chosen.importCapWh === UNLIMITED ? "unlimited" : kwh(chosen.importCapWh)}, export ${
                  chosen.exportCapWh === UNLIMITED ? "unlimited" : kwh(chosen.exportCapWh)
                }, fee ${pricePerKwh(chosen.feeMicroPerKwh)} (the form shows these).`
              : zones.data
                ? `Zone ${parsedZone.value} has no limits yet: unlimited, no fee.`
                : "Loading the zones' current limits…"}
        </p>
        <button type="submit" disabled={status.state === "pending"}>
          Sign and set zone limits
        </button>
      </form>
      <WriteStatus status={status} id="limits-status" />
    </section>
  );
}

function Decimal({
  id,
  label,
  value,
  set,
  error,
  hint,
}: {
  id: string;
  label: string;
  value: string;
  set: (v: string) => void;
  error: string | undefined;
  hint?: string;
}) {
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        inputMode="decimal"
        autoComplete="off"
        value={value}
        onChange={(e) => set(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described || undefined}
      />
      {hint ? (
        <span id={`${id}-hint`} className="hint">
          {hint}
        </span>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {label}: {error}
        </p>
      ) : null}
    </div>
  );
}
