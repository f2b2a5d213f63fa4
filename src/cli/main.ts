import { PeerGridError } from "../chain/errors.ts";
import { type CommandIo, start, startHelp } from "./start.ts";
import { status, statusHelp } from "./status.ts";

const help = `PeerGrid: a peer-to-peer neighbourhood electricity market on an EVM chain.

Usage: peergrid <command> [options]

Commands:
  start    run the market (embedded chain by default) and print one line per interval
  status   show chain, contracts, last settled interval and balances
  help     show this help, or \`peergrid help <command>\`

Run \`peergrid <command> --help\` for a command's options.`;

const commands: Record<string, { run(argv: string[], io: CommandIo): Promise<void>; help: string }> = {
  start: { run: start, help: startHelp },
  status: { run: status, help: statusHelp },
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
};
