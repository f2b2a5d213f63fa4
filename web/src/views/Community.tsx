import { useRef } from "react";
import { type BookZone, get, type Interval, type IntervalBook, type Kpis, type Leaderboard, type ZoneLimits } from "../api.ts";
import { Chart, kwhSeries, priceSeries } from "../Chart.tsx";
import { clock, credits, dateTime, formatScaled, kwh, percentBps, pricePerKwh, ratioBps, sum, toPlot } from "../format.ts";
import { useLive, useLoad } from "../hooks.ts";
import { Empty, ErrorBox, LiveBadge, Loading, Stat, timeZone } from "../ui.tsx";
import { netFlowText } from "./Market.tsx";

const UNLIMITED = (2n ** 64n - 1n).toString();
const capText = (wh: string) => (wh === UNLIMITED ? "unlimited" : kwh(wh));

/** The community: KPIs over time, the savings leaderboard (opt-in names), zones with limits and prices. */
export function Community() {
  const tz = timeZone();
  const data = useLoad(async () => {
    const [kpis, intervals, zones] = await Promise.all([
      get<Kpis>("/api/kpis"),
      get<{ intervals: Interval[] }>("/api/intervals?limit=48"),
      get<{ zones: ZoneLimits[] }>("/api/zones"),
    ]);
    const latest = intervals.intervals[0];
    const book = latest ? await get<IntervalBook>(`/api/intervals/${latest.interval}/book`) : undefined;
    return { kpis, intervals: intervals.intervals, zones: zones.zones, latest, book };
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
          <Zones limits={d.zones} book={d.book} startsAt={d.latest?.startsAt} timeZone={tz} />
        </>
      ) : null}
    </section>
  );
}

/** One zone as the diagram and its table show it: current limits, and the latest interval's figures when it had readings. */
type ZoneView = { zone: number; limits: ZoneLimits | undefined; result: BookZone | undefined };

const boundText = (r: BookZone | undefined) =>
  !r?.capacityBound
    ? undefined
    : r.boundLimit === "import"
      ? "LIMIT BOUND: import cap"
      : r.boundLimit === "export"
        ? "LIMIT BOUND: export cap"
        : "LIMIT BOUND";

/** Caps in force at the latest settlement when the zone took part, else the current ones. */
const capsOf = (z: ZoneView) => ({
  importCapWh: z.result?.importCapWh ?? z.limits?.importCapWh ?? UNLIMITED,
  exportCapWh: z.result?.exportCapWh ?? z.limits?.exportCapWh ?? UNLIMITED,
  feeMicroPerKwh: z.result?.feeMicroPerKwh ?? z.limits?.feeMicroPerKwh ?? "0",
});

const households = (z: ZoneView) =>
  z.result ? `${z.result.households} household${z.result.households === 1 ? "" : "s"}` : "no readings";

