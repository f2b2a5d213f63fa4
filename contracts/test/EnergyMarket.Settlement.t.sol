// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice settleInterval: valid clearings and every revert of the verifier and the settlement.
/// Three hand-computed books (tariffs 80_000 / 300_000):
/// - S: one equilibrium price 120_000, buyers long at the price (one tied buyer, no remainder).
/// - R: equilibrium range [100_000, 200_000], price 150_000, plus a buyer priced below it.
/// - T: price 100_000, three sellers tied at it sharing 1000 Wh pro rata (467 / 333 / 200).
contract EnergyMarketSettlementTest is MarketFixture {
    uint64 internal I;

    function setUp() public {
        _deploy(6);
        I = firstInterval;
    }

    // ------------------------------------------------------------------ scenarios

    function _scenarioS() internal {
        _fund(households[2], 1_000_000);
        _fund(households[3], 1_000_000);
        _setOrder(0, 100_000, 1000, 0, 0);
        _setOrder(1, 150_000, 500, 0, 0);
        _setOrder(2, 0, 0, 200_000, 800);
        _setOrder(3, 0, 0, 120_000, 600);
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        _submit(1, I, 500, 0);
        _submit(2, I, 0, 800);
        _submit(3, I, 0, 600);
        _warpToClose(I);
    }

    function _scenarioR() internal {
        _fund(households[1], 1_000_000);
        _fund(households[2], 1_000_000);
        _setOrder(0, 100_000, 1000, 0, 0);
        _setOrder(1, 0, 0, 200_000, 1000);
        _setOrder(2, 0, 0, 90_000, 500);
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        _submit(1, I, 0, 1000);
        _submit(2, I, 0, 500);
        _warpToClose(I);
    }

    function _scenarioT() internal {
        _fund(households[3], 1_000_000);
        _setOrder(0, 100_000, 700, 0, 0);
        _setOrder(1, 100_000, 500, 0, 0);
        _setOrder(2, 100_000, 301, 0, 0);
        _setOrder(3, 0, 0, 250_000, 1000);
        _warpToWindow(I);
        _submit(0, I, 700, 0);
        _submit(1, I, 500, 0);
        _submit(2, I, 301, 0);
        _submit(3, I, 0, 1000);
        _warpToClose(I);
    }

    /// @dev Everything a failed settlement must leave alone.
    struct State {
        uint64 next;
        uint256 minted;
        uint256 ledgerSum;
        uint256[] balances;
        uint256 gridBalance;
        uint256 heldByMarket;
    }

    function _state() internal view returns (State memory s) {
        s.next = market.nextIntervalToSettle();
        s.minted = energyToken.mintedWh(I);
        s.ledgerSum = _ledgerSum();
        s.balances = new uint256[](households.length);
        for (uint256 i; i < households.length; ++i) {
            s.balances[i] = market.balanceOf(households[i]);
        }
        s.gridBalance = market.balanceOf(grid);
        s.heldByMarket = credit.balanceOf(address(market));
    }

    function _assertUnchanged(State memory a) internal view {
        State memory b = _state();
        vm.assertEq(b.next, a.next, "next interval moved");
        vm.assertEq(b.minted, a.minted, "energy minted");
        vm.assertEq(b.ledgerSum, a.ledgerSum, "ledger sum changed");
        vm.assertEq(b.gridBalance, a.gridBalance, "grid balance changed");
        vm.assertEq(b.heldByMarket, a.heldByMarket, "market holdings changed");
        for (uint256 i; i < a.balances.length; ++i) {
            vm.assertEq(b.balances[i], a.balances[i], "balance changed");
        }
    }

    function _expectSettleRevert(IEnergyMarket.Clearing memory c, bytes memory err) internal {
        State memory before = _state();
        vm.expectRevert(err);
        market.settleInterval(I, c);
        _assertUnchanged(before);
    }

    function _assertFill(IEnergyMarket.Fill memory f, uint32 id, uint64 sold, uint64 bought) internal pure {
        vm.assertEq(f.meterId, id, "fill meter id");
        vm.assertEq(f.soldWh, sold, "fill sold");
        vm.assertEq(f.boughtWh, bought, "fill bought");
    }

    // ------------------------------------------------------------------ valid settlements

    function test_settleInterval_settlesSinglePriceBookWithBuyersTied() public {
        _scenarioS();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.priceLowMicroPerKwh, 120_000, "low");
        vm.assertEq(c.priceHighMicroPerKwh, 120_000, "high");
        vm.assertEq(c.priceMicroPerKwh, 120_000, "price");
        vm.assertEq(c.fills.length, 4, "fills");
        _assertFill(c.fills[0], 1, 1000, 0);
        _assertFill(c.fills[1], 2, 0, 0);
        _assertFill(c.fills[2], 3, 0, 800);
        _assertFill(c.fills[3], 4, 0, 200);

        uint256 gridBefore = market.balanceOf(grid);
        uint256 held = credit.balanceOf(address(market));
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.TradeSettled(I, households[0], households[2], 1, 3, 800, 96_000);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.TradeSettled(I, households[0], households[3], 1, 4, 200, 24_000);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.SoldToGrid(I, households[1], 2, 500, 40_000);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.BoughtFromGrid(I, households[3], 4, 400, 120_000, 0);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 120_000, 1000, 500, 400, 2);
        market.settleInterval(I, c);

        vm.assertEq(market.nextIntervalToSettle(), I + 1, "next interval");
        vm.assertEq(market.balanceOf(households[0]), 120_000, "seller paid at the price");
        vm.assertEq(market.balanceOf(households[1]), 40_000, "unsold export paid at feed-in");
        vm.assertEq(market.balanceOf(households[2]), 1_000_000 - 96_000, "buyer 3");
        vm.assertEq(market.balanceOf(households[3]), 1_000_000 - 24_000 - 120_000, "buyer 4 incl. grid import");
        vm.assertEq(market.balanceOf(grid), gridBefore - 40_000 + 120_000, "grid");
        vm.assertEq(market.gridDebtOf(households[3]), 0, "no debt");
        vm.assertEq(credit.balanceOf(address(market)), held, "settlement moves no tokens");
        vm.assertEq(_ledgerSum(), held, "ledger backed one to one");

        uint256 id1 = _tokenId(I, 0);
        vm.assertEq(energyToken.balanceOf(households[2], id1), 800, "energy to buyer 3");
        vm.assertEq(energyToken.balanceOf(households[3], id1), 200, "energy to buyer 4");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 1)), 500, "surplus to grid");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 0)), 0, "nothing of meter 1 to grid");
        vm.assertEq(energyToken.mintedWh(I), 1500, "minted = export");
    }

    function test_settleInterval_settlesPriceRangeAtMidpoint() public {
        _scenarioR();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.priceLowMicroPerKwh, 100_000, "low");
        vm.assertEq(c.priceHighMicroPerKwh, 200_000, "high");
        vm.assertEq(c.priceMicroPerKwh, 150_000, "price");
        _assertFill(c.fills[0], 1, 1000, 0);
        _assertFill(c.fills[1], 2, 0, 1000);
        _assertFill(c.fills[2], 3, 0, 0);

        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.TradeSettled(I, households[0], households[1], 1, 2, 1000, 150_000);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.BoughtFromGrid(I, households[2], 3, 500, 150_000, 0);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 150_000, 1000, 0, 500, 1);
        market.settleInterval(I, c);

        vm.assertEq(market.balanceOf(households[0]), 150_000, "seller");
        vm.assertEq(market.balanceOf(households[1]), 850_000, "buyer");
        vm.assertEq(market.balanceOf(households[2]), 850_000, "grid customer");
        vm.assertEq(energyToken.balanceOf(households[1], _tokenId(I, 0)), 1000, "energy");
        vm.assertEq(energyToken.mintedWh(I), 1000, "minted");
    }

    function test_settleInterval_settlesSellersTiedProRataWithRemainderToLowestId() public {
        _scenarioT();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.priceMicroPerKwh, 100_000, "price");
        vm.assertEq(c.priceLowMicroPerKwh, 100_000, "low");
        vm.assertEq(c.priceHighMicroPerKwh, 100_000, "high");
        _assertFill(c.fills[0], 1, 467, 0);
        _assertFill(c.fills[1], 2, 333, 0);
        _assertFill(c.fills[2], 3, 200, 0);
        _assertFill(c.fills[3], 4, 0, 1000);

        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.TradeSettled(I, households[0], households[3], 1, 4, 467, 46_700);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.TradeSettled(I, households[1], households[3], 2, 4, 333, 33_300);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.TradeSettled(I, households[2], households[3], 3, 4, 200, 20_000);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.SoldToGrid(I, households[0], 1, 233, 18_640);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.SoldToGrid(I, households[1], 2, 167, 13_360);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.SoldToGrid(I, households[2], 3, 101, 8080);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 100_000, 1000, 501, 0, 3);
        market.settleInterval(I, c);

        vm.assertEq(market.balanceOf(households[0]), 46_700 + 18_640, "seller 1");
        vm.assertEq(market.balanceOf(households[3]), 900_000, "buyer");
        vm.assertEq(energyToken.mintedWh(I), 1501, "minted = export");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 2)), 101, "surplus of meter 3");
    }

    function test_settleInterval_settlesEmptyInterval() public {
        _warpToClose(I);
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.priceLowMicroPerKwh, FEED_IN, "low");
        vm.assertEq(c.priceHighMicroPerKwh, RETAIL, "high");
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, (FEED_IN + RETAIL) / 2, 0, 0, 0, 0);
        market.settleInterval(I, c);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "next");
    }

    function test_settleInterval_settlesOnlyWithGridWithoutOrders() public {
        _fund(households[1], 1_000_000);
        _warpToWindow(I);
        _submit(0, I, 400, 0);
        _submit(1, I, 0, 250);
        _warpToClose(I);
        uint256 gridBefore = market.balanceOf(grid);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, (FEED_IN + RETAIL) / 2, 0, 400, 250, 0);
        _settle(I);
        vm.assertEq(market.balanceOf(households[0]), 32_000, "feed-in");
        vm.assertEq(market.balanceOf(households[1]), 1_000_000 - 75_000, "retail");
        vm.assertEq(market.balanceOf(grid), gridBefore - 32_000 + 75_000, "grid");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 0)), 400, "surplus to grid");
    }

    function test_settleInterval_booksGridDebtWhenEscrowIsShort() public {
        _fund(households[1], 10_000);
        _warpToWindow(I);
        _submit(1, I, 0, 100); // costs 30_000 at retail
        _warpToClose(I);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.BoughtFromGrid(I, households[1], 2, 100, 10_000, 20_000);
        _settle(I);
        vm.assertEq(market.balanceOf(households[1]), 0, "escrow drained");
        vm.assertEq(market.gridDebtOf(households[1]), 20_000, "debt");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }

    function test_settleInterval_withdrawalAfterOrderShrinksDemandToWhatEscrowPays() public {
        _fund(households[1], 300_000);
        _setOrder(0, FEED_IN, 1000, 0, 0);
        _setOrder(1, 0, 0, RETAIL, 1000); // needs 300_000 escrow
        vm.prank(households[1]);
        market.withdraw(120_000); // affordable now 180_000 * 1000 / 300_000 = 600 Wh
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        _submit(1, I, 0, 1000);
        _warpToClose(I);
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        _assertFill(c.fills[1], 2, 0, 600);
        // buying the whole import is more than the escrow pays for
        IEnergyMarket.Clearing memory bad = _copy(c);
        bad.fills[1].boughtWh = 1000;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillExceedsQuantity.selector, 2, 1000, 600));
        market.settleInterval(I, c);
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }

    function test_settleInterval_usesTariffsInForceAtSettlement() public {
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        market.setTariffs(IEnergyMarket.Tariffs({feedInMicroPerKwh: 50_000, retailMicroPerKwh: 250_000}));
        _warpToClose(I);
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.priceLowMicroPerKwh, 50_000, "low at new feed-in");
        market.settleInterval(I, c);
        vm.assertEq(market.balanceOf(households[0]), 50_000, "paid at new feed-in");
    }

    function test_settleInterval_includesReadingsOfMetersDeactivatedLater() public {
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        registry.deactivateMeter(1);
        _warpToClose(I);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.ClearingIncomplete.selector, I, 0, 1));
        market.settleInterval(I, IEnergyMarket.Clearing(FEED_IN, RETAIL, (FEED_IN + RETAIL) / 2, new IEnergyMarket.Fill[](0)));
        _settle(I);
        vm.assertEq(energyToken.mintedWh(I), 1000, "recorded export still settles");
    }

    function test_settleInterval_settlesIntervalsInSequence() public {
        _warpToClose(I + 2);
        _settle(I);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "after first");
        _settle(I + 1);
        _settle(I + 2);
        vm.assertEq(market.nextIntervalToSettle(), I + 3, "after third");
    }

    function test_settleInterval_anyoneMaySettle() public {
        _scenarioS();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        vm.prank(stranger);
        market.settleInterval(I, c);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "settled");
    }

    // ------------------------------------------------------------------ order and timing reverts

    function test_settleInterval_revertsWhenSettledTwice() public {
        _scenarioS();
        IEnergyMarket.Clearing memory c = _settle(I);
        State memory before = _state();
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.IntervalOutOfOrder.selector, I, I + 1));
        market.settleInterval(I, c);
        _assertUnchanged(before);
    }

    function test_settleInterval_revertsIntervalOutOfOrder() public {
        _warpToClose(I + 1);
        IEnergyMarket.Clearing memory c = _referenceClearing(I + 1);
        _expectSettleRevertAt(I + 1, c, abi.encodeWithSelector(IEnergyMarket.IntervalOutOfOrder.selector, I + 1, I));
    }

    function test_settleInterval_revertsIntervalOutOfOrderBeforeFirstInterval() public {
        _warpToClose(I);
        IEnergyMarket.Clearing memory c = _referenceClearing(I - 1);
        _expectSettleRevertAt(I - 1, c, abi.encodeWithSelector(IEnergyMarket.IntervalOutOfOrder.selector, I - 1, I));
    }

    function test_settleInterval_revertsIntervalNotClosed() public {
        _scenarioS();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        vm.warp(_endOf(I) + WINDOW_SECONDS - 1);
        _expectSettleRevert(
            c, abi.encodeWithSelector(IEnergyMarket.IntervalNotClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
        );
        vm.warp(_endOf(I) + WINDOW_SECONDS);
        market.settleInterval(I, c);
    }

    function test_settleInterval_revertsIntervalNotClosedDuringInterval() public {
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            c, abi.encodeWithSelector(IEnergyMarket.IntervalNotClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
        );
    }

    function _expectSettleRevertAt(uint64 interval, IEnergyMarket.Clearing memory c, bytes memory err) internal {
        State memory before = _state();
        vm.expectRevert(err);
        market.settleInterval(interval, c);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ shape reverts

    function test_settleInterval_revertsClearingIncompleteWithFillMissing() public {
        _scenarioS();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        IEnergyMarket.Clearing memory bad = _copy(c);
        bad.fills = new IEnergyMarket.Fill[](3);
        for (uint256 i; i < 3; ++i) {
            bad.fills[i] = c.fills[i];
        }
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ClearingIncomplete.selector, I, 3, 4));
    }

    function test_settleInterval_revertsClearingIncompleteWithExtraFill() public {
        _scenarioR();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        IEnergyMarket.Clearing memory bad = _copy(c);
        bad.fills = new IEnergyMarket.Fill[](4);
        for (uint256 i; i < 3; ++i) {
            bad.fills[i] = c.fills[i];
        }
        bad.fills[3] = IEnergyMarket.Fill({meterId: 4, soldWh: 0, boughtWh: 0});
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ClearingIncomplete.selector, I, 4, 3));
    }

    function test_settleInterval_revertsFillsNotSorted() public {
        _scenarioS();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        (bad.fills[0], bad.fills[1]) = (bad.fills[1], bad.fills[0]);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillsNotSorted.selector, 1));
    }

    function test_settleInterval_revertsFillsNotSortedOnDuplicateMeter() public {
        _scenarioS();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[3] = bad.fills[2];
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillsNotSorted.selector, 3));
    }

    function test_settleInterval_revertsMeterNotInInterval() public {
        _scenarioR();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[2].meterId = 4; // meter 4 has no reading in I
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.MeterNotInInterval.selector, 4, I));
    }

    // ------------------------------------------------------------------ price reverts

    function _withPrices(IEnergyMarket.Clearing memory c, uint64 low, uint64 high, uint64 p)
        internal
        pure
        returns (IEnergyMarket.Clearing memory d)
    {
        d = _copy(c);
        d.priceLowMicroPerKwh = low;
        d.priceHighMicroPerKwh = high;
        d.priceMicroPerKwh = p;
    }

    function test_settleInterval_revertsPriceOutOfBoundsBelowFeedIn() public {
        _scenarioR();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        uint64 low = FEED_IN - 1;
        uint64 p = uint64((uint256(low) + 200_000) / 2);
        _expectSettleRevert(
            _withPrices(c, low, 200_000, p),
            abi.encodeWithSelector(IEnergyMarket.PriceOutOfBounds.selector, p, low, 200_000)
        );
    }

    function test_settleInterval_revertsPriceOutOfBoundsAboveRetail() public {
        _scenarioR();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        uint64 high = RETAIL + 1;
        uint64 p = uint64((uint256(100_000) + high) / 2);
        _expectSettleRevert(
            _withPrices(c, 100_000, high, p),
            abi.encodeWithSelector(IEnergyMarket.PriceOutOfBounds.selector, p, 100_000, high)
        );
    }

    function test_settleInterval_revertsPriceOutOfBoundsWhenLowAboveHigh() public {
        _scenarioR();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 200_001, 200_000, 200_000),
            abi.encodeWithSelector(IEnergyMarket.PriceOutOfBounds.selector, 200_000, 200_001, 200_000)
        );
    }

    function test_settleInterval_revertsPriceOutOfBoundsWhenPriceIsNotMidpoint() public {
        _scenarioR();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 100_000, 200_000, 150_001),
            abi.encodeWithSelector(IEnergyMarket.PriceOutOfBounds.selector, 150_001, 100_000, 200_000)
        );
        _expectSettleRevert(
            _withPrices(c, 100_000, 200_000, 149_999),
            abi.encodeWithSelector(IEnergyMarket.PriceOutOfBounds.selector, 149_999, 100_000, 200_000)
        );
    }

    function test_settleInterval_revertsPriceBoundNotEquilibriumLow() public {
        _scenarioR();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 90_000, 200_000, 145_000),
            abi.encodeWithSelector(IEnergyMarket.PriceBoundNotEquilibrium.selector, 90_000)
        );
    }

    function test_settleInterval_revertsPriceBoundNotEquilibriumHigh() public {
        _scenarioR();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 100_000, 210_000, 155_000),
            abi.encodeWithSelector(IEnergyMarket.PriceBoundNotEquilibrium.selector, 210_000)
        );
    }

    function test_settleInterval_revertsPriceBoundNotExtremeLow() public {
        _scenarioR();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 100_001, 200_000, 150_000),
            abi.encodeWithSelector(IEnergyMarket.PriceBoundNotExtreme.selector, 100_001)
        );
    }

    function test_settleInterval_revertsPriceBoundNotExtremeHigh() public {
        _scenarioR();
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 100_000, 199_999, 149_999),
            abi.encodeWithSelector(IEnergyMarket.PriceBoundNotExtreme.selector, 199_999)
        );
    }

    function test_settleInterval_revertsPriceBoundNotExtremeOnEmptyBook() public {
        _warpToClose(I);
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, FEED_IN + 1, RETAIL, (FEED_IN + 1 + RETAIL) / 2),
            abi.encodeWithSelector(IEnergyMarket.PriceBoundNotExtreme.selector, FEED_IN + 1)
        );
        _expectSettleRevert(
            _withPrices(c, FEED_IN, RETAIL - 1, (FEED_IN + RETAIL - 1) / 2),
            abi.encodeWithSelector(IEnergyMarket.PriceBoundNotExtreme.selector, RETAIL - 1)
        );
    }

    // ------------------------------------------------------------------ fill reverts

    function test_settleInterval_revertsFillExceedsQuantityOnSellSide() public {
        _scenarioR();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[0].soldWh = 1001;
        bad.fills[1].boughtWh = 1001;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillExceedsQuantity.selector, 1, 1001, 1000));
    }

    function test_settleInterval_revertsFillExceedsQuantityOnBuySide() public {
        _scenarioR();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[1].boughtWh = 1001;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillExceedsQuantity.selector, 2, 1001, 1000));
    }

    function test_settleInterval_revertsFillExceedsQuantityForMeterWithoutOrder() public {
        _scenarioR();
        // meter 1 has no buy side: its demand is 0 whatever its import
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[0].boughtWh = 1;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillExceedsQuantity.selector, 1, 1, 0));
    }

    function test_settleInterval_revertsFillBeyondLimitOnSellSide() public {
        _scenarioS();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[1].soldWh = 1; // ask 150_000 > price 120_000
        _expectSettleRevert(
            bad, abi.encodeWithSelector(IEnergyMarket.FillBeyondLimit.selector, 2, 150_000, 120_000)
        );
    }

    function test_settleInterval_revertsFillBeyondLimitOnBuySide() public {
        _scenarioR();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[2].boughtWh = 1; // bid 90_000 < price 150_000
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillBeyondLimit.selector, 3, 90_000, 150_000));
    }

    function test_settleInterval_revertsBetterOrderLeftOutOnBuySide() public {
        _scenarioS();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[2].boughtWh = 799;
        bad.fills[3].boughtWh = 201;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.BetterOrderLeftOut.selector, 3, 799, 800));
    }

    function test_settleInterval_revertsBetterOrderLeftOutOnSellSide() public {
        _scenarioR();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[0].soldWh = 999;
        bad.fills[1].boughtWh = 999;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.BetterOrderLeftOut.selector, 1, 999, 1000));
    }

    function test_settleInterval_revertsBetterOrderLeftOutForOrderAtPriceOnShortSide() public {
        _scenarioS();
        // Meter 2 now asks exactly 120_000: S<(120k) = 1000, S(120k) = 1500, D>(120k) = 800,
        // D(120k) = 1400, so the price stays 120_000, sellers are the long side (meter 2 gets the
        // residual 400) and buyers at the price are on the short side: meter 4 must be filled in full.
        _setOrder(1, 120_000, 500, 0, 0);
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.priceMicroPerKwh, 120_000, "price");
        _assertFill(c.fills[1], 2, 400, 0);
        IEnergyMarket.Clearing memory bad = _copy(c);
        bad.fills[2].boughtWh = 799;
        bad.fills[3].boughtWh = 601;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.BetterOrderLeftOut.selector, 3, 799, 800));
        bad = _copy(c);
        bad.fills[1].soldWh = 300;
        bad.fills[3].boughtWh = 500;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.TieNotProRata.selector, 2, 300, 400));
        // meter 4 bids exactly the price on the short side: leaving part of it out is refused
        bad = _copy(c);
        bad.fills[3].boughtWh = 599;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.BetterOrderLeftOut.selector, 4, 599, 600));
        market.settleInterval(I, c);
    }

    function test_settleInterval_revertsTieNotProRataWhenRemainderSkipsLowestId() public {
        _scenarioT();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[0].soldWh = 466;
        bad.fills[1].soldWh = 334;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.TieNotProRata.selector, 2, 334, 333));
    }

    function test_settleInterval_revertsTieNotProRataBelowShare() public {
        _scenarioT();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[1].soldWh = 332;
        bad.fills[2].soldWh = 201;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.TieNotProRata.selector, 2, 332, 333));
    }

    function test_settleInterval_revertsTieNotProRataWhenRemaindersExceedResidual() public {
        _scenarioT();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[1].soldWh = 334;
        bad.fills[2].soldWh = 201; // 999 + 3 remainders > 1000
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.TieNotProRata.selector, 3, 201, 200));
    }

    function test_settleInterval_revertsClearingNotBalanced() public {
        _scenarioT();
        IEnergyMarket.Clearing memory bad = _copy(_referenceClearing(I));
        bad.fills[0].soldWh = 466; // every tied seller at its rounded-down share: 999 sold, 1000 bought
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ClearingNotBalanced.selector, 999, 1000));
    }

    // No volume check exists beyond ClearingNotBalanced: when sellers are rationed the buyers' fills are
    // forced to D(p) = volume, when buyers are rationed the sellers' are forced to S(p) = volume, and when
    // neither is, all fills are forced; so a balanced clearing that passed the per-fill checks trades
    // exactly the volume.

    // ------------------------------------------------------------------ grid escrow

    function test_settleInterval_revertsInsufficientGridEscrow() public {
        vm.prank(grid);
        market.withdraw(GRID_FLOAT);
        _fund(households[1], 1_000_000);
        _warpToWindow(I);
        _submit(0, I, 1000, 0); // grid owes 80_000
        _submit(1, I, 0, 100); // grid receives 30_000
        _warpToClose(I);
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(c, abi.encodeWithSelector(IEnergyMarket.InsufficientGridEscrow.selector, 80_000, 30_000));
        _fundGrid(50_000);
        market.settleInterval(I, c);
        vm.assertEq(market.balanceOf(grid), 0, "grid escrow used up exactly");
    }
}
