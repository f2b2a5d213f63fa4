import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chartBucketSize, csvCell, downsample, householdsCsv, intervalsCsv, renderReportHtml, summaryJson } from "./report.ts";
import {
  formatBps,
  formatCreditsMicro,
  formatEnergyWh,
  formatMassGrams,
  formatPriceMicroPerKwh,
  formatScaled,
} from "./reportFormat.ts";
import type { HouseholdSummary, IntervalSummary, SimulationResult, StrategyName } from "./result.ts";
import { writeReport } from "./writeReport.ts";

const START = 1_781_481_600n; // 2026-06-15T00:00:00Z

/** A deterministic synthetic run: a PV bell around noon, evening demand, trades while PV exceeds demand. */
function syntheticResult(options: { days: number; households: number; batteries?: boolean }): SimulationResult {
  const perDay = 96;
  const n = options.days * perDay;
  const intervals: IntervalSummary[] = [];
  for (let i = 0; i < n; i++) {
    const slot = i % perDay;
    const hour = Math.floor(slot / 4);
    const minute = (slot % 4) * 15;
    const day = Math.floor(i / perDay);
    const date = new Date(Date.UTC(2026, 5, 15 + day));
    const localTime = `${date.toISOString().slice(0, 10)}T${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
    const sun = Math.max(0, Math.sin(((slot - 24) / 48) * Math.PI));
    const productionWh = BigInt(Math.round(sun * 40_000 * options.households * 0.05));
    const consumptionWh = BigInt(1_000 * options.households + ((slot * 37) % 500));
    // Some households export while others import, so there is local trade whenever the sun shines.
    const exportWh = (productionWh * 6n) / 10n;
    const importWh = consumptionWh / 2n;
    const tradedWh = exportWh < importWh ? exportWh : importWh;
    const trades = tradedWh > 0n ? 3 : 0;
    intervals.push({
      interval: BigInt(i),
      startsAt: START + BigInt(i) * 900n,
      localTime,
      priceMicroPerKwh: trades > 0 ? 150_000n + BigInt((i * 7919) % 60_000) : 0n,
      productionWh,
      consumptionWh,
      exportWh,
      importWh,
      tradedWh,
      toGridWh: exportWh - tradedWh,
      fromGridWh: importWh - tradedWh,
      batteryStoredWh: options.batteries ? BigInt(Math.round(sun * 20_000)) : 0n,
      trades,
      gas: 150_000n + BigInt(trades) * 40_000n,
      boundZones: i % 50 === 0 ? [1, 2] : [],
    });
  }
  const strategies: StrategyName[] = ["fixed", "zi", "adaptive"];
  const households: HouseholdSummary[] = [];
  for (let k = 0; k < options.households; k++) {
    const hasPv = k % 5 !== 4;
    const savingsMicro = BigInt(((k * 7_654_321) % 40_000_000) - 8_000_000);
    households.push({
      index: k,
      name: k === 0 ? 'Villa "Sonne", Nord' : `House ${k}`,
      zone: k % 3,
      strategy: strategies[k % 3] as StrategyName,
      pvKwp: hasPv ? 4.5 : 0,
      batteryKwh: options.batteries && k % 2 === 0 ? 10 : 0,
      hasEv: k % 4 === 0,
      productionWh: hasPv ? 3_000_000n + BigInt(k) : 0n,
      consumptionWh: 2_500_000n,
      exportWh: hasPv ? 1_200_000n : 0n,
      importWh: 700_000n,
      soldLocalWh: hasPv ? 800_000n : 0n,
      boughtLocalWh: 300_000n,
      soldGridWh: hasPv ? 400_000n : 0n,
      boughtGridWh: 400_000n,
      paidMicro: 140_000_000n,
      earnedMicro: 100_000_000n,
      netCostMicro: 40_000_000n - savingsMicro,
      gridOnlyBillMicro: 40_000_000n,
      savingsMicro,
      selfConsumptionBps: hasPv ? 6_000n : null,
      selfSufficiencyBps: 7_200n,
      peakImportW: 5_400n,
      peakExportW: hasPv ? 3_900n : 0n,
    });
  }
  return {
    scenario: {
      name: "Sunny <street> & co",
      seed: "42",
      timeZone: "Europe/Berlin",
      startsAt: START,
      endsAt: START + BigInt(n) * 900n,
      intervalSeconds: 900n,
      retailMicroPerKwh: 300_000n,
      feedInMicroPerKwh: 80_000n,
    },
    community: {
      households: options.households,
      intervals: n,
      productionWh: 12_345_678n,
      consumptionWh: 23_456_789n,
      exportWh: 5_000_000n,
      importWh: 16_000_000n,
      tradedWh: 4_000_000n,
      toGridWh: 1_000_000n,
      fromGridWh: 12_000_000n,
      selfConsumptionBps: 9_190n,
      selfSufficiencyBps: 4_884n,
      localShareOfDemandBps: 2_500n,
      localShareOfSupplyBps: 8_000n,
      peakImportW: 123_456n,
      peakExportW: 45_678n,
      minPriceMicroPerKwh: 150_000n,
      meanPriceMicroPerKwh: 187_654n,
      maxPriceMicroPerKwh: 209_999n,
      netCostMicro: 3_000_000_000n,
      gridOnlyBillMicro: 3_456_789_012n,
      savingsMicro: 456_789_012n,
      savingsBps: 1_321n,
      savingsGiniBps: null,
      gridIntensityGPerKwh: 380n,
      co2AvoidedGrams: 4_353_579n,
      gas: 123_456_789n,
      gasPerSettledKwh: 5_785n,
      gasPerTradedKwh: null,
    },
    households,
    intervals,
  };
}

describe("reportFormat", () => {
  it("formats with bigint arithmetic, rounding half away from zero", () => {
    expect(formatScaled(1_234_567n, 3, 1)).toBe("1,234.6");
    expect(formatScaled(-5n, 3, 3)).toBe("−0.005");
    expect(formatScaled(-4n, 3, 2)).toBe("0.00");
    expect(formatScaled(2n ** 70n, 6, 2)).toBe("1,180,591,620,717,411.30");
    expect(formatPriceMicroPerKwh(250_000n)).toBe("0.25 /kWh");
    expect(formatPriceMicroPerKwh(94_400n)).toBe("0.0944 /kWh");
    expect(formatPriceMicroPerKwh(1_000_000n)).toBe("1.00 /kWh");
    expect(formatPriceMicroPerKwh(123_000n)).toBe("0.123 /kWh");
    expect(formatEnergyWh(12_345n)).toBe("12.3 kWh");
    expect(formatEnergyWh(999_949n)).toBe("999.9 kWh");
    expect(formatEnergyWh(999_950n)).toBe("1.00 MWh");
    expect(formatEnergyWh(1_234_567_890n)).toBe("1,234.57 MWh");
    expect(formatCreditsMicro(-1_234_567_890n)).toBe("−1,234.57");
    expect(formatBps(4_250n)).toBe("42.5 %");
    expect(formatMassGrams(123_456n)).toBe("123.5 kg");
    expect(formatMassGrams(12_345_678n)).toBe("12.35 t");
  });
});

describe("renderReportHtml", () => {
  const result = syntheticResult({ days: 2, households: 5, batteries: true });
  const html = renderReportHtml(result);

  it("is self-contained: no scripts, stylesheets, images or external references", () => {
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
  });

  it("has each chart's figure with an accessible SVG", () => {
    for (const id of ["fig-price", "fig-flows", "fig-savings", "fig-battery"]) expect(html).toContain(`<figure id="${id}"`);
    expect(html.match(/<svg [^>]*role="img"/g)?.length).toBe(4);
    expect(html.match(/<figcaption>/g)?.length).toBe(4);
    expect(html).toContain('<svg viewBox="0 0 640 340" width="100%"');
  });

  it("escapes names and formats the numbers", () => {
    expect(html).toContain("<h1>Sunny &lt;street&gt; &amp; co</h1>");
    expect(html).toContain("Villa &quot;Sonne&quot;, Nord");
    expect(html).toContain("0.30 /kWh");
    expect(html).toContain("0.08 /kWh");
    expect(html).toContain("456.79 credits");
    expect(html).toContain("13.2 %");
    expect(html).toContain("4.35 t");
    expect(html).toContain("123,456,789");
    expect(html).toContain("123.5 kW");
    expect(html).toContain("2026-06-15 00:00 to 2026-06-16 23:45");
    expect(html).toContain("Europe/Berlin");
    expect(html).toContain("15 min");
    // Null KPIs and household shares are a dash with a reason.
    expect(html).toMatch(/<span class="na" title="no local trades in this run">—/);
    expect(html).toMatch(/<span class="na" title="no PV production">—/);
    expect(html).toContain('<th scope="col"');
    expect(html).toContain('<th scope="row"');
  });

  it("says when there are no batteries", () => {
    const none = renderReportHtml(syntheticResult({ days: 1, households: 3 }));
    expect(none).toContain("No batteries in this scenario");
    expect(none.match(/<svg /g)?.length).toBe(3);
  });

  it("renders an empty run without failing", () => {
    const empty = { ...syntheticResult({ days: 1, households: 0 }), intervals: [] };
    const page = renderReportHtml(empty);
    expect(page).toContain("no intervals");
    expect(page).toContain("No batteries in this scenario");
    expect(intervalsCsv(empty).split("\n")).toHaveLength(2);
    expect(JSON.parse(summaryJson(empty)).households).toEqual([]);
  });

  it("is deterministic", () => {
    expect(renderReportHtml(syntheticResult({ days: 2, households: 5, batteries: true }))).toBe(html);
  });

  it("stays small for a year of 100 households and lists best and worst of many households", () => {
    const year = syntheticResult({ days: 365, households: 100, batteries: true });
    expect(year.intervals.length).toBe(35_040);
    const big = renderReportHtml(year);
    expect(Buffer.byteLength(big)).toBeLessThan(2_000_000);
    expect(big).toContain("Each point summarises 96 intervals (1 day)");

    const many = renderReportHtml(syntheticResult({ days: 1, households: 250 }));
    expect(many.match(/<tr><th scope="row">/g)?.length).toBe(200);
    expect(many).toContain("50 households not shown — households.csv has all 250");
  });
});

describe("summaryJson", () => {
  const result = syntheticResult({ days: 2, households: 5 });
  const json = summaryJson(result);

  it("has scenario, community and households with bigints as strings, nulls kept, no intervals", () => {
    const parsed = JSON.parse(json);
    expect(Object.keys(parsed)).toEqual(["scenario", "community", "households"]);
    expect(parsed.scenario.startsAt).toBe(START.toString());
    expect(parsed.community.savingsMicro).toBe("456789012");
    expect(parsed.community.savingsBps).toBe("1321");
    expect(parsed.community.savingsGiniBps).toBeNull();
    expect(parsed.community.households).toBe(5);
    expect(parsed.households).toHaveLength(5);
    expect(parsed.households[4].selfConsumptionBps).toBeNull();
    expect(parsed.households[0].pvKwp).toBe(4.5);
    expect(Object.keys(parsed.households[0])).toEqual(Object.keys(result.households[0] as object));
    expect(Object.keys(parsed.community)).toEqual(Object.keys(result.community));
    expect(json).toContain('\n  "scenario": {\n    "name"');
    expect(json.endsWith("}\n")).toBe(true);
  });

  it("orders keys by the type, not by the input object", () => {
    const shuffled = { ...result, scenario: { ...result.scenario } };
    const { name, ...rest } = shuffled.scenario;
    const reordered = { ...result, scenario: { ...rest, name } };
    expect(summaryJson(reordered)).toBe(json);
  });
});

describe("CSV", () => {
  const result = syntheticResult({ days: 2, households: 5 });

  it("intervals.csv has a header and one row per interval", () => {
    const text = intervalsCsv(result);
    const lines = text.split("\n");
    expect(text.endsWith("\n")).toBe(true);
    expect(text).not.toContain("\r");
    expect(lines.length - 1).toBe(1 + 192);
    expect(lines[0]).toBe(
      "interval,startsAt,localTime,priceMicroPerKwh,productionWh,consumptionWh,exportWh,importWh,tradedWh,toGridWh,fromGridWh,batteryStoredWh,trades,gas,boundZones",
    );
    expect(lines[1]?.startsWith(`0,${START},2026-06-15T00:00,0,`)).toBe(true);
    expect(lines[1]?.endsWith(",1;2")).toBe(true);
    expect(lines[2]?.endsWith(",")).toBe(true);
  });

  it("households.csv quotes names and leaves nulls empty", () => {
    const lines = householdsCsv(result).split("\n");
    expect(lines.length - 1).toBe(1 + 5);
    expect(lines[0]?.split(",")).toHaveLength(24);
    expect(lines[1]?.startsWith('0,"Villa ""Sonne"", Nord",0,fixed,4.5,0,true,')).toBe(true);
    expect(lines[5]).toContain(",,7200,");
    expect(csvCell("a\nb")).toBe('"a\nb"');
    expect(csvCell(null)).toBe("");
  });
});

describe("downsample", () => {
  it("reduces buckets to min, max and mean, keeping all-null buckets as gaps", () => {
    expect(downsample([1, 3, null, null, 5], 2)).toEqual({
      bucketSize: 2,
      min: [1, null, 5],
      max: [3, null, 5],
      mean: [2, null, 5],
    });
    expect(downsample([1, 2], 1).bucketSize).toBe(1);
  });

  it("buckets long runs into whole hours, days or weeks", () => {
    expect(chartBucketSize(192, 900n)).toBe(1);
    expect(chartBucketSize(1_500, 900n)).toBe(1);
    expect(chartBucketSize(2_880, 900n)).toBe(12); // a month: 3 h
    expect(chartBucketSize(35_040, 900n)).toBe(96); // a year: 1 day
    expect(chartBucketSize(8_760, 3_600n)).toBe(24);
  });
});

describe("writeReport", () => {
  it("writes the four files atomically and nothing else", async () => {
    const dir = await mkdtemp(join(tmpdir(), "peergrid-report-"));
    try {
      const out = join(dir, "nested", "out");
      const result = syntheticResult({ days: 1, households: 3 });
      const { files } = await writeReport(out, result);
      expect(files).toEqual(["report.html", "summary.json", "intervals.csv", "households.csv"].map((f) => join(out, f)));
      expect((await readdir(out)).sort()).toEqual(["households.csv", "intervals.csv", "report.html", "summary.json"]);
      expect(await readFile(join(out, "summary.json"), "utf8")).toBe(summaryJson(result));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
