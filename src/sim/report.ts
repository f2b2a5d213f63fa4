/**
 * The simulation report: a self-contained HTML page (inline CSS and server-side SVG, no scripts or
 * external resources), `summary.json` and two CSV files. Pure functions of a {@link SimulationResult}:
 * the same result gives the same bytes (no clock, no locale, no randomness).
 */

import {
  formatBps,
  formatCreditsMicro,
  formatDurationSeconds,
  formatEnergyWh,
  formatInteger,
  formatKwhNumber,
  formatMassGrams,
  formatPowerW,
  formatPriceMicroPerKwh,
  formatScaled,
} from "./reportFormat.ts";
import type { CommunitySummary, HouseholdSummary, IntervalSummary, SimulationResult } from "./result.ts";
import { escapeXml, type LineSeries, lineChartSvg, signedBarChartSvg, stackedBarChartSvg, type XTick } from "./svgChart.ts";

// Field lists in the types' declaration order. Typed as complete records so that a field added to
// result.ts without being added here is a compile error (and so is a misspelt one).
const SCENARIO_FIELDS: { [K in keyof SimulationResult["scenario"]]-?: true } = {
  name: true,
  seed: true,
  timeZone: true,
  startsAt: true,
  endsAt: true,
  intervalSeconds: true,
  retailMicroPerKwh: true,
  feedInMicroPerKwh: true,
};
const COMMUNITY_FIELDS: { [K in keyof CommunitySummary]-?: true } = {
  households: true,
  intervals: true,
  productionWh: true,
  consumptionWh: true,
  exportWh: true,
  importWh: true,
  tradedWh: true,
  toGridWh: true,
  fromGridWh: true,
  selfConsumptionBps: true,
  selfSufficiencyBps: true,
  localShareOfDemandBps: true,
  localShareOfSupplyBps: true,
  peakImportW: true,
  peakExportW: true,
  minPriceMicroPerKwh: true,
  meanPriceMicroPerKwh: true,
  maxPriceMicroPerKwh: true,
  netCostMicro: true,
  gridOnlyBillMicro: true,
  savingsMicro: true,
  savingsBps: true,
  savingsGiniBps: true,
  gridIntensityGPerKwh: true,
  co2AvoidedGrams: true,
  gas: true,
  gasPerSettledKwh: true,
  gasPerTradedKwh: true,
};
const HOUSEHOLD_FIELDS: { [K in keyof HouseholdSummary]-?: true } = {
  index: true,
  name: true,
  zone: true,
  strategy: true,
  pvKwp: true,
  batteryKwh: true,
  hasEv: true,
  productionWh: true,
  consumptionWh: true,
  exportWh: true,
  importWh: true,
  soldLocalWh: true,
  boughtLocalWh: true,
  soldGridWh: true,
  boughtGridWh: true,
  paidMicro: true,
  earnedMicro: true,
  netCostMicro: true,
  gridOnlyBillMicro: true,
  savingsMicro: true,
  selfConsumptionBps: true,
  selfSufficiencyBps: true,
  peakImportW: true,
  peakExportW: true,
};
const INTERVAL_FIELDS: { [K in keyof IntervalSummary]-?: true } = {
  interval: true,
  startsAt: true,
  localTime: true,
  priceMicroPerKwh: true,
  productionWh: true,
  consumptionWh: true,
  exportWh: true,
  importWh: true,
  tradedWh: true,
  toGridWh: true,
  fromGridWh: true,
  batteryStoredWh: true,
  trades: true,
  gas: true,
  boundZones: true,
};

const keysOf = <T extends object>(fields: { [K in keyof T]-?: true }): (keyof T)[] => Object.keys(fields) as (keyof T)[];

/** Runs of at most this many intervals are drawn point by point. */
export const MAX_CHART_POINTS = 1_500;
/** Longer runs are bucketed into whole hours, days or weeks, with at most this many buckets. */
export const MAX_CHART_BUCKETS = 400;
const BUCKET_SECONDS = [3_600n, 3n * 3_600n, 6n * 3_600n, 12n * 3_600n, 86_400n, 7n * 86_400n, 28n * 86_400n];

/**
 * How many consecutive intervals one drawn point summarises: 1 up to {@link MAX_CHART_POINTS} intervals,
 * else the shortest of 1, 3, 6, 12 hours, 1 day, 1 or 4 weeks giving at most {@link MAX_CHART_BUCKETS}
 * points (a year of 15-minute intervals: one point per day, so daily cycles do not blur into a solid band).
 *
 * @example
 * chartBucketSize(35_040, 900n); // 96
 */
