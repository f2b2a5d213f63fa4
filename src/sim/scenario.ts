/**
 * Scenario files for the community simulator (`peergrid simulate <scenario>`): the zod schema,
 * the parser for YAML and JSON, and the run's time bounds. Pure: no file access (see
 * `scenarioFile.ts` for loading a file and its measured profiles).
 */
import { parseDocument } from "yaml";
import { z } from "zod";
import { formatFieldPath, ScenarioError, type ScenarioProblem } from "./scenarioError.ts";
import { addCalendarDays, isTimeZone, localMidnight, parseCalendarDate } from "./timeZone.ts";

/**
 * How a household trades: `fixed` keeps one standing order at fixed prices, `zi` (zero
 * intelligence) draws random prices between feed-in and retail, `adaptive` moves its price by a
 * step towards the last clearing price.
 *
 * @example
 * const strategy: AgentStrategy = "zi";
 */
export type AgentStrategy = "fixed" | "zi" | "adaptive";

/**
 * How a home battery is operated: store surplus PV and discharge into the home's own load, or
 * also consider the market price.
 *
 * @example
 * const strategy: BatteryStrategy = "self-consumption";
 */
export type BatteryStrategy = "self-consumption" | "price-aware";

/**
 * A home battery.
 *
 * @example
 * const battery: BatterySpec = { capacityKwh: 10, powerKw: 5, strategy: "self-consumption" };
 */
export interface BatterySpec {
  capacityKwh: number;
  powerKw: number;
  strategy: BatteryStrategy;
}

/**
 * An electric vehicle charged at home: it arrives at `arriveHour` (local) needing `dailyKwh`.
 *
 * @example
 * const ev: EvSpec = { dailyKwh: 8, chargeKw: 11, arriveHour: 18 };
 */
export interface EvSpec {
  dailyKwh: number;
  chargeKw: number;
  arriveHour: number;
}

/**
 * One grid zone (a feeder or transformer area). `null` caps mean unlimited; a `null` fee means
 * the tariffs' `gridFeeMicroPerKwh`.
 *
 * @example
 * const zone: ZoneSpec = { id: 1, importCapWh: 50_000n, exportCapWh: null, feeMicroPerKwh: null };
 */
export interface ZoneSpec {
  /** 1…65535, unique in the scenario. */
  id: number;
  /** Most energy the zone may import from other zones per interval, Wh; null: unlimited. */
  importCapWh: bigint | null;
  /** Most energy the zone may export to other zones per interval, Wh; null: unlimited. */
  exportCapWh: bigint | null;
  /** Fee per kWh of community trades this zone imports from other zones, micro units; null: the tariffs' grid fee. */
  feeMicroPerKwh: bigint | null;
}

/**
 * Households drawn at random (from the scenario's seed) instead of listed one by one.
 *
 * @example
 * const generated: GeneratedHouseholds = {
 *   count: 37, pvShare: 0.35, pvKwp: { min: 3, max: 10 }, annualKwh: { median: 3400, sigma: 0.3 },
 *   battery: null, ev: null, zones: [1], strategies: { fixed: 1, zi: 0, adaptive: 0 },
 * };
 */
export interface GeneratedHouseholds {
  /** Number of homes, 1…10,000. */
  count: number;
  /** Fraction of homes with PV, 0…1. */
  pvShare: number;
  /** PV size of a home with PV, drawn uniformly between min and max, kWp. */
  pvKwp: { min: number; max: number };
  /** Annual consumption: lognormal with this median (kWh) and σ of its logarithm. */
  annualKwh: { median: number; sigma: number };
  /** Fraction of homes with a battery, and its size; null: no batteries. */
  battery: (BatterySpec & { share: number }) | null;
  /** Fraction of homes with an EV, and its needs; null: no EVs. */
  ev: (EvSpec & { share: number }) | null;
  /** Zones the homes are spread over (round robin), each a declared zone id. */
  zones: number[];
  /** Relative shares of the agent strategies (need not sum to 1). */
  strategies: { fixed: number; zi: number; adaptive: number };
}

