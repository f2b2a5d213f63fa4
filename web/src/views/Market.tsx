import { useRef, useState } from "react";
import { type BookCurves, type BookZone, get, type Interval, type IntervalBook } from "../api.ts";
import { Chart, kwhSeries, priceSeries } from "../Chart.tsx";
import { clock, dateTime, kwh, percentBps, pricePerKwh, ratioBps, shortHex, sum, toPlot } from "../format.ts";
import { useLive, useLoad } from "../hooks.ts";
import { Pager, pageSizeFromUrl, useCursorPages } from "../paging.tsx";
import { Link } from "../router.tsx";
import { Empty, ErrorBox, LiveBadge, Loading, Stat, timeZone } from "../ui.tsx";

/** The market: clearing prices and volumes of recent intervals, updated live as intervals settle. */
export function Market() {
  const tz = timeZone();
  const data = useLoad(() => get<{ intervals: Interval[] }>("/api/intervals?limit=48"), []);
  const [announcement, setAnnouncement] = useState("");
  const [version, setVersion] = useState(0);
  const reloadSoon = useRef<ReturnType<typeof setTimeout>>(undefined);
  const live = useLive(["interval"], (_type, event) => {
    const e = event as { interval?: string; priceMicroPerKwh?: string } | undefined;
    if (e?.interval && e.priceMicroPerKwh)
      setAnnouncement(`Interval ${e.interval} settled at ${pricePerKwh(e.priceMicroPerKwh)}`);
    clearTimeout(reloadSoon.current);
    reloadSoon.current = setTimeout(() => {
      data.reload();
      setVersion((v) => v + 1);
    }, 100);
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
          <BookSection intervals={intervals} />
          <Timeline tz={tz} version={version} />
        </>
      ) : null}
    </section>
  );
}

const UNLIMITED = (2n ** 64n - 1n).toString();
const capText = (wh: string) => (wh === UNLIMITED ? "unlimited" : kwh(wh));
const boundText = (z: BookZone) =>
  z.boundLimit === "import"
    ? "Import cap bound"
    : z.boundLimit === "export"
      ? "Export cap bound"
      : z.capacityBound
        ? "A limit bound"
        : "No";
/** Net flow to the other zones, in words: "exports 1.234 kWh", "imports …", "no exchange". */
export function netFlowText(netExportWh: string): string {
  const net = BigInt(netExportWh);
  if (net === 0n) return "no exchange";
  return `${net > 0n ? "exports" : "imports"} ${kwh((net < 0n ? -net : net).toString())}`;
}

/**
 * The book of one settled interval (the latest unless another is picked): its supply and demand curves
 * with the clearing point, and its volumes by zone. Follows new intervals while the latest is shown.
 */