export function chartBucketSize(intervals: number, intervalSeconds: bigint): number {
  if (intervals <= MAX_CHART_POINTS) return 1;
  const seconds = intervalSeconds > 0n ? intervalSeconds : 1n;
  for (const bucket of BUCKET_SECONDS) {
    const size = Number(bucket / seconds);
    if (size >= 1 && bucket % seconds === 0n && Math.ceil(intervals / size) <= MAX_CHART_BUCKETS) return size;
  }
  return Math.ceil(intervals / MAX_CHART_BUCKETS);
}
/** Above this many households the table shows only the best and worst {@link TABLE_EDGE_ROWS} each. */
export const MAX_TABLE_HOUSEHOLDS = 200;
export const TABLE_EDGE_ROWS = 100;

// ---------------------------------------------------------------------------------------------
// JSON and CSV

/** A JSON value with bigints as decimal strings, other values unchanged, keys in `keys` order. */
function ordered<T extends object>(value: T, keys: readonly (keyof T)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const v = value[key];
    out[key as string] = typeof v === "bigint" ? v.toString() : v;
  }
  return out;
}

/**
 * `summary.json`: `{ scenario, community, households }` without the intervals; bigints (basis points
 * included) as decimal strings, null kept as null; keys in the order of result.ts; 2-space indent and a
 * final newline.
 *
 * @example
 * const json = summaryJson(result);
 * JSON.parse(json).community.savingsMicro; // "1234567"
 */
export function summaryJson(result: SimulationResult): string {
  const summary = {
    scenario: ordered(result.scenario, keysOf(SCENARIO_FIELDS)),
    community: ordered(result.community, keysOf(COMMUNITY_FIELDS)),
    households: result.households.map((h) => ordered(h, keysOf(HOUSEHOLD_FIELDS))),
  };
  return `${JSON.stringify(summary, null, 2)}\n`;
}

/**
 * One CSV cell: quoted (with doubled quotes) when it contains a comma, quote or line break.
 *
 * @example
 * csvCell('Villa "Sonne", Nord'); // '"Villa ""Sonne"", Nord"'
 */
export function csvCell(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = "";
  else if (Array.isArray(value)) text = value.join(";");
  else text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv<T extends object>(rows: readonly T[], keys: readonly (keyof T)[]): string {
  const lines = [keys.map((k) => csvCell(k)).join(",")];
  for (const row of rows) lines.push(keys.map((k) => csvCell(row[k])).join(","));
  return `${lines.join("\n")}\n`;
}

/**
 * `intervals.csv`: a header and one row per interval with every IntervalSummary field in declaration
 * order; `boundZones` joined with ";"; `\n` line ends.
 *
 * @example
 * intervalsCsv(result).split("\n")[0]; // "interval,startsAt,localTime,priceMicroPerKwh,…,gas,boundZones"
 */
export function intervalsCsv(result: SimulationResult): string {
  return csv(result.intervals, keysOf(INTERVAL_FIELDS));
}

/**
 * `households.csv`: a header and one row per household with every HouseholdSummary field in
 * declaration order; null as an empty cell; names quoted when they contain a comma or quote.
 *
 * @example
 * householdsCsv(result).split("\n")[0]; // "index,name,zone,strategy,pvKwp,…,peakImportW,peakExportW"
 */
export function householdsCsv(result: SimulationResult): string {
  return csv(result.households, keysOf(HOUSEHOLD_FIELDS));
}

// ---------------------------------------------------------------------------------------------
// Series preparation (numbers here are only for drawing)

/** Per-bucket min, max and mean of a series with gaps (null); a bucket of only nulls is a gap. */
export type Downsampled = {
  bucketSize: number;
  min: (number | null)[];
  max: (number | null)[];
  mean: (number | null)[];
};

/**
 * Buckets of `bucketSize` consecutive values, each reduced to its min, max and mean over its non-null
 * values, so a long series can be drawn with few points.
 *
 * @example
 * downsample([1, 3, null, null, 5], 2); // { bucketSize: 2, min: [1, null, 5], max: [3, null, 5], mean: [2, null, 5] }
 */
export function downsample(values: readonly (number | null)[], size: number): Downsampled {
  const bucketSize = Math.max(1, Math.floor(size));
  const out: Downsampled = { bucketSize, min: [], max: [], mean: [] };
  for (let start = 0; start < values.length; start += bucketSize) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let n = 0;
    for (let i = start; i < Math.min(values.length, start + bucketSize); i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      sum += v;
      n++;
    }
    out.min.push(n > 0 ? lo : null);
    out.max.push(n > 0 ? hi : null);
    out.mean.push(n > 0 ? sum / n : null);
  }
  return out;
}

