/**
 * Small server-side SVG charts for the simulation report: line charts with gaps, bands and reference
 * lines, stacked bars with line overlays, and signed bars. Output is a self-contained inline `<svg>`
 * string (viewBox, width 100%, `role="img"` with `<title>` and `<desc>`), deterministic for the same input.
 * Numbers here are only pixel positions and axis labels: money and energy are formatted elsewhere from bigints.
 */

/** A series drawn as a line; `null` values are gaps. x is the value's index. */
export type LineSeries = {
  label: string;
  values: readonly (number | null)[];
  color: string;
  /** SVG stroke-dasharray, e.g. "6 4". */
  dash?: string;
  strokeWidth?: number;
};

/** A filled band between `min` and `max` (both null for a gap), drawn under the lines. */
export type Band = { min: readonly (number | null)[]; max: readonly (number | null)[]; color: string; opacity: number };

/** A horizontal reference line across the whole plot, labelled at its right end. */
export type ReferenceLine = { value: number; label: string; color: string };

/** A tick on the x axis at a value index. */
export type XTick = { index: number; label: string };

/** What every chart needs to be accessible. */
export type ChartText = {
  /** Unique in the page: used for the ids of `<title>` and `<desc>`. */
  id: string;
  title: string;
  description: string;
  yLabel: string;
  /** Formats a y-axis tick value; defaults to a fixed number of decimals derived from the tick step. */
  yFormat?: (value: number, step: number) => string;
};

export type LineChartOptions = ChartText & {
  /** Number of x positions (the length of every series). */
  count: number;
  xTicks: readonly XTick[];
  series: readonly LineSeries[];
  bands?: readonly Band[];
  referenceLines?: readonly ReferenceLine[];
  /** Keep 0 inside the y domain (default true). */
  includeZero?: boolean;
};

export type StackedBarChartOptions = ChartText & {
  categories: readonly string[];
  /** Label every n-th category (default 1). */
  labelEvery?: number;
  stacks: readonly { label: string; values: readonly number[]; color: string }[];
  lines: readonly LineSeries[];
  /** Unit appended to the values in the bars' tooltips. */
  unit?: string;
};

export type SignedBarChartOptions = ChartText & {
  values: readonly number[];
  positiveColor: string;
  negativeColor: string;
  xLabel: string;
};

const WIDTH = 640;
const HEIGHT = 340;
const MARGIN = { top: 20, right: 16, bottom: 48, left: 80 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const AXIS_COLOR = "#595959";
const GRID_COLOR = "#e3e3e3";

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escape text for HTML/XML content and attribute values.
 *
 * @example
 * escapeXml(`<a href="x">Tom & Jerry's</a>`); // "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

/** A coordinate rounded to 0.1 px, as short text. */
function px(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

/**
 * About `target` round tick values (1, 2 or 5 × 10^k apart) covering [min, max].
 *
 * @example
 * niceTicks(0, 0.32, 5); // { ticks: [0, 0.1, 0.2, 0.3, 0.4], step: 0.1 } (rounded)
 */
export function niceTicks(min: number, max: number, target = 5): { ticks: number[]; step: number } {
  let lo = Number.isFinite(min) ? min : 0;
  let hi = Number.isFinite(max) ? max : 1;
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return { ticks, step };
}

function defaultFormat(value: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  const text = value.toFixed(decimals);
  return text.startsWith("-") && Number(text) !== 0 ? `−${text.slice(1)}` : text.replace(/^-/, "");
}

type YScale = { y: (value: number) => number; ticks: number[]; step: number };

function yScale(values: Iterable<number | null>, includeZero: boolean): YScale {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) [lo, hi] = [0, 1];
  if (includeZero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  const { ticks, step } = niceTicks(lo, hi, 5);
  const t0 = ticks[0] ?? 0;
  const t1 = ticks[ticks.length - 1] ?? 1;
  const span = t1 - t0 || 1;
  return { y: (v) => MARGIN.top + PLOT_H - ((v - t0) / span) * PLOT_H, ticks, step };
}

function svgDocument(text: ChartText, body: string): string {
  const id = escapeXml(text.id);
  return (
    `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc" ` +
    `font-size="16" font-family="inherit" preserveAspectRatio="xMidYMid meet">` +
    `<title id="${id}-title">${escapeXml(text.title)}</title><desc id="${id}-desc">${escapeXml(text.description)}</desc>` +
    `${body}</svg>`
  );
}

function yAxis(scale: YScale, text: ChartText): string {
  const format = text.yFormat ?? defaultFormat;
  const parts: string[] = [];
  for (const tick of scale.ticks) {
    const y = px(scale.y(tick));
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="${tick === 0 ? AXIS_COLOR : GRID_COLOR}"/>`,
      `<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#333">${escapeXml(format(tick, scale.step))}</text>`,
    );
  }
  const cy = MARGIN.top + PLOT_H / 2;
  parts.push(
    `<text transform="translate(18 ${px(cy)}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(text.yLabel)}</text>`,
  );
  return `<g aria-hidden="true">${parts.join("")}</g>`;
}

function xOf(index: number, count: number): number {
  return count <= 1 ? MARGIN.left + PLOT_W / 2 : MARGIN.left + (index / (count - 1)) * PLOT_W;
}

function xAxis(ticks: readonly XTick[], x: (index: number) => number): string {
  const base = MARGIN.top + PLOT_H;
  const parts = [`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${base}" y2="${base}" stroke="${AXIS_COLOR}"/>`];
  ticks.forEach((tick) => {
    const tx = px(x(tick.index));
    // Centred under the tick unless that would run past the plot's edge.
    const at = x(tick.index);
    const anchor = at < MARGIN.left + 24 ? "start" : at > WIDTH - MARGIN.right - 24 ? "end" : "middle";
    parts.push(
      `<line x1="${tx}" x2="${tx}" y1="${base}" y2="${base + 5}" stroke="${AXIS_COLOR}"/>`,
      `<text x="${tx}" y="${base + 24}" text-anchor="${anchor}" fill="#333">${escapeXml(tick.label)}</text>`,
    );
  });
  return `<g aria-hidden="true">${parts.join("")}</g>`;
}

/** An SVG path through the non-null points, starting a new subpath after each gap. */
function linePath(values: readonly (number | null)[], x: (i: number) => number, y: (v: number) => number): string {
  let d = "";
  let drawing = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      drawing = false;
      return;
    }
    d += `${drawing ? "L" : "M"}${px(x(i))} ${px(y(v))}`;
    // A lone point between gaps is drawn as a dot by the round line cap.
    const next = values[i + 1];
    if (!drawing && (next === null || next === undefined)) d += "h0";
    drawing = true;
  });
  return d;
}

