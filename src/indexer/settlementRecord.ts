// What one settlement did to each meter and between which meters energy and money moved, recomputed from
// what the chain recorded (the settleInterval entries, the zones' prices, the agreements' deliveries and the
// tariffs in force) exactly as EnergyMarket._settle computes it. Pure: no chain, no SQL.
import type { Address } from "viem";
import { energyTokenId } from "../chain/settlementData.ts";
import { costMicro } from "../core/money.ts";
import { pairTrades } from "../core/settlement.ts";

const U64 = (1n << 64n) - 1n;

/** One settlement entry unpacked (see IEnergyMarket.Entry): the reading as recorded and the meter's auction fill. */
export type SettledEntry = {
  owner: Address;
  meterId: number;
  zone: number;
  source: number;
  exportWh: bigint;
  importWh: bigint;
  /** What the auction sold and bought (bilateral deliveries not included). */
  soldWh: bigint;
  boughtWh: bigint;
};

/**
 * Unpacks a settlement entry: meter word = owner << 96 | meterId << 64 | zone << 48 | source << 40, energy
 * word = exportWh << 192 | importWh << 128 | soldWh << 64 | boughtWh.
 * @example decodeEntry({ meter, energy }).soldWh
 */
export function decodeEntry(entry: { meter: bigint; energy: bigint }): SettledEntry {
  const { meter, energy } = entry;
  return {
    owner: `0x${(meter >> 96n).toString(16).padStart(40, "0")}` as Address,
    meterId: Number((meter >> 64n) & 0xffffffffn),
    zone: Number((meter >> 48n) & 0xffffn),
    source: Number((meter >> 40n) & 0xffn),
    exportWh: (energy >> 192n) & U64,
    importWh: (energy >> 128n) & U64,
    soldWh: (energy >> 64n) & U64,
    boughtWh: energy & U64,
  };
}

/** An agreement's delivery in the interval (AgreementDelivered) with the agreement's parties and price. */
export type SettledDelivery = {
  agreementId: bigint;
  seller: Address;
  buyer: Address;
  priceMicroPerKwh: bigint;
  energyWh: bigint;
  costMicro: bigint;
};

export type SettlementInput = {
  interval: bigint;
  /** The settleInterval entries, in their order (increasing meter id). */
  entries: readonly SettledEntry[];
  /** Each zone's clearing price (ZoneCleared). */
  zonePriceMicroPerKwh: ReadonlyMap<number, bigint>;
  /** The agreements' deliveries, in execution order (AgreementDelivered, in log order). */
  deliveries: readonly SettledDelivery[];
  feedInMicroPerKwh: bigint;
  retailMicroPerKwh: bigint;
};

export type TradeRecord = {
  idx: number;
  kind: "bilateral" | "auction";
  agreementId: bigint | undefined;
  seller: Address;
  sellerMeterId: number;
  buyer: Address;
  buyerMeterId: number;
  energyWh: bigint;
  sellerPriceMicroPerKwh: bigint;
  buyerPriceMicroPerKwh: bigint;
  sellerReceivedMicro: bigint;
  buyerPaidMicro: bigint;
  tokenId: bigint;
};

export type MeterIntervalRecord = {
  meterId: number;
  owner: Address;
  zone: number;
  source: number;
  exportWh: bigint;
  importWh: bigint;
  /** Sold to and bought from neighbours: auction plus bilateral. */
  soldLocalWh: bigint;
  boughtLocalWh: bigint;
  /** Unsold export (to the grid at feed-in) and unmet import (from the grid at retail). */
  soldGridWh: bigint;
  boughtGridWh: bigint;
  /** Every credit (trades, deliveries, feed-in) and debit (trades, deliveries, retail) of this settlement. */
  earnedMicro: bigint;
  paidMicro: bigint;
  /** ⌊import × retail / 1000⌋ − ⌊export × feed-in / 1000⌋: the bill with the grid alone (negative: income). */
  gridOnlyBillMicro: bigint;
};

export type SettlementRecord = {
  trades: TradeRecord[];
  meters: MeterIntervalRecord[];
  bilateralWh: bigint;
  exportWh: bigint;
  importWh: bigint;
};

/**
 * The trades (bilateral deliveries with energy first, in execution order, then the auction's pairs in the
 * contract's order) and each meter's energy and money in one settlement. A delivery's parties are found
 * by owner in the entries: the contract delivers only when both parties' current meters have an entry, and
 * an owner has at most one entry per interval.
 * @example const { trades, meters } = settlementRecord({ interval, entries, zonePriceMicroPerKwh, deliveries, ...tariffs })
 */
