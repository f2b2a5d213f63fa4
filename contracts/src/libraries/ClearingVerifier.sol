// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEnergyMarket} from "../interfaces/IEnergyMarket.sol";
import {MeterEntry} from "./MeterEntry.sol";

/// @title Linear-time verification of a uniform-price double auction.
/// @notice The market rule (see docs/architecture.md):
/// - S(x), S<(x): offered Wh with ask <= x, < x; D(x), D>(x): demanded Wh with bid >= x, > x.
/// - x is an equilibrium price when S<(x) <= D(x) and D>(x) <= S(x); these prices form an interval
///   [low, high] inside [feed-in, retail] (asks are clamped up to feed-in, bids down to retail).
/// - The price is floor((low + high) / 2). Volume is min(S(p), D(p)). Every order priced strictly better
///   than p is filled completely; orders at exactly p on the long side share what is left pro rata to
///   their quantity, rounded down, the remaining Wh going one each to the lowest meter ids.
/// So the clearing is unique, and a submitted one is checked against it in two passes over the book.
/// The book holds one packed word per meter (see {order}), so a thousand meters take a thousand words
/// of memory rather than five thousand.
library ClearingVerifier {
    /// @dev Supply and demand at one price.
    struct Curve {
        uint256 supplyBelow; // S<(x)
        uint256 supplyAtOrBelow; // S(x)
        uint256 demandAbove; // D>(x)
        uint256 demandAtOrAbove; // D(x)
    }

    /// @dev Pro-rata rationing of one side at price p.
    struct Rationing {
        bool active;
        uint256 residualWh; // what the tied orders share
        uint256 tiedWh; // their total quantity
        uint256 baseSumWh; // sum of the rounded-down shares
        uint256 extras; // Wh handed out as remainder so far
        bool extrasClosed; // a tied order got no remainder unit, so later ones get none either
    }

    /// @notice One meter's effective order (quantities capped, prices clamped) in one word:
    /// offerWh << 192 | askMicroPerKwh << 128 | demandWh << 64 | bidMicroPerKwh.
    function order(uint64 offerWh, uint64 ask, uint64 demandWh, uint64 bid) internal pure returns (uint256) {
        return (uint256(offerWh) << 192) | (uint256(ask) << 128) | (uint256(demandWh) << 64) | uint256(bid);
    }

    /// @notice Reverts unless the fills in `entries` and `c` are the clearing the rule gives for `book`
    /// (book[i] is the effective order of entries[i]).
    /// @return tradedWh the energy traded locally
    function verify(
        uint256[] memory book,
        IEnergyMarket.Entry[] calldata entries,
        IEnergyMarket.Prices calldata c,
        uint64 feedIn,
        uint64 retail
    ) internal pure returns (uint256 tradedWh) {
        uint64 low = c.priceLowMicroPerKwh;
        uint64 high = c.priceHighMicroPerKwh;
        uint64 p = c.priceMicroPerKwh;
        if (low < feedIn || high > retail || low > high || p != (uint256(low) + high) / 2) {
            revert IEnergyMarket.PriceOutOfBounds(p, low, high);
        }

        Curve memory atLow;
        Curve memory atHigh;
        Curve memory atPrice;
        for (uint256 i; i < book.length; ++i) {
            uint256 o = book[i];
            _add(atLow, low, o);
            _add(atHigh, high, o);
            _add(atPrice, p, o);
        }
        // low is an equilibrium price and low - 1 is not; high likewise upwards. Because
        // S<(x+1) = S(x) and D>(x-1) = D(x) for integer prices, the neighbours need no extra sums.
        if (atLow.demandAbove > atLow.supplyAtOrBelow) revert IEnergyMarket.PriceBoundNotEquilibrium(low);
        if (low > feedIn && atLow.demandAtOrAbove <= atLow.supplyBelow) revert IEnergyMarket.PriceBoundNotExtreme(low);
        if (atHigh.supplyBelow > atHigh.demandAtOrAbove) revert IEnergyMarket.PriceBoundNotEquilibrium(high);
        if (high < retail && atHigh.supplyAtOrBelow <= atHigh.demandAbove) revert IEnergyMarket.PriceBoundNotExtreme(high);

        uint256 volume = _min(atPrice.supplyAtOrBelow, atPrice.demandAtOrAbove);
        Rationing memory sellers;
        Rationing memory buyers;
        if (atPrice.supplyAtOrBelow > volume) {
            sellers.active = true;
            sellers.residualWh = volume - atPrice.supplyBelow;
            sellers.tiedWh = atPrice.supplyAtOrBelow - atPrice.supplyBelow;
        } else if (atPrice.demandAtOrAbove > volume) {
            buyers.active = true;
            buyers.residualWh = volume - atPrice.demandAbove;
            buyers.tiedWh = atPrice.demandAtOrAbove - atPrice.demandAbove;
        }

        uint256 soldWh;
        uint256 boughtWh;
        for (uint256 i; i < book.length; ++i) {
            uint256 o = book[i];
            uint256 energy = entries[i].energy;
            uint32 meterId = MeterEntry.meterId(entries[i].meter);
            uint64 sold = MeterEntry.soldWh(energy);
            uint64 bought = MeterEntry.boughtWh(energy);
            uint64 ask = _ask(o);
            uint64 bid = _bid(o);
            // A seller with ask a is a buyer with bid -a: the same check serves both sides.
            _checkSide(meterId, sold, _offer(o), ask, p, ask < p, sellers);
            _checkSide(meterId, bought, _demand(o), bid, p, bid > p, buyers);
            soldWh += sold;
            boughtWh += bought;
        }
        // No separate volume check is needed: the side that is not rationed is filled completely, so its
        // total is exactly the volume, and the balance check forces the other side to match.
        if (soldWh != boughtWh) revert IEnergyMarket.ClearingNotBalanced(soldWh, boughtWh);
        return soldWh;
    }

    function _offer(uint256 o) private pure returns (uint64) {
        return uint64(o >> 192);
    }

    function _ask(uint256 o) private pure returns (uint64) {
        return uint64(o >> 128);
    }

    function _demand(uint256 o) private pure returns (uint64) {
        return uint64(o >> 64);
    }

    function _bid(uint256 o) private pure returns (uint64) {
        return uint64(o);
    }

    function _add(Curve memory cv, uint64 x, uint256 o) private pure {
        uint64 offer = _offer(o);
        if (offer != 0) {
            uint64 ask = _ask(o);
            if (ask < x) cv.supplyBelow += offer;
            if (ask <= x) cv.supplyAtOrBelow += offer;
        }
        uint64 demand = _demand(o);
        if (demand != 0) {
            uint64 bid = _bid(o);
            if (bid > x) cv.demandAbove += demand;
            if (bid >= x) cv.demandAtOrAbove += demand;
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

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
