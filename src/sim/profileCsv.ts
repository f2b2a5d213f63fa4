/**
 * Measured household profiles from CSV: one row per market interval with the energy consumed and
 * produced in it. Pure: the caller reads the file.
 */
import { PeerGridError } from "../chain/errors.ts";

/**
 * Energy per interval, keyed by the interval's start (unix seconds).
 *
 * @example
 * const profile: MeasuredProfile = parseProfileCsv("time,consumptionWh\n2026-06-15T00:00:00Z,120\n", "a.csv");
 * profile.get(1781481600); // { consumptionWh: 120n, productionWh: 0n }
 */
export type MeasuredProfile = ReadonlyMap<number, { consumptionWh: bigint; productionWh: bigint }>;

const COLUMNS = ["time", "consumptionWh", "productionWh"] as const;

const TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Parses an ISO 8601 time with a UTC offset or Z ("2026-06-15T00:00:00+02:00") into unix seconds;
 * undefined when it is not one, or names an impossible date or a fraction of a second.
 *
 * @example
 * parseIsoTimeWithOffset("2026-06-15T00:00:00+02:00"); // 1781474400
 * parseIsoTimeWithOffset("2026-06-15T00:00:00"); // undefined (no offset)
 */
export function parseIsoTimeWithOffset(text: string): number | undefined {
  const match = TIME_PATTERN.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s = "0", fraction = "0", zone = "Z"] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (Number(fraction) !== 0 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  date.setUTCHours(hour, minute, second, 0);
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    const offsetHours = Number(digits.slice(0, 2));
    const offsetRest = Number(digits.slice(2) || "0");
    if (offsetHours > 23 || offsetRest > 59) return undefined;
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (offsetHours * 60 + offsetRest);
  }
  return date.getTime() / 1000 - offsetMinutes * 60;
}

/** Splits one CSV line; double quotes may wrap a field ("" inside is a quote). */
function splitCsvLine(line: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      fields.push(field.trim());
      field = "";
    } else field += c;
  }
  fields.push(field.trim());
  return fields;
}

/**
 * Parses a measured profile: a CSV with a header naming the columns `time`, `consumptionWh` and
 * `productionWh` in any order (extra columns are ignored; a missing energy column counts as 0,
 * but one must be there). Without a header, the columns are `time,consumptionWh,productionWh`.
 * `time` is the interval start in ISO 8601 with an offset or Z; energies are whole Wh ≥ 0.
 * Lines that are empty or start with `#` are skipped; a semicolon-separated file works too.
 * Throws a `PeerGridError` naming the file and line.
 *
 * @example
 * const profile = parseProfileCsv(
 *   "time,consumptionWh,productionWh\n2026-06-15T00:00:00+02:00,105,0\n2026-06-15T00:15:00+02:00,98,0\n",
 *   "profiles/a.csv",
 * );
 * profile.get(1781474400); // { consumptionWh: 105n, productionWh: 0n }
 */
export function parseProfileCsv(text: string, fileName: string): MeasuredProfile {
  const fail = (line: number | undefined, message: string, hint?: string): never => {
    throw new PeerGridError(`${fileName}${line === undefined ? "" : ` line ${line}`}: ${message}`, {
      hint: hint ?? "each row: time (ISO 8601 with offset, e.g. 2026-06-15T00:00:00+02:00), consumptionWh, productionWh",
    });
  };
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const rows = lines
    .map((content, index) => ({ content, line: index + 1 }))
    .filter(({ content }) => content.trim() !== "" && !content.trimStart().startsWith("#"));
  const first = rows[0];
  if (first === undefined) return fail(undefined, "the file has no rows");
  const delimiter = !first.content.includes(",") && first.content.includes(";") ? ";" : ",";

  const firstFields = splitCsvLine(first.content, delimiter);
  const hasHeader = !/^\d/.test(firstFields[0] ?? "");
  const column: Record<(typeof COLUMNS)[number], number | undefined> = { time: 0, consumptionWh: 1, productionWh: 2 };
  if (hasHeader) {
    for (const name of COLUMNS) {
      const indices = firstFields.flatMap((field, index) => (field.toLowerCase() === name.toLowerCase() ? [index] : []));
      if (indices.length > 1) fail(first.line, `column ${name} appears ${indices.length} times in the header`);
      column[name] = indices[0];
    }
    if (column.time === undefined)
      fail(first.line, `the header has no time column (found ${firstFields.map((f) => JSON.stringify(f)).join(", ")})`);
    if (column.consumptionWh === undefined && column.productionWh === undefined)
      fail(first.line, "the header has neither a consumptionWh nor a productionWh column");
  }

  const profile = new Map<number, { consumptionWh: bigint; productionWh: bigint }>();
  const lineOfTime = new Map<number, number>();
  for (const { content, line } of hasHeader ? rows.slice(1) : rows) {
    const fields = splitCsvLine(content, delimiter);
    const timeText = fields[column.time ?? 0] ?? "";
    const time = parseIsoTimeWithOffset(timeText);
    if (time === undefined)
      fail(
        line,
        `time must be an ISO 8601 time with an offset or Z, got ${JSON.stringify(timeText)}`,
        "write times like 2026-06-15T00:00:00+02:00 or 2026-06-14T22:00:00Z",
      );
    const energy = (name: "consumptionWh" | "productionWh"): bigint => {
      const index = column[name];
      if (index === undefined || (!hasHeader && index >= fields.length && name === "productionWh")) return 0n;
      const value = fields[index];
      if (value === undefined) return fail(line, `${name} is missing (the row has ${fields.length} columns)`);
      if (!/^\d+$/.test(value)) return fail(line, `${name} must be a whole number of Wh ≥ 0, got ${JSON.stringify(value)}`);
      return BigInt(value);
    };
    const at = time as number;
    const earlier = lineOfTime.get(at);
    if (earlier !== undefined) fail(line, `time ${timeText} appears twice (first on line ${earlier})`);
    lineOfTime.set(at, line);
    profile.set(at, { consumptionWh: energy("consumptionWh"), productionWh: energy("productionWh") });
  }
  if (profile.size === 0) fail(undefined, "the file has a header but no rows");
  return profile;
}