/** x-axis ticks at round local times: 6-hourly, daily, monthly or evenly spaced, whichever fits. */
function timeTicks(intervals: readonly IntervalSummary[], bucketSize: number): XTick[] {
  const n = intervals.length;
  if (n === 0) return [];
  const pick = (predicate: (t: string) => boolean, label: (t: string) => string, max: number): XTick[] | null => {
    const ticks: XTick[] = [];
    for (let i = 0; i < n; i++) {
      const t = (intervals[i] as IntervalSummary).localTime;
      if (predicate(t)) {
        ticks.push({ index: Math.floor(i / bucketSize), label: label(t) });
        if (ticks.length > max) return null;
      }
    }
    return ticks.length >= 2 ? ticks : null;
  };
  const minutes = (t: string) => t.slice(14, 16) === "00";
  const monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // January is labelled with its year, as calendars do.
  const monthLabel = (t: string) =>
    t.slice(5, 7) === "01" ? t.slice(0, 4) : (monthNames[Number(t.slice(5, 7)) - 1] ?? t.slice(5, 7));
  const dayLabel = (t: string) => `${Number(t.slice(8, 10))} ${monthNames[Number(t.slice(5, 7)) - 1] ?? t.slice(5, 7)}`;
  return (
    pick(
      (t) => minutes(t) && ["00", "06", "12", "18"].includes(t.slice(11, 13)),
      (t) => (t.slice(11, 13) === "00" ? dayLabel(t) : t.slice(11, 16)),
      5,
    ) ??
    pick(
      (t) => minutes(t) && ["00", "12"].includes(t.slice(11, 13)),
      (t) => (t.slice(11, 13) === "00" ? dayLabel(t) : t.slice(11, 16)),
      6,
    ) ??
    pick((t) => minutes(t) && t.slice(11, 13) === "00", dayLabel, 6) ??
    pick((t) => ["01", "08", "15", "22", "29"].includes(t.slice(8, 10)) && t.slice(11, 16) === "00:00", dayLabel, 6) ??
    pick((t) => t.slice(8, 16) === "01T00:00", monthLabel, 7) ??
    pick((t) => t.slice(8, 16) === "01T00:00" && Number(t.slice(5, 7)) % 2 === 1, monthLabel, 7) ??
    pick((t) => t.slice(8, 16) === "01T00:00" && Number(t.slice(5, 7)) % 3 === 1, monthLabel, 7) ??
    [0, 1 / 3, 2 / 3, 1].map((f) => {
      const i = Math.round(f * (n - 1));
      return { index: Math.floor(i / bucketSize), label: dayLabel((intervals[i] as IntervalSummary).localTime) };
    })
  );
}

/** Mean energy per local hour of day, kWh, for each flow. */
function hourlyProfile(
  result: SimulationResult,
): Record<"traded" | "toGrid" | "fromGrid" | "production" | "consumption", number[]> {
  const sums = { traded: [], toGrid: [], fromGrid: [], production: [], consumption: [] } as Record<string, bigint[]>;
  for (const key of Object.keys(sums)) sums[key] = Array.from({ length: 24 }, () => 0n);
  const counts = Array.from({ length: 24 }, () => 0n);
  for (const row of result.intervals) {
    const hour = Number(row.localTime.slice(11, 13));
    if (!(hour >= 0 && hour < 24)) continue;
    counts[hour] = (counts[hour] as bigint) + 1n;
    const add = (key: string, wh: bigint) => {
      const list = sums[key] as bigint[];
      list[hour] = (list[hour] as bigint) + wh;
    };
    add("traded", row.tradedWh);
    add("toGrid", row.toGridWh);
    add("fromGrid", row.fromGridWh);
    add("production", row.productionWh);
    add("consumption", row.consumptionWh);
  }
  const seconds = result.scenario.intervalSeconds > 0n ? result.scenario.intervalSeconds : 1n;
  // Mean Wh per hour = sum / count × intervals per hour; bigint until the final conversion for drawing.
  const mean = (list: bigint[]) =>
    list.map((sum, h) => {
      const count = counts[h] as bigint;
      return count === 0n ? 0 : Number((sum * 3600n) / (count * seconds)) / 1000;
    });
  return {
    traded: mean(sums.traded as bigint[]),
    toGrid: mean(sums.toGrid as bigint[]),
    fromGrid: mean(sums.fromGrid as bigint[]),
    production: mean(sums.production as bigint[]),
    consumption: mean(sums.consumption as bigint[]),
  };
}

// ---------------------------------------------------------------------------------------------
// HTML

const COLORS = {
  price: "#0062a3",
  band: "#0062a3",
  retail: "#a3001b",
  feedIn: "#00704a",
  traded: "#0062a3",
  toGrid: "#b34f00",
  fromGrid: "#6b6b6b",
  production: "#00704a",
  consumption: "#1a1a1a",
  positive: "#00704a",
  negative: "#a3001b",
  battery: "#5b2a86",
};

const h = escapeXml;

/** A value, or "—" with a title that says why it is missing. */
function orDash<T>(value: T | null, format: (v: T) => string, why: string): string {
  return value === null
    ? `<span class="na" title="${h(why)}">—<span class="sr-only"> (${h(why)})</span></span>`
    : h(format(value));
}

