import { type FormEvent, useState } from "react";
import {
  type Agreement,
  type AgreementDeliveries,
  type Call,
  type Contracts,
  describeError,
  get,
  type Participant,
  type Session,
} from "../api.ts";
import { credits, dateTime, kwh, parseScaled, pricePerKwh, shortHex } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { Pager, pageSizeFromUrl, useCursorPages } from "../paging.tsx";
import { Link } from "../router.tsx";
import { ErrorBox, Loading, type WriteState, WriteStatus } from "../ui.tsx";
import { bilateralAgreementsAbi, signAndRelay, signingSupport } from "../wallet.ts";

const U32_MAX = 2n ** 32n - 1n;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

type Field = "counterparty" | "kwh" | "price" | "start" | "end" | "notice";

/** Unix seconds of the start of `interval`, as the decimal string `dateTime` takes. */
const startOf = (interval: string, seconds: bigint): string => (BigInt(interval) * seconds).toString();

/** A `datetime-local` value (the browser's time zone) for unix seconds. */
function toLocalInput(unixSeconds: bigint): string {
  const d = new Date(Number(unixSeconds) * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Unix seconds of a `datetime-local` value, or undefined when it is not a date and time. */
function fromLocalInput(value: string): bigint | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? BigInt(Math.floor(ms / 1000)) : undefined;
}

/** A participant from `/api/participants`, with its display name when the API gives one. */
type Neighbour = Participant & { displayName?: string | null };

const STATUS_TEXT: Record<Agreement["status"], string> = {
  proposed: "proposed, waiting for acceptance",
  active: "active",
  ended: "ended",
  cancelled: "cancelled",
};

/**
 * The household's bilateral agreements ("up to X kWh per interval at price P, from D1 to D2" with a
 * neighbour of its zone), newest first a page at a time: each with what it delivered (totals over all its
 * deliveries, and its deliveries interval by interval on demand), proposed, accepted and cancelled by
 * transactions the household signs.
 */
export function AgreementsCard({
  session,
  call,
  zone,
  version,
}: {
  session: Session;
  call: Call;
  zone: number | undefined;
  /** Changes when the page reloads its data (a settled interval): the list reloads too. */
  version: number;
}) {
  const me = session.address.toLowerCase();
  const pageSize = pageSizeFromUrl(10);
  // The interval length and the chain's current interval (the demo chain runs in accelerated time).
  const contracts = useLoad(() => get<Contracts>("/api/contracts"), [version]);
  const pages = useCursorPages(
    async (before) => {
      const page = await call<{ agreements: Agreement[]; nextBefore: string | null }>(
        `/api/agreements?account=${me}&limit=${pageSize}${before ? `&before=${before}` : ""}`,
      );
      return { items: page.agreements, nextBefore: page.nextBefore };
    },
    [me, call, pageSize, version],
  );
  const [status, setStatus] = useState<WriteState>({ state: "idle" });
  const support = signingSupport(session);

  const act = async (a: Agreement, action: "accept" | "cancel") => {
    const what = `${action === "accept" ? "Accepting" : "Cancelling"} agreement #${a.id}`;
    setStatus({ state: "pending", what });
    try {
      const result = await signAndRelay(session, call, {
        endpoint: `/api/agreements/${a.id}/${action}`,
        method: "POST",
        contract: "agreements",
        abi: bilateralAgreementsAbi,
        functionName: action,
        args: [BigInt(a.id)],
      });
      setStatus({
        state: "done",
        what: `Agreement #${a.id} ${action === "accept" ? "accepted" : "cancelled"}`,
        hash: result.hash,
        blockNumber: result.blockNumber,
      });
      pages.reload();
    } catch (error) {
      setStatus({ state: "failed", what, error: describeError(error) });
    }
  };

  const agreements = pages.data?.items;
  const seconds = contracts.data ? BigInt(contracts.data.intervalSeconds) : undefined;
  const error = pages.error ?? contracts.error;
  return (
    <section aria-labelledby="agreements-title" className="card" data-testid="agreements">
      <h2 id="agreements-title">Agreements</h2>
      <p className="hint">
        Bilateral agreements with a neighbour of your zone: up to a fixed energy per interval at a fixed price, delivered before
        the auction from what the meters measured (less when the seller exports less or the buyer needs less). One of you
        proposes, the other accepts; either may cancel with the agreed notice.
      </p>
      {error ? (
        <ErrorBox
          title="Could not load your agreements"
          error={error}
          onRetry={() => {
            pages.reload();
            contracts.reload();
          }}
        />
      ) : null}
      {(!agreements || seconds === undefined) && (pages.loading || contracts.loading) ? <Loading what="your agreements" /> : null}
      {agreements && seconds !== undefined ? (
        agreements.length === 0 ? (
          <p className="notice empty">No agreements yet.</p>
        ) : (
          <ul className="agreements" aria-describedby="agreements-pages-range">
            {agreements.map((a) => (
              <AgreementItem
                key={a.id}
                agreement={a}
                me={me}
                call={call}
                seconds={seconds}
                version={version}
                busy={!support.ok || status.state === "pending"}
                act={(action) => void act(a, action)}
              />
            ))}
          </ul>
        )
      ) : null}
      <Pager id="agreements-pages" what="agreements" pages={pages} pageSize={pageSize} />
      <WriteStatus status={status} id="agreement-status" />
      {contracts.data && seconds !== undefined ? (
        <ProposeForm
          session={session}
          call={call}
          zone={zone}
          seconds={seconds}
          currentInterval={BigInt(contracts.data.currentInterval)}
          onProposed={pages.reload}
        />
      ) : null}
    </section>
  );
}

const plural = (n: string, word: string) => `${n} ${word}${n === "1" ? "" : "s"}`;

/** One agreement: its terms and state, what it delivered (from the API's totals), its actions and deliveries. */
function AgreementItem({
  agreement: a,
  me,
  call,
  seconds,
  version,
  busy,
  act,
}: {
  agreement: Agreement;
  me: string;
  call: Call;
  seconds: bigint;
  version: number;
  busy: boolean;
  act: (action: "accept" | "cancel") => void;
}) {
  const selling = a.seller === me;
  const other = selling ? a.buyer : a.seller;
  const cancelled = a.lastEvent.toLowerCase().startsWith("cancel");
  const canAccept = a.status === "proposed" && a.proposer !== null && a.proposer !== me;
  const canCancel = a.status === "proposed" || (a.status === "active" && !cancelled);
  // Only an accepted agreement delivers ("cancelled" is a proposal withdrawn or refused).
  const delivers = a.status === "active" || a.status === "ended";
  const pageSize = pageSizeFromUrl(10);
  const deliveries = useCursorPages(
    async (before) => {
      if (!delivers) return { items: [], nextBefore: null, totals: undefined };
      const page = await call<AgreementDeliveries>(
        `/api/agreements/${a.id}/deliveries?limit=${pageSize}${before ? `&before=${encodeURIComponent(before)}` : ""}`,
      );
      return { items: page.deliveries, nextBefore: page.nextBefore, totals: page.totals };
    },
    [a.id, delivers, call, pageSize, version],
  );
  const [open, setOpen] = useState(false);
  const totals = deliveries.data?.totals;
  const rows = deliveries.data?.items ?? [];
  return (
    <li
      data-testid={`agreement-${a.id}`}
      data-status={a.status}
      data-last-event={a.lastEvent}
      aria-labelledby={`agreement-${a.id}-title`}
    >
      <h3 id={`agreement-${a.id}-title`}>
        Agreement #{a.id}: {selling ? "you sell" : "you buy"} ·{" "}
        <span data-testid={`agreement-${a.id}-status`}>
          {cancelled && a.status === "active" ? "cancelled, delivering through the notice" : STATUS_TEXT[a.status]}
        </span>
      </h3>
      <dl>
        <dt>{selling ? "Buyer" : "Seller"}</dt>
        <dd className="mono mono-wrap">{other}</dd>
        <dt>Terms</dt>
        <dd data-testid={`agreement-${a.id}-terms`}>
          up to {kwh(a.maxWhPerInterval)} per interval at {pricePerKwh(a.priceMicroPerKwh)}
        </dd>
        <dt>{a.status === "proposed" ? "From (proposed)" : "From"}</dt>
        <dd>{dateTime(startOf(a.startInterval, seconds))}</dd>
        <dt>Until</dt>
        <dd data-testid={`agreement-${a.id}-until`}>
          {dateTime(startOf(a.endInterval, seconds))}
          {cancelled && a.status !== "cancelled" ? " (cancelled: deliveries stop then)" : ""}
        </dd>
        <dt>Notice</dt>
        <dd>{plural(a.noticeIntervals, "interval")}</dd>
        <dt>Proposed by</dt>
        <dd>{a.proposer === null ? "–" : a.proposer === me ? "you" : shortHex(a.proposer)}</dd>
        {delivers ? (
          <>
            <dt>Delivered</dt>
            <dd data-testid={`agreement-${a.id}-delivered`}>
              {deliveries.error
                ? "could not be loaded"
                : !totals
                  ? "loading…"
                  : totals.intervals === "0"
                    ? "nothing yet"
                    : `${kwh(totals.energyWh)} in ${plural(totals.intervals, "interval")} for ${credits(totals.moneyMicro, 4)}`}
            </dd>
          </>
        ) : null}
      </dl>
      {deliveries.error ? (
        <ErrorBox
          title={`Could not load the deliveries of agreement #${a.id}`}
          error={deliveries.error}
          onRetry={deliveries.reload}
        />
      ) : null}
      {canAccept || canCancel || (totals && totals.intervals !== "0") ? (
        <div className="actions">
          {totals && totals.intervals !== "0" ? (
            <button
              type="button"
              className="secondary"
              aria-expanded={open}
              aria-controls={`agreement-${a.id}-deliveries`}
              onClick={() => setOpen((o) => !o)}
            >
              {open ? "Hide" : "Show"} deliveries<span className="sr-only"> of agreement #{a.id}</span>
            </button>
          ) : null}
          {canAccept ? (
            <button type="button" disabled={busy} onClick={() => act("accept")} aria-label={`Accept agreement #${a.id}`}>
              Accept
            </button>
          ) : null}
          {canCancel ? (
            <button
              type="button"
              className="secondary"
              disabled={busy}
              onClick={() => act("cancel")}
              aria-label={`${a.status === "proposed" ? (a.proposer === me ? "Withdraw" : "Refuse") : "Cancel"} agreement #${a.id}`}
            >
              {a.status === "proposed" ? (a.proposer === me ? "Withdraw" : "Refuse") : "Cancel"}
            </button>
          ) : null}
        </div>
      ) : null}
      {totals && totals.intervals !== "0" ? (
        <div id={`agreement-${a.id}-deliveries`} className="deliveries" hidden={!open}>
          <div className="table-wrap">
            <table data-testid={`agreement-${a.id}-deliveries-table`} aria-describedby={`agreement-${a.id}-pages-range`}>
              <caption className="sr-only">Deliveries of agreement #{a.id}, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Interval</th>
                  <th scope="col" className="num">
                    Energy
                  </th>
                  <th scope="col" className="num">
                    Price
                  </th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                  <th scope="col">Details</th>
                  <th scope="col">Transaction</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((d) => (
                  <tr key={`${d.interval}-${d.index}`} data-interval={d.interval} data-index={d.index}>
                    <td>{d.startsAt ? dateTime(d.startsAt) : `#${d.interval}`}</td>
                    <td className="num">{kwh(d.energyWh)}</td>
                    <td className="num">{pricePerKwh(d.priceMicroPerKwh)}</td>
                    <td className="num">{`${selling ? "+" : "−"}${credits(d.moneyMicro, 4)}`}</td>
                    <td>
                      <Link
                        href={`/explorer/trade/${d.interval}/${d.index}`}
                        aria-label={`Trade ${d.index} of interval ${d.interval}, with its signed meter readings`}
                      >
                        Trade
                      </Link>
                    </td>
                    <td>
                      {d.txHash ? (
                        <Link href={`/explorer/tx/${d.txHash}`} aria-label={`Settlement transaction of interval ${d.interval}`}>
                          {shortHex(d.txHash)}
                        </Link>
                      ) : (
                        "–"
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager id={`agreement-${a.id}-pages`} what="deliveries" pages={deliveries} pageSize={pageSize} />
        </div>
      ) : null}
    </li>
  );
}

function ProposeForm({
  session,
  call,
  zone,
  seconds,
  currentInterval,
  onProposed,
}: {
  session: Session;
  call: Call;
  zone: number | undefined;
  seconds: bigint;
  currentInterval: bigint;
  onProposed: () => void;
}) {
  const me = session.address.toLowerCase();
  const [side, setSide] = useState<"sell" | "buy">("sell");
  const [values, setValues] = useState<Record<Field, string>>(() => ({
    counterparty: "",
    kwh: "",
    price: "",
    // Defaults on the chain's clock: from the next interval, for a day.
    start: toLocalInput((currentInterval + 1n) * seconds),
    end: toLocalInput((currentInterval + 1n) * seconds + 86_400n),
    notice: "4",
  }));
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [status, setStatus] = useState<WriteState>({ state: "idle" });
  const support = signingSupport(session);
  // The active households of one's zone to pick from (display names where the API gives them).
  const neighbours = useLoad(async () => {
    if (zone === undefined) return [];
    const { participants } = await get<{ participants: Neighbour[] }>(`/api/participants?zone=${zone}&active=true&limit=500`);
    return participants.filter((p) => p.account !== me && p.zone === zone && p.active);
  }, [zone, me]);
  const picked = neighbours.data?.find((p) => p.account === values.counterparty.trim().toLowerCase());

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems: Partial<Record<Field, string>> = {};
    const other = values.counterparty.trim();
    if (!ADDRESS.test(other)) problems.counterparty = "enter the neighbour's address (0x and 40 hex digits)";
    else if (other.toLowerCase() === me) problems.counterparty = "enter a neighbour's address, not your own";
    const num = (f: Field, scale: number) => {
      const r = parseScaled(values[f], scale, U32_MAX);
      if ("error" in r) problems[f] = r.error;
      else if (r.value === 0n && f !== "notice") problems[f] = "must be more than 0";
      else return r.value;
      return 0n;
    };
    const wh = num("kwh", 3);
    const price = num("price", 6);
    const notice = num("notice", 0);
    const startAt = fromLocalInput(values.start);
    const endAt = fromLocalInput(values.end);
    if (startAt === undefined) problems.start = "enter a date and time";
    if (endAt === undefined) problems.end = "enter a date and time";
    // The interval holding the start; the end is the first interval no longer delivered (rounded up).
    const startInterval = startAt === undefined ? 0n : startAt / seconds;
    const endInterval = endAt === undefined ? 0n : (endAt + seconds - 1n) / seconds;
    if (startAt !== undefined && endAt !== undefined && endInterval <= startInterval)
      problems.end = "must be after the start (at least one interval)";
    setErrors(problems);
    const first = Object.keys(problems)[0];
    if (first) {
      document.getElementById(`agreement-${first}`)?.focus();
      return;
    }
    const what = "Proposing the agreement";
    setStatus({ state: "pending", what });
    try {
      const result = await signAndRelay(session, call, {
        endpoint: "/api/agreements",
        method: "POST",
        contract: "agreements",
        abi: bilateralAgreementsAbi,
        functionName: "propose",
        args: [
          {
            seller: side === "sell" ? me : other,
            buyer: side === "sell" ? other : me,
            maxWhPerInterval: Number(wh),
            priceMicroPerKwh: Number(price),
            startInterval,
            endInterval,
            noticeIntervals: Number(notice),
          },
        ],
      });
      setStatus({ state: "done", what: "Agreement proposed", hash: result.hash, blockNumber: result.blockNumber });
      onProposed();
    } catch (error) {
      setStatus({ state: "failed", what, error: describeError(error) });
    }
  };

  const field = (f: Field, label: string, hint: string, type: "text" | "datetime-local" = "text") => (
    <div className="field" key={f}>
      <label htmlFor={`agreement-${f}`}>{label}</label>
      <input
        id={`agreement-${f}`}
        type={type}
        inputMode={type === "text" && f !== "counterparty" ? (f === "notice" ? "numeric" : "decimal") : undefined}
        autoComplete="off"
        spellCheck={false}
        value={values[f]}
        onChange={(e) => setValues((v) => ({ ...v, [f]: e.target.value }))}
        aria-invalid={errors[f] ? true : undefined}
        aria-describedby={`agreement-${f}-hint${errors[f] ? ` agreement-${f}-error` : ""}`}
      />
      <span id={`agreement-${f}-hint`} className="hint">
        {hint}
      </span>
      {errors[f] ? (
        <p id={`agreement-${f}-error`} className="field-error">
          {label}: {errors[f]}
        </p>
      ) : null}
    </div>
  );

  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-labelledby="propose-title" aria-describedby="agreement-signing">
      <h3 id="propose-title">Propose an agreement</h3>
      {zone !== undefined ? (
        <div className="field">
          <label htmlFor="agreement-pick">Pick a neighbour of your zone</label>
          <select
            id="agreement-pick"
            value={picked?.account ?? ""}
            onChange={(e) => setValues((v) => ({ ...v, counterparty: e.target.value }))}
            aria-describedby="agreement-pick-hint"
            disabled={!neighbours.data || neighbours.data.length === 0}
          >
            <option value="">
              {picked || !values.counterparty.trim() ? "Choose a neighbour…" : "Typed address (not in the list)"}
            </option>
            {neighbours.data?.map((p) => (
              <option key={p.account} value={p.account}>
                {p.displayName ? `${p.displayName} · ${shortHex(p.account)}` : p.account}
              </option>
            ))}
          </select>
          <span id="agreement-pick-hint" className="hint" data-testid="agreement-pick-hint">
            {neighbours.error
              ? `The list could not be loaded (${neighbours.error}): type the address below.`
              : !neighbours.data
                ? "Loading the households of your zone…"
                : neighbours.data.length === 0
                  ? `No other active household in zone ${zone}.`
                  : `${plural(String(neighbours.data.length), "active household")} of zone ${zone}; it fills in the address below, which you can also type.`}
          </span>
        </div>
      ) : null}
      {field(
        "counterparty",
        "Neighbour's address",
        `an active household of your zone${zone === undefined ? "" : ` (zone ${zone})`}; it accepts with its own signature`,
      )}
      <fieldset className="side">
        <legend>I…</legend>
        <div className="check">
          <input id="agreement-sell" type="radio" name="side" checked={side === "sell"} onChange={() => setSide("sell")} />
          <label htmlFor="agreement-sell">sell to this neighbour</label>
        </div>
        <div className="check">
          <input id="agreement-buy" type="radio" name="side" checked={side === "buy"} onChange={() => setSide("buy")} />
          <label htmlFor="agreement-buy">buy from this neighbour</label>
        </div>
      </fieldset>
      <div className="form-grid">
        {field("kwh", "Up to (kWh per interval)", "e.g. 0.5, up to 3 decimals")}
        {field("price", "Price (credits/kWh)", "e.g. 0.12, up to 6 decimals")}
        {field("start", "From", "your local time; the interval holding it", "datetime-local")}
        {field("end", "Until", "deliveries stop at the interval holding it (rounded up)", "datetime-local")}
        {field("notice", "Notice (intervals)", `intervals of ${seconds / 60n} min delivered after a cancellation`)}
      </div>
      <p id="agreement-signing" className="hint">
        {support.ok ? `Signed with ${support.how}; the server relays it.` : support.why}
      </p>
      <button type="submit" disabled={!support.ok || status.state === "pending"}>
        {status.state === "pending" ? "Signing…" : "Sign and propose agreement"}
      </button>
      <WriteStatus status={status} id="propose-status" />
    </form>
  );
}
