#!/usr/bin/env node
// `npm install` (the root package's `prepare` script) builds the web dashboard into web/dist, so that
// `npm start` serves it on a fresh clone. Without the dev dependencies (npm install --omit=dev) there is
// no vite: it says so and succeeds, and the server answers `/` with a page saying how to build it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const vite = join(root, "node_modules", "vite", "bin", "vite.js");
if (!existsSync(vite)) {
  console.log(
    "peergrid: vite is not installed (dev dependencies omitted); the web dashboard is not built. `npm run build:web` builds it.",
  );
  process.exit(0);
}
const started = Date.now();
const result = spawnSync(process.execPath, [vite, "build", "web", "--logLevel", "warn"], { cwd: root, stdio: "inherit" });
if (result.status !== 0) process.exit(result.status ?? 1);
console.log(`peergrid: web dashboard built into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