function card(title: string, value: string, note = ""): string {
  return `<li class="card"><h3>${h(title)}</h3><p class="value">${value}</p>${note ? `<p class="note">${note}</p>` : ""}</li>`;
}

function kpiCards(result: SimulationResult): string {
  const c = result.community;
  const noTrades = "no local trades in this run";
  const price = (p: bigint) => formatPriceMicroPerKwh(p);
  const credits = (m: bigint) => `${formatCreditsMicro(m)} credits`;
  const savingsClass = c.savingsMicro < 0n ? ' class="neg"' : "";
  return [
    card(
      "Savings vs grid-only",
      `<span${savingsClass}>${h(credits(c.savingsMicro))}</span>`,
      `${orDash(c.savingsBps, formatBps, "the grid-only bill is not positive, so a percentage is undefined")} of the grid-only bill (${h(credits(c.gridOnlyBillMicro))}); market bill ${h(credits(c.netCostMicro))}`,
    ),
    card(
      "Self-consumption",
      orDash(c.selfConsumptionBps, formatBps, "no PV production in this run"),
      "of local PV production used inside the community",
    ),
    card(
      "Self-sufficiency",
      orDash(c.selfSufficiencyBps, formatBps, "no consumption in this run"),
      "of consumption met inside the community",
    ),
    card(
      "Demand met locally",
      orDash(c.localShareOfDemandBps, formatBps, "no metered import in this run"),
      "of metered import bought from neighbours",
    ),
    card(
      "Production sold locally",
      orDash(c.localShareOfSupplyBps, formatBps, "no metered export in this run"),
      "of metered export sold to neighbours",
    ),
    card(
      "Peak grid power",
      `${h(formatPowerW(c.peakImportW))} <span class="unit">import</span>`,
      `${h(formatPowerW(c.peakExportW))} export (highest interval average)`,
    ),
    card(
      "Clearing price",
      `${orDash(c.meanPriceMicroPerKwh, price, noTrades)} <span class="unit">mean</span>`,
      `min ${orDash(c.minPriceMicroPerKwh, price, noTrades)}, max ${orDash(c.maxPriceMicroPerKwh, price, noTrades)}; mean weighted by traded energy`,
    ),
    card(
      "Gini of savings",
      orDash(
        c.savingsGiniBps,
        (g) => formatScaled(g, 4, 2),
        "undefined for these savings (e.g. too few households or no positive total)",
      ),
      "0 = everyone saves the same, 1 = one household saves everything",
    ),
    card(
      "CO₂ avoided",
      h(formatMassGrams(c.co2AvoidedGrams)),
      `grid energy not drawn × ${h(formatInteger(c.gridIntensityGPerKwh))} g/kWh`,
    ),
    card(
      "Gas per settled kWh",
      orDash(c.gasPerSettledKwh, formatInteger, "nothing was metered in this run"),
      `per traded kWh: ${orDash(c.gasPerTradedKwh, formatInteger, noTrades)}`,
    ),
    card("Total gas", h(formatInteger(c.gas)), "readings, settlements, order changes and escrow top-ups after onboarding"),
    card(
      "Energy traded locally",
      h(formatEnergyWh(c.tradedWh)),
      `production ${h(formatEnergyWh(c.productionWh))}, consumption ${h(formatEnergyWh(c.consumptionWh))}, to grid ${h(formatEnergyWh(c.toGridWh))}, from grid ${h(formatEnergyWh(c.fromGridWh))}`,
    ),
  ].join("\n");
}

function legend(items: readonly { label: string; color: string; kind: "box" | "line" | "dash" }[]): string {
  return `<ul class="legend">${items.map((i) => `<li><span class="sw ${i.kind}" style="--c:${i.color}"></span>${h(i.label)}</li>`).join("")}</ul>`;
}

function figure(id: string, heading: string, body: string, caption: string): string {
  return `<figure id="${id}" aria-labelledby="${id}-h"><h3 id="${id}-h">${h(heading)}</h3>${body}<figcaption>${caption}</figcaption></figure>`;
}

