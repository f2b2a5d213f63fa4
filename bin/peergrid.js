#!/usr/bin/env node
// The `peergrid` command. Runs the TypeScript sources through tsx, so there is no build step.
import { register } from "tsx/esm/api";

register();
// `peergrid status | head` closes our stdout early; that is not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
const { main, processIo } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2), processIo);
