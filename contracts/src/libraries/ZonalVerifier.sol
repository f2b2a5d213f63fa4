// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEnergyMarket} from "../interfaces/IEnergyMarket.sol";
import {MeterEntry} from "./MeterEntry.sol";

/// @title Linear-time verification of a zonal (market-splitting) double auction.
/// @notice The rule, with its proofs, is in docs/architecture.md ("Market rule" and "Grid zones"). In short:
/// - per zone z and price x: S<, S (offered Wh with ask < x, <= x), D>, D (demanded Wh with bid > x, >= x);
///   A_z(x) = S< - D and B_z(x) = S - D> bound the zone's net export at zone price x;
/// - the hub (the bus every zone hangs off) has equilibrium prices [low, high]; its price is the midpoint;
/// - each zone's net export e_z follows from the hub price, its capacities and its import fee, shared pro
///   rata when the hub has slack; its price is the midpoint of its equilibrium prices inside its window;
/// - inside a zone, fills follow the single-price rule at the zone's price with e_z as an outside order.
/// So the clearing is unique and a submitted one is checked against it with two passes over the book.
/// The book holds one packed word per meter (see {order}).
library ZonalVerifier {
    // The prices a zone's sums are needed at, by name (see {_namedPrices}).
    uint256 private constant HUB_LOW = 0;
    uint256 private constant HUB_LOW_FEE = 1;
    uint256 private constant HUB_HIGH = 2;
    uint256 private constant HUB_HIGH_FEE = 3;
    uint256 private constant HUB = 4;
    uint256 private constant HUB_FEE = 5;
    uint256 private constant ZONE_LOW = 6;
    uint256 private constant ZONE_HIGH = 7;
    uint256 private constant ZONE = 8;
    uint256 private constant NAMED = 9;

    /// @dev Pro-rata rationing of one side of one zone at its price.
    struct Rationing {
        bool active;
        uint256 residualWh; // what the tied orders share
        uint256 tiedWh; // their total quantity
        uint256 baseSumWh; // sum of the rounded-down shares
        uint256 extras; // Wh handed out as remainder so far
        bool extrasClosed; // a tied order got no remainder unit, so later ones get none either
    }

    /// @notice One zone under verification. Its orders are summed at up to nine distinct prices; most
    /// coincide (with one free zone only the hub's low, high and price remain), so the per-meter pass
    /// touches three prices in the common case.
    struct Zone {
        uint16 id;
        int256 netExportWh;
        uint64 low;
        uint64 high;
        uint64 price;
        uint64 fee;
        int256 exportCapWh;
        int256 importCapWh;
        bool capacityBound;
        uint256 meters;
        uint256 pointCount;
        uint64[NAMED] points; // distinct prices
        uint256[NAMED] pointOf; // index in `points` of each named price
        uint256[4 * NAMED] sums; // per point: S<, S, D>, D
        Rationing sellers;
        Rationing buyers;
        int256 soldMinusBoughtWh;
    }

    /// @notice One meter's effective order (quantities capped, prices clamped) in one word:
    /// offerWh << 192 | askMicroPerKwh << 128 | demandWh << 64 | bidMicroPerKwh.
    function order(uint64 offerWh, uint64 ask, uint64 demandWh, uint64 bid) internal pure returns (uint256) {
        return (uint256(offerWh) << 192) | (uint256(ask) << 128) | (uint256(demandWh) << 64) | uint256(bid);
    }

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
    ) internal pure returns (Zone[] memory zones, uint256[] memory zoneOf, uint256 tradedWh) {
        uint64 p = hub.priceMicroPerKwh;
        if (hub.priceLowMicroPerKwh < feedIn || hub.priceHighMicroPerKwh > retail || hub.priceLowMicroPerKwh > hub.priceHighMicroPerKwh || p != (uint256(hub.priceLowMicroPerKwh) + hub.priceHighMicroPerKwh) / 2) {
            revert IEnergyMarket.PriceOutOfBounds(p, hub.priceLowMicroPerKwh, hub.priceHighMicroPerKwh);
        }
        zones = _zones(hub, zs, limits, feedIn, retail);
        zoneOf = _sum(book, entries, zs, zones);
        _checkHub(zones, hub, feedIn, retail);
        _checkFlows(zones);
        for (uint256 k; k < zones.length; ++k) {
            _checkZonePrice(zones[k], p, feedIn, retail);
        }
        tradedWh = _checkFills(book, entries, zones, zoneOf);
    }

    // ------------------------------------------------------------------ setup and the summing pass

    function _zones(
        IEnergyMarket.Prices calldata hub,
        IEnergyMarket.ZoneClearing[] calldata zs,
        IEnergyMarket.ZoneLimits[] memory limits,
        uint64 feedIn,
        uint64 retail
    ) private pure returns (Zone[] memory zones) {
        zones = new Zone[](zs.length);
        for (uint256 k; k < zs.length; ++k) {
            IEnergyMarket.ZoneClearing calldata c = zs[k];
            if (k != 0 && c.zone <= zs[k - 1].zone) revert IEnergyMarket.ZonesNotSorted(c.zone);
            if (
                c.priceLowMicroPerKwh < feedIn || c.priceHighMicroPerKwh > retail
                    || c.priceLowMicroPerKwh > c.priceHighMicroPerKwh
                    || c.priceMicroPerKwh != (uint256(c.priceLowMicroPerKwh) + c.priceHighMicroPerKwh) / 2
            ) revert IEnergyMarket.ZonePriceOutOfWindow(c.zone, c.priceMicroPerKwh, feedIn, retail);
            Zone memory z = zones[k];
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
    function _namedPrices(Zone memory z, IEnergyMarket.Prices calldata hub) private pure {
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
    function _sum(
        uint256[] memory book,
        IEnergyMarket.Entry[] calldata entries,
        IEnergyMarket.ZoneClearing[] calldata zs,
        Zone[] memory zones
    ) private pure returns (uint256[] memory zoneOf) {
        uint256 n = book.length;
        zoneOf = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 k = _zoneIndex(zs, MeterEntry.zone(entries[i].meter));
            zoneOf[i] = k;
            Zone memory z = zones[k];
            ++z.meters;
            uint256 o = book[i];
            uint256 offer = uint64(o >> 192);
            uint64 ask = uint64(o >> 128);
            uint256 demand = uint64(o >> 64);
            uint64 bid = uint64(o);
            for (uint256 j; j < z.pointCount; ++j) {
                uint64 x = z.points[j];
                uint256 s = 4 * j;
                if (offer != 0) {
                    if (ask < x) z.sums[s] += offer;
                    if (ask <= x) z.sums[s + 1] += offer;
                }
                if (demand != 0) {
                    if (bid > x) z.sums[s + 2] += demand;
                    if (bid >= x) z.sums[s + 3] += demand;
                }
            }
        }
        for (uint256 k; k < zones.length; ++k) {
            if (zones[k].meters == 0) revert IEnergyMarket.ZoneWithoutMeters(zones[k].id);
        }
    }

    /// @dev Index of `zone` in the sorted zone list (one comparison with a single zone).
    function _zoneIndex(IEnergyMarket.ZoneClearing[] calldata zs, uint16 zone) private pure returns (uint256) {
        uint256 lo;
        uint256 hi = zs.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            uint16 id = zs[mid].zone;
            if (id == zone) return mid;
            if (id < zone) lo = mid + 1;
            else hi = mid;
        }
        revert IEnergyMarket.ZoneNotListed(zone);
    }

    // ------------------------------------------------------------------ zone sums

    /// @dev A_z(x) = S<(x) - D(x): the least net export at zone price x.
    function _a(Zone memory z, uint256 name) private pure returns (int256) {
        uint256 s = 4 * z.pointOf[name];
        return int256(z.sums[s]) - int256(z.sums[s + 3]);
    }

    /// @dev B_z(x) = S(x) - D>(x): the most net export at zone price x.
    function _b(Zone memory z, uint256 name) private pure returns (int256) {
        uint256 s = 4 * z.pointOf[name];
        return int256(z.sums[s + 1]) - int256(z.sums[s + 2]);
    }

    /// @dev lo_z at hub price x (named `x`, and `xFee` for x + fee).
    function _lo(Zone memory z, uint256 x, uint256 xFee) private pure returns (int256) {
        int256 a = _a(z, x);
        if (a > 0) return a < z.exportCapWh ? a : z.exportCapWh;
        int256 c = _a(z, xFee);
        if (c > 0) c = 0;
        return c > -z.importCapWh ? c : -z.importCapWh;
    }

    /// @dev hi_z at hub price x.
    function _hi(Zone memory z, uint256 x, uint256 xFee) private pure returns (int256) {
        int256 d = _b(z, xFee);
        if (d < 0) return d > -z.importCapWh ? d : -z.importCapWh;
        int256 b = _b(z, x);
        if (b < 0) b = 0;
        return b < z.exportCapWh ? b : z.exportCapWh;
    }

    // ------------------------------------------------------------------ hub, flows, zone prices

    /// @dev low and high are hub equilibria (L <= 0 <= H) and the extreme ones: L(low) < 0 unless low is
    /// feed-in, H(high) > 0 unless high is retail (since H(x - 1) = L(x), as in the single market).
    function _checkHub(Zone[] memory zones, IEnergyMarket.Prices calldata hub, uint64 feedIn, uint64 retail)
        private
        pure
    {
        (int256 lLow, int256 hLow) = _hubSums(zones, HUB_LOW, HUB_LOW_FEE);
        (int256 lHigh, int256 hHigh) = _hubSums(zones, HUB_HIGH, HUB_HIGH_FEE);
        uint64 low = hub.priceLowMicroPerKwh;
        uint64 high = hub.priceHighMicroPerKwh;
        if (lLow > 0 || hLow < 0) revert IEnergyMarket.PriceBoundNotEquilibrium(low);
        if (low > feedIn && lLow >= 0) revert IEnergyMarket.PriceBoundNotExtreme(low);
        if (lHigh > 0 || hHigh < 0) revert IEnergyMarket.PriceBoundNotEquilibrium(high);
        if (high < retail && hHigh <= 0) revert IEnergyMarket.PriceBoundNotExtreme(high);
    }

    function _hubSums(Zone[] memory zones, uint256 x, uint256 xFee) private pure returns (int256 l, int256 h) {
        for (uint256 k; k < zones.length; ++k) {
            l += _lo(zones[k], x, xFee);
            h += _hi(zones[k], x, xFee);
        }
    }

    /// @dev Each zone's net export is lo_z(π) plus a share of the hub's shortfall -L(π): every flow in
    /// [lo_z, hi_z] is an equilibrium with the same surplus, and the rule takes the one that trades the most
    /// energy: tied sellers cover the shortfall first (pro rata to each zone's seller slack), tied buyers
    /// stay out only beyond that (pro rata to buyer slack); rounded down, the remaining Wh one each to the
    /// first zones with slack on that side.
    function _checkFlows(Zone[] memory zones) private pure {
        uint256 count = zones.length;
        int256[] memory lo = new int256[](count);
        uint256[] memory sellerSlack = new uint256[](count);
        uint256[] memory buyerSlack = new uint256[](count);
        int256 lSum;
        uint256 sellerSlackWh;
        uint256 buyerSlackWh;
        for (uint256 k; k < count; ++k) {
            Zone memory z = zones[k];
            lo[k] = _lo(z, HUB, HUB_FEE);
            lSum += lo[k];
            int256 hi = _hi(z, HUB, HUB_FEE);
            // The net export at which the tied sellers have all sold and the tied buyers all still buy, at
            // the price the zone trades with the hub: π when it can export, π + fee when it imports.
            int256 split = hi > 0 ? _sellersMinusBuyers(z, HUB) : _sellersMinusBuyers(z, HUB_FEE);
            if (split < lo[k]) split = lo[k];
            if (split > hi) split = hi;
            sellerSlack[k] = uint256(split - lo[k]);
            buyerSlack[k] = uint256(hi - split);
            sellerSlackWh += sellerSlack[k];
            buyerSlackWh += buyerSlack[k];
        }
        uint256 shortWh = uint256(-lSum); // L(π) <= 0 <= H(π), as π lies in [low, high]
        bool sellersRationed = shortWh <= sellerSlackWh;
        uint256[] memory slack = sellersRationed ? sellerSlack : buyerSlack;
        uint256 total = sellersRationed ? sellerSlackWh : buyerSlackWh;
        uint256 residual = sellersRationed ? shortWh : shortWh - sellerSlackWh;
        int256[] memory expected = new int256[](count);
        uint256 handed;
        for (uint256 k; k < count; ++k) {
            uint256 share = total == 0 ? 0 : slack[k] * residual / total;
            expected[k] = lo[k] + int256(sellersRationed ? share : sellerSlack[k] + share);
            handed += share;
        }
        for (uint256 k; k < count && handed < residual; ++k) {
            if (slack[k] != 0) {
                ++expected[k];
                ++handed;
            }
        }
        for (uint256 k; k < count; ++k) {
            if (zones[k].netExportWh != expected[k]) {
                revert IEnergyMarket.ZoneFlowMismatch(zones[k].id, zones[k].netExportWh, expected[k]);
            }
        }
    }

    /// @dev S_z(x) - D_z(x).
    function _sellersMinusBuyers(Zone memory z, uint256 name) private pure returns (int256) {
        uint256 s = 4 * z.pointOf[name];
        return int256(z.sums[s + 1]) - int256(z.sums[s + 3]);
    }

    /// @dev The zone's window follows from its flow; its bounds are the extreme equilibria given that flow
    /// inside the window; then its rationing at its price is set up for the fills. A zone priced outside
    /// [π, π + fee] was split from the hub by a capacity.
    function _checkZonePrice(Zone memory z, uint64 p, uint64 feedIn, uint64 retail) private pure {
        int256 e = z.netExportWh;
        uint64 wLow = feedIn;
        uint64 wHigh = retail;
        if (e > 0 && e >= _a(z, HUB)) {
            (wLow, wHigh) = (p, p);
        } else if (e < 0 && e <= _b(z, HUB_FEE)) {
            (wLow, wHigh) = (p + z.fee, p + z.fee);
        } else if (e == 0 && _a(z, HUB) <= 0 && _b(z, HUB_FEE) >= 0) {
            // Self-sufficient: the hub's sell and buy prices bound the zone's, unless it cannot export
            // (or import) at all; an islanded zone clears on its own.
            if (z.exportCapWh != 0) wLow = p;
            if (z.importCapWh != 0 && p + z.fee < retail) wHigh = p + z.fee;
        }
        if (z.low < wLow || z.high > wHigh) revert IEnergyMarket.ZonePriceOutOfWindow(z.id, z.price, wLow, wHigh);
        if (_a(z, ZONE_LOW) > e || _b(z, ZONE_LOW) < e) revert IEnergyMarket.ZonePriceNotEquilibrium(z.id, z.low);
        if (_a(z, ZONE_HIGH) > e || _b(z, ZONE_HIGH) < e) revert IEnergyMarket.ZonePriceNotEquilibrium(z.id, z.high);
        if (z.low > wLow && _a(z, ZONE_LOW) >= e) revert IEnergyMarket.ZonePriceNotExtreme(z.id, z.low);
        if (z.high < wHigh && _b(z, ZONE_HIGH) <= e) revert IEnergyMarket.ZonePriceNotExtreme(z.id, z.high);
        z.capacityBound = z.price < p || z.price > p + z.fee;

        // Inside the zone at its price, e is a fixed outside demand (or supply): sellers sell
        // V = min(S, D + e), buyers buy V - e; the long side's ties share what is left.
        uint256 s = 4 * z.pointOf[ZONE];
        int256 supplyBelow = int256(z.sums[s]);
        int256 supplyAtOrBelow = int256(z.sums[s + 1]);
        int256 demandAbove = int256(z.sums[s + 2]);
        int256 demandAtOrAbove = int256(z.sums[s + 3]);
        if (supplyAtOrBelow > demandAtOrAbove + e) {
            z.sellers.active = true;
            z.sellers.residualWh = uint256(demandAtOrAbove + e - supplyBelow);
            z.sellers.tiedWh = uint256(supplyAtOrBelow - supplyBelow);
        } else if (demandAtOrAbove + e > supplyAtOrBelow) {
            z.buyers.active = true;
            z.buyers.residualWh = uint256(supplyAtOrBelow - e - demandAbove);
            z.buyers.tiedWh = uint256(demandAtOrAbove - demandAbove);
        }
    }

    // ------------------------------------------------------------------ fills

    /// @dev The second pass: every fill against its zone's price and rationing, then each zone's balance.
    function _checkFills(
        uint256[] memory book,
        IEnergyMarket.Entry[] calldata entries,
        Zone[] memory zones,
        uint256[] memory zoneOf
    ) private pure returns (uint256 soldWh) {
        for (uint256 i; i < book.length; ++i) {
            Zone memory z = zones[zoneOf[i]];
            uint256 o = book[i];
            uint256 energy = entries[i].energy;
            uint32 meterId = MeterEntry.meterId(entries[i].meter);
            uint64 sold = MeterEntry.soldWh(energy);
            uint64 bought = MeterEntry.boughtWh(energy);
            uint64 ask = uint64(o >> 128);
            uint64 bid = uint64(o);
            uint64 p = z.price;
            // A seller with ask a is a buyer with bid -a: the same check serves both sides.
            _checkSide(meterId, sold, uint64(o >> 192), ask, p, ask < p, z.sellers);
            _checkSide(meterId, bought, uint64(o >> 64), bid, p, bid > p, z.buyers);
            z.soldMinusBoughtWh += int256(uint256(sold)) - int256(uint256(bought));
            soldWh += sold;
        }
        // The side that is not rationed is filled completely, so the zone's balance pins the other side's
        // volume too: no separate volume check is needed.
        for (uint256 k; k < zones.length; ++k) {
            Zone memory z = zones[k];
            if (z.soldMinusBoughtWh != z.netExportWh) {
                revert IEnergyMarket.ZoneNotBalanced(z.id, z.netExportWh, z.soldMinusBoughtWh);
            }
        }
    }

    /// @dev Checks one side of one fill: `better` when the limit is strictly better than p.
    function _checkSide(
        uint32 meterId,
        uint64 filledWh,
        uint64 quantityWh,
        uint64 limit,
        uint64 p,
        bool better,
        Rationing memory r
    ) private pure {
        if (filledWh > quantityWh) revert IEnergyMarket.FillExceedsQuantity(meterId, filledWh, quantityWh);
        if (quantityWh == 0) return;
        if (better || (limit == p && !r.active)) {
            if (filledWh != quantityWh) revert IEnergyMarket.BetterOrderLeftOut(meterId, filledWh, quantityWh);
            return;
        }
        if (limit != p) {
            if (filledWh != 0) revert IEnergyMarket.FillBeyondLimit(meterId, limit, p);
            return;
        }
        uint256 base = uint256(quantityWh) * r.residualWh / r.tiedWh;
        r.baseSumWh += base;
        if (filledWh == base + 1 && !r.extrasClosed) {
            r.extras += 1;
        } else if (filledWh == base) {
            r.extrasClosed = true;
        } else {
            revert IEnergyMarket.TieNotProRata(meterId, filledWh, uint64(base));
        }
        if (r.baseSumWh + r.extras > r.residualWh) revert IEnergyMarket.TieNotProRata(meterId, filledWh, uint64(base));
    }
}