function priceFigure(result: SimulationResult): string {
  const { intervals, scenario } = result;
  const values = intervals.map((row) => (row.trades > 0 ? Number(row.priceMicroPerKwh) / 1e6 : null));
  const sampled = downsample(values, chartBucketSize(intervals.length, scenario.intervalSeconds));
  const bucketed = sampled.bucketSize > 1;
  const traded = values.filter((v) => v !== null).length;
  const svg = lineChartSvg({
    id: "price-chart",
    title: "Clearing price over time",
    description: `Hub clearing price in credits per kWh for ${intervals.length} intervals, ${traded} of them with local trades; retail ${formatPriceMicroPerKwh(scenario.retailMicroPerKwh)} and feed-in ${formatPriceMicroPerKwh(scenario.feedInMicroPerKwh)} shown as reference lines.`,
    yLabel: "credits / kWh",
    count: sampled.mean.length,
    xTicks: timeTicks(intervals, sampled.bucketSize),
    bands: bucketed ? [{ min: sampled.min, max: sampled.max, color: COLORS.band, opacity: 0.25 }] : [],
    series: [{ label: "clearing price", values: sampled.mean, color: COLORS.price, strokeWidth: bucketed ? 1.25 : 2 }],
    referenceLines: [
      { value: Number(scenario.retailMicroPerKwh) / 1e6, label: "retail", color: COLORS.retail },
      { value: Number(scenario.feedInMicroPerKwh) / 1e6, label: "feed-in", color: COLORS.feedIn },
    ],
  });
  const items: { label: string; color: string; kind: "box" | "line" | "dash" }[] = [
    { label: bucketed ? "clearing price (mean)" : "clearing price", color: COLORS.price, kind: "line" },
  ];
  if (bucketed) items.push({ label: "min–max range", color: "#9fc0d9", kind: "box" });
  items.push({ label: "retail", color: COLORS.retail, kind: "dash" }, { label: "feed-in", color: COLORS.feedIn, kind: "dash" });
  const note = bucketed
    ? ` Each point summarises ${sampled.bucketSize} intervals (${h(formatDurationSeconds(BigInt(sampled.bucketSize) * scenario.intervalSeconds))}): the line is the mean price of those with trades, the band their range.`
    : "";
  return figure(
    "fig-price",
    "Clearing price over time",
    svg + legend(items),
    `Clearing price at the hub in each interval, local time (${h(scenario.timeZone)}). Gaps are intervals without local trades.${note}`,
  );
}

function flowsFigure(result: SimulationResult): string {
  const p = hourlyProfile(result);
  const hours = Array.from({ length: 24 }, (_, i) => String(i).padStart(2, "0"));
  const lines: LineSeries[] = [
    { label: "production", values: p.production, color: COLORS.production, strokeWidth: 2.5 },
    { label: "consumption", values: p.consumption, color: COLORS.consumption, dash: "6 4", strokeWidth: 2 },
  ];
  const svg = stackedBarChartSvg({
    id: "flows-chart",
    title: "Energy flows by hour of day",
    description:
      "Mean energy per local hour of day in kWh: stacked bars of energy traded locally, sent to the grid and drawn from the grid; lines for PV production and consumption.",
    yLabel: "kWh per hour (mean)",
    unit: "kWh",
    categories: hours,
    labelEvery: 3,
    stacks: [
      { label: "traded locally", values: p.traded, color: COLORS.traded },
      { label: "to grid", values: p.toGrid, color: COLORS.toGrid },
      { label: "from grid", values: p.fromGrid, color: COLORS.fromGrid },
    ],
    lines,
  });
  return figure(
    "fig-flows",
    "Energy flows by hour of day",
    svg +
      legend([
        { label: "traded locally", color: COLORS.traded, kind: "box" },
        { label: "to grid", color: COLORS.toGrid, kind: "box" },
        { label: "from grid", color: COLORS.fromGrid, kind: "box" },
        { label: "production", color: COLORS.production, kind: "line" },
        { label: "consumption", color: COLORS.consumption, kind: "dash" },
      ]),
    `Mean over the run of the community's energy in each local hour (${h(result.scenario.timeZone)}), kWh. Bars stack the three settled flows; lines show PV production and consumption behind the meters.`,
  );
}

function savingsFigure(result: SimulationResult): string {
  const sorted = [...result.households].sort(bySavingsDescending);
  const values = sorted.map((hh) => Number(hh.savingsMicro) / 1e6);
  const losers = sorted.filter((hh) => hh.savingsMicro < 0n).length;
  const best = sorted[0];
  const worst = sorted[sorted.length - 1];
  const description =
    best && worst
      ? `Savings against grid-only for ${sorted.length} households, highest first: from ${formatCreditsMicro(best.savingsMicro)} credits (${best.name}) to ${formatCreditsMicro(worst.savingsMicro)} credits (${worst.name}); ${losers} household(s) pay more than without the market.`
      : "No households.";
  const svg = signedBarChartSvg({
    id: "savings-chart",
    title: "Savings per household",
    description,
    yLabel: "credits",
    xLabel: `${sorted.length} households, highest savings first`,
    values,
    positiveColor: COLORS.positive,
    negativeColor: COLORS.negative,
  });
  return figure(
    "fig-savings",
    "Savings per household",
    svg +
      legend([
        { label: "saves", color: COLORS.positive, kind: "box" },
        { label: "pays more than grid-only", color: COLORS.negative, kind: "box" },
      ]),
    `Grid-only bill minus market bill for each household, sorted from highest to lowest. ${losers === 0 ? "Every household saves or breaks even." : `${losers} household${losers === 1 ? "" : "s"} below the axis pay${losers === 1 ? "s" : ""} more than without the market.`}`,
  );
}