function Zones({
  limits,
  book,
  startsAt,
  timeZone: tz,
}: {
  limits: ZoneLimits[];
  book: IntervalBook | undefined;
  startsAt: string | undefined;
  timeZone: string;
}) {
  const results = book?.zones ?? [];
  const ids = [...new Set([...limits.map((z) => z.zone), ...results.map((z) => z.zone)])].sort((a, b) => a - b);
  const zones: ZoneView[] = ids.map((zone) => ({
    zone,
    limits: limits.find((z) => z.zone === zone),
    result: results.find((z) => z.zone === zone),
  }));
  return (
    <section className="card" aria-labelledby="zones-title">
      <h2 id="zones-title">Zones{startsAt ? `, ${dateTime(startsAt, tz)}` : ""}</h2>
      <p className="hint">
        Each zone is a part of the grid with caps on what it may import from and export to the other zones. The arrows give each
        zone's net exchange with the other zones through the grid connection in the latest interval; a zone whose cap held is
        priced on its own.
      </p>
      {zones.length === 0 ? (
        <Empty>No zone has limits or results yet.</Empty>
      ) : (
        <>
          <ZoneDiagram zones={zones} hubPriceMicroPerKwh={book?.priceMicroPerKwh} />
          <div className="table-wrap">
            <table data-testid="zones">
              <caption className="sr-only">The zones of the diagram, with the latest interval's figures</caption>
              <thead>
                <tr>
                  <th scope="col">Zone</th>
                  <th scope="col" className="num">
                    Households
                  </th>
                  <th scope="col" className="num">
                    Import cap
                  </th>
                  <th scope="col" className="num">
                    Export cap
                  </th>
                  <th scope="col" className="num">
                    Import fee
                  </th>
                  <th scope="col" className="num">
                    Price
                  </th>
                  <th scope="col">Net flow</th>
                  <th scope="col">Limit</th>
                </tr>
              </thead>
              <tbody>
                {zones.map((z) => {
                  const caps = capsOf(z);
                  return (
                    <tr key={z.zone} data-zone={z.zone}>
                      <th scope="row">Zone {z.zone}</th>
                      <td className="num">{z.result ? z.result.households : "–"}</td>
                      <td className="num">{capText(caps.importCapWh)}</td>
                      <td className="num">{capText(caps.exportCapWh)}</td>
                      <td className="num">{pricePerKwh(caps.feeMicroPerKwh)}</td>
                      <td className="num">{z.result ? pricePerKwh(z.result.priceMicroPerKwh) : "–"}</td>
                      <td>{z.result ? netFlowText(z.result.netExportWh) : "no result"}</td>
                      <td className={z.result?.capacityBound ? "unverified" : undefined} data-testid={`zone-${z.zone}-bound`}>
                        {z.result ? (boundText(z.result) ?? "No limit bound") : "No result in this interval"}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

const COL = 270;
const BOX_W = 250;
const BOX_H = 128;
const GRID_Y = 8;
const GRID_H = 58;
const ZONE_Y = 210;

/**
 * The community as a tree: the grid connection on top, each zone below it with its households and caps,
 * and an arrow per zone for its net exchange with the other zones (up: exports, down: imports), labelled
 * in kWh. A zone whose cap held gets a thick dashed red border and the words "LIMIT BOUND".
 */
function ZoneDiagram({ zones, hubPriceMicroPerKwh }: { zones: ZoneView[]; hubPriceMicroPerKwh: string | undefined }) {
  const width = Math.max(560, zones.length * COL + 20);
  const height = ZONE_Y + BOX_H + 10;
  const gridX = width / 2;
  const left = (width - zones.length * COL) / 2 + (COL - BOX_W) / 2;
  const summary = zones
    .map((z) => {
      const caps = capsOf(z);
      return `Zone ${z.zone}: ${households(z)}, import cap ${capText(caps.importCapWh)}, export cap ${capText(caps.exportCapWh)}, ${
        z.result ? `net flow ${netFlowText(z.result.netExportWh)}` : "no result"
      }${boundText(z.result) ? `, ${boundText(z.result)?.toLowerCase()}` : ""}.`;
    })
    .join(" ");
  return (
    <figure className="chart" aria-labelledby="zone-diagram-title" data-testid="zone-diagram">
      <figcaption id="zone-diagram-title">The community's zones and their exchanges through the grid</figcaption>
      <svg
        className="zone-diagram"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-labelledby="zone-diagram-title"
        aria-describedby="zone-diagram-desc"
      >
        <title>The community's zones and their exchanges through the grid</title>
        <desc id="zone-diagram-desc">{summary}</desc>
        <defs>
          <marker
            id="zone-arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="#374151" />
          </marker>
        </defs>
        <rect x={gridX - 130} y={GRID_Y} width={260} height={GRID_H} rx={8} fill="#e5e7eb" stroke="#374151" strokeWidth={2} />
        <text x={gridX} y={GRID_Y + 24} textAnchor="middle" fontWeight={700}>
          Grid connection
        </text>
        <text x={gridX} y={GRID_Y + 46} textAnchor="middle" className="muted">
          {hubPriceMicroPerKwh ? `hub price ${pricePerKwh(hubPriceMicroPerKwh)}` : "no interval yet"}
        </text>
        {zones.map((z, i) => {
          const x = left + i * COL;
          const cx = x + BOX_W / 2;
          const caps = capsOf(z);
          const net = z.result ? BigInt(z.result.netExportWh) : 0n;
          const bound = boundText(z.result);
          const top = { x: gridX + (cx - gridX) * 0.15, y: GRID_Y + GRID_H };
          const bottom = { x: cx, y: ZONE_Y };
          const [from, to] = net > 0n ? [bottom, top] : [top, bottom];
          const midX = (top.x + bottom.x) / 2;
          const midY = (top.y + bottom.y) / 2;
          return (
            <g key={z.zone} data-zone={z.zone}>
              <line
                x1={from.x}
                y1={from.y}
                x2={to.x}
                y2={to.y}
                stroke={net === 0n ? "#9ca3af" : "#374151"}
                strokeWidth={net === 0n ? 2 : 3}
                strokeDasharray={net === 0n ? "4 4" : undefined}
                markerEnd={net === 0n ? undefined : "url(#zone-arrow)"}
              />
              <text x={midX + (cx < gridX ? -8 : 8)} y={midY} textAnchor={cx < gridX ? "end" : "start"} data-testid="zone-flow">
                {z.result ? netFlowText(z.result.netExportWh) : "no result"}
              </text>
              <rect
                x={x}
                y={ZONE_Y}
                width={BOX_W}
                height={BOX_H}
                rx={8}
                fill={bound ? "#fef2f2" : "#ffffff"}
                stroke={bound ? "#991b1b" : "#6b7280"}
                strokeWidth={bound ? 4 : 2}
                strokeDasharray={bound ? "10 4" : undefined}
              />
              <text x={x + 12} y={ZONE_Y + 24} fontWeight={700}>
                Zone {z.zone}
              </text>
              <text x={x + 12} y={ZONE_Y + 46}>
                {households(z)}
              </text>
              <text x={x + 12} y={ZONE_Y + 68} className="muted">
                import cap {capText(caps.importCapWh)}
              </text>
              <text x={x + 12} y={ZONE_Y + 90} className="muted">
                export cap {capText(caps.exportCapWh)}
              </text>
              {bound ? (
                <text x={x + 12} y={ZONE_Y + 114} className="alert" data-testid="zone-diagram-bound">
                  {bound}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
