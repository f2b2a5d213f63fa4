/**
 * The error for a scenario file (or a file it references) that cannot be used: it names the
 * file and lists every problem with the path of the field, so one run shows all typos.
 */
import { PeerGridError } from "../chain/errors.ts";

/**
 * One thing wrong in a scenario file: where (`households.list[3].pvKwp`, empty for the whole
 * file) and what.
 *
 * @example
 * const problem: ScenarioProblem = { path: "households.list[3].pvKwp", message: "must be ≥ 0" };
 */
export interface ScenarioProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * A scenario file that cannot be used. `problems` lists every bad field; the message shows them
 * one a line as `path: message`.
 *
 * @example
 * throw new ScenarioError("scenarios/street.yaml", [{ path: "days", message: "must be ≥ 1" }]);
 * // scenarios/street.yaml is not a valid scenario (1 problem):
 * //   days: must be ≥ 1
 */
export class ScenarioError extends PeerGridError {
  override name = "ScenarioError";

  constructor(
    readonly fileName: string,
    readonly problems: readonly ScenarioProblem[],
    options: { cause?: unknown; hint?: string } = {},
  ) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `${fileName} is not a valid scenario (${count}):\n${problems.map((p) => `  ${p.path ? `${p.path}: ` : ""}${p.message}`).join("\n")}`,
      { cause: options.cause, hint: options.hint ?? "fix the fields listed; the scenarios/ folder has commented examples" },
    );
  }
}

/**
 * Formats a field path the way a JavaScript reader writes it: `households.list[3].pvKwp`.
 *
 * @example
 * formatFieldPath(["households", "list", 3, "pvKwp"]); // "households.list[3].pvKwp"
 */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}