function batteryFigure(result: SimulationResult): string {
  const { intervals, scenario } = result;
  if (!intervals.some((row) => row.batteryStoredWh !== 0n)) {
    return figure(
      "fig-battery",
      "Battery state over time",
      `<p class="empty">No batteries in this scenario (stored energy is zero in every interval).</p>`,
      "Total energy stored in all batteries at the end of each interval.",
    );
  }
  const sampled = downsample(
    intervals.map((row) => Number(row.batteryStoredWh) / 1000),
    chartBucketSize(intervals.length, scenario.intervalSeconds),
  );
  const bucketed = sampled.bucketSize > 1;
  let peakWh = 0n;
  for (const row of intervals) if (row.batteryStoredWh > peakWh) peakWh = row.batteryStoredWh;
  const svg = lineChartSvg({
    id: "battery-chart",
    title: "Battery state over time",
    description: `Total energy stored in all batteries at the end of each interval, kWh; highest ${formatEnergyWh(peakWh)}.`,
    yLabel: "stored kWh",
    count: sampled.mean.length,
    xTicks: timeTicks(intervals, sampled.bucketSize),
    bands: bucketed ? [{ min: sampled.min, max: sampled.max, color: COLORS.battery, opacity: 0.2 }] : [],
    series: [{ label: "stored", values: sampled.mean, color: COLORS.battery, strokeWidth: bucketed ? 1.25 : 2 }],
  });
  const items: { label: string; color: string; kind: "box" | "line" | "dash" }[] = [
    { label: bucketed ? "stored energy (mean)" : "stored energy", color: COLORS.battery, kind: "line" },
  ];
  if (bucketed) items.push({ label: "min–max range", color: "#cdbfdb", kind: "box" });
  return figure(
    "fig-battery",
    "Battery state over time",
    svg + legend(items),
    `Total energy stored in all batteries at the end of each interval, local time (${h(scenario.timeZone)}).${bucketed ? ` Each point summarises ${sampled.bucketSize} intervals (${h(formatDurationSeconds(BigInt(sampled.bucketSize) * scenario.intervalSeconds))}): the line is their mean, the band their range.` : ""}`,
  );
}

function bySavingsDescending(a: HouseholdSummary, b: HouseholdSummary): number {
  if (a.savingsMicro !== b.savingsMicro) return a.savingsMicro > b.savingsMicro ? -1 : 1;
  return a.index - b.index;
}

function householdRow(hh: HouseholdSummary): string {
  const num = (text: string, extra = "") => `<td class="num${extra}">${text}</td>`;
  const money = (m: bigint) => num(h(formatCreditsMicro(m)), m < 0n ? " neg" : "");
  return (
    `<tr><th scope="row">${h(hh.name)}</th>` +
    num(String(hh.zone)) +
    `<td>${h(hh.strategy)}</td>` +
    num(h(String(hh.pvKwp))) +
    num(h(String(hh.batteryKwh))) +
    `<td>${hh.hasEv ? "yes" : "no"}</td>` +
    num(h(formatKwhNumber(hh.consumptionWh))) +
    num(h(formatKwhNumber(hh.productionWh))) +
    num(h(formatKwhNumber(hh.boughtLocalWh))) +
    num(h(formatKwhNumber(hh.soldLocalWh))) +
    money(hh.netCostMicro) +
    money(hh.gridOnlyBillMicro) +
    money(hh.savingsMicro) +
    num(orDash(hh.selfConsumptionBps, formatBps, "no PV production")) +
    num(orDash(hh.selfSufficiencyBps, formatBps, "no consumption")) +
    "</tr>"
  );
}

