import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterEach, describe, expect, it } from "vitest";
import { ANVIL_DEV_KEY } from "./anvil.ts";
import type { TxRequest } from "./chainClient.ts";
import { type EmbeddedChain, openEmbeddedChain } from "./embeddedChain.ts";

const funder = privateKeyToAccount(ANVIL_DEV_KEY);
const to = "0x00000000000000000000000000000000000000b0";
const genesis = 1_781_500_000n;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function transfer(e: EmbeddedChain, value: bigint) {
  await e.chain.send([{ account: funder, to, value, abi: [], action: "transfer" }]);
}

async function state(e: EmbeddedChain) {
  const block = await e.chain.public.getBlock({ blockTag: "latest" });
  return { number: block.number, hash: block.hash, balance: await e.chain.public.getBalance({ address: to }) };
}

describe("embedded chain", () => {
  it("restores from its checkpoint, replays only later blocks, and survives a damaged checkpoint", async () => {
    const dir = mkdtempSync(join(tmpdir(), "peergrid-chain-"));
    dirs.push(dir);
    // A checkpoint every 2 blocks, so the periodic path runs too.
    let e = await openEmbeddedChain(dir, genesis, () => {}, { checkpointEveryBlocks: 2 });
    expect(e.restoredFrom).toBe("journal");
    await transfer(e, 1n);
    await e.chain.advanceTo(genesis + 900n);
    await transfer(e, 2n);
    const before = await state(e);
    await e.close(); // writes a checkpoint at the head
    const olderCheckpoint = readFileSync(join(dir, "checkpoint.json"));

    e = await openEmbeddedChain(dir, genesis);
    expect(e.restoredFrom).toBe("checkpoint");
    expect(e.replayedBlocks).toBe(0);
    expect(await state(e)).toEqual(before);
    // The restored node keeps the chain's clock: explicit timestamps still work.
    await e.chain.advanceTo(genesis + 1800n);
    await transfer(e, 4n);
    const after = await state(e);
    await e.close();
    // Put the older checkpoint back, as if a kill had come before the newer one was written.
    writeFileSync(join(dir, "checkpoint.json"), olderCheckpoint);

    e = await openEmbeddedChain(dir, genesis);
    expect(e.restoredFrom).toBe("checkpoint");
    expect(e.replayedBlocks).toBe(Number(after.number - before.number));
    expect(await state(e)).toEqual(after);
    await e.close();
    // A session that mined nothing (like `peergrid status`) leaves the checkpoint as it was.
    expect(readFileSync(join(dir, "checkpoint.json"))).toEqual(olderCheckpoint);

    writeFileSync(join(dir, "checkpoint.json"), "{ not json");
    const messages: string[] = [];
    e = await openEmbeddedChain(dir, genesis, (m) => messages.push(m));
    expect(e.restoredFrom).toBe("journal");
    expect(e.replayedBlocks).toBe(Number(after.number));
    expect(messages.join()).toContain("unreadable");
    expect(await state(e)).toEqual(after);
    await e.close();
  }, 60_000);

  it("journals a partly mined group, names the sender that cannot pay, and leaves the pool empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "peergrid-chain-"));
    dirs.push(dir);
    let e = await openEmbeddedChain(dir, genesis);
    const poor = privateKeyToAccount(generatePrivateKey());
    await e.chain.send([{ account: funder, to: poor.address, value: parseEther("1"), abi: [], action: "fund" }]);
    // Each estimate sees 1 ETH, so both pass; in the block the first leaves too little for the second.
    const pay: TxRequest = { account: poor, to, value: parseEther("0.6"), abi: [], action: "pay" };
    await expect(e.chain.send([pay, pay])).rejects.toThrow(/1 of 2 transactions were left out.*cannot pay for pay/);
    expect(await e.chain.public.request({ method: "txpool_status" } as never)).toEqual({ pending: "0x0", queued: "0x0" });
    // The block that took the first payment is journalled, and the sender's next nonce is free again.
    await e.chain.send([{ ...pay, value: 1n }]);
    const before = await state(e);
    expect(before.balance).toBe(parseEther("0.6") + 1n);
    await e.close();

    rmSync(join(dir, "checkpoint.json"));
    e = await openEmbeddedChain(dir, genesis);
    expect(e.restoredFrom).toBe("journal");
    expect(await state(e)).toEqual(before);
    await e.close();
  }, 60_000);
});