/**
 * One household of a listed community.
 *
 * @example
 * const home: HouseholdEntry = {
 *   name: "Bakery", annualKwh: 12_000, pvKwp: 20, tiltDeg: 15, azimuthDeg: 180, zone: 1,
 *   strategy: "fixed", battery: null, ev: null, profileCsv: null,
 * };
 */
export interface HouseholdEntry {
  /** Display name; null: the simulator names it ("House 01", …). */
  name: string | null;
  /**
   * Annual consumption, kWh. Without `profileCsv` it is required; with one it may be omitted, and
   * is then 0 after parsing (`loadScenario` fills in the profile's consumption scaled to a year).
   */
  annualKwh: number;
  /** PV peak power, kWp; 0: no PV. */
  pvKwp: number;
  /** Roof tilt from horizontal, 0…90°. */
  tiltDeg: number;
  /** Roof azimuth clockwise from north, 0…360° (180 = south). */
  azimuthDeg: number;
  /** A declared zone id. */
  zone: number;
  strategy: AgentStrategy;
  battery: BatterySpec | null;
  ev: EvSpec | null;
  /** Measured profile (CSV, relative to the scenario file), replacing the modelled load and PV. */
  profileCsv: string | null;
}

/**
 * A parsed scenario: every default filled in (only `description` may be undefined), money in
 * micro units and energy in Wh as bigint.
 *
 * @example
 * const scenario: Scenario = parseScenario(text, "scenarios/quartierstrom.yaml");
 * scenario.tariffs.retailMicroPerKwh; // 250000n
 */
export interface Scenario {
  name: string;
  description?: string;
  /** The same seed always gives the same households, weather and agent choices. */
  seed: string;
  location: { latitude: number; longitude: number; timeZone: string };
  /** First day "YYYY-MM-DD"; the run starts at local midnight. */
  start: string;
  /** Length of the run in days, 1…731. */
  days: number;
  /** Market interval, minutes; divides 1440. */
  intervalMinutes: number;
  tariffs: {
    /** What the utility charges per kWh bought from the grid, micro units; > feed-in. */
    retailMicroPerKwh: bigint;
    /** What the utility pays per kWh fed into the grid, micro units. */
    feedInMicroPerKwh: bigint;
    /** Fee per kWh a zone imports from other zones in community trades, and the default of every zone's fee, micro units. */
    gridFeeMicroPerKwh: bigint;
  };
  zones: ZoneSpec[];
  agents: {
    /** Prices of `fixed` agents; null: the simulator's default. */
    fixed: { askMicroPerKwh: bigint | null; bidMicroPerKwh: bigint | null };
    adaptive: { stepMicroPerKwh: bigint };
    /** How often `zi` and `adaptive` agents change their standing order, in intervals. */
    repriceEveryIntervals: number;
  };
  /** CO₂ intensity of grid electricity, g/kWh. */
  gridIntensityGPerKwh: bigint;
  /** Each household's opening escrow, micro units. */
  depositMicro: bigint;
  households: GeneratedHouseholds | HouseholdEntry[];
}

// ---------------------------------------------------------------------------------------------
// Field schemas