function bandPaths(band: Band, x: (i: number) => number, y: (v: number) => number): string {
  const segments: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < band.min.length; i++) {
    if (band.min[i] === null || band.max[i] === null || band.min[i] === undefined || band.max[i] === undefined) {
      if (current.length > 0) segments.push(current);
      current = [];
    } else current.push(i);
  }
  if (current.length > 0) segments.push(current);
  let d = "";
  for (const segment of segments) {
    const top = segment.map((i) => `${px(x(i))} ${px(y(band.max[i] as number))}`);
    const bottom = segment.reverse().map((i) => `${px(x(i))} ${px(y(band.min[i] as number))}`);
    d += `M${top.join("L")}L${bottom.join("L")}Z`;
  }
  return d === "" ? "" : `<path d="${d}" fill="${band.color}" fill-opacity="${band.opacity}" stroke="none"/>`;
}

function seriesPath(series: LineSeries, d: string): string {
  if (d === "") return "";
  const dash = series.dash ? ` stroke-dasharray="${series.dash}"` : "";
  return `<path d="${d}" fill="none" stroke="${series.color}" stroke-width="${series.strokeWidth ?? 2}" stroke-linejoin="round" stroke-linecap="round"${dash}/>`;
}

/**
 * A line chart over `count` x positions with gaps for null values, optional min–max bands and
 * labelled horizontal reference lines.
 *
 * @example
 * lineChartSvg({ id: "price", title: "Price", description: "…", yLabel: "credits/kWh", count: 3,
 *   xTicks: [{ index: 0, label: "00:00" }], series: [{ label: "price", values: [0.2, null, 0.25], color: "#0072b2" }] });
 */
