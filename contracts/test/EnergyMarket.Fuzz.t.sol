// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./utils/MarketFixture.sol";
import {Vm} from "./utils/Vm.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice Random books of 2 to 12 meters: the reference clearing settles and keeps money and energy
/// whole; any one-unit change to it is refused; readings' arrival order does not matter.
contract EnergyMarketFuzzTest is MarketFixture {
    uint256 internal constant MAX_METERS = 12;
    uint64 internal I;

    function setUp() public {
        _deploy(MAX_METERS);
        I = firstInterval;
    }

    // ------------------------------------------------------------------ random books

    /// @dev Prices on a 10_000 grid from 60_000 to 320_000 (so ties are common, and some limits fall
    /// outside the tariffs), or now and then anywhere in that range.
    function _price(uint256 r) internal pure returns (uint64) {
        if (r % 5 == 0) return uint64(60_000 + (r >> 8) % 260_001);
        return uint64(60_000 + ((r >> 8) % 27) * 10_000);
    }

    /// @dev Random orders and escrow for households [0, n) and their readings for I (some without one);
    /// leaves the clock where I can be settled. Returns the signed readings in submission order.
    function _randomInterval(uint256 seed, uint256 n) internal returns (IEnergyMarket.SignedReading[] memory rs) {
        _randomOrders(seed, n);
        rs = _randomReadings(seed, n);
        _warpToWindow(I);
        vm.assertEq(_submitBatch(rs), rs.length, "all readings new");
        _warpToClose(I);
    }

    function _randomOrders(uint256 seed, uint256 n) internal {
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint64 maxSell = (r & 3) == 0 ? 0 : uint64((r >> 56) % 6001);
            uint64 maxBuy = ((r >> 2) & 3) == 0 ? 0 : uint64((r >> 88) % 6001);
            uint64 ask = _price(r >> 40);
            uint64 bid = maxBuy == 0 ? 0 : _price(r >> 72);
            uint64 bidForEscrow = bid > RETAIL ? RETAIL : bid;
            uint256 required = (uint256(maxBuy) * bidForEscrow + 999) / 1000;
            uint256 deposit = required + (r >> 104) % 400_000;
            if (deposit != 0) _fund(households[i], deposit);
            _setOrder(i, ask, maxSell, bid, maxBuy);
            // now and then the buyer takes escrow back, so affordability caps its demand
            if (((r >> 124) & 3) == 0 && deposit > 1) {
                vm.prank(households[i]);
                market.withdraw(1 + (r >> 130) % (deposit - 1));
            }
        }
    }

    function _randomReadings(uint256 seed, uint256 n) internal view returns (IEnergyMarket.SignedReading[] memory rs) {
        IEnergyMarket.SignedReading[] memory all = new IEnergyMarket.SignedReading[](n);
        uint256 k;
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            if ((r >> 160) % 6 == 0) continue; // no reading from this meter
            uint64 exportWh = ((r >> 4) & 3) == 0 ? 0 : uint64((r >> 168) % 5001);
            uint64 importWh = ((r >> 6) & 3) == 0 ? 0 : uint64((r >> 184) % 5001);
            all[k++] = _reading(i, I, exportWh, importWh);
        }
        rs = new IEnergyMarket.SignedReading[](k);
        for (uint256 j; j < k; ++j) {
            rs[j] = all[j];
        }
    }

    function _exportSum(uint64 interval) internal view returns (uint256 sum) {
        uint32[] memory ids = _metersIn(interval);
        for (uint256 i; i < ids.length; ++i) {
            sum += market.positionOf(interval, ids[i]).exportWh;
        }
    }

    // ------------------------------------------------------------------ the reference clearing settles

    function test_fuzz_settleInterval_acceptsReferenceClearing(uint256 seed, uint256 nRaw) public {
        uint256 n = bound(nRaw, 2, MAX_METERS);
        _randomInterval(seed, n);
        uint32[] memory ids = _metersIn(I);
        BookEntry[] memory b = _book(I, ids);
        IEnergyMarket.Clearing memory c = _clear(b);
        uint256 ledgerBefore = _ledgerSum();
        uint256 held = credit.balanceOf(address(market));
        vm.assertEq(ledgerBefore, held, "ledger backed before");

        vm.recordLogs();
        market.settleInterval(I, c);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        // price
        uint64 p = c.priceMicroPerKwh;
        vm.assertGe(c.priceLowMicroPerKwh, FEED_IN, "low >= feed-in");
        vm.assertLe(c.priceHighMicroPerKwh, RETAIL, "high <= retail");
        vm.assertLe(c.priceLowMicroPerKwh, p, "low <= price");
        vm.assertLe(p, c.priceHighMicroPerKwh, "price <= high");
        uint256 sold;
        uint256 bought;
        for (uint256 i; i < b.length; ++i) {
            IEnergyMarket.Fill memory f = c.fills[i];
            if (f.soldWh != 0) vm.assertLe(b[i].ask, p, "seller filled though its ask is above the price");
            if (f.boughtWh != 0) vm.assertGe(b[i].bid, p, "buyer filled though its bid is below the price");
            vm.assertLe(f.soldWh, b[i].offerWh, "sold within offer");
            vm.assertLe(f.boughtWh, b[i].demandWh, "bought within demand");
            sold += f.soldWh;
            bought += f.boughtWh;
        }
        vm.assertEq(sold, bought, "balanced");

        // trades
        (uint256 violations, uint256 tradedWh,) = _tradeLimitViolations(logs, b);
        vm.assertEq(violations, 0, "a trade beyond a limit");
        vm.assertEq(tradedWh, sold, "trades carry the traded energy");

        // money and energy
        vm.assertEq(_ledgerSum(), ledgerBefore, "money conserved");
        vm.assertEq(credit.balanceOf(address(market)), held, "no token moved");
        vm.assertEq(energyToken.mintedWh(I), _exportSum(I), "minted = verified export");
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "next interval");
        for (uint256 i; i < b.length; ++i) {
            vm.assertEq(
                energyToken.balanceOf(grid, _gridPoolId(I, b[i].meterId - 1)),
                b[i].exportWh - c.fills[i].soldWh,
                "unsold export to the grid"
            );
        }
    }

    // ------------------------------------------------------------------ perturbed clearings are refused

    function _isClearingError(bytes4 sel) internal pure returns (bool) {
        return sel == IEnergyMarket.PriceOutOfBounds.selector || sel == IEnergyMarket.PriceBoundNotEquilibrium.selector
            || sel == IEnergyMarket.PriceBoundNotExtreme.selector || sel == IEnergyMarket.FillExceedsQuantity.selector
            || sel == IEnergyMarket.FillBeyondLimit.selector || sel == IEnergyMarket.BetterOrderLeftOut.selector
            || sel == IEnergyMarket.TieNotProRata.selector || sel == IEnergyMarket.ClearingNotBalanced.selector;
    }

    function _bump(uint64 v, bool up) internal pure returns (uint64) {
        if (v == 0) return 1;
        return up ? v + 1 : v - 1;
    }

    function test_fuzz_settleInterval_refusesPerturbedClearing(uint256 seed, uint256 nRaw, uint256 what) public {
        uint256 n = bound(nRaw, 2, MAX_METERS);
        _randomInterval(seed, n);
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        vm.assume(c.fills.length != 0);
        IEnergyMarket.Clearing memory bad = _copy(c);
        uint256 kind = what % 5;
        bool up = (what >> 8) & 1 == 1;
        uint256 idx = (what >> 16) % c.fills.length;
        if (kind == 0) {
            bad.fills[idx].soldWh = _bump(bad.fills[idx].soldWh, up);
        } else if (kind == 1) {
            bad.fills[idx].boughtWh = _bump(bad.fills[idx].boughtWh, up);
        } else if (kind == 2) {
            bad.priceMicroPerKwh = up ? c.priceMicroPerKwh + 1 : c.priceMicroPerKwh - 1;
        } else if (kind == 3) {
            bad.priceLowMicroPerKwh = up ? c.priceLowMicroPerKwh + 1 : c.priceLowMicroPerKwh - 1;
            bad.priceMicroPerKwh = uint64((uint256(bad.priceLowMicroPerKwh) + bad.priceHighMicroPerKwh) / 2);
        } else {
            bad.priceHighMicroPerKwh = up ? c.priceHighMicroPerKwh + 1 : c.priceHighMicroPerKwh - 1;
            bad.priceMicroPerKwh = uint64((uint256(bad.priceLowMicroPerKwh) + bad.priceHighMicroPerKwh) / 2);
        }

        if (kind == 2) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IEnergyMarket.PriceOutOfBounds.selector,
                    bad.priceMicroPerKwh,
                    bad.priceLowMicroPerKwh,
                    bad.priceHighMicroPerKwh
                )
            );
            market.settleInterval(I, bad);
        } else {
            try market.settleInterval(I, bad) {
                vm.assertTrue(false, "perturbed clearing accepted");
            } catch (bytes memory err) {
                vm.assertTrue(err.length >= 4 && _isClearingError(bytes4(err)), "unexpected revert");
            }
        }
        vm.assertEq(market.nextIntervalToSettle(), I, "not settled");
        vm.assertEq(energyToken.mintedWh(I), 0, "nothing minted");
        // the unperturbed one still settles
        market.settleInterval(I, c);
    }

    // ------------------------------------------------------------------ determinism

    function test_fuzz_submitReadings_arrivalOrderDoesNotChangeClearing(uint256 seed, uint256 nRaw) public {
        uint256 n = bound(nRaw, 2, MAX_METERS);
        uint256 snap = vm.snapshotState();
        IEnergyMarket.SignedReading[] memory rs = _randomInterval(seed, n);
        IEnergyMarket.Clearing memory forward = _referenceClearing(I);

        vm.revertToState(snap);
        // same orders and escrow, readings in reverse and in two batches with a duplicate
        _randomOrders(seed, n);
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory reversed = new IEnergyMarket.SignedReading[](rs.length);
        for (uint256 i; i < rs.length; ++i) {
            reversed[i] = rs[rs.length - 1 - i];
        }
        _submitBatch(reversed);
        _submitBatch(rs);
        _warpToClose(I);
        market.settleInterval(I, forward); // the forward clearing is the clearing here too
        vm.assertEq(energyToken.mintedWh(I), _exportSum(I), "minted");
    }

    // ------------------------------------------------------------------ orders, escrow and readings

    function test_fuzz_setStandingOrder_requiresEscrowForCapAtLimit(uint64 bid, uint64 maxBuy, uint256 balance)
        public
    {
        bid = uint64(bound(bid, 1, 10 * RETAIL));
        maxBuy = uint64(bound(maxBuy, 1, 1e9));
        balance = bound(balance, 0, 1e12);
        if (balance != 0) _fund(households[0], balance);
        uint256 required = (uint256(maxBuy) * (bid > RETAIL ? RETAIL : bid) + 999) / 1000;
        if (balance < required) {
            vm.expectRevert(
                abi.encodeWithSelector(IEnergyMarket.InsufficientEscrow.selector, households[0], required, balance)
            );
        }
        _setOrder(0, 0, 0, bid, maxBuy);
        vm.assertEq(market.standingOrderOf(households[0]).maxBuyWh, balance < required ? 0 : maxBuy, "order");
    }

    function test_fuzz_submitReading_acceptedOnlyInsideWindow(uint256 at) public {
        at = bound(at, _endOf(I) - 2 * INTERVAL_SECONDS, _endOf(I) + 2 * INTERVAL_SECONDS);
        vm.warp(at);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 10, 20);
        if (at < _endOf(I)) {
            vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.IntervalNotEnded.selector, I, _endOf(I)));
        } else if (at >= _endOf(I) + WINDOW_SECONDS) {
            vm.expectRevert(
                abi.encodeWithSelector(IEnergyMarket.ReadingWindowClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
            );
        }
        vm.prank(gateway);
        market.submitReading(r);
        bool inside = at >= _endOf(I) && at < _endOf(I) + WINDOW_SECONDS;
        vm.assertEq(market.positionOf(I, 1).recorded, inside, "recorded iff inside the window");
    }

    function test_fuzz_submitReading_forgedKeyIsRefused(uint256 pk, uint64 exportWh, uint64 importWh) public {
        pk = bound(pk, 1, 1e70);
        vm.assume(pk != meterKeys[0]);
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _sign(pk, meterSigners[0], I, exportWh, importWh);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I));
        vm.prank(gateway);
        market.submitReading(r);
    }

    function test_fuzz_depositAndWithdraw_keepLedgerBacked(uint256 a, uint256 b, uint256 w) public {
        a = bound(a, 1, 1e15);
        b = bound(b, 1, 1e15);
        _fund(households[0], a);
        _fund(households[1], b);
        w = bound(w, 1, a);
        vm.prank(households[0]);
        market.withdraw(w);
        vm.assertEq(market.balanceOf(households[0]), a - w, "escrow");
        vm.assertEq(credit.balanceOf(households[0]), w, "wallet");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }
}