function householdsTable(result: SimulationResult): string {
  const all = result.households;
  const headers = [
    ["Household", ""],
    ["Zone", "num"],
    ["Strategy", ""],
    ["PV kWp", "num"],
    ["Battery kWh", "num"],
    ["EV", ""],
    ["Con&shy;sumption kWh", "num"],
    ["Pro&shy;duction kWh", "num"],
    ["Bought local kWh", "num"],
    ["Sold local kWh", "num"],
    ["Bill credits", "num"],
    ["Grid-only bill credits", "num"],
    ["Savings credits", "num"],
    ["Self-con&shy;sumption", "num"],
    ["Self-suf&shy;ficiency", "num"],
  ];
  // Labels are trusted constants with soft hyphens so the narrow numeric columns can wrap.
  const head = `<thead><tr>${headers.map(([label, cls]) => `<th scope="col"${cls ? ` class="${cls}"` : ""}>${label}</th>`).join("")}</tr></thead>`;
  let body: string;
  let caption: string;
  if (all.length > MAX_TABLE_HOUSEHOLDS) {
    const sorted = [...all].sort(bySavingsDescending);
    const top = sorted.slice(0, TABLE_EDGE_ROWS);
    const bottom = sorted.slice(sorted.length - TABLE_EDGE_ROWS);
    const hidden = sorted.length - top.length - bottom.length;
    body =
      `<tbody>${top.map(householdRow).join("\n")}</tbody>` +
      `<tbody><tr class="gap"><td colspan="${headers.length}">… ${formatInteger(BigInt(hidden))} households not shown — households.csv has all ${formatInteger(BigInt(all.length))}.</td></tr></tbody>` +
      `<tbody>${bottom.map(householdRow).join("\n")}</tbody>`;
    caption = `The ${TABLE_EDGE_ROWS} households with the highest and the ${TABLE_EDGE_ROWS} with the lowest savings, of ${formatInteger(BigInt(all.length))}; households.csv has all of them.`;
  } else {
    body = `<tbody>${all.map(householdRow).join("\n")}</tbody>`;
    caption = `All ${all.length} households. Energy in kWh, money in credits; the same data with every field is in households.csv.`;
  }
  return `<div class="table-wrap" role="region" aria-labelledby="households-caption" tabindex="0"><table><caption id="households-caption">${h(caption)}</caption>${head}${body}</table></div>`;
}

function facts(result: SimulationResult): string {
  const { scenario, community, intervals } = result;
  const first = intervals[0];
  const last = intervals[intervals.length - 1];
  const local = (t: string) => t.replace("T", " ");
  const days = (scenario.endsAt - scenario.startsAt) / 86_400n;
  const period =
    first && last
      ? `${h(local(first.localTime))} to ${h(local(last.localTime))} <span class="unit">(interval starts, ${h(scenario.timeZone)}; ${h(formatInteger(BigInt(intervals.length)))} intervals${days > 0n ? `, ${h(formatInteger(days))} day${days === 1n ? "" : "s"}` : ""})</span>`
      : `no intervals <span class="unit">(${h(scenario.timeZone)})</span>`;
  const rows: [string, string][] = [
    ["Seed", `<code>${h(scenario.seed)}</code>`],
    ["Period", period],
    ["Households", h(formatInteger(BigInt(community.households)))],
    ["Interval length", h(formatDurationSeconds(scenario.intervalSeconds))],
    ["Retail tariff", h(formatPriceMicroPerKwh(scenario.retailMicroPerKwh))],
    ["Feed-in tariff", h(formatPriceMicroPerKwh(scenario.feedInMicroPerKwh))],
    ["Grid intensity", `${h(formatInteger(community.gridIntensityGPerKwh))} g CO₂/kWh`],
  ];
  return `<dl class="facts">${rows.map(([k, v]) => `<div><dt>${h(k)}</dt><dd>${v}</dd></div>`).join("")}</dl>`;
}

const CSS = `
:root{color-scheme:light;--fg:#1a1a1a;--muted:#4d4d4d;--line:#d0d0d0;--bg2:#f4f6f8;--neg:#a3001b}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff;line-height:1.45}
header,main,footer{max-width:72rem;margin:0 auto;padding:0 1rem}
header{padding-top:1.5rem}
.kicker{margin:0;color:var(--muted);font-size:.9rem;text-transform:uppercase;letter-spacing:.05em}
h1{margin:.2rem 0 1rem;font-size:1.9rem;line-height:1.2;overflow-wrap:anywhere}
h2{margin:2rem 0 .75rem;font-size:1.4rem;border-bottom:2px solid var(--line);padding-bottom:.25rem}
h3{margin:0 0 .4rem;font-size:1rem}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.5rem 1.5rem;margin:0}
.facts div{display:flex;flex-direction:column}
.facts dt{font-size:.85rem;color:var(--muted)}
.facts dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.unit{font-weight:400;color:var(--muted);font-size:.85em}
.cards{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,15rem),1fr));gap:.75rem}
.card{background:var(--bg2);border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem}
.card h3{font-size:.9rem;color:var(--muted);font-weight:600}
.card .value{margin:0;font-size:1.45rem;font-weight:700;font-variant-numeric:tabular-nums}
.card .note{margin:.3rem 0 0;font-size:.85rem;color:var(--muted)}
.neg{color:var(--neg)}
.na{cursor:help;position:relative}
.sr-only{position:absolute;left:0;top:0;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
figure{margin:0 0 2rem;padding:1rem;border:1px solid var(--line);border-radius:.5rem;break-inside:avoid}
figure svg{display:block;width:100%;height:auto;max-height:26rem}
figcaption{font-size:.9rem;color:var(--muted);margin-top:.5rem}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;padding:0;margin:.5rem 0 0;font-size:.9rem}
.legend li{display:flex;align-items:center;gap:.4rem}
.sw{display:inline-block;width:1.1rem;flex:none}
.sw.box{height:.8rem;background:var(--c)}
.sw.line{height:0;border-top:3px solid var(--c)}
.sw.dash{height:0;border-top:3px dashed var(--c)}
.empty{padding:2rem 1rem;text-align:center;background:var(--bg2);margin:0}
.table-wrap{position:relative;overflow-x:auto;border:1px solid var(--line);border-radius:.5rem}
.table-wrap:focus{outline:3px solid #0062a3;outline-offset:2px}
table{border-collapse:collapse;width:100%;font-size:.84rem;hyphens:manual;font-variant-numeric:tabular-nums}
caption{text-align:left;padding:.5rem .75rem;color:var(--muted)}
th,td{padding:.35rem .4rem;border-bottom:1px solid var(--line);white-space:nowrap;text-align:left}
thead th{background:var(--bg2);vertical-align:bottom;white-space:normal}
tbody th{font-weight:600}
.num{text-align:right}
tbody tr:nth-child(even){background:#fafafa}
tr.gap td{text-align:center;font-style:italic;color:var(--muted);background:#fff}
.howto dt{font-weight:700;margin-top:.75rem}
.howto dd{margin:.2rem 0 0}
footer{margin:2rem auto;color:var(--muted);font-size:.85rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.95em}
@media (max-width:40rem){header,main,footer{padding:0 .6rem}.cards{grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.5rem}.card{padding:.6rem .7rem}h1{font-size:1.5rem}.card .value{font-size:1.25rem}figure{padding:.5rem .25rem}figure h3,figcaption,.legend{padding:0 .25rem}figure svg text{font-size:22px}}
@media print{
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  body{font-size:10pt}
  header,main,footer{max-width:none;padding:0}
  .table-wrap{overflow:visible;border:0}
  thead{display:table-header-group}
  tr,.card{break-inside:avoid}
  h2{break-after:avoid}
  figure svg{max-height:none}
}
`
  .trim()
  .replace(/\n\s*/g, "\n");

