import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedChain } from "../src/chain/embeddedChain.ts";

const dir = mkdtempSync(join(tmpdir(), "rpc-"));
const { chain, close } = await openEmbeddedChain(dir, 1_780_000_000n);
const rpc = (m: string, p: unknown[]) => chain.public.request({ method: m, params: p } as never);
async function t(name: string, f: () => Promise<unknown>, n = 200) {
  const s = performance.now();
  for (let i = 0; i < n; i++) await f();
  console.log(name, ((performance.now() - s) / n).toFixed(2), "ms");
}
await t("blockNumber", () => rpc("eth_blockNumber", []));
let ts = 1_780_000_100;
await t("evm_mine raw", () => rpc("evm_mine", [{ timestamp: ts++ }]));
await t("chain.advanceTo (mine+journal)", () => chain.advanceTo(BigInt(ts++)));
await t("getBlock latest", () => chain.public.getBlock({ blockTag: "latest" }));
await close();