export function settlementRecord(input: SettlementInput): SettlementRecord {
  const { interval, entries, feedInMicroPerKwh: feedIn, retailMicroPerKwh: retail } = input;
  const indexOfOwner = new Map(entries.map((e, i) => [e.owner.toLowerCase(), i]));
  const soldLocal = entries.map((e) => e.soldWh);
  const boughtLocal = entries.map((e) => e.boughtWh);
  const earned = entries.map(() => 0n);
  const paid = entries.map(() => 0n);
  const trades: TradeRecord[] = [];
  const tokenOf = (e: SettledEntry) => energyTokenId(interval, e.zone, e.source, e.meterId);
  let bilateralWh = 0n;
  for (const d of input.deliveries) {
    if (d.energyWh === 0n) continue;
    const si = indexOfOwner.get(d.seller.toLowerCase());
    const bi = indexOfOwner.get(d.buyer.toLowerCase());
    const s = si === undefined ? undefined : entries[si];
    const b = bi === undefined ? undefined : entries[bi];
    if (si === undefined || bi === undefined || !s || !b) {
      throw new RangeError(
        `agreement ${d.agreementId} delivered ${d.energyWh} Wh but a party has no entry in interval ${interval}`,
      );
    }
    soldLocal[si] = (soldLocal[si] as bigint) + d.energyWh;
    boughtLocal[bi] = (boughtLocal[bi] as bigint) + d.energyWh;
    earned[si] = (earned[si] as bigint) + d.costMicro;
    paid[bi] = (paid[bi] as bigint) + d.costMicro;
    bilateralWh += d.energyWh;
    trades.push({
      idx: trades.length,
      kind: "bilateral",
      agreementId: d.agreementId,
      seller: s.owner,
      sellerMeterId: s.meterId,
      buyer: b.owner,
      buyerMeterId: b.meterId,
      energyWh: d.energyWh,
      sellerPriceMicroPerKwh: d.priceMicroPerKwh,
      buyerPriceMicroPerKwh: d.priceMicroPerKwh,
      sellerReceivedMicro: d.costMicro,
      buyerPaidMicro: d.costMicro,
      tokenId: tokenOf(s),
    });
  }
  const priceOf = (e: SettledEntry) => {
    const price = input.zonePriceMicroPerKwh.get(e.zone);
    if (price === undefined) throw new RangeError(`interval ${interval}: no price for zone ${e.zone}`);
    return price;
  };
  for (const { seller, buyer, energyWh } of pairTrades(entries)) {
    const s = entries[seller] as SettledEntry;
    const b = entries[buyer] as SettledEntry;
    const sellerPrice = priceOf(s);
    const buyerPrice = priceOf(b);
    const received = costMicro(energyWh, sellerPrice);
    const charged = costMicro(energyWh, buyerPrice);
    earned[seller] = (earned[seller] as bigint) + received;
    paid[buyer] = (paid[buyer] as bigint) + charged;
    trades.push({
      idx: trades.length,
      kind: "auction",
      agreementId: undefined,
      seller: s.owner,
      sellerMeterId: s.meterId,
      buyer: b.owner,
      buyerMeterId: b.meterId,
      energyWh,
      sellerPriceMicroPerKwh: sellerPrice,
      buyerPriceMicroPerKwh: buyerPrice,
      sellerReceivedMicro: received,
      buyerPaidMicro: charged,
      tokenId: tokenOf(s),
    });
  }
  const meters = entries.map((e, i): MeterIntervalRecord => {
    const soldLocalWh = soldLocal[i] as bigint;
    const boughtLocalWh = boughtLocal[i] as bigint;
    const soldGridWh = e.exportWh - soldLocalWh;
    const boughtGridWh = e.importWh - boughtLocalWh;
    if (soldGridWh < 0n || boughtGridWh < 0n) {
      throw new RangeError(`interval ${interval}: meter ${e.meterId} traded more than its reading`);
    }
    return {
      meterId: e.meterId,
      owner: e.owner,
      zone: e.zone,
      source: e.source,
      exportWh: e.exportWh,
      importWh: e.importWh,
      soldLocalWh,
      boughtLocalWh,
      soldGridWh,
      boughtGridWh,
      earnedMicro: (earned[i] as bigint) + costMicro(soldGridWh, feedIn),
      paidMicro: (paid[i] as bigint) + costMicro(boughtGridWh, retail),
      gridOnlyBillMicro: costMicro(e.importWh, retail) - costMicro(e.exportWh, feedIn),
    };
  });
  return {
    trades,
    meters,
    bilateralWh,
    exportWh: entries.reduce((sum, e) => sum + e.exportWh, 0n),
    importWh: entries.reduce((sum, e) => sum + e.importWh, 0n),
  };
}
