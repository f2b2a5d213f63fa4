import { PeerGridError } from "../chain/errors.ts";
import { meter, meterHelp } from "./meter.ts";
import { reindex, reindexHelp } from "./reindex.ts";
import { simulate, simulateHelp } from "./simulate.ts";
import { type CommandIo, serve, serveHelp, start, startHelp } from "./start.ts";
import { status, statusHelp } from "./status.ts";

const help = `PeerGrid: a peer-to-peer neighbourhood electricity market on an EVM chain.

Usage: peergrid <command> [options]

Commands:
  start    run everything on the embedded chain: the market with demo meters, the API and the indexer
  serve    serve an existing community: API, indexer, meter gateway (HTTP, MQTT) and keeper
  status   show chain, contracts, last settled interval and balances
  reindex  rebuild the index from the chain
  meter    simulate a meter: generate a key, sign readings, publish them to a gateway
  simulate simulate a community from a scenario file on the real chain and write a report
  help     show this help, or \`peergrid help <command>\`

Run \`peergrid <command> --help\` for a command's options.`;

const commands: Record<string, { run(argv: string[], io: CommandIo): Promise<void>; help: string }> = {
  start: { run: start, help: startHelp },
  serve: { run: serve, help: serveHelp },
  status: { run: status, help: statusHelp },
  reindex: { run: reindex, help: reindexHelp },
  meter: { run: meter, help: meterHelp },
  simulate: { run: simulate, help: simulateHelp },
};

/** Runs the CLI and returns the exit code. */
export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" && rest[0] ? commands[rest[0]] : undefined;
    io.out(topic ? topic.help : help);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    io.err(`peergrid: unknown command "${name}"\n\n${help}`);
    return 2;
  }
  try {
    await command.run(rest, io);
    return 0;
  } catch (error) {
    io.err(error instanceof PeerGridError ? `error: ${error.message}` : `unexpected error: ${(error as Error).stack ?? error}`);
    return 1;
  }
}

export const processIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  nowMs: () => Date.now(),
  progress: (() => {
    // A terminal redraws one status line; a log (CI, a file) gets a line every 30 s and the last one.
    let loggedAt = 0;
    return (line: string, final: boolean) => {
      if (process.stderr.isTTY) return process.stderr.write(`\r${line}${final ? "\n" : ""}`);
      if (!final && Date.now() - loggedAt < 30_000) return;
      loggedAt = Date.now();
      process.stderr.write(`${line}\n`);
    };
  })(),
};
