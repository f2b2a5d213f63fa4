import { type Address, concat, encodeAbiParameters, type Hex, keccak256, zeroHash } from "viem";
import type { Delivery } from "../core/bilateral.ts";
import type { Clearing, Fill } from "../core/clearing.ts";
import { pairTrades } from "../core/settlement.ts";
import type { ZonalClearing } from "../core/zonalClearing.ts";
import { keccak256Hex } from "./keccak.ts";

/** What the registry says about a meter, as settlement needs it. */
export type MeterInfo = { owner: Address; meterId: number; zone: number; source: number };

/** A verified reading as the market recorded it in an interval's book. */
export type RecordedReading = MeterInfo & { exportWh: bigint; importWh: bigint };

/** One meter in `settleInterval`, packed as `libraries/MeterEntry.sol` documents. */
export type Entry = { meter: bigint; energy: bigint };

const U64 = (1n << 64n) - 1n;

export function meterWord(m: MeterInfo): bigint {
  return (BigInt(m.owner) << 96n) | (BigInt(m.meterId) << 64n) | (BigInt(m.zone) << 48n) | (BigInt(m.source) << 40n);
}

export function readingWord(exportWh: bigint, importWh: bigint): bigint {
  return ((exportWh & U64) << 192n) | ((importWh & U64) << 128n);
}

/** The interval book's running hash after `reading` (MeterEntry.chain). */
export function nextHead(head: Hex, reading: RecordedReading): Hex {
  // abi.encode(bytes32, uint256, uint256) is the three words side by side.
  const word = (x: bigint) => x.toString(16).padStart(64, "0");
  return keccak256Hex(`${head}${word(meterWord(reading))}${word(readingWord(reading.exportWh, reading.importWh))}` as Hex);
}

/** The head of a book holding exactly `readings`, in order. */
export function bookHead(readings: readonly RecordedReading[]): Hex {
  return readings.reduce<Hex>((head, r) => nextHead(head, r), zeroHash);
}

/**
 * The settlement entries: each recorded reading with its fill, in the book's order.
 * @example entriesFor(readings, clearing.fills)
 */
export function entriesFor(readings: readonly RecordedReading[], fills: readonly Fill[]): Entry[] {
  if (readings.length !== fills.length) throw new Error(`${readings.length} readings but ${fills.length} fills`);
  return readings.map((r, i) => {
    const f = fills[i] as Fill;
    if (f.meterId !== r.meterId) throw new Error(`fill ${i} is for meter ${f.meterId}, the reading for meter ${r.meterId}`);
    return { meter: meterWord(r), energy: readingWord(r.exportWh, r.importWh) | (f.soldWh << 64n) | f.boughtWh };
  });
}

/**
 * The arguments of `settleInterval` for a clearing of the readings recorded in `interval`: the hub's
 * prices, each zone's flow and prices, and the entries.
 * @example callTx(keeper, deployment.market, energyMarketAbi, "settleInterval", settlementArgs(interval, clearing, readings))
 */
export function settlementArgs(interval: bigint, clearing: ZonalClearing, readings: readonly RecordedReading[]) {
  return [
    interval,
    {
      priceLowMicroPerKwh: clearing.hubLowMicroPerKwh,
      priceHighMicroPerKwh: clearing.hubHighMicroPerKwh,
      priceMicroPerKwh: clearing.hubPriceMicroPerKwh,
    },
    clearing.zones.map((z) => ({
      zone: z.zone,
      netExportWh: z.netExportWh,
      priceLowMicroPerKwh: z.priceLowMicroPerKwh,
      priceHighMicroPerKwh: z.priceHighMicroPerKwh,
      priceMicroPerKwh: z.priceMicroPerKwh,
    })),
    entriesFor(readings, clearing.fills),
  ] as const;
}

/** The energy token id of `meterId`'s export in `interval` (EnergyTokenId.encode). */
export function energyTokenId(interval: bigint, zone: number, source: number, meterId: number): bigint {
  return (interval << 72n) | (BigInt(zone) << 40n) | (BigInt(source) << 32n) | BigInt(meterId);
}

/** The pooled id (meter id 0) under which energy sold to the grid is issued. */
export function pooledTokenId(id: bigint): bigint {
  return id & ~0xffffffffn;
}