function BookSection({ intervals }: { intervals: Interval[] }) {
  const tz = timeZone();
  const [picked, setPicked] = useState<string | null>(null);
  const [zone, setZone] = useState("all");
  const latest = intervals[0]?.interval;
  const shown = picked ?? latest;
  const book = useLoad(() => (shown ? get<IntervalBook>(`/api/intervals/${shown}/book`) : Promise.resolve(undefined)), [shown]);
  const at = intervals.findIndex((i) => i.interval === shown);
  const older = at >= 0 ? intervals[at + 1] : undefined;
  const newer = at > 0 ? intervals[at - 1] : undefined;
  const go = (interval: string | undefined) => setPicked(interval === undefined || interval === latest ? null : interval);
  const b = book.data && book.data.interval === shown ? book.data : undefined;
  const zoneShown = b?.zones.find((z) => String(z.zone) === zone);
  const curves: BookCurves | undefined = zoneShown ? zoneShown.curves : b?.curves;
  const clearingPrice = zoneShown ? zoneShown.priceMicroPerKwh : b?.priceMicroPerKwh;
  const soldWh = b
    ? sum(b.orders.filter((o) => o.side === "ask" && (!zoneShown || o.zone === zoneShown.zone)).map((o) => o.filledWh))
    : "0";
  const boughtWh = b
    ? sum(b.orders.filter((o) => o.side === "bid" && (!zoneShown || o.zone === zoneShown.zone)).map((o) => o.filledWh))
    : "0";
  const shownInterval = intervals.find((i) => i.interval === shown);
  return (
    <section className="card" aria-labelledby="book-title">
      <h2 id="book-title">
        Supply and demand{shownInterval ? `: ${dateTime(shownInterval.startsAt, tz)}` : shown ? `: interval ${shown}` : ""}
      </h2>
      <div className="picker">
        <button type="button" className="secondary" onClick={() => go(older?.interval)} disabled={!older}>
          ← Previous interval
        </button>
        <label htmlFor="book-interval">Interval</label>
        <select id="book-interval" value={shown ?? ""} onChange={(e) => go(e.target.value)}>
          {intervals.map((i, k) => (
            <option key={i.interval} value={i.interval}>
              {dateTime(i.startsAt, tz)}
              {k === 0 ? " (latest)" : ""}
            </option>
          ))}
        </select>
        <button type="button" className="secondary" onClick={() => go(newer?.interval)} disabled={!newer}>
          Next interval →
        </button>
        {picked !== null ? (
          <button type="button" className="secondary" onClick={() => go(undefined)}>
            Latest
          </button>
        ) : null}
      </div>
      <p className="hint" data-testid="book-following">
        {picked === null
          ? "Showing the latest interval; a newly settled one replaces it."
          : "Showing an older interval; Latest follows new ones again."}
      </p>
      {book.error ? <ErrorBox title="Could not load the interval's book" error={book.error} onRetry={book.reload} /> : null}
      {!b && book.loading ? <Loading what="the interval's orders" /> : null}
      {b ? (
        <>
          <div className="picker">
            <label htmlFor="book-zone">Curves of</label>
            <select id="book-zone" value={zone} onChange={(e) => setZone(e.target.value)}>
              <option value="all">the whole community</option>
              {b.zones.map((z) => (
                <option key={z.zone} value={String(z.zone)}>
                  zone {z.zone}
                </option>
              ))}
            </select>
          </div>
          <p data-testid="clearing-point">
            {zoneShown ? `Zone ${zoneShown.zone} cleared at ` : "Cleared at the hub price of "}
            <strong data-testid="clearing-price">{pricePerKwh(clearingPrice ?? "0")}</strong>: sellers sold{" "}
            <strong data-testid="clearing-volume">{kwh(soldWh)}</strong>
            {soldWh !== boughtWh ? `, buyers bought ${kwh(boughtWh)}` : ""} in the auction
            {zoneShown ? ` (with the other zones: ${netFlowText(zoneShown.netExportWh)})` : ""}.
            {!zoneShown && b.bilateralWh !== "0"
              ? ` Agreements delivered ${kwh(b.bilateralWh)} before the auction; that energy is not in the book.`
              : ""}
          </p>
          {!zoneShown && b.zones.some((z) => z.priceMicroPerKwh !== b.priceMicroPerKwh) ? (
            <p className="hint" data-testid="zones-apart">
              Not every zone cleared at the hub price (a cap held, or a zone pays an import fee): pick a zone to see where its own
              curves meet.
            </p>
          ) : null}
          {!b.reproduced ? (
            <p className="unverified" data-testid="book-not-reproduced">
              Clearing this book again does not give exactly the settled result: the index may lack something the contract saw.
              The curves are shown as rebuilt.
            </p>
          ) : null}
          {curves && (curves.supply.length > 0 || curves.demand.length > 0) ? (
            <SupplyDemandChart
              id="chart-book"
              title={`Supply and demand${zoneShown ? ` in zone ${zoneShown.zone}` : ""} (credits/kWh against cumulative kWh)`}
              curves={curves}
              priceMicroPerKwh={clearingPrice ?? "0"}
              volumeWh={soldWh}
              feedInMicroPerKwh={b.feedInMicroPerKwh}
              retailMicroPerKwh={b.retailMicroPerKwh}
            />
          ) : (
            <Empty>No one offered or asked for energy in this interval{zoneShown ? " in this zone" : ""}.</Empty>
          )}
          <ZoneVolumes zones={b.zones} />
          <details>
            <summary>The {b.orders.length} orders of the book</summary>
            <div className="table-wrap">
              <table data-testid="book-orders">
                <caption className="sr-only">Effective orders of the interval, asks then bids</caption>
                <thead>
                  <tr>
                    <th scope="col">Side</th>
                    <th scope="col">Household</th>
                    <th scope="col" className="num">
                      Zone
                    </th>
                    <th scope="col" className="num">
                      Limit
                    </th>
                    <th scope="col" className="num">
                      Offered / wanted
                    </th>
                    <th scope="col" className="num">
                      Filled
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {b.orders.map((o) => (
                    <tr key={`${o.side}-${o.meterId}`}>
                      <td>{o.side === "ask" ? "sells" : "buys"}</td>
                      <td className="mono">{shortHex(o.account)}</td>
                      <td className="num">{o.zone}</td>
                      <td className="num">{pricePerKwh(o.limitMicroPerKwh)}</td>
                      <td className="num">{kwh(o.quantityWh)}</td>
                      <td className="num">{kwh(o.filledWh)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      ) : null}
    </section>
  );
}

/** Each zone's traded energy, exchanges with the other zones against its caps, and grid energy. */
function ZoneVolumes({ zones }: { zones: BookZone[] }) {
  return (
    <>
      <h3 id="zone-volumes-title">Volumes by zone</h3>
      <p className="hint">
        A zone trades with the other zones through the grid up to its import and export caps; when a cap holds, the zone is priced
        on its own. What no neighbour took or gave goes to or comes from the grid at the tariffs.
      </p>
      <div className="table-wrap">
        <table data-testid="zone-volumes" aria-labelledby="zone-volumes-title">
          <thead>
            <tr>
              <th scope="col">Zone</th>
              <th scope="col" className="num">
                Households
              </th>
              <th scope="col" className="num">
                Price
              </th>
              <th scope="col" className="num">
                Sold locally
              </th>
              <th scope="col" className="num">
                Bought locally
              </th>
              <th scope="col">To / from other zones</th>
              <th scope="col" className="num">
                Import cap
              </th>
              <th scope="col" className="num">
                Export cap
              </th>
              <th scope="col" className="num">
                To the grid
              </th>
              <th scope="col" className="num">
                From the grid
              </th>
              <th scope="col">Limit bound</th>
            </tr>
          </thead>
          <tbody>
            {zones.map((z) => (
              <tr key={z.zone} data-zone={z.zone} className={z.capacityBound ? "bound" : undefined}>
                <th scope="row">Zone {z.zone}</th>
                <td className="num">{z.households}</td>
                <td className="num">{pricePerKwh(z.priceMicroPerKwh)}</td>
                <td className="num">{kwh(z.soldLocalWh)}</td>
                <td className="num">{kwh(z.boughtLocalWh)}</td>
                <td>{netFlowText(z.netExportWh)}</td>
                <td className="num">{capText(z.importCapWh)}</td>
                <td className="num">{capText(z.exportCapWh)}</td>
                <td className="num">{kwh(z.toGridWh)}</td>
                <td className="num">{kwh(z.fromGridWh)}</td>
                <td className={z.capacityBound ? "unverified" : undefined}>{boundText(z)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

const SW = 640;
const SH = 300;
const SPAD = { left: 64, right: 16, top: 16, bottom: 44 };

function niceTop(max: number): number {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

type SupplyDemandProps = {
  id: string;
  title: string;
  curves: BookCurves;
  priceMicroPerKwh: string;
  volumeWh: string;
  feedInMicroPerKwh: string;
  retailMicroPerKwh: string;
};

/**
 * The supply (asks ascending) and demand (bids descending) step curves, the clearing price and volume
 * as dashed lines, the tariffs as reference lines; the steps as a table for screen readers.
 */
function SupplyDemandChart({
  id,
  title,
  curves,
  priceMicroPerKwh,
  volumeWh,
  feedInMicroPerKwh,
  retailMicroPerKwh,
}: SupplyDemandProps) {
  const last = (steps: { toWh: string }[]) => steps[steps.length - 1]?.toWh ?? "0";
  const xTop = niceTop(Math.max(toPlot(last(curves.supply), 3), toPlot(last(curves.demand), 3), toPlot(volumeWh, 3)));
  const prices = [...curves.supply, ...curves.demand].map((s) => toPlot(s.priceMicroPerKwh, 6));
  const yTop = niceTop(Math.max(toPlot(retailMicroPerKwh, 6), ...prices));
  const plotW = SW - SPAD.left - SPAD.right;
  const plotH = SH - SPAD.top - SPAD.bottom;
  const x = (kwhValue: number) => SPAD.left + (Math.max(0, kwhValue) / xTop) * plotW;
  const y = (price: number) => SPAD.top + plotH - (Math.max(0, price) / yTop) * plotH;
  const points = (steps: BookCurves["supply"]) =>
    steps
      .flatMap((s) => {
        const p = y(toPlot(s.priceMicroPerKwh, 6));
        return [`${x(toPlot(s.fromWh, 3))},${p}`, `${x(toPlot(s.toWh, 3))},${p}`];
      })
      .join(" ");
  const fractions = [0, 0.25, 0.5, 0.75, 1];
  const fmt = (v: number, top: number) => (top < 1 ? v.toFixed(3) : top < 10 ? v.toFixed(2) : v.toFixed(0));
  const priceY = y(toPlot(priceMicroPerKwh, 6));
  const volumeX = x(toPlot(volumeWh, 3));
  const descId = `${id}-desc`;
  const summary = `Supply rises from ${curves.supply[0] ? pricePerKwh(curves.supply[0].priceMicroPerKwh) : "nothing"} to ${kwh(
    last(curves.supply),
  )} offered; demand falls from ${curves.demand[0] ? pricePerKwh(curves.demand[0].priceMicroPerKwh) : "nothing"} over ${kwh(
    last(curves.demand),
  )} wanted; they clear at ${pricePerKwh(priceMicroPerKwh)} and ${kwh(volumeWh)}.`;
  return (
    <figure className="chart" aria-labelledby={`${id}-title`} data-testid="book-chart">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <svg viewBox={`0 0 ${SW} ${SH}`} role="img" aria-labelledby={`${id}-title`} aria-describedby={descId}>
        <title>{title}</title>
        <desc id={descId}>{summary}</desc>
        {fractions.map((f) => (
          <g key={`y${f}`}>
            <line x1={SPAD.left} x2={SW - SPAD.right} y1={y(f * yTop)} y2={y(f * yTop)} className="grid-line" />
            <text x={SPAD.left - 6} y={y(f * yTop) + 4} textAnchor="end" className="tick">
              {fmt(f * yTop, yTop)}
            </text>
          </g>
        ))}
        {fractions.map((f) => (
          <text
            key={`x${f}`}
            x={x(f * xTop)}
            y={SH - SPAD.bottom + 18}
            textAnchor={f === 1 ? "end" : f === 0 ? "start" : "middle"}
            className="tick"
          >
            {fmt(f * xTop, xTop)}
          </text>
        ))}
        <text x={SPAD.left - 6} y={SH - 6} textAnchor="end" className="tick">
          /kWh
        </text>
        <text x={SW - SPAD.right} y={SH - 6} textAnchor="end" className="tick">
          kWh
        </text>
        {[
          { name: "retail", value: retailMicroPerKwh, color: "#b91c1c" },
          { name: "feed-in", value: feedInMicroPerKwh, color: "#4b5563" },
        ].map((r) => (
          <g key={r.name}>
            <line
              x1={SPAD.left}
              x2={SW - SPAD.right}
              y1={y(toPlot(r.value, 6))}
              y2={y(toPlot(r.value, 6))}
              stroke={r.color}
              strokeDasharray="2 4"
            />
            <text x={SW - SPAD.right} y={y(toPlot(r.value, 6)) - 4} textAnchor="end" className="tick" fill={r.color}>
              {r.name}
            </text>
          </g>
        ))}
        <polyline points={points(curves.demand)} fill="none" stroke="#1d4ed8" strokeWidth={2.5} />
        <polyline points={points(curves.supply)} fill="none" stroke="#047857" strokeWidth={2.5} strokeDasharray="8 3" />
        <line x1={SPAD.left} x2={volumeX} y1={priceY} y2={priceY} stroke="#6d28d9" strokeDasharray="5 4" />
        <line x1={volumeX} x2={volumeX} y1={priceY} y2={SPAD.top + plotH} stroke="#6d28d9" strokeDasharray="5 4" />
        <circle cx={volumeX} cy={priceY} r={5} fill="#6d28d9">
          <title>{`Clearing: ${pricePerKwh(priceMicroPerKwh)}, ${kwh(volumeWh)}`}</title>
        </circle>
        <line x1={SPAD.left} x2={SW - SPAD.right} y1={SPAD.top + plotH} y2={SPAD.top + plotH} className="axis" />
      </svg>
      <ul className="legend">
        <li>
          <span className="swatch" style={{ background: "#047857" }} aria-hidden="true" />
          Supply (asks, cheapest first; dashed)
        </li>
        <li>
          <span className="swatch" style={{ background: "#1d4ed8" }} aria-hidden="true" />
          Demand (bids, highest first; solid)
        </li>
        <li>
          <span className="swatch" style={{ background: "#6d28d9" }} aria-hidden="true" />
          Clearing price and volume (dot)
        </li>
      </ul>
      <div className="sr-only">
        <table data-testid="book-steps">
          <caption>{title}</caption>
          <thead>
            <tr>
              <th scope="col">Curve</th>
              <th scope="col">Price</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
            </tr>
          </thead>
          <tbody>
            {(
              [
                ["Supply", curves.supply],
                ["Demand", curves.demand],
              ] as const
            ).flatMap(([name, steps]) =>
              steps.map((s) => (
                <tr key={`${name}-${s.priceMicroPerKwh}`} data-curve={name.toLowerCase()}>
                  <th scope="row">{name}</th>
                  <td>{pricePerKwh(s.priceMicroPerKwh)}</td>
                  <td>{kwh(s.fromWh)}</td>
                  <td>{kwh(s.toWh)}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

/** Every settled interval, newest first, a page at a time (`?pageSize=N`); the shown page refreshes live. */
function Timeline({ tz, version }: { tz: string; version: number }) {
  const pageSize = pageSizeFromUrl(24);
  const pages = useCursorPages(
    async (before) => {
      const page = await get<{ intervals: Interval[]; nextBefore: string | null }>(
        `/api/intervals?limit=${pageSize}${before ? `&before=${before}` : ""}`,
      );
      return { items: page.intervals, nextBefore: page.nextBefore };
    },
    [pageSize, version],
  );
  const rows = pages.data?.items ?? [];
  return (
    <section className="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Interval timeline</h2>
      {pages.error ? <ErrorBox title="Could not load the timeline" error={pages.error} onRetry={pages.reload} /> : null}
      <div className="table-wrap">
        <table data-testid="timeline" aria-describedby="timeline-range">
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
            {rows.map((i) => (
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
      <Pager id="timeline" what="intervals" pages={pages} pageSize={pageSize} />
    </section>
  );
}
