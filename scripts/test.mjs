#!/usr/bin/env node
// `npm test`: lint, typecheck, forge (unit, fuzz, invariant) and vitest (unit, property, integration
// against real anvil nodes). Ends with one line: `N passed, N failed`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bin = (name) => join(import.meta.dirname, "..", "node_modules", ".bin", name);
let passed = 0;
let failed = 0;

function run(title, command, args, options = {}) {
  console.log(`\n== ${title}: ${[command, ...args].join(" ")}`);
  const result = spawnSync(command, args, {
    stdio: options.capture ? ["ignore", "pipe", "inherit"] : "inherit",
    encoding: "utf8",
    ...options,
  });
  if (result.error) throw result.error;
  return result;
}

function check(title, command, args) {
  const ok = run(title, command, args).status === 0;
  ok ? passed++ : failed++;
  console.log(`${title}: ${ok ? "ok" : "FAILED"}`);
}

check("lint and format", bin("biome"), ["check", "."]);
check("typecheck", bin("tsc"), ["--noEmit", "-p", "."]);
check("typecheck web dashboard", bin("tsc"), ["--noEmit", "-p", "web"]); // web/src: DOM and JSX, its own tsconfig

const forge = run("forge", bin("forge"), ["test", "--json"], { capture: true, maxBuffer: 256 * 1024 * 1024 });
try {
  const suites = JSON.parse(forge.stdout.slice(forge.stdout.indexOf("{")));
  let forgePassed = 0;
  let forgeFailed = 0;
  for (const [suite, result] of Object.entries(suites)) {
    for (const [test, r] of Object.entries(result.test_results)) {
      if (r.status === "Success") forgePassed++;
      else {
        forgeFailed++;
        console.log(`FAIL ${suite} ${test}: ${r.reason ?? r.status}`);
      }
    }
  }
  console.log(`forge: ${forgePassed} passed, ${forgeFailed} failed`);
  passed += forgePassed;
  failed += forgeFailed;
  if (forge.status !== 0 && forgeFailed === 0) failed++;
} catch {
  console.log(forge.stdout);
  console.log("forge: could not read its results");
  failed++;
}

// The committed gas snapshot: a change in any test's gas fails here until `forge snapshot` is re-run
// and the new .gas-snapshot committed with the change that caused it.
check("gas snapshot (.gas-snapshot)", bin("forge"), ["snapshot", "--check"]);

const report = join(mkdtempSync(join(tmpdir(), "peergrid-vitest-")), "report.json");
const vitest = run("vitest", bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`]);
try {
  const r = JSON.parse(readFileSync(report, "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  if (vitest.status !== 0 && r.numFailedTests === 0) failed++;
} catch {
  console.log("vitest: could not read its results");
  failed++;
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
