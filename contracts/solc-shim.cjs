#!/usr/bin/env node
// A `solc` executable for forge, backed by solc-js (npm `solc`): no native compiler exists in our
// registries and forge must not download one. Answers `--version` and `--standard-json` only.
const fs = require("node:fs");
const path = require("node:path");
const solc = require(require.resolve("solc", { paths: [path.join(__dirname, "..")] }));

function writeAll(text) {
  // One process.stdout.write followed by exit truncates at 64 KiB when stdout is a pipe.
  const buffer = Buffer.from(text);
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(1, buffer, offset, buffer.length - offset);
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
    }
  }
}

const args = process.argv.slice(2);
if (args.includes("--version")) {
  writeAll(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("solc-shim: only --version and --standard-json are supported\n");
  process.exit(1);
}
const root = path.join(__dirname, "..");
const importCallback = (p) => {
  for (const candidate of [path.resolve(root, p), path.resolve(root, "node_modules", p)]) {
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `not found: ${p}` };
};
writeAll(solc.compile(fs.readFileSync(0, "utf8"), { import: importCallback }));