/**
 * The self-contained `report.html`: scenario facts, community KPI cards, four inline SVG charts
 * (clearing price, flows by hour of day, savings per household, battery state), the households table
 * and how to read it. No scripts and no external resources; deterministic.
 *
 * @example
 * const html = renderReportHtml(result);
 * await writeFile("report.html", html);
 */
export function renderReportHtml(result: SimulationResult): string {
  const { scenario } = result;
  const name = h(scenario.name);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name} — PeerGrid simulation report</title>
<style>
${CSS}
</style>
</head>
<body>
<header>
<p class="kicker">PeerGrid simulation report</p>
<h1>${name}</h1>
${facts(result)}
</header>
<main>
<section aria-labelledby="kpis">
<h2 id="kpis">Community results</h2>
<ul class="cards">
${kpiCards(result)}
</ul>
</section>
<section aria-labelledby="charts">
<h2 id="charts">Charts</h2>
${priceFigure(result)}
${flowsFigure(result)}
${savingsFigure(result)}
${batteryFigure(result)}
</section>
<section aria-labelledby="households">
<h2 id="households">Households</h2>
${householdsTable(result)}
</section>
<section aria-labelledby="howto" class="howto">
<h2 id="howto">How to read this report</h2>
<dl>
<dt>Grid-only baseline</dt>
<dd>What each household would pay without the market: it buys all its metered import at the retail tariff (${h(formatPriceMicroPerKwh(scenario.retailMicroPerKwh))}) and sells all its metered export at the feed-in tariff (${h(formatPriceMicroPerKwh(scenario.feedInMicroPerKwh))}). Savings are that bill minus the bill on the market; a negative saving means the household paid more.</dd>
<dt>Self-consumption and self-sufficiency</dt>
<dd>For the community: the share of PV production used inside the community, and the share of consumption met inside it (own PV, batteries and neighbours). For a household: the same shares measured at its own meter.</dd>
<dt>CO₂ avoided</dt>
<dd>Grid energy the community did not draw (consumption minus energy from the grid) times the assumed grid intensity of ${h(formatInteger(result.community.gridIntensityGPerKwh))} g CO₂ per kWh.</dd>
<dt>Gas per settled kWh</dt>
<dd>All gas of the run (meter readings, settlements, order changes and escrow top-ups, after onboarding) divided by the settled energy, where every metered Wh — import and export — is settled, locally or with the grid. Gas per traded kWh divides the same gas by the energy traded between neighbours only.</dd>
<dt>Missing values</dt>
<dd>A dash (—) marks a share or price that is undefined for this run, e.g. a share of production when nothing was produced; hover over it for the reason.</dd>
</dl>
</section>
</main>
<footer>
<p>Generated by <code>peergrid simulate</code>. The files beside this report hold the full data: <code>summary.json</code> (scenario, community and households), <code>intervals.csv</code> (every interval) and <code>households.csv</code> (every household).</p>
</footer>
</body>
</html>
`;
}