const share = z.number().min(0, "must be ≥ 0").max(1, "must be ≤ 1 (a fraction of the households)");
const nonNegative = z.number().min(0, "must be ≥ 0");
const positive = z.number().positive("must be > 0");
const between = (min: number, max: number) => z.number().min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`);
const wholeBetween = (min: number, max: number) => between(min, max).int("must be a whole number");
const zoneId = wholeBetween(1, 65_535);

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}

/**
 * A non-negative integer given as a JSON/YAML number (safe integer) or a string of digits
 * (underscores allowed, "100_000_000"), becoming a bigint.
 */
function wholeBigint(unit: string, minimum = 0n) {
  return z.unknown().transform((value, ctx): bigint => {
    const fail = (message: string) => {
      ctx.addIssue({ code: "custom", message, input: value });
      return z.NEVER;
    };
    let result: bigint;
    if (value === undefined) return fail("is required");
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) {
        const microHint =
          unit.startsWith("micro") && Number.isFinite(value) && !Number.isInteger(value) && Math.abs(value) < 1000
            ? `; amounts are in micro units, so ${value} credits is ${Math.round(value * 1_000_000)}`
            : "";
        return fail(`expected a whole number of ${unit}, got ${value}${microHint}`);
      }
      result = BigInt(value);
    } else if (typeof value === "string" && /^\d+(_\d+)*$/.test(value.trim())) {
      result = BigInt(value.trim().replaceAll("_", ""));
    } else {
      return fail(`expected a whole number of ${unit} (a number, or a string of digits), got ${describe(value)}`);
    }
    if (result < minimum) return fail(`must be ≥ ${minimum}`);
    return result;
  });
}

const micro = (minimum = 0n) => wholeBigint("micro units", minimum);
const microPerKwh = (minimum = 0n) => wholeBigint("micro units per kWh", minimum);

const batteryStrategy = z.enum(["self-consumption", "price-aware"]);
const agentStrategy = z.enum(["fixed", "zi", "adaptive"]);

const batteryFields = {
  capacityKwh: positive.default(10),
  powerKw: positive.default(5),
  strategy: batteryStrategy.default("self-consumption"),
};
const evFields = {
  dailyKwh: positive.default(8),
  chargeKw: positive.default(11),
  arriveHour: wholeBetween(0, 23).default(18),
};

const zoneSchema = z.strictObject({
  id: zoneId,
  importCapWh: wholeBigint("Wh").nullable().default(null),
  exportCapWh: wholeBigint("Wh").nullable().default(null),
  feeMicroPerKwh: microPerKwh().nullable().default(null),
});

const generatedSchema = z.strictObject({
  count: wholeBetween(1, 10_000),
  pvShare: share.default(0.75),
  pvKwp: z
    .strictObject({ min: nonNegative.default(3), max: nonNegative.default(10) })
    .refine((range) => range.min <= range.max, { message: "must be ≥ min", path: ["max"] })
    .prefault({}),
  annualKwh: z.strictObject({ median: positive.default(3400), sigma: nonNegative.default(0.3) }).prefault({}),
  battery: z
    .strictObject({ share, ...batteryFields })
    .nullable()
    .default(null),
  ev: z
    .strictObject({ share, ...evFields })
    .nullable()
    .default(null),
  zones: z.array(zoneId).min(1, "must list at least one zone id").optional(),
  strategies: z
    .strictObject({ fixed: nonNegative.default(0), zi: nonNegative.default(0), adaptive: nonNegative.default(0) })
    .refine((s) => s.fixed + s.zi + s.adaptive > 0, { message: "the shares must sum to more than 0" })
    .default({ fixed: 1, zi: 0, adaptive: 0 }),
});

const entrySchema = z
  .strictObject({
    name: z.string().min(1, "must not be empty").nullable().default(null),
    annualKwh: positive.optional(),
    pvKwp: nonNegative.default(0),
    tiltDeg: between(0, 90).default(30),
    azimuthDeg: between(0, 360).default(180),
    zone: zoneId.optional(),
    strategy: agentStrategy.default("fixed"),
    battery: z.strictObject(batteryFields).nullable().default(null),
    ev: z.strictObject(evFields).nullable().default(null),
    profileCsv: z.string().min(1, "must not be empty").nullable().default(null),
  })
  .superRefine((entry, ctx) => {
    if (entry.annualKwh === undefined && entry.profileCsv === null)
      ctx.addIssue({ code: "custom", path: ["annualKwh"], message: "is required unless profileCsv gives a measured profile" });
  });

const entryListSchema = z
  .array(entrySchema)
  .min(1, "must list at least one household")
  .max(10_000, "must list at most 10000 households");

type ParsedGenerated = z.output<typeof generatedSchema>;
type ParsedEntry = z.output<typeof entrySchema>;
type ParsedHouseholds =
  | { kind: "generated"; generated: ParsedGenerated }
  | { kind: "list"; path: (string | number)[]; entries: ParsedEntry[] };

/**
 * `households` is either `{ count: … }` (generated) or `{ list: [ … ] }` (a bare list works
 * too). Dispatching on the shape, rather than a zod union, reports the errors of the form the
 * author meant instead of "invalid input".
 */
const householdsSchema = z.unknown().transform((value, ctx): ParsedHouseholds => {
  const forward = (issues: readonly z.core.$ZodIssue[]) => {
    // As custom issues: zod lets issues that are all unknown keys through to later transforms,
    // which must never see the missing households.
    for (const issue of issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message, input: value });
    return z.NEVER;
  };
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  if (Array.isArray(value)) {
    const parsed = entryListSchema.safeParse(value, { error: scenarioErrorMap });
    return parsed.success ? { kind: "list", path: [], entries: parsed.data } : forward(parsed.error.issues);
  }
  if (isObject && "list" in value) {
    const parsed = z.strictObject({ list: entryListSchema }).safeParse(value, { error: scenarioErrorMap });
    return parsed.success ? { kind: "list", path: ["list"], entries: parsed.data.list } : forward(parsed.error.issues);
  }
  if (isObject) {
    const parsed = generatedSchema.safeParse(value, { error: scenarioErrorMap });
    return parsed.success ? { kind: "generated", generated: parsed.data } : forward(parsed.error.issues);
  }
  ctx.addIssue({
    code: "custom",
    input: value,
    message:
      value === undefined
        ? "is required: { count: … } to generate households, or { list: [ … ] } to describe each"
        : `expected { count: … } to generate households, or { list: [ … ] } to describe each, got ${describe(value)}`,
  });
  return z.NEVER;
});

const objectSchema = z.strictObject({
  name: z.string().trim().min(1, "must not be empty"),
  description: z.string().optional(),
  seed: z
    .union([z.string().min(1, "must not be empty"), z.number()], { error: "expected a string or a number" })
    .transform(String)
    .default("peergrid"),
  location: z.strictObject({
    latitude: between(-90, 90),
    longitude: between(-180, 180),
    timeZone: z.string().refine(isTimeZone, {
      error: (issue) => `unknown time zone ${describe(issue.input)}: use an IANA name such as "Europe/Berlin"`,
    }),
  }),
  start: z.string().refine((date) => parseCalendarDate(date) !== undefined, {
    error: (issue) => `expected a real calendar date "YYYY-MM-DD", got ${describe(issue.input)}`,
  }),
  days: wholeBetween(1, 731),
  intervalMinutes: wholeBetween(1, 1440)
    .refine((minutes) => 1440 % minutes === 0, { message: "must divide a day (1440) evenly, e.g. 5, 15, 30 or 60" })
    .default(15),
  tariffs: z.strictObject({
    retailMicroPerKwh: microPerKwh(),
    feedInMicroPerKwh: microPerKwh(),
    gridFeeMicroPerKwh: microPerKwh().default(0n),
  }),
  zones: z
    .array(zoneSchema)
    .min(1, "must declare at least one zone (or leave zones out for a single zone 1)")
    .default([{ id: 1, importCapWh: null, exportCapWh: null, feeMicroPerKwh: null }]),
  agents: z
    .strictObject({
      fixed: z
        .strictObject({
          askMicroPerKwh: microPerKwh().nullable().default(null),
          bidMicroPerKwh: microPerKwh().nullable().default(null),
        })
        .prefault({}),
      adaptive: z.strictObject({ stepMicroPerKwh: microPerKwh(1n).default(10_000n) }).prefault({}),
      repriceEveryIntervals: wholeBetween(1, 1_000_000).default(4),
    })
    .prefault({}),
  gridIntensityGPerKwh: wholeBigint("g/kWh").default(380n),
  depositMicro: micro().default(100_000_000n),
  households: householdsSchema,
});

type ParsedScenario = z.output<typeof objectSchema>;

function checkAcrossFields(s: ParsedScenario, ctx: z.RefinementCtx): void {
  const { retailMicroPerKwh, feedInMicroPerKwh } = s.tariffs;
  if (retailMicroPerKwh <= feedInMicroPerKwh)
    ctx.addIssue({
      code: "custom",
      path: ["tariffs", "retailMicroPerKwh"],
      message: `must be greater than feedInMicroPerKwh (${feedInMicroPerKwh}), otherwise a local market has nothing to gain`,
    });

  const firstIndexOfZone = new Map<number, number>();
  s.zones.forEach((zone, index) => {
    const first = firstIndexOfZone.get(zone.id);
    if (first === undefined) firstIndexOfZone.set(zone.id, index);
    else
      ctx.addIssue({
        code: "custom",
        path: ["zones", index, "id"],
        message: `zone ${zone.id} is declared twice (also zones[${first}])`,
      });
  });
  const undeclared = (id: number) =>
    `zone ${id} is not declared; declared zones: ${[...firstIndexOfZone.keys()].join(", ")} (add it under zones)`;
  if (s.households.kind === "generated") {
    s.households.generated.zones?.forEach((id, index) => {
      if (!firstIndexOfZone.has(id))
        ctx.addIssue({ code: "custom", path: ["households", "zones", index], message: undeclared(id) });
    });
  } else {
    const prefix = ["households", ...s.households.path];
    s.households.entries.forEach((entry, index) => {
      if (entry.zone !== undefined && !firstIndexOfZone.has(entry.zone))
        ctx.addIssue({ code: "custom", path: [...prefix, index, "zone"], message: undeclared(entry.zone) });
    });
  }

  // A daylight-saving change makes a day 23 or 25 hours: the run must still be whole intervals.
  const startsAt = localMidnight(s.start, s.location.timeZone);
  const endsAt = localMidnight(addCalendarDays(s.start, s.days), s.location.timeZone);
  const runMinutes = (endsAt - startsAt) / 60;
  if (runMinutes % s.intervalMinutes !== 0)
    ctx.addIssue({
      code: "custom",
      path: ["intervalMinutes"],
      message: `the run lasts ${runMinutes} minutes in ${s.location.timeZone} (a daylight-saving change), not a whole number of ${s.intervalMinutes}-minute intervals; use 60 minutes or less`,
    });
}

function fillDefaults(s: ParsedScenario): Scenario {
  const firstZone = s.zones[0]?.id ?? 1;
  const households: Scenario["households"] =
    s.households.kind === "generated"
      ? { ...s.households.generated, zones: s.households.generated.zones ?? [firstZone] }
      : s.households.entries.map((entry) => ({ ...entry, annualKwh: entry.annualKwh ?? 0, zone: entry.zone ?? firstZone }));
  const { description, ...rest } = s;
  return { ...rest, ...(description === undefined ? {} : { description }), households };
}

/**
 * The zod schema of a scenario file's content (after YAML/JSON decoding): strict objects (unknown
 * keys are errors), money and energy as bigint, defaults filled in, cross-field checks. Pass
 * `{ error: scenarioErrorMap }` to `safeParse` for the messages `parseScenario` gives.
 *
 * @example
 * const result = scenarioSchema.safeParse(JSON.parse(text), { error: scenarioErrorMap });
 * if (result.success) result.data.households;
 */
export const scenarioSchema: z.ZodType<Scenario, unknown> = objectSchema.superRefine(checkAcrossFields).transform(fillDefaults);

function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const byPrefix = known.find((candidate) => lower.length >= 3 && candidate.toLowerCase().startsWith(lower));
  if (byPrefix) return byPrefix;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Error messages for scenario files: "is required", "expected a number, got "abc"", and unknown
 * keys with the known key they most resemble.
 *
 * @example
 * scenarioSchema.safeParse(raw, { error: scenarioErrorMap });
 */
export const scenarioErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return `expected ${issue.expected === "int" ? "a whole number" : `a ${issue.expected}`}, got ${describe(issue.input)}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describe(issue.input)}`;
    case "unrecognized_keys": {
      const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
      const known = shape ? Object.keys(shape) : [];
      const described = issue.keys.map((key) => {
        const suggestion = closestKey(key, known);
        return suggestion ? `"${key}" (did you mean "${suggestion}"?)` : `"${key}"`;
      });
      const list = known.length > 0 ? `; allowed keys: ${known.join(", ")}` : "";
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${described.join(", ")}${list}`;
    }
    case "too_small":
      if (issue.origin === "array") return `must have at least ${issue.minimum} entries`;
      return undefined;
    case "too_big":
      if (issue.origin === "array") return `must have at most ${issue.maximum} entries`;
      return undefined;
    default:
      return undefined;
  }
};

