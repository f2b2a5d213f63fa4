import { useCallback, useMemo, useRef, useState } from "react";
import {
  type Account,
  type AccountInterval,
  authed,
  type Call,
  describeError,
  type Interval,
  type Session,
  type Statement,
  type Trade,
} from "../api.ts";
import { Chart, kwhSeries } from "../Chart.tsx";
import { clock, credits, dateTime, kwh, pricePerKwh, shortHex } from "../format.ts";
import { useLive, useLoad } from "../hooks.ts";
import { type CursorPage, Pager, pageSizeFromUrl, useCursorPages } from "../paging.tsx";
import { Link } from "../router.tsx";
import { Empty, ErrorBox, LiveBadge, Loading, Stat, timeZone } from "../ui.tsx";
import { AgreementsCard } from "./Agreements.tsx";
import { FundsCard } from "./Funds.tsx";
import { ProductionChart, ProfileCard, StandingOrderCard } from "./HouseholdControls.tsx";

type HouseholdData = { statement: Statement; intervals: Interval[]; account: Account };

/** The signed-in household: its latest settled day, the month, energy per interval, trades, statement. */
export function Household({ session, renew }: { session: Session; renew: (s: Session) => void }) {
  const me = session.address.toLowerCase();
  const tz = timeZone();
  const call = useMemo(() => authed(session, renew), [session, renew]);
  const data = useLoad<HouseholdData>(async () => {
    const [statement, intervals, account] = await Promise.all([
      call<Statement>(`/api/accounts/${me}/statements?tz=${encodeURIComponent(tz)}`),
      call<{ intervals: Interval[] }>("/api/intervals?limit=24"),
      call<Account>(`/api/accounts/${me}`),
    ]);
    return { statement, intervals: intervals.intervals, account };
  }, [me, tz, call]);
  // Per-interval figures come from an endpoint of their own: the page works without them.
  const perInterval = useLoad(
    () => call<{ intervals: AccountInterval[] }>(`/api/accounts/${me}/intervals?limit=192`).then((r) => r.intervals),
    [me, call],
  );
  const reloadSoon = useRef<ReturnType<typeof setTimeout>>(undefined);
  const [version, setVersion] = useState(0);
  const live = useLive(["interval", "account"], () => {
    clearTimeout(reloadSoon.current);
    reloadSoon.current = setTimeout(() => {
      data.reload();
      perInterval.reload();
      setVersion((v) => v + 1);
    }, 150);
  });

  const d = data.data;
  const day = d ? [...d.statement.days].reverse().find((x) => x.intervals > 0) : undefined;

  return (
    <section aria-labelledby="household-title">
      <div className="title-row">
        <h1 id="household-title" tabIndex={-1}>
          {session.label ?? "My household"}
        </h1>
        <LiveBadge status={live} />
      </div>
      <p className="hint mono" title={session.address}>
        {session.address}
        {d?.account.participant ? ` · zone ${d.account.participant.zone}` : ""}
        {d ? ` · escrow ${credits(d.account.balanceMicro)}` : ""}
      </p>
      {data.error ? <ErrorBox title="Could not load your household" error={data.error} onRetry={data.reload} /> : null}
      {!d && data.loading ? <Loading what="your household" /> : null}
      {d ? (
        <>
          <section aria-labelledby="day-title" className="card">
            <h2 id="day-title">{day ? `Latest settled day: ${day.date}` : "Today"}</h2>
            {day ? (
              <>
                <p className="hint">
                  {day.intervals} settled interval{day.intervals === 1 ? "" : "s"} ({tz})
                </p>
                <dl className="stats">
                  <Stat id="day-exportWh" label="Production fed in" value={kwh(day.exportWh)} />
                  <Stat id="day-importWh" label="Consumption drawn" value={kwh(day.importWh)} />
                  <Stat id="day-boughtLocalWh" label="Bought from neighbours" value={kwh(day.boughtLocalWh)} />
                  <Stat id="day-boughtGridWh" label="Bought from the grid" value={kwh(day.boughtGridWh)} />
                  <Stat id="day-soldLocalWh" label="Sold to neighbours" value={kwh(day.soldLocalWh)} />
                  <Stat id="day-soldGridWh" label="Sold to the grid" value={kwh(day.soldGridWh)} />
                  <Stat id="day-earnedMicro" label="Earned" value={credits(day.earnedMicro)} />
                  <Stat id="day-paidMicro" label="Paid" value={credits(day.paidMicro)} />
                  <Stat
                    id="day-gridOnlyBillMicro"
                    label="Grid-only bill"
                    value={credits(day.gridOnlyBillMicro)}
                    hint="import at retail − export at feed-in"
                  />
                  <Stat id="day-savingsMicro" label="Savings vs. grid only" value={credits(day.savingsMicro)} />
                </dl>
              </>
            ) : (
              <Empty>No interval of {d.statement.month} is settled yet. Figures appear as soon as the first one is.</Empty>
            )}
          </section>
          <StandingOrderCard session={session} call={call} order={d.account.standingOrder} onChanged={data.reload} />
          <FundsCard session={session} call={call} version={version} />
          <AgreementsCard session={session} call={call} zone={d.account.participant?.zone} version={version} />
          {perInterval.error ? (
            <ErrorBox
              title="Could not load your production and consumption per interval"
              error={perInterval.error}
              onRetry={perInterval.reload}
            />
          ) : perInterval.data ? (
            <ProductionChart rows={perInterval.data} tz={tz} />
          ) : (
            <Loading what="production and consumption per interval" />
          )}
          <IntervalChart intervals={d.intervals} rows={perInterval.data ?? []} tz={tz} />
          <section aria-labelledby="month-title" className="card">
            <h2 id="month-title">Month {d.statement.month}</h2>
            <dl className="stats">
              <Stat id="month-exportWh" label="Production fed in" value={kwh(d.statement.totals.exportWh)} />
              <Stat id="month-importWh" label="Consumption drawn" value={kwh(d.statement.totals.importWh)} />
              <Stat
                id="month-netCostMicro"
                label="Net cost"
                value={credits(d.statement.totals.netCostMicro)}
                hint="paid − earned"
              />
              <Stat id="month-savingsMicro" label="Savings vs. grid only" value={credits(d.statement.totals.savingsMicro)} />
            </dl>
            <StatementDownload call={call} month={d.statement.month} tz={tz} me={me} />
          </section>
          <Trades call={call} me={me} tz={tz} version={version} />
          <ProfileCard session={session} call={call} />
        </>
      ) : null}
    </section>
  );
}

