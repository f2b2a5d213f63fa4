// Bilateral agreements executed before the auction: the same rule as EnergyMarket._executeAgreements.
// Pure: no chain, no I/O. The keeper applies it to the interval's positions, clears what is left and
// builds the energy claims; the contract recomputes it and refuses a clearing built without it.
import type { MeterPosition } from "./clearing.ts";

const WH_PER_KWH = 1000n;

/** An agreement due in the interval, with its parties' meters (undefined: the party has no meter). */
export type DueAgreement = {
  id: bigint;
  sellerMeterId: number | undefined;
  buyerMeterId: number | undefined;
  maxWhPerInterval: bigint;
  priceMicroPerKwh: bigint;
};

/** What one agreement delivered: `sellerIndex`/`buyerIndex` are positions in the book, or -1 when absent. */
export type Delivery = {
  id: bigint;
  sellerIndex: number;
  buyerIndex: number;
  energyWh: bigint;
  costMicro: bigint;
};

const min = (...xs: bigint[]) => xs.reduce((a, b) => (a < b ? a : b));

/**
 * Executes `due` in order over `positions` (the interval's book, one per meter): each agreement delivers
 * min(its cap, the seller's export left, the buyer's import left, what the buyer's escrow left pays at its
 * price) and costs floor(energy × price / 1000). A party without a reading delivers nothing. Returns the
 * deliveries and the positions the auction clears: export, import and escrow minus what the agreements
 * took (the seller's income is not added: it is paid at settlement, after the auction).
 * @example const { deliveries, positions: rest } = executeAgreements(positions, due)
 */
export function executeAgreements<P extends MeterPosition>(
  positions: readonly P[],
  due: readonly DueAgreement[],
): { deliveries: Delivery[]; positions: P[] } {
  const indexOf = new Map(positions.map((p, i) => [p.meterId, i]));
  const rest = positions.map((p) => ({ ...p }));
  const deliveries = due.map((a): Delivery => {
    if (a.priceMicroPerKwh <= 0n) throw new RangeError(`agreement ${a.id}: price must be positive`);
    const sellerIndex = a.sellerMeterId === undefined ? -1 : (indexOf.get(a.sellerMeterId) ?? -1);
    const buyerIndex = a.buyerMeterId === undefined ? -1 : (indexOf.get(a.buyerMeterId) ?? -1);
    const seller = rest[sellerIndex];
    const buyer = rest[buyerIndex];
    if (!seller || !buyer) return { id: a.id, sellerIndex, buyerIndex, energyWh: 0n, costMicro: 0n };
    // A balance in grid debt pays for nothing; a positive one never goes below zero here.
    const escrowMicro = buyer.balanceMicro > 0n ? buyer.balanceMicro : 0n;
    const energyWh = min(a.maxWhPerInterval, seller.exportWh, buyer.importWh, (escrowMicro * WH_PER_KWH) / a.priceMicroPerKwh);
    const costMicro = (energyWh * a.priceMicroPerKwh) / WH_PER_KWH;
    seller.exportWh -= energyWh;
    buyer.importWh -= energyWh;
    buyer.balanceMicro -= costMicro;
    return { id: a.id, sellerIndex, buyerIndex, energyWh, costMicro };
  });
  return { deliveries, positions: rest };
}