/** YAML or JSON text to plain data, or a ScenarioError naming the line. */
function decode(text: string, fileName: string): unknown {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) {
    const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (document.errors.length > 0)
      throw new ScenarioError(
        fileName,
        document.errors.map((error) => ({
          path: "",
          message: `${error.linePos ? `line ${error.linePos[0].line}, column ${error.linePos[0].col}: ` : ""}${error.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "")}`,
        })),
        { hint: "fix the YAML syntax (indentation, a missing colon, an unclosed quote)" },
      );
    return document.toJS();
  }
  if (lower.endsWith(".json")) {
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new ScenarioError(fileName, [{ path: "", message: `not valid JSON: ${(cause as Error).message}` }], { cause });
    }
  }
  throw new ScenarioError(fileName, [{ path: "", message: "unknown file type" }], {
    hint: "give the scenario file the extension .yaml, .yml or .json",
  });
}

/**
 * Parses a scenario from the text of a YAML (`.yaml`, `.yml`) or JSON (`.json`) file; the name
 * picks the format and appears in errors. Throws a `ScenarioError` listing every bad field.
 *
 * @example
 * const scenario = parseScenario(
 *   "name: Street\nlocation: { latitude: 47.12, longitude: 9.31, timeZone: Europe/Zurich }\n" +
 *     "start: 2026-06-01\ndays: 7\ntariffs: { retailMicroPerKwh: 250000, feedInMicroPerKwh: 80000 }\n" +
 *     "households: { count: 37, pvShare: 0.35 }\n",
 *   "street.yaml",
 * );
 * scenario.intervalMinutes; // 15
 */
