// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice Random books of 2 to 12 meters: the reference clearing settles, keeps money whole and issues
/// exactly the verified export as energy leaves, each claimable once; any one-unit change to it, or to
/// the readings it repeats, is refused; how readings are split into batches does not matter.
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
    /// leaves the clock where I can be settled. Returns the signed readings, in meter-id order.
    function _randomInterval(uint256 seed, uint256 n) internal returns (IEnergyMarket.SignedReading[] memory rs) {
        _randomOrders(seed, n);
        rs = _randomReadings(seed, n);
        _warpToWindow(I);
        vm.assertEq(_submitBatch(I, rs), rs.length, "all readings new");
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

    // ------------------------------------------------------------------ the reference clearing settles

    function test_fuzz_settleInterval_acceptsReferenceClearing(uint256 seed, uint256 nRaw) public {
        uint256 n = bound(nRaw, 2, MAX_METERS);
        _randomInterval(seed, n);
        BookEntry[] memory b = _book(I);
        uint256 ledgerBefore = _ledgerSum();
        uint256 held = credit.balanceOf(address(market));
        vm.assertEq(ledgerBefore, held, "ledger backed before");

        // checks the IntervalSettled totals, the energy root and every balance against the fixture
        Clearing memory c = _settleChecked(I);

        // price
        uint64 p = c.prices.priceMicroPerKwh;
        vm.assertGe(c.prices.priceLowMicroPerKwh, FEED_IN, "low >= feed-in");
        vm.assertLe(c.prices.priceHighMicroPerKwh, RETAIL, "high <= retail");
        vm.assertLe(c.prices.priceLowMicroPerKwh, p, "low <= price");
        vm.assertLe(p, c.prices.priceHighMicroPerKwh, "price <= high");
        uint256 sold;
        uint256 bought;
        for (uint256 i; i < b.length; ++i) {
            if (_soldAt(c, i) != 0) vm.assertLe(b[i].ask, p, "seller filled though its ask is above the price");
            if (_boughtAt(c, i) != 0) vm.assertGe(b[i].bid, p, "buyer filled though its bid is below the price");
            vm.assertLe(_soldAt(c, i), b[i].offerWh, "sold within offer");
            vm.assertLe(_boughtAt(c, i), b[i].demandWh, "bought within demand");
            sold += _soldAt(c, i);
            bought += _boughtAt(c, i);
        }
        vm.assertEq(sold, bought, "balanced");
        vm.assertEq(_tradeLimitViolations(b, c), 0, "a trade beyond a limit");

        // money
        vm.assertEq(_ledgerSum(), ledgerBefore, "money conserved");
        vm.assertEq(credit.balanceOf(address(market)), held, "no token moved");
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "next interval");

        // energy: the leaves carry exactly the verified export; claiming them all mints it, once each
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        vm.assertEq(_claimsSum(claims), _exportSum(I), "leaves = verified export");
        vm.assertEq(energyToken.mintedWh(I), 0, "nothing minted before claims");
        vm.assertEq(_claimAll(I, claims), _exportSum(I), "claims mint the export");
        vm.assertEq(energyToken.mintedWh(I), _exportSum(I), "minted = verified export");
        for (uint256 i; i < b.length; ++i) {
            vm.assertEq(
                energyToken.balanceOf(grid, _gridPoolId(I, b[i].meterId - 1)),
                b[i].exportWh - _soldAt(c, i),
                "unsold export to the grid"
            );
        }
        if (claims.length != 0) {
            uint256 k = seed % claims.length;
            bytes32[] memory leaves = _leaves(I, claims);
            vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.EnergyAlreadyClaimed.selector, I, leaves[k]));
            market.claimEnergy(I, claims[k], _merkleProof(leaves, k));
        }
    }

    /// @dev Every household both sells and buys (a low ask, a high bid, a sell cap below its export) and
    /// exports and imports in the interval, so entries sell and buy at once and keep unsold export.
    function test_fuzz_settleInterval_acceptsBooksOfProsumers(uint256 seed, uint256 nRaw) public {
        uint256 n = bound(nRaw, 2, MAX_METERS);
        IEnergyMarket.SignedReading[] memory rs = new IEnergyMarket.SignedReading[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint64 maxSell = uint64(1 + (r >> 8) % 3000);
            uint64 maxBuy = uint64(1 + (r >> 32) % 3000);
            _fund(households[i], uint256(maxBuy) * RETAIL / 1000 + 1);
            _setOrder(i, FEED_IN + uint64((r >> 64) % 5) * 10_000, maxSell, RETAIL - uint64((r >> 72) % 5) * 10_000, maxBuy);
            rs[i] = _reading(i, I, maxSell + uint64((r >> 80) % 1000) + 1, uint64((r >> 96) % 3001));
        }
        _warpToWindow(I);
        _submitBatch(I, rs);
        _warpToClose(I);
        Clearing memory c = _settleChecked(I);
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        vm.assertEq(_claimAll(I, claims), _exportSum(I), "leaves = verified export");
    }

    // ------------------------------------------------------------------ perturbed clearings are refused

    function _isClearingError(bytes4 sel) internal pure returns (bool) {
        return sel == IEnergyMarket.PriceOutOfBounds.selector || sel == IEnergyMarket.PriceBoundNotEquilibrium.selector
            || sel == IEnergyMarket.PriceBoundNotExtreme.selector || sel == IEnergyMarket.FillExceedsQuantity.selector
            || sel == IEnergyMarket.FillBeyondLimit.selector || sel == IEnergyMarket.BetterOrderLeftOut.selector
            || sel == IEnergyMarket.TieNotProRata.selector || sel == IEnergyMarket.ZoneNotBalanced.selector
            || sel == IEnergyMarket.ZoneFlowMismatch.selector || sel == IEnergyMarket.ZonePriceOutOfWindow.selector
            || sel == IEnergyMarket.ZonePriceNotEquilibrium.selector || sel == IEnergyMarket.ZonePriceNotExtreme.selector;
    }

    function _bump(uint64 v, bool up) internal pure returns (uint64) {
        if (v == 0) return 1;
        return up ? v + 1 : v - 1;
    }

    function test_fuzz_settleInterval_refusesPerturbedClearing(uint256 seed, uint256 nRaw, uint256 what) public {
        uint256 n = bound(nRaw, 2, MAX_METERS);
        _randomInterval(seed, n);
        Clearing memory c = _referenceClearing(I);
        vm.assume(c.entries.length != 0);
        Clearing memory bad = _copy(c);
        uint256 kind = what % 8;
        bool up = (what >> 8) & 1 == 1;
        uint256 idx = (what >> 16) % c.entries.length;
        if (kind == 0) {
            _setSold(bad, idx, _bump(_soldAt(bad, idx), up));
        } else if (kind == 1) {
            _setBought(bad, idx, _bump(_boughtAt(bad, idx), up));
        } else if (kind == 2) {
            bad.prices.priceMicroPerKwh = up ? c.prices.priceMicroPerKwh + 1 : c.prices.priceMicroPerKwh - 1;
        } else if (kind == 3) {
            bad.prices.priceLowMicroPerKwh = up ? c.prices.priceLowMicroPerKwh + 1 : c.prices.priceLowMicroPerKwh - 1;
            bad.prices.priceMicroPerKwh =
                uint64((uint256(bad.prices.priceLowMicroPerKwh) + bad.prices.priceHighMicroPerKwh) / 2);
        } else if (kind == 4) {
            bad.prices.priceHighMicroPerKwh =
                up ? c.prices.priceHighMicroPerKwh + 1 : c.prices.priceHighMicroPerKwh - 1;
            bad.prices.priceMicroPerKwh =
                uint64((uint256(bad.prices.priceLowMicroPerKwh) + bad.prices.priceHighMicroPerKwh) / 2);
        } else if (kind == 5) {
            _setExport(bad, idx, _bump(_exportAt(bad, idx), up));
        } else if (kind == 6) {
            _setImport(bad, idx, _bump(_importAt(bad, idx), up));
        } else {
            // another meter's word, or a neighbour's place
            if (c.entries.length == 1) {
                bad.entries[0].meter ^= uint256(1) << 64;
            } else {
                uint256 other = (idx + 1) % c.entries.length;
                (bad.entries[idx], bad.entries[other]) = (bad.entries[other], bad.entries[idx]);
            }
        }

        if (kind == 2) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IEnergyMarket.PriceOutOfBounds.selector,
                    bad.prices.priceMicroPerKwh,
                    bad.prices.priceLowMicroPerKwh,
                    bad.prices.priceHighMicroPerKwh
                )
            );
            market.settleInterval(I, bad.prices, bad.zones, bad.entries);
        } else if (kind >= 5) {
            vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I));
            market.settleInterval(I, bad.prices, bad.zones, bad.entries);
        } else {
            try market.settleInterval(I, bad.prices, bad.zones, bad.entries) {
                vm.assertTrue(false, "perturbed clearing accepted");
            } catch (bytes memory err) {
                vm.assertTrue(err.length >= 4 && _isClearingError(bytes4(err)), "unexpected revert");
            }
        }
        vm.assertEq(market.nextIntervalToSettle(), I, "not settled");
        vm.assertEq(market.energyRootOf(I), bytes32(0), "no root");
        // the unperturbed one still settles
        market.settleInterval(I, c.prices, c.zones, c.entries);
    }

    // ------------------------------------------------------------------ batching

    function test_fuzz_submitReadings_batchingDoesNotChangeBook(uint256 seed, uint256 nRaw, uint256 cuts) public {
        uint256 n = bound(nRaw, 2, MAX_METERS);
        uint256 snap = vm.snapshotState();
        IEnergyMarket.SignedReading[] memory rs = _randomInterval(seed, n);
        IEnergyMarket.IntervalBook memory whole = market.bookOf(I);
        Clearing memory c = _referenceClearing(I);

        vm.revertToState(snap);
        // same orders and escrow; readings in up to four overlapping batches (a gateway retrying)
        _randomOrders(seed, n);
        _warpToWindow(I);
        uint256 start;
        for (uint256 b; b < 4 && start < rs.length; ++b) {
            uint256 end = b == 3 ? rs.length : start + (cuts >> (8 * b)) % (rs.length - start + 1);
            uint256 from = start - (start == 0 ? 0 : (cuts >> (8 * b + 4)) % (start + 1)); // resend a tail
            IEnergyMarket.SignedReading[] memory batch = new IEnergyMarket.SignedReading[](end - from);
            for (uint256 k = from; k < end; ++k) {
                batch[k - from] = rs[k];
            }
            vm.assertEq(_submitBatch(I, batch), end - start, "only the new readings count");
            start = end;
        }
        IEnergyMarket.IntervalBook memory split = market.bookOf(I);
        vm.assertEq(split.head, whole.head, "same head");
        vm.assertEq(split.count, whole.count, "same count");
        vm.assertEq(split.lastMeterId, whole.lastMeterId, "same last meter");
        _warpToClose(I);
        market.settleInterval(I, c.prices, c.zones, c.entries); // the clearing of the whole batch settles here too
        vm.assertEq(_claimAll(I, _energyClaims(I, c)), _exportSum(I), "minted");
    }

    // ------------------------------------------------------------------ orders, escrow and readings

    function test_fuzz_setStandingOrder_requiresEscrowForCapAtLimit(uint64 bid, uint64 maxBuy, uint256 balance)
        public
    {
        bid = uint64(bound(bid, 1, 10 * RETAIL));
        maxBuy = uint64(bound(maxBuy, 1, type(uint32).max));
        balance = bound(balance, 0, 1e12);
        if (balance != 0) _fund(households[0], balance);
        uint256 required = (uint256(maxBuy) * (bid > RETAIL ? RETAIL : bid) + 999) / 1000;
        if (balance < required) {
            vm.expectRevert(
                abi.encodeWithSelector(IEnergyMarket.InsufficientEscrow.selector, households[0], required, balance)
            );
        }
        _setOrder(0, 0, 0, bid, maxBuy);
        vm.assertEq(_standingOrderOf(households[0]).maxBuyWh, balance < required ? 0 : maxBuy, "order");
    }

    function test_fuzz_setStandingOrder_refusesFieldsAbove32Bits(uint64 ask, uint64 maxSell, uint64 bid, uint64 maxBuy)
        public
    {
        vm.assume(
            ask > type(uint32).max || maxSell > type(uint32).max || bid > type(uint32).max
                || maxBuy > type(uint32).max
        );
        _fund(households[0], 1e18);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidOrder.selector, households[0]));
        _setOrder(0, ask, maxSell, bid, maxBuy);
    }

    function test_fuzz_submitReadings_acceptedOnlyInsideWindow(uint256 when) public {
        when = bound(when, _endOf(I) - 2 * INTERVAL_SECONDS, _endOf(I) + 2 * INTERVAL_SECONDS);
        vm.warp(when);
        IEnergyMarket.SignedReading[] memory rs = _one(_reading(0, I, 10, 20));
        bool inside = when >= _endOf(I) && when < _endOf(I) + WINDOW_SECONDS;
        if (when < _endOf(I)) {
            vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.IntervalNotEnded.selector, I, _endOf(I)));
        } else if (!inside) {
            vm.expectRevert(
                abi.encodeWithSelector(IEnergyMarket.ReadingWindowClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
            );
        }
        vm.prank(gateway);
        market.submitReadings(I, rs);
        vm.assertEq(market.bookOf(I).count, inside ? 1 : 0, "recorded iff inside the window");
    }

    function test_fuzz_submitReadings_forgedKeyIsRefused(uint256 pk, uint64 exportWh, uint64 importWh) public {
        pk = bound(pk, 1, 1e70);
        vm.assume(pk != meterKeys[0]);
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _one(_sign(pk, meterSigners[0], I, exportWh, importWh));
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I));
        vm.prank(gateway);
        market.submitReadings(I, rs);
    }

    function test_fuzz_submitReadings_recordsAnyValues(uint64 exportWh, uint64 importWh) public {
        _warpToWindow(I);
        vm.assertEq(_submit(0, I, exportWh, importWh), 1, "recorded");
        Recorded[] memory rec = _recordedReadings(I);
        vm.assertEq(rec[0].exportWh, exportWh, "export");
        vm.assertEq(rec[0].importWh, importWh, "import");
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

    function test_fuzz_depositFor_repaysDebtFirst(uint256 importWh, uint256 amount) public {
        importWh = bound(importWh, 1, 5000);
        amount = bound(amount, 1, 3_000_000);
        _warpToWindow(I);
        _submit(2, I, 0, uint64(importWh));
        _warpToClose(I);
        _settleChecked(I);
        uint256 debt = importWh * RETAIL / 1000;
        vm.assertEq(_gridDebtOf(households[2]), debt, "debt");
        uint256 gridBefore = market.balanceOf(grid);
        _fund(households[2], amount);
        uint256 repaid = amount < debt ? amount : debt;
        vm.assertEq(_gridDebtOf(households[2]), debt - repaid, "debt left");
        vm.assertEq(market.balanceOf(households[2]), amount - repaid, "escrow");
        vm.assertEq(market.balanceOf(grid), gridBefore + repaid, "grid repaid");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }
}