export function lineChartSvg(options: LineChartOptions): string {
  const all: (number | null)[] = [];
  for (const s of options.series) all.push(...s.values);
  for (const b of options.bands ?? []) all.push(...b.min, ...b.max);
  for (const r of options.referenceLines ?? []) all.push(r.value);
  const scale = yScale(all, options.includeZero ?? true);
  const x = (i: number) => xOf(i, options.count);
  const parts = [yAxis(scale, options), xAxis(options.xTicks, x)];
  for (const band of options.bands ?? []) parts.push(bandPaths(band, x, scale.y));
  for (const ref of options.referenceLines ?? []) {
    const y = px(scale.y(ref.value));
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="${ref.color}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${WIDTH - MARGIN.right - 4}" y="${px(scale.y(ref.value) - 5)}" text-anchor="end" fill="${ref.color}" font-size="15">${escapeXml(ref.label)}</text>`,
    );
  }
  for (const s of options.series) parts.push(seriesPath(s, linePath(s.values, x, scale.y)));
  return svgDocument(options, parts.join(""));
}

/**
 * Stacked bars per category (non-negative stacks) with line series drawn over the bar centres.
 *
 * @example
 * stackedBarChartSvg({ id: "flows", title: "Flows", description: "…", yLabel: "kWh", categories: ["00", "01"],
 *   stacks: [{ label: "traded", values: [1, 2], color: "#0072b2" }], lines: [] });
 */
export function stackedBarChartSvg(options: StackedBarChartOptions): string {
  const n = options.categories.length;
  const totals = options.categories.map((_, i) => options.stacks.reduce((t, s) => t + Math.max(0, s.values[i] ?? 0), 0));
  const lineValues = options.lines.flatMap((l) => l.values);
  const scale = yScale([...totals, ...lineValues], true);
  const band = PLOT_W / Math.max(1, n);
  const centre = (i: number) => MARGIN.left + band * (i + 0.5);
  const every = Math.max(1, options.labelEvery ?? 1);
  const ticks: XTick[] = [];
  options.categories.forEach((label, index) => {
    if (index % every === 0) ticks.push({ index, label });
  });
  const parts = [yAxis(scale, options)];
  const barWidth = band * 0.72;
  for (let i = 0; i < n; i++) {
    let base = 0;
    for (const stack of options.stacks) {
      const value = Math.max(0, stack.values[i] ?? 0);
      if (value === 0) continue;
      const top = scale.y(base + value);
      const bottom = scale.y(base);
      parts.push(
        `<rect x="${px(centre(i) - barWidth / 2)}" y="${px(top)}" width="${px(barWidth)}" height="${px(bottom - top)}" fill="${stack.color}"><title>${escapeXml(`${options.categories[i]}: ${stack.label} ${value.toFixed(2)}${options.unit ? ` ${options.unit}` : ""}`)}</title></rect>`,
      );
      base += value;
    }
  }
  // Axis after bars so the baseline stays visible; ticks centred under bars.
  const base = MARGIN.top + PLOT_H;
  const axis = [`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${base}" y2="${base}" stroke="${AXIS_COLOR}"/>`];
  for (const tick of ticks) {
    axis.push(
      `<text x="${px(centre(tick.index))}" y="${base + 24}" text-anchor="middle" fill="#333">${escapeXml(tick.label)}</text>`,
    );
  }
  parts.push(`<g aria-hidden="true">${axis.join("")}</g>`);
  for (const line of options.lines) parts.push(seriesPath(line, linePath(line.values, centre, scale.y)));
  for (const line of options.lines) {
    line.values.forEach((v, i) => {
      if (v !== null) parts.push(`<circle cx="${px(centre(i))}" cy="${px(scale.y(v))}" r="3" fill="${line.color}"/>`);
    });
  }
  return svgDocument(options, parts.join(""));
}

/**
 * One bar per value in the given order, positive bars above the zero line and negative ones below.
 * All bars of one sign are drawn as a single path so thousands of bars stay small.
 *
 * @example
 * signedBarChartSvg({ id: "savings", title: "Savings", description: "…", yLabel: "credits", xLabel: "households",
 *   values: [3, 1, -2], positiveColor: "#00734d", negativeColor: "#b00020" });
 */
export function signedBarChartSvg(options: SignedBarChartOptions): string {
  const n = options.values.length;
  const scale = yScale(options.values, true);
  const band = PLOT_W / Math.max(1, n);
  const barWidth = n > 150 ? band : band * 0.8;
  const zero = scale.y(0);
  let positive = "";
  let negative = "";
  options.values.forEach((v, i) => {
    if (v === 0 || !Number.isFinite(v)) return;
    const left = MARGIN.left + band * i + (band - barWidth) / 2;
    const top = scale.y(v);
    const d = `M${px(left)} ${px(zero)}V${px(top)}h${px(barWidth)}V${px(zero)}Z`;
    if (v > 0) positive += d;
    else negative += d;
  });
  const base = MARGIN.top + PLOT_H;
  const parts = [yAxis(scale, options)];
  if (positive) parts.push(`<path d="${positive}" fill="${options.positiveColor}"/>`);
  if (negative) parts.push(`<path d="${negative}" fill="${options.negativeColor}"/>`);
  parts.push(
    `<g aria-hidden="true"><line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${px(zero)}" y2="${px(zero)}" stroke="${AXIS_COLOR}"/>` +
      `<text x="${MARGIN.left + PLOT_W / 2}" y="${base + 32}" text-anchor="middle" fill="#333">${escapeXml(options.xLabel)}</text></g>`,
  );
  return svgDocument(options, parts.join(""));
}
