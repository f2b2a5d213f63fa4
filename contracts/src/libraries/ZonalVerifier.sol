// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEnergyMarket} from "../interfaces/IEnergyMarket.sol";
import {MeterEntry} from "./MeterEntry.sol";
import {NAMED, ZonalPrices} from "./ZonalPrices.sol";

/// @title Linear-time verification of a zonal (market-splitting) double auction.
/// @notice The rule, with its proofs, is in docs/architecture.md ("Market rule" and "Grid zones"). In short:
/// - per zone z and price x: S<, S (offered Wh with ask < x, <= x), D>, D (demanded Wh with bid > x, >= x);
///   A_z(x) = S< - D and B_z(x) = S - D> bound the zone's net export at zone price x;
/// - the hub (the bus every zone hangs off) has equilibrium prices [low, high]; its price is the midpoint;
/// - each zone's net export e_z follows from the hub price, its capacities and its import fee, shared pro
///   rata when the hub has slack; its price is the midpoint of its equilibrium prices inside its window;
/// - inside a zone, fills follow the single-price rule at the zone's price with e_z as an outside order.
/// So the clearing is unique and a submitted one is checked against it with two passes over the book.
/// The book holds one word per meter, its effective order (quantities capped, prices clamped):
/// offerWh << 192 | askMicroPerKwh << 128 | demandWh << 64 | bidMicroPerKwh.
library ZonalVerifier {
    /// @notice Reverts unless `hub`, `zs` and the fills in `entries` are the clearing the rule gives for
    /// `book` (book[i] is the effective order of entries[i]) under the zones' `limits` (limits[k] for zs[k]).
    /// @return zones the zones as verified (prices, flows, whether a capacity bound)
    /// @return zoneOf the index in `zones` of each entry's zone
    /// @return tradedWh the energy sold locally (equal to the energy bought)
    function verify(
        uint256[] memory book,
        IEnergyMarket.Entry[] calldata entries,
        IEnergyMarket.Prices calldata hub,
        IEnergyMarket.ZoneClearing[] calldata zs,
        IEnergyMarket.ZoneLimits[] memory limits,
        uint64 feedIn,
        uint64 retail
    ) internal pure returns (ZonalPrices.Zone[] memory zones, uint256[] memory zoneOf, uint256 tradedWh) {
        uint64 p = hub.priceMicroPerKwh;
        if (hub.priceLowMicroPerKwh < feedIn || hub.priceHighMicroPerKwh > retail || hub.priceLowMicroPerKwh > hub.priceHighMicroPerKwh || p != (uint256(hub.priceLowMicroPerKwh) + hub.priceHighMicroPerKwh) / 2) {
            revert IEnergyMarket.PriceOutOfBounds(p, hub.priceLowMicroPerKwh, hub.priceHighMicroPerKwh);
        }
        zones = _zones(hub, zs, limits, feedIn, retail);
        zoneOf = _sum(book, entries, zones);
        zones = ZonalPrices.check(zones, hub, feedIn, retail);
        tradedWh = _checkFills(book, entries, zones, zoneOf);
    }

    // ------------------------------------------------------------------ setup and the summing pass

    function _zones(
        IEnergyMarket.Prices calldata hub,
        IEnergyMarket.ZoneClearing[] calldata zs,
        IEnergyMarket.ZoneLimits[] memory limits,
        uint64 feedIn,
        uint64 retail
    ) private pure returns (ZonalPrices.Zone[] memory zones) {
        zones = new ZonalPrices.Zone[](zs.length);
        for (uint256 k; k < zs.length; ++k) {
            IEnergyMarket.ZoneClearing calldata c = zs[k];
            if (k != 0 && c.zone <= zs[k - 1].zone) revert IEnergyMarket.ZonesNotSorted(c.zone);
            if (
                c.priceLowMicroPerKwh < feedIn || c.priceHighMicroPerKwh > retail
                    || c.priceLowMicroPerKwh > c.priceHighMicroPerKwh
                    || c.priceMicroPerKwh != (uint256(c.priceLowMicroPerKwh) + c.priceHighMicroPerKwh) / 2
            ) revert IEnergyMarket.ZonePriceOutOfWindow(c.zone, c.priceMicroPerKwh, feedIn, retail);
            ZonalPrices.Zone memory z = zones[k];
            z.id = c.zone;
            z.netExportWh = c.netExportWh;
            z.low = c.priceLowMicroPerKwh;
            z.high = c.priceHighMicroPerKwh;
            z.price = c.priceMicroPerKwh;
            z.fee = limits[k].feeMicroPerKwh;
            z.exportCapWh = int256(uint256(limits[k].exportCapWh));
            z.importCapWh = int256(uint256(limits[k].importCapWh));
            _namedPrices(z, hub);
        }
    }

    /// @dev Collects the distinct prices this zone's sums are needed at and where each named price is.
    function _namedPrices(ZonalPrices.Zone memory z, IEnergyMarket.Prices calldata hub) private pure {
        uint64[NAMED] memory named = [
            hub.priceLowMicroPerKwh,
            hub.priceLowMicroPerKwh + z.fee,
            hub.priceHighMicroPerKwh,
            hub.priceHighMicroPerKwh + z.fee,
            hub.priceMicroPerKwh,
            hub.priceMicroPerKwh + z.fee,
            z.low,
            z.high,
            z.price
        ];
        for (uint256 name; name < NAMED; ++name) {
            uint64 x = named[name];
            uint256 j;
            while (j < z.pointCount && z.points[j] != x) ++j;
            if (j == z.pointCount) z.points[z.pointCount++] = x;
            z.pointOf[name] = j;
        }
    }

    /// @dev The first pass: finds each entry's zone and adds its order to that zone's sums.
    function _sum(uint256[] memory book, IEnergyMarket.Entry[] calldata entries, ZonalPrices.Zone[] memory zones) private pure returns (uint256[] memory zoneOf) {
        uint256 n = book.length;
        zoneOf = new uint256[](n);
        uint256 zoneCount = zones.length;
        // Per zone, in memory words the loop can index: its id, where its distinct prices and its sums are,
        // how many prices it has, and its meter count.
        uint256[] memory ids = new uint256[](zoneCount);
        uint256[] memory points = new uint256[](zoneCount);
        uint256[] memory sums = new uint256[](zoneCount);
        uint256[] memory counts = new uint256[](zoneCount);
        uint256[] memory meters = new uint256[](zoneCount);
        for (uint256 k; k < zoneCount; ++k) {
            ZonalPrices.Zone memory z = zones[k];
            uint64[NAMED] memory zp = z.points;
            uint256[4 * NAMED] memory zs_ = z.sums;
            ids[k] = z.id;
            counts[k] = z.pointCount;
            assembly ("memory-safe") {
                mstore(add(add(points, 0x20), shl(5, k)), zp)
                mstore(add(add(sums, 0x20), shl(5, k)), zs_)
            }
        }
        // In assembly, as the market's per-household loops (see EnergyMarket._bookOrders): n sums of uint64
        // quantities cannot overflow, and every index is in range by construction. A meter whose zone is not
        // listed stops the loop; it is reported below.
        uint256 unlisted = type(uint256).max;
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let zone := and(shr(48, calldataload(add(entries.offset, shl(6, i)))), 0xffff)
                // binary search over the ids (sorted: checked by _zones)
                let lo := 0
                let hi := zoneCount
                let k := zoneCount
                for {} lt(lo, hi) {} {
                    let mid := shr(1, add(lo, hi))
                    let id := mload(add(add(ids, 0x20), shl(5, mid)))
                    if eq(id, zone) {
                        k := mid
                        break
                    }
                    switch lt(id, zone)
                    case 1 { lo := add(mid, 1) }
                    default { hi := mid }
                }
                if eq(k, zoneCount) {
                    unlisted := zone
                    break
                }
                mstore(add(add(zoneOf, 0x20), shl(5, i)), k)
                let mp := add(add(meters, 0x20), shl(5, k))
                mstore(mp, add(mload(mp), 1))
                let o := mload(add(add(book, 0x20), shl(5, i)))
                let offer := shr(192, o)
                let ask := and(shr(128, o), 0xffffffffffffffff)
                let demand := and(shr(64, o), 0xffffffffffffffff)
                let bid := and(o, 0xffffffffffffffff)
                let pts := mload(add(add(points, 0x20), shl(5, k)))
                let sm := mload(add(add(sums, 0x20), shl(5, k)))
                let count := mload(add(add(counts, 0x20), shl(5, k)))
                for { let j := 0 } lt(j, count) { j := add(j, 1) } {
                    let x := mload(add(pts, shl(5, j)))
                    let sp := add(sm, shl(7, j))
                    // per point: S< (ask < x), S (ask <= x), D> (bid > x), D (bid >= x)
                    if offer {
                        if lt(ask, x) { mstore(sp, add(mload(sp), offer)) }
                        if iszero(gt(ask, x)) { mstore(add(sp, 0x20), add(mload(add(sp, 0x20)), offer)) }
                    }
                    if demand {
                        if gt(bid, x) { mstore(add(sp, 0x40), add(mload(add(sp, 0x40)), demand)) }
                        if iszero(lt(bid, x)) { mstore(add(sp, 0x60), add(mload(add(sp, 0x60)), demand)) }
                    }
                }
            }
        }
        if (unlisted != type(uint256).max) revert IEnergyMarket.ZoneNotListed(uint16(unlisted));
        for (uint256 k; k < zoneCount; ++k) {
            if (meters[k] == 0) revert IEnergyMarket.ZoneWithoutMeters(zones[k].id);
            zones[k].meters = meters[k];
        }
    }

    // ------------------------------------------------------------------ fills

    /// @dev The second pass: every fill against its zone's price and rationing, then each zone's balance.
    function _checkFills(
        uint256[] memory book,
        IEnergyMarket.Entry[] calldata entries,
        ZonalPrices.Zone[] memory zones,
        uint256[] memory zoneOf
    ) private pure returns (uint256 soldWh) {
        uint256 zoneCount = zones.length;
        // Per zone, as words the loop can index: its price, its two rationings (pointers to the structs) and
        // its running sold - bought.
        uint256[] memory prices = new uint256[](zoneCount);
        uint256[] memory sellers = new uint256[](zoneCount);
        uint256[] memory buyers = new uint256[](zoneCount);
        int256[] memory balances = new int256[](zoneCount);
        for (uint256 k; k < zoneCount; ++k) {
            ZonalPrices.Zone memory z = zones[k];
            prices[k] = z.price;
            ZonalPrices.Rationing memory rs = z.sellers;
            ZonalPrices.Rationing memory rb = z.buyers;
            assembly ("memory-safe") {
                mstore(add(add(sellers, 0x20), shl(5, k)), rs)
                mstore(add(add(buyers, 0x20), shl(5, k)), rb)
            }
        }
        uint256 failure;
        uint256 at;
        uint256 side;
        uint256 n = book.length;
        // In assembly, as the market's per-household loops (see EnergyMarket._bookOrders); the first
        // refused fill stops it and is reported below with its error. A seller with ask a is a buyer with bid
        // -a: the same check serves both sides (`better`: the limit is strictly better than the price).
        // Rationing fields by declaration order: active 0x00, residualWh 0x20, tiedWh 0x40, baseSumWh 0x60,
        // extras 0x80, extrasClosed 0xa0; tiedWh > 0 whenever active (see _checkZonePrice).
        assembly ("memory-safe") {
            // 0, or 1 FillExceedsQuantity, 2 BetterOrderLeftOut, 3 FillBeyondLimit, 4 TieNotProRata
            function checkSide(filled, quantity, limit, p, better, r) -> code {
                if gt(filled, quantity) {
                    code := 1
                    leave
                }
                if iszero(quantity) { leave }
                if or(better, and(eq(limit, p), iszero(mload(r)))) {
                    if iszero(eq(filled, quantity)) { code := 2 }
                    leave
                }
                if iszero(eq(limit, p)) {
                    if filled { code := 3 }
                    leave
                }
                let residual := mload(add(r, 0x20))
                let base := div(mul(quantity, residual), mload(add(r, 0x40)))
                let baseSum := add(mload(add(r, 0x60)), base)
                mstore(add(r, 0x60), baseSum)
                switch and(eq(filled, add(base, 1)), iszero(mload(add(r, 0xa0))))
                case 1 { mstore(add(r, 0x80), add(mload(add(r, 0x80)), 1)) }
                default {
                    if iszero(eq(filled, base)) {
                        code := 4
                        leave
                    }
                    mstore(add(r, 0xa0), 1)
                }
                if gt(add(baseSum, mload(add(r, 0x80))), residual) { code := 4 }
            }
            let u64 := 0xffffffffffffffff
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let k := mload(add(add(zoneOf, 0x20), shl(5, i)))
                let o := mload(add(add(book, 0x20), shl(5, i)))
                let energy := calldataload(add(add(entries.offset, shl(6, i)), 0x20))
                let sold := and(shr(64, energy), u64)
                let bought := and(energy, u64)
                let p := mload(add(add(prices, 0x20), shl(5, k)))
                let ask := and(shr(128, o), u64)
                let bid := and(o, u64)
                at := i
                failure := checkSide(sold, shr(192, o), ask, p, lt(ask, p), mload(add(add(sellers, 0x20), shl(5, k))))
                if failure { break }
                side := 1
                failure := checkSide(bought, and(shr(64, o), u64), bid, p, gt(bid, p), mload(add(add(buyers, 0x20), shl(5, k))))
                if failure { break }
                side := 0
                let bp := add(add(balances, 0x20), shl(5, k))
                mstore(bp, add(mload(bp), sub(sold, bought)))
                soldWh := add(soldWh, sold)
            }
        }
        if (failure != 0) _revertFill(book[at], entries[at], zones[zoneOf[at]], side, failure);
        // The side that is not rationed is filled completely, so the zone's balance pins the other side's
        // volume too: no separate volume check is needed.
        for (uint256 k; k < zoneCount; ++k) {
            ZonalPrices.Zone memory z = zones[k];
            z.soldMinusBoughtWh = balances[k];
            if (balances[k] != z.netExportWh) revert IEnergyMarket.ZoneNotBalanced(z.id, z.netExportWh, balances[k]);
        }
    }

    /// @dev Reverts with the error {_checkFills} found (`failure`) for one side of one fill.
    function _revertFill(uint256 o, IEnergyMarket.Entry calldata entry, ZonalPrices.Zone memory z, uint256 side, uint256 failure)
        private
        pure
    {
        uint32 meterId = MeterEntry.meterId(entry.meter);
        uint64 filled = side == 0 ? MeterEntry.soldWh(entry.energy) : MeterEntry.boughtWh(entry.energy);
        uint64 quantity = uint64(o >> (side == 0 ? 192 : 64));
        uint64 limit = uint64(o >> (side == 0 ? 128 : 0));
        if (failure == 1) revert IEnergyMarket.FillExceedsQuantity(meterId, filled, quantity);
        if (failure == 2) revert IEnergyMarket.BetterOrderLeftOut(meterId, filled, quantity);
        if (failure == 3) revert IEnergyMarket.FillBeyondLimit(meterId, limit, z.price);
        ZonalPrices.Rationing memory r = side == 0 ? z.sellers : z.buyers;
        revert IEnergyMarket.TieNotProRata(meterId, filled, uint64(uint256(quantity) * r.residualWh / r.tiedWh));
    }
}