/** Energy sold to and bought from neighbours in the community's last intervals, from the household's own rows. */
function IntervalChart({ intervals: newestFirst, rows, tz }: { intervals: Interval[]; rows: AccountInterval[]; tz: string }) {
  const intervals = [...newestFirst].reverse();
  if (intervals.length === 0) return null;
  const mine = new Map(rows.map((r) => [r.interval, r]));
  const soldWh = intervals.map((i) => mine.get(i.interval)?.soldLocalWh ?? "0");
  const boughtWh = intervals.map((i) => mine.get(i.interval)?.boughtLocalWh ?? "0");
  return (
    <section className="card" aria-labelledby="chart-household">
      <h2 className="sr-only">Energy per interval</h2>
      <Chart
        id="chart-household"
        title="Energy traded with neighbours per interval (kWh)"
        kind="bar"
        unit="kWh"
        categories={intervals.map((i) => clock(i.startsAt, tz))}
        series={[kwhSeries("Sold to neighbours", "#b45309", soldWh), kwhSeries("Bought from neighbours", "#1d4ed8", boughtWh)]}
      />
    </section>
  );
}

type TradeRow = { trade: Trade; interval: Interval | undefined };

/** The household's trades, newest first, a page at a time, each with its interval's settlement transaction. */
function Trades({ call, me, tz, version }: { call: Call; me: string; tz: string; version: number }) {
  const pageSize = pageSizeFromUrl();
  const pages = useCursorPages<CursorPage<TradeRow>>(
    async (before) => {
      const page = await call<{ trades: Trade[]; nextBefore: string | null }>(
        `/api/accounts/${me}/trades?limit=${pageSize}${before ? `&before=${encodeURIComponent(before)}` : ""}`,
      );
      // The settled intervals the page spans (at most 500: older rows then show their number only).
      const [newest, oldest] = [page.trades[0], page.trades[page.trades.length - 1]];
      const span = newest && oldest ? BigInt(newest.interval) - BigInt(oldest.interval) + 1n : 0n;
      const intervals =
        newest && span > 0n
          ? (
              await call<{ intervals: Interval[] }>(
                `/api/intervals?before=${BigInt(newest.interval) + 1n}&limit=${span > 500n ? 500n : span}`,
              )
            ).intervals
          : [];
      const byInterval = new Map(intervals.map((i) => [i.interval, i]));
      return { items: page.trades.map((t) => ({ trade: t, interval: byInterval.get(t.interval) })), nextBefore: page.nextBefore };
    },
    [me, call, pageSize, version],
  );
  const rows = pages.data?.items;
  return (
    <section aria-labelledby="trades-title" className="card">
      <h2 id="trades-title">Trade history</h2>
      {pages.error ? <ErrorBox title="Could not load your trades" error={pages.error} onRetry={pages.reload} /> : null}
      {!rows && pages.loading ? <Loading what="your trades" /> : null}
      {rows && rows.length === 0 ? <Empty>No trades yet: your standing order has not matched a neighbour's.</Empty> : null}
      {rows && rows.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="trades" aria-describedby="trades-pages-range">
            <caption className="sr-only">Your trades, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Interval</th>
                <th scope="col">Side</th>
                <th scope="col">Neighbour</th>
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
              {rows.map(({ trade: t, interval }) => {
                const selling = t.seller === me;
                return (
                  <tr key={`${t.interval}-${t.index}`} data-interval={t.interval} data-index={t.index}>
                    <td>{interval ? dateTime(interval.startsAt, tz) : `#${t.interval}`}</td>
                    <td>{selling ? "Sold" : "Bought"}</td>
                    <td className="mono" title={selling ? t.buyer : t.seller}>
                      {shortHex(selling ? t.buyer : t.seller)}
                    </td>
                    <td className="num">{kwh(t.energyWh)}</td>
                    <td className="num">{pricePerKwh(selling ? t.sellerPriceMicroPerKwh : t.buyerPriceMicroPerKwh)}</td>
                    <td className="num">
                      {selling ? `+${credits(t.sellerReceivedMicro, 4)}` : `−${credits(t.buyerPaidMicro, 4)}`}
                    </td>
                    <td>
                      <Link
                        href={`/explorer/trade/${t.interval}/${t.index}`}
                        aria-label={`Trade ${t.index} of interval ${t.interval}, with its signed meter readings`}
                      >
                        Trade
                      </Link>
                    </td>
                    <td>
                      {interval ? (
                        <Link
                          href={`/explorer/tx/${interval.txHash}`}
                          aria-label={`Settlement transaction of interval ${t.interval}`}
                        >
                          {shortHex(interval.txHash)}
                        </Link>
                      ) : (
                        "–"
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager id="trades-pages" what="trades" pages={pages} pageSize={pageSize} />
    </section>
  );
}

/** The CSV needs the bearer token, so it is fetched and handed to the browser as a download. */
function StatementDownload({ call, month, tz, me }: { call: Call; month: string; tz: string; me: string }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const download = useCallback(async () => {
    setBusy(true);
    setError(undefined);
    try {
      const csv = await call<string>(`/api/accounts/${me}/statements.csv?month=${month}&tz=${encodeURIComponent(tz)}`);
      const url = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `peergrid-statement-${month}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }, [call, month, tz, me]);
  return (
    <div>
      <button type="button" onClick={() => void download()} disabled={busy}>
        {busy ? "Preparing…" : `Download statement ${month} (CSV)`}
      </button>
      {error ? <ErrorBox title="Download failed" error={error} /> : null}
    </div>
  );
}
