// Small SVG charts: they scale with the page (viewBox), need no library, and carry their data as a
// table for screen readers. Values are numbers for drawing only; labels come formatted from the caller.

import { kwh, pricePerKwh, toPlot } from "./format.ts";

export type Series = { name: string; color: string; values: number[]; labels: string[] };

/** A series of energies (Wh as decimal strings): drawn in kWh, labelled exactly. */
export const kwhSeries = (name: string, color: string, wh: readonly string[]): Series => ({
  name,
  color,
  values: wh.map((v) => toPlot(v, 3)),
  labels: wh.map((v) => kwh(v)),
});

/** A series of prices (micro-credits per kWh as decimal strings): drawn in credits/kWh, labelled exactly. */
export const priceSeries = (name: string, color: string, microPerKwh: readonly string[]): Series => ({
  name,
  color,
  values: microPerKwh.map((v) => toPlot(v, 6)),
  labels: microPerKwh.map((v) => pricePerKwh(v)),
});

type ChartProps = {
  title: string;
  /** The x-axis categories (e.g. interval start times). */
  categories: string[];
  series: Series[];
  unit: string;
  kind: "bar" | "line";
  /** Horizontal reference lines (e.g. feed-in and retail tariffs). */
  references?: { name: string; value: number; color: string }[];
  id: string;
};

const W = 640;
const H = 240;
const PAD = { left: 72, right: 12, top: 12, bottom: 40 };

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

export function Chart({ title, categories, series, unit, kind, references = [], id }: ChartProps) {
  const all = [...series.flatMap((s) => s.values), ...references.map((r) => r.value)];
  const top = niceMax(Math.max(0, ...all));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const y = (v: number) => PAD.top + plotH - (Math.max(0, v) / top) * plotH;
  const n = Math.max(categories.length, 1);
  const band = plotW / n;
  const x = (i: number) => PAD.left + band * i + band / 2;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * top);
  const labelEvery = Math.max(1, Math.ceil(n / 8));
  const barW = Math.max(2, (band * 0.8) / Math.max(series.length, 1));
  const fmtTick = (v: number) => (top < 1 ? v.toFixed(3) : top < 10 ? v.toFixed(2) : v.toFixed(0));

  return (
    <figure className="chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-title`} preserveAspectRatio="xMidYMid meet">
        <title>{title}</title>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="grid-line" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="tick">
              {fmtTick(t)}
            </text>
          </g>
        ))}
        <text x={PAD.left - 6} y={H - 6} textAnchor="end" className="tick">
          {unit}
        </text>
        {references.map((r) => (
          <g key={r.name}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(r.value)} y2={y(r.value)} stroke={r.color} strokeDasharray="6 4" />
            <text x={W - PAD.right} y={y(r.value) - 4} textAnchor="end" className="tick" fill={r.color}>
              {r.name}
            </text>
          </g>
        ))}
        {kind === "bar"
          ? series.map((s, k) =>
              s.values.map((v, i) => (
                <rect
                  key={`${s.name}-${i}`}
                  x={x(i) - (barW * series.length) / 2 + k * barW}
                  y={y(v)}
                  width={barW - 1}
                  height={Math.max(0, PAD.top + plotH - y(v))}
                  fill={s.color}
                >
                  <title>{`${categories[i]}: ${s.name} ${s.labels[i]}`}</title>
                </rect>
              )),
            )
          : series.map((s) => (
              <g key={s.name}>
                <polyline
                  points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ")}
                  fill="none"
                  stroke={s.color}
                  strokeWidth={2.5}
                />
                {s.values.map((v, i) => (
                  <circle key={i} cx={x(i)} cy={y(v)} r={3.5} fill={s.color}>
                    <title>{`${categories[i]}: ${s.labels[i]}`}</title>
                  </circle>
                ))}
              </g>
            ))}
        {categories.map((c, i) =>
          i % labelEvery === 0 ? (
            <text key={`${c}-${i}`} x={x(i)} y={H - PAD.bottom + 18} textAnchor="middle" className="tick">
              {c}
            </text>
          ) : null,
        )}
        <line x1={PAD.left} x2={W - PAD.right} y1={PAD.top + plotH} y2={PAD.top + plotH} className="axis" />
      </svg>
      <ul className="legend">
        {series.map((s) => (
          <li key={s.name}>
            <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
            {s.name}
          </li>
        ))}
      </ul>
      {/* A table ignores a 1 px width: the wrapper hides it. */}
      <div className="sr-only">
        <table>
          <caption>{title}</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              {series.map((s) => (
                <th scope="col" key={s.name}>
                  {s.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {categories.map((c, i) => (
              <tr key={`${c}-${i}`}>
                <th scope="row">{c}</th>
                {series.map((s) => (
                  <td key={s.name}>{s.labels[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
