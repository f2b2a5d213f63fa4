#!/usr/bin/env node
// The `peergrid` command. Runs the TypeScript sources through tsx, so there is no build step.
import { register } from "tsx/esm/api";

register();
const { main, processIo } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2), processIo);
