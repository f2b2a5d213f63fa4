import { useRef } from "react";
import { get, type Interval, type Kpis, type Leaderboard, type ZoneLimits, type ZoneResult } from "../api.ts";
import { Chart, kwhSeries, priceSeries } from "../Chart.tsx";
import { clock, credits, formatScaled, kwh, percentBps, pricePerKwh, ratioBps, sum, toPlot } from "../format.ts";
import { useLive, useLoad } from "../hooks.ts";
import { Empty, ErrorBox, LiveBadge, Loading, Stat, timeZone } from "../ui.tsx";

const UNLIMITED = (2n ** 64n - 1n).toString();
const capText = (wh: string) => (wh === UNLIMITED ? "unlimited" : kwh(wh));

/** The community: KPIs over time, the savings leaderboard (opt-in names), zones with limits and prices. */
export function Community() {
  const tz = timeZone();
  const data = useLoad(async () => {
    const [kpis, intervals, zones] = await Promise.all([
      get<Kpis>("/api/kpis"),
      get<{ intervals: (Interval & { zones?: ZoneResult[] })[] }>("/api/intervals?limit=48"),
      get<{ zones: ZoneLimits[] }>("/api/zones"),
    ]);
    const latest = intervals.intervals[0];
    const latestZones = latest
      ? (await get<{ zones: ZoneResult[] }>(`/api/intervals/${latest.interval}`)).zones
      : ([] as ZoneResult[]);
    return { kpis, intervals: intervals.intervals, zones: zones.zones, latest, latestZones };
  }, []);
  const month = data.data?.latest
    ? new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit" }).format(
        new Date(Number(data.data.latest.startsAt) * 1000),
      )
    : undefined;
  const board = useLoad(
    async () =>
      month ? get<Leaderboard>(`/api/leaderboard?month=${month}&tz=${encodeURIComponent(tz)}`) : Promise.resolve(undefined),
    [month, tz],
  );
  const reloadSoon = useRef<ReturnType<typeof setTimeout>>(undefined);
  const live = useLive(["interval"], () => {
    clearTimeout(reloadSoon.current);
    reloadSoon.current = setTimeout(() => {
      data.reload();
      board.reload();
    }, 200);
  });
  const d = data.data;
  const series = d ? [...d.intervals].reverse() : [];
  const categories = series.map((i) => clock(i.startsAt, tz));
  const localOf = (i: Interval) => sum([i.tradedWh, i.bilateralWh]);
  const shareBps = series.map((i) => ratioBps(localOf(i), i.importWh));
  return (
    <section aria-labelledby="community-title">
      <div className="title-row">
        <h1 id="community-title" tabIndex={-1}>
          Community
        </h1>
        <LiveBadge status={live} />
      </div>
      {data.error ? <ErrorBox title="Could not load the community" error={data.error} onRetry={data.reload} /> : null}
      {!d && data.loading ? <Loading what="the community" /> : null}
      {d ? (
        <>
          <section className="card" aria-labelledby="kpi-title">
            <h2 id="kpi-title">Since the market opened</h2>
            <dl className="stats">
              <Stat id="kpi-intervals" label="Settled intervals" value={formatScaled(d.kpis.intervals, 0, 0)} />
              <Stat id="kpi-share" label="Local share of demand" value={percentBps(d.kpis.localShareOfDemandBps)} />
              <Stat id="kpi-traded" label="Traded locally" value={kwh(sum([d.kpis.tradedWh, d.kpis.bilateralWh]))} />
              <Stat
                id="kpi-price"
                label="Trade-weighted price"
                value={d.kpis.tradeWeightedPriceMicroPerKwh ? pricePerKwh(d.kpis.tradeWeightedPriceMicroPerKwh) : "–"}
              />
              <Stat id="kpi-savings" label="Saved vs. grid only" value={credits(d.kpis.savingsMicro)} />
            </dl>
          </section>
          {series.length === 0 ? (
            <Empty>No interval is settled yet: the charts appear with the first one.</Empty>
          ) : (
            <section className="card" aria-labelledby="kpi-time-title">
              <h2 id="kpi-time-title">Over the last {series.length} intervals</h2>
              <Chart
                id="chart-share"
                title="Local share of demand per interval (%)"
                kind="line"
                unit="%"
                categories={categories}
                series={[
                  {
                    name: "Local share of demand",
                    color: "#047857",
                    values: shareBps.map((b) => toPlot(b, 2)),
                    labels: shareBps.map(percentBps),
                  },
                ]}
              />
              <Chart
                id="chart-traded"
                title="Energy traded locally per interval (kWh)"
                kind="bar"
                unit="kWh"
                categories={categories}
                series={[
                  kwhSeries(
                    "Traded locally",
                    "#b45309",
                    series.map((i) => localOf(i)),
                  ),
                ]}
              />
              <Chart
                id="chart-community-price"
                title="Clearing price per interval (credits/kWh)"
                kind="line"
                unit="cr/kWh"
                categories={categories}
                series={[
                  priceSeries(
                    "Clearing price",
                    "#1d4ed8",
                    series.map((i) => i.priceMicroPerKwh),
                  ),
                  priceSeries(
                    "Retail tariff",
                    "#991b1b",
                    series.map((i) => i.retailMicroPerKwh),
                  ),
                  priceSeries(
                    "Feed-in tariff",
                    "#4b5563",
                    series.map((i) => i.feedInMicroPerKwh),
                  ),
                ]}
              />
            </section>
          )}
          <section className="card" aria-labelledby="board-title">
            <h2 id="board-title">Savings leaderboard{month ? `, ${month}` : ""}</h2>
            <p className="hint">
              Savings against buying and selling only with the grid. Households that opted in appear under the name they chose;
              the others as “Household #rank”. Addresses are never shown.
            </p>
            {board.error ? <ErrorBox title="Could not load the leaderboard" error={board.error} onRetry={board.reload} /> : null}
            {!board.data && board.loading ? <Loading what="the leaderboard" /> : null}
            {board.data && board.data.entries.length === 0 ? (
              <Empty>No household has settled savings this month yet.</Empty>
            ) : null}
            {board.data && board.data.entries.length > 0 ? (
              <div className="table-wrap">
                <table data-testid="leaderboard">
                  <caption className="sr-only">Savings against the grid alone, highest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Rank</th>
                      <th scope="col">Household</th>
                      <th scope="col" className="num">
                        Saved
                      </th>
                      <th scope="col" className="num">
                        Traded locally
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {board.data.entries.map((e) => (
                      <tr key={`${e.rank}-${e.name}`}>
                        <td>{e.rank}</td>
                        <td>{e.name}</td>
                        <td className="num">{credits(e.savingsMicro)}</td>
                        <td className="num">{kwh(e.tradedLocalWh)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
          </section>
          <Zones limits={d.zones} results={d.latestZones} interval={d.latest?.interval} />
        </>
      ) : null}
    </section>
  );
}

function Zones({ limits, results, interval }: { limits: ZoneLimits[]; results: ZoneResult[]; interval: string | undefined }) {
  const ids = [...new Set([...limits.map((z) => z.zone), ...results.map((z) => z.zone)])].sort((a, b) => a - b);
  return (
    <section className="card" aria-labelledby="zones-title">
      <h2 id="zones-title">Zones{interval ? ` in interval ${interval}` : ""}</h2>
      <p className="hint">
        Each zone is a part of the grid with limits on what it may import and export; a zone whose limit bound is priced on its
        own.
      </p>
      {ids.length === 0 ? (
        <Empty>No zone has limits or results yet.</Empty>
      ) : (
        <ul className="zones" data-testid="zones">
          {ids.map((id) => {
            const l = limits.find((z) => z.zone === id);
            const r = results.find((z) => z.zone === id);
            const net = r ? BigInt(r.netExportWh) : 0n;
            return (
              <li key={id} className={r?.capacityBound ? "bound" : undefined} data-zone={id}>
                <h3>Zone {id}</h3>
                <dl className="kv">
                  <div className="kv-row">
                    <dt>Import cap</dt>
                    <dd>{l ? capText(l.importCapWh) : "unlimited"}</dd>
                  </div>
                  <div className="kv-row">
                    <dt>Export cap</dt>
                    <dd>{l ? capText(l.exportCapWh) : "unlimited"}</dd>
                  </div>
                  <div className="kv-row">
                    <dt>Import fee</dt>
                    <dd>{l ? pricePerKwh(l.feeMicroPerKwh) : pricePerKwh("0")}</dd>
                  </div>
                  {r ? (
                    <>
                      <div className="kv-row">
                        <dt>Price</dt>
                        <dd>{pricePerKwh(r.priceMicroPerKwh)}</dd>
                      </div>
                      <div className="kv-row">
                        <dt>Net flow</dt>
                        <dd>
                          {net >= 0n ? "exports " : "imports "}
                          {kwh((net < 0n ? -net : net).toString())}
                        </dd>
                      </div>
                    </>
                  ) : null}
                </dl>
                <p className={r?.capacityBound ? "unverified" : "hint"} data-testid={`zone-${id}-bound`}>
                  {r ? (r.capacityBound ? "A limit bound: priced separately" : "No limit bound") : "No result in this interval"}
                </p>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