describe("a group the node refuses in part", () => {
  it("is dropped whole: what the node took does not slip into a later block", async () => {
    const dir = mkdtempSync(join(tmpdir(), "peergrid-chain-"));
    dirs.push(dir);
    const e = await openEmbeddedChain(dir, genesis, () => {});
    const poor = privateKeyToAccount(generatePrivateKey());
    // With its gas given, the overdraft is not executed first: the node refuses it when it is sent.
    await expect(
      e.chain.send([
        { account: funder, to, value: 1n, abi: [], action: "pay" },
        { account: poor, to, value: 5n, gas: 21_000n, abi: [], action: "overdraw" },
      ]),
    ).rejects.toThrow(/overdraw/);
    expect(await e.chain.public.request({ method: "txpool_status" } as never)).toEqual({ pending: "0x0", queued: "0x0" });
    await e.chain.advanceTo((await e.chain.now()) + 1n);
    expect(await e.chain.public.getBalance({ address: to })).toBe(0n);
    await e.close();
  });
});

describe("a caller's gas limit", () => {
  it("is used as it is, without running the transaction first: too low, it reverts on chain and the send says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "peergrid-chain-"));
    dirs.push(dir);
    const e = await openEmbeddedChain(dir, genesis, () => {});
    // The ecrecover precompile: 21,000 + 512 for 128 zero bytes of calldata, then 3,000. 22,280 covers
    // the calldata under any rules (Prague's EIP-7623 floor included) and is too little to run it.
    const recover: TxRequest = {
      account: funder,
      to: "0x0000000000000000000000000000000000000001",
      data: `0x${"00".repeat(128)}`,
      abi: [],
      action: "recover",
    };
    await expect(e.chain.send([{ ...recover, gas: 22_280n }])).rejects.toMatchObject({
      message: expect.stringMatching(/^recover reverted in block/),
      retryable: true,
    });
    const [measured] = await e.chain.send([recover]);
    expect(measured?.status).toBe("success");
    expect(measured?.gasUsed).toBe(24_512n);
    await e.close();
  });
});

describe("relaying a transaction signed elsewhere (sendRaw)", () => {
  it("mines and journals it, refuses what would revert without sending it, and runs beside other sends", async () => {
    const dir = mkdtempSync(join(tmpdir(), "peergrid-chain-"));
    dirs.push(dir);
    const e = await openEmbeddedChain(dir, genesis, () => {});
    const wallet = privateKeyToAccount(generatePrivateKey());
    await e.chain.send([{ account: funder, to: wallet.address, value: parseEther("1"), abi: [], action: "fund" }]);
    const gasPrice = await e.chain.public.getGasPrice();
    const sign = (nonce: number, value: bigint) =>
      wallet.signTransaction({ type: "legacy", chainId: e.chain.chainId, nonce, gas: 21_000n, gasPrice, to, value });

    // Relayed while the node's own client sends: each lands once, in journalled blocks.
    const [receipt] = await Promise.all([e.chain.sendRaw(await sign(0, 5n), [], "transfer"), transfer(e, 7n)]);
    expect(receipt.status).toBe("success");
    expect(await e.chain.public.getBalance({ address: to })).toBe(12n);

    // More than the wallet holds: refused before sending, the nonce stays unused.
    await expect(e.chain.sendRaw(await sign(1, parseEther("2")), [], "transfer")).rejects.toThrow(/transfer/);
    expect(await e.chain.public.getTransactionCount({ address: wallet.address })).toBe(1);
    // Signed for another chain.
    const foreign = await wallet.signTransaction({ type: "legacy", chainId: 1, nonce: 1, gas: 21_000n, gasPrice, to, value: 1n });
    await expect(e.chain.sendRaw(foreign, [], "transfer")).rejects.toThrow(/signed for chain 1/);

    // The journal replays the relayed transaction.
    const head = await state(e);
    await e.close();
    const again = await openEmbeddedChain(dir, genesis, () => {});
    expect(await state(again)).toEqual(head);
    await again.close();
  });
});
