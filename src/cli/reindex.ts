import { reindex as rebuildIndex } from "../indexer/indexer.ts";
import { openStore } from "../server/services.ts";
import { openCommunity } from "./openCommunity.ts";
import { communityOptionHelp, communityOptionSpec, communityOptions, parseCommandArgs, serverOptions } from "./options.ts";
import type { CommandIo } from "./start.ts";

export const reindexHelp = `Usage: peergrid reindex [options]

Rebuilds the index (participants, meters, intervals, trades, statements, the explorer's blocks and
events) from the chain: empties it and reads every PeerGrid event again from the deployment block.
The chain is the source of truth, so nothing is lost; readings received by the gateway and sign-in
sessions are kept. Stop \`peergrid serve\` / \`start\` first, or the running indexer carries on from
wherever the rebuild left it. Uses $DATABASE_URL when set, else the embedded store.
${communityOptionHelp}`;

/** `peergrid reindex`. */
export async function reindex(argv: string[], io: CommandIo): Promise<void> {
  const { values } = parseCommandArgs("reindex", argv, communityOptionSpec);
  if (values.help) return io.out(reindexHelp);
  const options = communityOptions(values);
  const { chain, deployment, close } = await openCommunity(options, false);
  try {
    const db = await openStore({ dataDir: options.dataDir, databaseUrl: serverOptions({}).databaseUrl });
    try {
      const started = io.nowMs();
      const result = await rebuildIndex({ db, chain, deployment, log: io.err });
      const seconds = (io.nowMs() - started) / 1000;
      io.out(
        `reindexed blocks ${result.fromBlock}–${result.toBlock}: ${result.logs} events in ${seconds.toFixed(1)} s (${db.kind === "postgres" ? "PostgreSQL" : "embedded store"})`,
      );
    } finally {
      await db.close();
    }
  } finally {
    await close();
  }
}
