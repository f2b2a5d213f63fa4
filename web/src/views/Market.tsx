import { useRef, useState } from "react";
import { get, type Interval } from "../api.ts";
import { Chart, kwhSeries, priceSeries } from "../Chart.tsx";
import { clock, dateTime, kwh, percentBps, pricePerKwh, ratioBps, shortHex, sum, toPlot } from "../format.ts";
import { useLive, useLoad } from "../hooks.ts";
import { Link } from "../router.tsx";
import { Empty, ErrorBox, LiveBadge, Loading, Stat, timeZone } from "../ui.tsx";

/** The market: clearing prices and volumes of recent intervals, updated live as intervals settle. */
export function Market() {
  const tz = timeZone();
  const data = useLoad(() => get<{ intervals: Interval[] }>("/api/intervals?limit=48"), []);
  const [announcement, setAnnouncement] = useState("");
  const reloadSoon = useRef<ReturnType<typeof setTimeout>>(undefined);
  const live = useLive(["interval"], (_type, event) => {
    const e = event as { interval?: string; priceMicroPerKwh?: string } | undefined;
    if (e?.interval && e.priceMicroPerKwh)
      setAnnouncement(`Interval ${e.interval} settled at ${pricePerKwh(e.priceMicroPerKwh)}`);
    clearTimeout(reloadSoon.current);
    reloadSoon.current = setTimeout(data.reload, 100);
  });
  const intervals = data.data?.intervals ?? [];
  const ascending = [...intervals].reverse();
  const latest = intervals[0];

  return (
    <section aria-labelledby="market-title">
      <div className="title-row">
        <h1 id="market-title" tabIndex={-1}>
          Market
        </h1>
        <LiveBadge status={live} />
      </div>
      <p className="sr-only" aria-live="polite">
        {announcement}
      </p>
      {data.error ? <ErrorBox title="Could not load the market" error={data.error} onRetry={data.reload} /> : null}
      {!data.data && data.loading ? <Loading what="intervals" /> : null}
      {data.data && intervals.length === 0 ? (
        <Empty>No interval is settled yet. This page updates by itself when one is.</Empty>
      ) : null}
      {latest ? (
        <>
          <section className="card" aria-labelledby="latest-title">
            <h2 id="latest-title">Latest interval: {dateTime(latest.startsAt, tz)}</h2>
            <dl className="stats">
              <Stat id="latest-price" label="Clearing price" value={pricePerKwh(latest.priceMicroPerKwh)} />
              <Stat id="latest-traded" label="Traded locally" value={kwh(sum([latest.tradedWh, latest.bilateralWh]))} />
              <Stat
                id="latest-local"
                label="Local share of demand"
                value={percentBps(ratioBps(sum([latest.tradedWh, latest.bilateralWh]), latest.importWh))}
              />
              <Stat id="latest-from-grid" label="From the grid" value={kwh(latest.fromGridWh)} />
              <Stat id="latest-to-grid" label="To the grid" value={kwh(latest.toGridWh)} />
              <Stat id="latest-trades" label="Trades" value={String(latest.trades)} />
            </dl>
          </section>
          <section className="card" aria-labelledby="chart-price">
            <h2 className="sr-only">Charts</h2>
            <Chart
              id="chart-price"
              title="Clearing price per interval (credits/kWh)"
              kind="line"
              unit="/kWh"
              categories={ascending.map((i) => clock(i.startsAt, tz))}
              series={[
                priceSeries(
                  "Clearing price",
                  "#6d28d9",
                  ascending.map((i) => i.priceMicroPerKwh),
                ),
              ]}
              references={[
                { name: "retail", value: toPlot(latest.retailMicroPerKwh, 6), color: "#b91c1c" },
                { name: "feed-in", value: toPlot(latest.feedInMicroPerKwh, 6), color: "#15803d" },
              ]}
            />
            <Chart
              id="chart-volume"
              title="Energy per interval (kWh)"
              kind="bar"
              unit="kWh"
              categories={ascending.map((i) => clock(i.startsAt, tz))}
              series={[
                kwhSeries(
                  "Traded locally",
                  "#1d4ed8",
                  ascending.map((i) => sum([i.tradedWh, i.bilateralWh])),
                ),
                kwhSeries(
                  "To the grid",
                  "#15803d",
                  ascending.map((i) => i.toGridWh),
                ),
                kwhSeries(
                  "From the grid",
                  "#b91c1c",
                  ascending.map((i) => i.fromGridWh),
                ),
              ]}
            />
          </section>
          <section className="card" aria-labelledby="timeline-title">
            <h2 id="timeline-title">Interval timeline</h2>
            <div className="table-wrap">
              <table data-testid="timeline">
                <caption className="sr-only">Settled intervals, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Interval</th>
                    <th scope="col" className="num">
                      Price
                    </th>
                    <th scope="col" className="num">
                      Traded locally
                    </th>
                    <th scope="col" className="num">
                      From grid
                    </th>
                    <th scope="col" className="num">
                      To grid
                    </th>
                    <th scope="col" className="num">
                      Trades
                    </th>
                    <th scope="col">Settlement</th>
                  </tr>
                </thead>
                <tbody>
                  {intervals.map((i) => (
                    <tr key={i.interval} data-interval={i.interval}>
                      <td>{dateTime(i.startsAt, tz)}</td>
                      <td className="num">{pricePerKwh(i.priceMicroPerKwh)}</td>
                      <td className="num">{kwh(sum([i.tradedWh, i.bilateralWh]))}</td>
                      <td className="num">{kwh(i.fromGridWh)}</td>
                      <td className="num">{kwh(i.toGridWh)}</td>
                      <td className="num">{i.trades}</td>
                      <td>
                        <Link href={`/explorer/tx/${i.txHash}`} aria-label={`Settlement transaction of interval ${i.interval}`}>
                          {shortHex(i.txHash)}
                        </Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </>
      ) : null}
    </section>
  );
}