export function parseScenario(text: string, fileName: string): Scenario {
  const raw = decode(text, fileName);
  if (raw === null || raw === undefined)
    throw new ScenarioError(fileName, [{ path: "", message: "the file is empty" }], {
      hint: "start from one of the examples in scenarios/",
    });
  const result = scenarioSchema.safeParse(raw, { error: scenarioErrorMap });
  if (result.success) return result.data;
  const problems: ScenarioProblem[] = result.error.issues.map((issue) => ({
    path: formatFieldPath(issue.path),
    message: issue.message,
  }));
  throw new ScenarioError(fileName, problems);
}

/**
 * The run's time span: from local midnight of `start` to local midnight `days` later (so a
 * daylight-saving day lasts 23 or 25 hours), in intervals of `intervalMinutes`.
 *
 * @example
 * scenarioRunBounds(scenario); // { startsAt: 1780264800, endsAt: 1780869600, intervalSeconds: 900, intervals: 672 }
 */
export function scenarioRunBounds(s: Scenario): { startsAt: number; endsAt: number; intervalSeconds: number; intervals: number } {
  const startsAt = localMidnight(s.start, s.location.timeZone);
  const endsAt = localMidnight(addCalendarDays(s.start, s.days), s.location.timeZone);
  const intervalSeconds = s.intervalMinutes * 60;
  return { startsAt, endsAt, intervalSeconds, intervals: Math.floor((endsAt - startsAt) / intervalSeconds) };
}
