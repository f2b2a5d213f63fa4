import { type FormEvent, useState } from "react";
import { type Agreement, type Call, type Contracts, describeError, get, type Session, type Trade } from "../api.ts";
import { dateTime, kwh, parseScaled, pricePerKwh, shortHex } from "../format.ts";
import { useLoad } from "../hooks.ts";
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

const STATUS_TEXT: Record<Agreement["status"], string> = {
  proposed: "proposed, waiting for acceptance",
  active: "active",
  ended: "ended",
  cancelled: "cancelled",
};

/**
 * The household's bilateral agreements ("up to X kWh per interval at price P, from D1 to D2" with a
 * neighbour of its zone): listed with what they delivered, proposed, accepted and cancelled by
 * transactions the household signs.
 */
export function AgreementsCard({
  session,
  call,
  trades,
  zone,
  version,
}: {
  session: Session;
  call: Call;
  /** The household's recent trades: the bilateral ones are the agreements' deliveries. */
  trades: Trade[];
  zone: number | undefined;
  /** Changes when the page reloads its data (a settled interval): the list reloads too. */
  version: number;
}) {
  const me = session.address.toLowerCase();
  const list = useLoad(async () => {
    // The interval length and the chain's current interval (the demo chain runs in accelerated time).
    const [agreements, contracts] = await Promise.all([
      call<{ agreements: Agreement[] }>(`/api/agreements?account=${me}`),
      get<Contracts>("/api/contracts"),
    ]);
    return { agreements: [...agreements.agreements].reverse(), contracts };
  }, [me, call, version]);
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
      list.reload();
    } catch (error) {
      setStatus({ state: "failed", what, error: describeError(error) });
    }
  };

  const delivered = new Map<string, { wh: bigint; intervals: number }>();
  for (const t of trades) {
    if (t.kind !== "bilateral" || !t.agreementId) continue;
    const d = delivered.get(t.agreementId) ?? { wh: 0n, intervals: 0 };
    delivered.set(t.agreementId, { wh: d.wh + BigInt(t.energyWh), intervals: d.intervals + 1 });
  }

  const data = list.data;
  const seconds = data ? BigInt(data.contracts.intervalSeconds) : undefined;
  return (
    <section aria-labelledby="agreements-title" className="card" data-testid="agreements">
      <h2 id="agreements-title">Agreements</h2>
      <p className="hint">
        Bilateral agreements with a neighbour of your zone: up to a fixed energy per interval at a fixed price, delivered before
        the auction from what the meters measured (less when the seller exports less or the buyer needs less). One of you
        proposes, the other accepts; either may cancel with the agreed notice.
      </p>
      {list.error ? <ErrorBox title="Could not load your agreements" error={list.error} onRetry={list.reload} /> : null}
      {!data && list.loading ? <Loading what="your agreements" /> : null}
      {data && seconds !== undefined ? (
        data.agreements.length === 0 ? (
          <p className="notice empty">No agreements yet.</p>
        ) : (
          <ul className="agreements">
            {data.agreements.map((a) => {
              const selling = a.seller === me;
              const other = selling ? a.buyer : a.seller;
              const cancelled = a.lastEvent.toLowerCase().startsWith("cancel");
              const canAccept = a.status === "proposed" && a.proposer !== null && a.proposer !== me;
              const canCancel = a.status === "proposed" || (a.status === "active" && !cancelled);
              const got = delivered.get(a.id);
              return (
                <li
                  key={a.id}
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
                    <dd>
                      {a.noticeIntervals} interval{a.noticeIntervals === "1" ? "" : "s"}
                    </dd>
                    <dt>Proposed by</dt>
                    <dd>{a.proposer === null ? "–" : a.proposer === me ? "you" : shortHex(a.proposer)}</dd>
                    {a.status !== "proposed" && a.status !== "cancelled" ? (
                      <>
                        <dt>Delivered</dt>
                        <dd data-testid={`agreement-${a.id}-delivered`}>
                          {got
                            ? `${kwh(got.wh.toString())} in ${got.intervals} interval${got.intervals === 1 ? "" : "s"} (your recent trades)`
                            : "nothing yet"}
                        </dd>
                      </>
                    ) : null}
                  </dl>
                  {canAccept || canCancel ? (
                    <div className="actions">
                      {canAccept ? (
                        <button
                          type="button"
                          disabled={!support.ok || status.state === "pending"}
                          onClick={() => void act(a, "accept")}
                          aria-label={`Accept agreement #${a.id}`}
                        >
                          Accept
                        </button>
                      ) : null}
                      {canCancel ? (
                        <button
                          type="button"
                          className="secondary"
                          disabled={!support.ok || status.state === "pending"}
                          onClick={() => void act(a, "cancel")}
                          aria-label={`${a.status === "proposed" ? (a.proposer === me ? "Withdraw" : "Refuse") : "Cancel"} agreement #${a.id}`}
                        >
                          {a.status === "proposed" ? (a.proposer === me ? "Withdraw" : "Refuse") : "Cancel"}
                        </button>
                      ) : null}
                    </div>
                  ) : null}
                </li>
              );
            })}
          </ul>
        )
      ) : null}
      <WriteStatus status={status} id="agreement-status" />
      {data && seconds !== undefined ? (
        <ProposeForm
          session={session}
          call={call}
          zone={zone}
          seconds={seconds}
          currentInterval={BigInt(data.contracts.currentInterval)}
          onProposed={list.reload}
        />
      ) : null}
    </section>
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
