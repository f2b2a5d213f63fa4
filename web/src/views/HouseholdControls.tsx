import { type FormEvent, useState } from "react";
import { type AccountInterval, type Call, describeError, type Profile, type Session, type StandingOrder } from "../api.ts";
import { Chart, kwhSeries } from "../Chart.tsx";
import { clock, kwh, parseScaled, pricePerKwh, toInput } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { ErrorBox, Loading, Stat, type WriteState, WriteStatus } from "../ui.tsx";
import { energyMarketAbi, signAndRelay, signingSupport } from "../wallet.ts";

type Field = "ask" | "maxSell" | "bid" | "maxBuy";
const FIELDS: { key: Field; label: string; unit: string; scale: number; hint: string }[] = [
  { key: "ask", label: "Lowest price I sell at", unit: "credits/kWh", scale: 6, hint: "your ask" },
  { key: "maxSell", label: "Most I sell per interval", unit: "kWh", scale: 3, hint: "0: never sell locally" },
  { key: "bid", label: "Highest price I buy at", unit: "credits/kWh", scale: 6, hint: "your bid" },
  { key: "maxBuy", label: "Most I buy per interval", unit: "kWh", scale: 3, hint: "0: never buy locally" },
];

/** The household's standing order (valid until changed): shown, and edited by a transaction it signs. */
export function StandingOrderCard({
  session,
  call,
  order,
  onChanged,
}: {
  session: Session;
  call: Call;
  order: StandingOrder | null | undefined;
  onChanged: () => void;
}) {
  const initial = (o: StandingOrder | null | undefined): Record<Field, string> => ({
    ask: o ? toInput(o.askMicroPerKwh, 6) : "",
    maxSell: o ? toInput(o.maxSellWh, 3) : "",
    bid: o ? toInput(o.bidMicroPerKwh, 6) : "",
    maxBuy: o ? toInput(o.maxBuyWh, 3) : "",
  });
  const [values, setValues] = useState(() => initial(order));
  // The order may arrive after the form was drawn (a reload): fill the fields once, if untouched.
  const [filledFrom, setFilledFrom] = useState(order !== undefined);
  if (!filledFrom && order !== undefined) {
    setFilledFrom(true);
    setValues(initial(order));
  }
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [status, setStatus] = useState<WriteState>({ state: "idle" });
  const support = signingSupport(session);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed: Partial<Record<Field, bigint>> = {};
    const problems: Partial<Record<Field, string>> = {};
    for (const f of FIELDS) {
      const r = parseScaled(values[f.key], f.scale);
      if ("error" in r) problems[f.key] = r.error;
      else parsed[f.key] = r.value;
    }
    setErrors(problems);
    if (Object.keys(problems).length > 0) {
      document.getElementById(`order-${Object.keys(problems)[0]}`)?.focus();
      return;
    }
    const what = "Saving your standing order";
    setStatus({ state: "pending", what });
    try {
      const result = await signAndRelay(session, call, {
        endpoint: `/api/accounts/${session.address.toLowerCase()}/standing-order`,
        method: "PUT",
        contract: "market",
        abi: energyMarketAbi,
        functionName: "setStandingOrder",
        args: [
          {
            askMicroPerKwh: parsed.ask as bigint,
            maxSellWh: parsed.maxSell as bigint,
            bidMicroPerKwh: parsed.bid as bigint,
            maxBuyWh: parsed.maxBuy as bigint,
          },
        ],
      });
      setStatus({ state: "done", what: "Standing order saved", hash: result.hash, blockNumber: result.blockNumber });
      onChanged();
    } catch (error) {
      setStatus({ state: "failed", what: "Saving your standing order", error: describeError(error) });
    }
  };

  return (
    <section aria-labelledby="order-title" className="card">
      <h2 id="order-title">Standing order</h2>
      <p className="hint">
        Your price limits and caps for every interval until you change them. The market matches you with neighbours only between
        these prices; the rest goes to and from the grid at its tariffs.
      </p>
      {order ? (
        <dl className="stats" data-testid="current-order">
          <Stat id="order-ask" label="Sells at or above" value={pricePerKwh(order.askMicroPerKwh)} />
          <Stat id="order-maxSell" label="Sells at most" value={kwh(order.maxSellWh)} />
          <Stat id="order-bid" label="Buys at or below" value={pricePerKwh(order.bidMicroPerKwh)} />
          <Stat id="order-maxBuy" label="Buys at most" value={kwh(order.maxBuyWh)} />
        </dl>
      ) : (
        <p className="notice empty" data-testid="current-order">
          No standing order yet: all your energy goes to and comes from the grid.
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate aria-describedby="order-signing">
        <div className="form-grid">
          {FIELDS.map((f) => (
            <div className="field" key={f.key}>
              <label htmlFor={`order-${f.key}`}>
                {f.label} ({f.unit})
              </label>
              <input
                id={`order-${f.key}`}
                inputMode="decimal"
                autoComplete="off"
                value={values[f.key]}
                onChange={(e) => setValues((v) => ({ ...v, [f.key]: e.target.value }))}
                aria-invalid={errors[f.key] ? true : undefined}
                aria-describedby={`order-${f.key}-hint${errors[f.key] ? ` order-${f.key}-error` : ""}`}
              />
              <span id={`order-${f.key}-hint`} className="hint">
                {f.hint}
              </span>
              {errors[f.key] ? (
                <p id={`order-${f.key}-error`} className="field-error">
                  {f.label}: {errors[f.key]}
                </p>
              ) : null}
            </div>
          ))}
        </div>
        <p id="order-signing" className="hint">
          {support.ok ? `Signed with ${support.how}; the server relays it.` : support.why}
        </p>
        <button type="submit" disabled={!support.ok || status.state === "pending"}>
          {status.state === "pending" ? "Signing…" : "Sign and save standing order"}
        </button>
      </form>
      <WriteStatus status={status} id="order-status" />
    </section>
  );
}

/** Display name and leaderboard opt-in (off by default: the leaderboard shows only households that opt in). */
export function ProfileCard({ session, call }: { session: Session; call: Call }) {
  const me = session.address.toLowerCase();
  const profile = useLoad(() => call<Profile>(`/api/accounts/${me}/profile`), [me, call]);
  const [name, setName] = useState<string>();
  const [show, setShow] = useState<boolean>();
  const [status, setStatus] = useState<WriteState>({ state: "idle" });
  const [saved, setSaved] = useState(false);
  const shownName = name ?? profile.data?.displayName ?? "";
  const shownShow = show ?? profile.data?.showOnLeaderboard ?? false;
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setStatus({ state: "pending", what: "Saving your profile" });
    try {
      await call<Profile>(`/api/accounts/${me}/profile`, {
        method: "PUT",
        body: JSON.stringify({ displayName: shownName.trim(), showOnLeaderboard: shownShow }),
      });
      setStatus({ state: "idle" });
      setSaved(true);
      profile.reload();
    } catch (error) {
      setStatus({ state: "failed", what: "Saving your profile", error: describeError(error) });
    }
  };
  return (
    <section aria-labelledby="profile-title" className="card">
      <h2 id="profile-title">Leaderboard</h2>
      {profile.error ? <ErrorBox title="Could not load your profile" error={profile.error} onRetry={profile.reload} /> : null}
      {!profile.data && profile.loading ? <Loading what="your profile" /> : null}
      <form onSubmit={(e) => void save(e)}>
        <label htmlFor="profile-name">Display name</label>
        <input
          id="profile-name"
          value={shownName}
          maxLength={40}
          autoComplete="nickname"
          onChange={(e) => {
            setName(e.target.value);
            setSaved(false);
          }}
        />
        <div className="check">
          <input
            id="profile-show"
            type="checkbox"
            checked={shownShow}
            onChange={(e) => {
              setShow(e.target.checked);
              setSaved(false);
            }}
          />
          <label htmlFor="profile-show">Show me on the community's savings leaderboard</label>
        </div>
        <button type="submit" disabled={status.state === "pending"}>
          Save profile
        </button>
        <span aria-live="polite" data-testid="profile-saved" className="hint">
          {saved ? " Saved." : ""}
        </span>
      </form>
      <WriteStatus status={status} id="profile-status" />
    </section>
  );
}

