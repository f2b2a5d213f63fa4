// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEnergyMarket} from "../interfaces/IEnergyMarket.sol";

/// @dev How many named prices a zone's sums are taken at (see ZonalPrices' HUB_LOW ... ZONE).
uint256 constant NAMED = 9;

/// @title The per-zone half of the zonal verification: hub price, zone flows and zone prices.
/// @notice {ZonalVerifier} sums every zone's orders at a few named prices in one pass over the book; from
/// those sums alone, this library checks that the hub's price bounds are its extreme equilibria, that each
/// zone's net export is the one the rule gives, and that each zone's price bounds are its extreme equilibria
/// inside its window (docs/architecture.md, "Grid zones"); then it sets up each zone's rationing for the
/// fills pass. Its work grows with the number of zones, not of meters, so it is an external library, called
/// once per settlement: it keeps the market's code under the 24,576-byte limit for ~2k gas per interval.
library ZonalPrices {
    // The prices a zone's sums are needed at, by name (see {_namedPrices}).
    uint256 internal constant HUB_LOW = 0;
    uint256 internal constant HUB_LOW_FEE = 1;
    uint256 internal constant HUB_HIGH = 2;
    uint256 internal constant HUB_HIGH_FEE = 3;
    uint256 internal constant HUB = 4;
    uint256 internal constant HUB_FEE = 5;
    uint256 internal constant ZONE_LOW = 6;
    uint256 internal constant ZONE_HIGH = 7;
    uint256 internal constant ZONE = 8;

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

    /// @notice Reverts unless the hub's bounds, the zones' flows and the zones' prices are the ones the rule
    /// gives for the zones' sums; returns the zones with their rationing set up and `capacityBound` set.
    function check(Zone[] memory zones, IEnergyMarket.Prices calldata hub, uint64 feedIn, uint64 retail)
        external
        pure
        returns (Zone[] memory)
    {
        _checkHub(zones, hub, feedIn, retail);
        _checkFlows(zones);
        for (uint256 k; k < zones.length; ++k) {
            _checkZonePrice(zones[k], hub.priceMicroPerKwh, feedIn, retail);
        }
        return zones;
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
}