/** One leaf of an interval's energy root: tokens the recipient may claim. */
export type EnergyClaim = { index: number; recipient: Address; sellerMeterId: number; tokenId: bigint; energyWh: bigint };

/**
 * Every energy claim a settlement issues, in the contract's leaf order: one per bilateral delivery (in
 * execution order), one per trade pair (zone by zone, then across zones; to the buyer's owner, under the
 * seller meter's token id), then one per meter with unsold export (to the grid account, under the pooled id).
 */
export function energyClaims(
  interval: bigint,
  readings: readonly RecordedReading[],
  clearing: Pick<Clearing, "fills">,
  gridAccount: Address,
  deliveries: readonly Delivery[] = [],
): EnergyClaim[] {
  const { fills } = clearing;
  const claims: EnergyClaim[] = [];
  const claim = (s: RecordedReading, recipient: Address, energyWh: bigint): EnergyClaim => ({
    index: claims.length,
    recipient,
    sellerMeterId: s.meterId,
    tokenId: energyTokenId(interval, s.zone, s.source, s.meterId),
    energyWh,
  });
  // Agreements deliver first, in execution order; then the auction's trades; then sales to the grid.
  const soldBefore = readings.map(() => 0n);
  for (const d of deliveries) {
    if (d.energyWh === 0n) continue;
    claims.push(claim(readings[d.sellerIndex] as RecordedReading, (readings[d.buyerIndex] as RecordedReading).owner, d.energyWh));
    soldBefore[d.sellerIndex] = (soldBefore[d.sellerIndex] as bigint) + d.energyWh;
  }
  const pairable = fills.map((f, i) => ({ ...f, zone: (readings[i] as RecordedReading).zone }));
  for (const { seller, buyer, energyWh } of pairTrades(pairable)) {
    claims.push(claim(readings[seller] as RecordedReading, (readings[buyer] as RecordedReading).owner, energyWh));
  }
  for (const [i, r] of readings.entries()) {
    const unsoldWh = r.exportWh - (soldBefore[i] as bigint) - (fills[i] as Fill).soldWh;
    if (unsoldWh > 0n) {
      claims.push({
        ...claim(r, gridAccount, unsoldWh),
        tokenId: pooledTokenId(energyTokenId(interval, r.zone, r.source, r.meterId)),
      });
    }
  }
  return claims;
}

/** A leaf of the energy root (EnergyRoot.leaf): double keccak of the ABI-encoded claim. */
export function energyLeaf(interval: bigint, c: EnergyClaim): Hex {
  const inner = keccak256(
    encodeAbiParameters(
      [{ type: "uint64" }, { type: "uint32" }, { type: "address" }, { type: "uint32" }, { type: "uint256" }, { type: "uint64" }],
      [interval, c.index, c.recipient, c.sellerMeterId, c.tokenId, c.energyWh],
    ),
  );
  return keccak256(inner);
}

const hashPair = (a: Hex, b: Hex): Hex => keccak256(BigInt(a) < BigInt(b) ? concat([a, b]) : concat([b, a]));

/**
 * The Merkle tree the contract builds over an interval's leaves (sorted pairs, odd node carried up), with
 * proofs that OpenZeppelin's MerkleProof accepts.
 * @example const tree = energyTree(claims.map((c) => energyLeaf(interval, c))); tree.proof(0)
 */
export function energyTree(leaves: readonly Hex[]): { root: Hex; proof(index: number): Hex[] } {
  const levels: Hex[][] = [leaves.slice()];
  for (let level = levels[0] as Hex[]; level.length > 1; ) {
    const next: Hex[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashPair(level[i] as Hex, level[i + 1] as Hex));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Hex);
    levels.push(next);
    level = next;
  }
  const top = levels[levels.length - 1] as Hex[];
  return {
    root: top.length === 0 ? zeroHash : (top[0] as Hex),
    proof(index: number): Hex[] {
      if (index < 0 || index >= leaves.length) throw new RangeError(`no leaf ${index} among ${leaves.length}`);
      const proof: Hex[] = [];
      for (const level of levels.slice(0, -1)) {
        const sibling = index ^ 1;
        if (sibling < level.length) proof.push(level[sibling] as Hex);
        index >>= 1;
      }
      return proof;
    },
  };
}