/** Production, consumption and where the energy went, per interval of the latest day with data. */
export function ProductionChart({ rows, tz }: { rows: AccountInterval[]; tz: string }) {
  if (rows.length === 0)
    return (
      <section className="card" aria-labelledby="production-title">
        <h2 id="production-title">Production and consumption per interval</h2>
        <p className="notice empty">No settled interval with a reading of your meter yet.</p>
      </section>
    );
  const day = (r: AccountInterval) =>
    new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(
      new Date(Number(r.startsAt) * 1000),
    );
  const sorted = [...rows].sort((a, b) => (BigInt(a.interval) < BigInt(b.interval) ? -1 : 1));
  const latestDay = day(sorted[sorted.length - 1] as AccountInterval);
  const today = sorted.filter((r) => day(r) === latestDay);
  const categories = today.map((r) => clock(r.startsAt, tz));
  const last = sorted[sorted.length - 1] as AccountInterval;
  const series = (name: string, color: string, pick: (r: AccountInterval) => string) => kwhSeries(name, color, today.map(pick));
  return (
    <section className="card" aria-labelledby="production-title" data-testid="production">
      <h2 id="production-title">
        Production and consumption per interval, {latestDay} ({tz})
      </h2>
      <h3>Latest settled interval, {clock(last.startsAt, tz)}</h3>
      <dl className="stats" data-interval={last.interval} data-testid="latest-interval">
        <Stat id="latest-exportWh" label="Production fed in" value={kwh(last.exportWh)} />
        <Stat id="latest-importWh" label="Consumption drawn" value={kwh(last.importWh)} />
        <Stat id="latest-soldLocalWh" label="Sold to neighbours" value={kwh(last.soldLocalWh)} />
        <Stat id="latest-soldGridWh" label="Sold to the grid" value={kwh(last.soldGridWh)} />
        <Stat id="latest-boughtLocalWh" label="Bought from neighbours" value={kwh(last.boughtLocalWh)} />
        <Stat id="latest-boughtGridWh" label="Bought from the grid" value={kwh(last.boughtGridWh)} />
      </dl>
      <div className="columns">
        <Chart
          id="chart-production"
          title="Production and consumption (kWh)"
          kind="bar"
          unit="kWh"
          categories={categories}
          series={[
            series("Production fed in", "#b45309", (r) => r.exportWh),
            series("Consumption drawn", "#1d4ed8", (r) => r.importWh),
          ]}
        />
        <Chart
          id="chart-bought"
          title="Bought, from neighbours and from the grid (kWh)"
          kind="bar"
          unit="kWh"
          categories={categories}
          series={[
            series("Bought from neighbours", "#047857", (r) => r.boughtLocalWh),
            series("Bought from the grid", "#4b5563", (r) => r.boughtGridWh),
          ]}
        />
        <Chart
          id="chart-sold"
          title="Sold, to neighbours and to the grid (kWh)"
          kind="bar"
          unit="kWh"
          categories={categories}
          series={[
            series("Sold to neighbours", "#b45309", (r) => r.soldLocalWh),
            series("Sold to the grid", "#7c3aed", (r) => r.soldGridWh),
          ]}
        />
      </div>
    </section>
  );
}
