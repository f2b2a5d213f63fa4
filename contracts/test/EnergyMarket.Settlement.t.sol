// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice settleInterval: valid clearings, the ledger and energy root they produce, and every revert of
/// the commitment check, the verifier and the settlement. Three hand-computed books (tariffs 80_000 /
/// 300_000):
/// - S: one equilibrium price 120_000, buyers long at the price (one tied buyer, no remainder).
/// - R: equilibrium range [100_000, 200_000], price 150_000, plus a buyer priced below it.
/// - T: price 100_000, three sellers tied at it sharing 1000 Wh pro rata (467 / 333 / 200).
/// Households 0..5 own meters 1..6; household i is in zone 1 + i % 3 with source 1 + i % 4.
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
        // given out of order: the fixture sends them in meter-id order, in one batch
        HouseholdReading[] memory rs = new HouseholdReading[](4);
        rs[0] = HouseholdReading(3, 0, 600);
        rs[1] = HouseholdReading(0, 1000, 0);
        rs[2] = HouseholdReading(2, 0, 800);
        rs[3] = HouseholdReading(1, 500, 0);
        vm.assertEq(_submitReadings(I, rs), 4, "four readings");
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

    function _expectSettleRevert(Clearing memory c, bytes memory err) internal {
        _expectSettleRevertAt(I, c, err);
    }

    function _assertEntry(Clearing memory c, uint256 i, uint32 id, uint64 sold, uint64 bought) internal pure {
        vm.assertEq(_meterIdAt(c, i), id, "entry meter id");
        vm.assertEq(_soldAt(c, i), sold, "entry sold");
        vm.assertEq(_boughtAt(c, i), bought, "entry bought");
    }


    // ------------------------------------------------------------------ valid settlements

    function test_settleInterval_settlesSinglePriceBookWithBuyersTied() public {
        _scenarioS();
        Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.prices.priceLowMicroPerKwh, 120_000, "low");
        vm.assertEq(c.prices.priceHighMicroPerKwh, 120_000, "high");
        vm.assertEq(c.prices.priceMicroPerKwh, 120_000, "price");
        vm.assertEq(c.entries.length, 4, "entries");
        _assertEntry(c, 0, 1, 1000, 0);
        _assertEntry(c, 1, 2, 0, 0);
        _assertEntry(c, 2, 3, 0, 800);
        _assertEntry(c, 3, 4, 0, 200);

        // The energy root, built by hand: meter 1's trade inside its zone (zone 1, with meter 4), then across
        // zones (with meter 3, zone 3), then meter 2's surplus to the grid. Leaves carry their position.
        uint256 id1 = _tokenId(I, 0);
        bytes32 l0 = _leaf(I, _claimAt(0, households[3], 1, id1, 200));
        bytes32 l1 = _leaf(I, _claimAt(1, households[2], 1, id1, 800));
        bytes32 l2 = _leaf(I, _claimAt(2, grid, 2, _gridPoolId(I, 1), 500));
        bytes32 root = _hashPair(_hashPair(l0, l1), l2);
        vm.assertEq(_energyRoot(I, c), root, "fixture tree agrees with the hand-built one");

        uint256 gridBefore = market.balanceOf(grid);
        uint256 held = credit.balanceOf(address(market));
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 120_000, 1000, 500, 400, 2, 0, root);
        market.settleInterval(I, c.prices, c.zones, c.entries);

        vm.assertEq(market.nextIntervalToSettle(), I + 1, "next interval");
        vm.assertEq(market.energyRootOf(I), root, "root stored");
        vm.assertEq(market.balanceOf(households[0]), 120_000, "seller paid at the price");
        vm.assertEq(market.balanceOf(households[1]), 40_000, "unsold export paid at feed-in");
        vm.assertEq(market.balanceOf(households[2]), 1_000_000 - 96_000, "buyer 3");
        vm.assertEq(market.balanceOf(households[3]), 1_000_000 - 24_000 - 120_000, "buyer 4 incl. grid import");
        vm.assertEq(market.balanceOf(grid), gridBefore - 40_000 + 120_000, "grid");
        vm.assertEq(_gridDebtOf(households[3]), 0, "no debt");
        vm.assertEq(credit.balanceOf(address(market)), held, "settlement moves no tokens");
        vm.assertEq(_ledgerSum(), held, "ledger backed one to one");
        vm.assertEq(energyToken.mintedWh(I), 0, "settlement mints nothing");

        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        vm.assertEq(claims.length, 3, "three leaves");
        vm.assertEq(_claimAll(I, claims), 1500, "claims mint the export");
        vm.assertEq(energyToken.balanceOf(households[2], id1), 800, "energy to buyer 3");
        vm.assertEq(energyToken.balanceOf(households[3], id1), 200, "energy to buyer 4");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 1)), 500, "surplus to grid");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 0)), 0, "nothing of meter 1 to grid");
        vm.assertEq(energyToken.mintedWh(I), 1500, "minted = export");
    }

    function test_settleInterval_settlesPriceRangeAtMidpoint() public {
        _scenarioR();
        Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.prices.priceLowMicroPerKwh, 100_000, "low");
        vm.assertEq(c.prices.priceHighMicroPerKwh, 200_000, "high");
        vm.assertEq(c.prices.priceMicroPerKwh, 150_000, "price");
        _assertEntry(c, 0, 1, 1000, 0);
        _assertEntry(c, 1, 2, 0, 1000);
        _assertEntry(c, 2, 3, 0, 0);

        bytes32 root = _leaf(I, _claim(households[1], 1, _tokenId(I, 0), 1000));
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 150_000, 1000, 0, 500, 1, 0, root);
        market.settleInterval(I, c.prices, c.zones, c.entries);

        vm.assertEq(market.balanceOf(households[0]), 150_000, "seller");
        vm.assertEq(market.balanceOf(households[1]), 850_000, "buyer");
        vm.assertEq(market.balanceOf(households[2]), 850_000, "grid customer");
        vm.assertEq(_claimAll(I, _energyClaims(I, c)), 1000, "claimed");
        vm.assertEq(energyToken.balanceOf(households[1], _tokenId(I, 0)), 1000, "energy");
        vm.assertEq(energyToken.mintedWh(I), 1000, "minted");
    }

    function test_settleInterval_settlesSellersTiedProRataWithRemainderToLowestId() public {
        _scenarioT();
        Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.prices.priceMicroPerKwh, 100_000, "price");
        vm.assertEq(c.prices.priceLowMicroPerKwh, 100_000, "low");
        vm.assertEq(c.prices.priceHighMicroPerKwh, 100_000, "high");
        _assertEntry(c, 0, 1, 467, 0);
        _assertEntry(c, 1, 2, 333, 0);
        _assertEntry(c, 2, 3, 200, 0);
        _assertEntry(c, 3, 4, 0, 1000);

        // three trades in seller order, then the three surpluses in meter-id order
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        vm.assertEq(claims.length, 6, "six leaves");
        _assertClaim(claims[0], households[3], 1, _tokenId(I, 0), 467);
        _assertClaim(claims[1], households[3], 2, _tokenId(I, 1), 333);
        _assertClaim(claims[2], households[3], 3, _tokenId(I, 2), 200);
        _assertClaim(claims[3], grid, 1, _gridPoolId(I, 0), 233);
        _assertClaim(claims[4], grid, 2, _gridPoolId(I, 1), 167);
        _assertClaim(claims[5], grid, 3, _gridPoolId(I, 2), 101);

        bytes32 root = _energyRoot(I, c);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 100_000, 1000, 501, 0, 3, 0, root);
        market.settleInterval(I, c.prices, c.zones, c.entries);

        vm.assertEq(market.balanceOf(households[0]), 46_700 + 18_640, "seller 1");
        vm.assertEq(market.balanceOf(households[1]), 33_300 + 13_360, "seller 2");
        vm.assertEq(market.balanceOf(households[2]), 20_000 + 8080, "seller 3");
        vm.assertEq(market.balanceOf(households[3]), 900_000, "buyer");
        vm.assertEq(_claimAll(I, claims), 1501, "minted = export");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 2)), 101, "surplus of meter 3");
        vm.assertEq(energyToken.balanceOf(households[3], _tokenId(I, 1)), 333, "energy of meter 2");
    }


    function test_settleInterval_settlesEmptyInterval() public {
        _warpToClose(I);
        Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.prices.priceLowMicroPerKwh, FEED_IN, "low");
        vm.assertEq(c.prices.priceHighMicroPerKwh, RETAIL, "high");
        vm.assertEq(c.entries.length, 0, "no entries");
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, (FEED_IN + RETAIL) / 2, 0, 0, 0, 0, 0, bytes32(0));
        market.settleInterval(I, c.prices, c.zones, c.entries);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "next");
        vm.assertEq(market.energyRootOf(I), bytes32(0), "no energy, no root");
    }

    function test_settleInterval_settlesOnlyWithGridWithoutOrders() public {
        _fund(households[1], 1_000_000);
        _warpToWindow(I);
        _submit(0, I, 400, 0);
        _submit(1, I, 0, 250);
        _warpToClose(I);
        uint256 gridBefore = market.balanceOf(grid);
        // one leaf: the root is the leaf itself
        bytes32 root = _leaf(I, _claim(grid, 1, _gridPoolId(I, 0), 400));
        Clearing memory c = _referenceClearing(I);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, (FEED_IN + RETAIL) / 2, 0, 400, 250, 0, 0, root);
        market.settleInterval(I, c.prices, c.zones, c.entries);
        vm.assertEq(market.balanceOf(households[0]), 32_000, "feed-in");
        vm.assertEq(market.balanceOf(households[1]), 1_000_000 - 75_000, "retail");
        vm.assertEq(market.balanceOf(grid), gridBefore - 32_000 + 75_000, "grid");
        vm.assertEq(_claimAll(I, _energyClaims(I, c)), 400, "claimed with an empty proof");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 0)), 400, "surplus to grid");
    }

    function test_settleInterval_booksGridDebtWhenEscrowIsShort() public {
        _fund(households[1], 10_000);
        _warpToWindow(I);
        _submit(1, I, 0, 100); // costs 30_000 at retail
        _warpToClose(I);
        uint256 gridBefore = market.balanceOf(grid);
        _settleChecked(I);
        vm.assertEq(market.balanceOf(households[1]), 0, "escrow drained");
        vm.assertEq(_gridDebtOf(households[1]), 20_000, "debt");
        vm.assertEq(_balance(households[1]), -20_000, "debt is a negative balance");
        vm.assertEq(market.balanceOf(grid), gridBefore + 10_000, "grid got what escrow had");
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
        Clearing memory c = _referenceClearing(I);
        _assertEntry(c, 1, 2, 0, 600);
        // buying the whole import is more than the escrow pays for
        Clearing memory bad = _copy(c);
        _setBought(bad, 1, 1000);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillExceedsQuantity.selector, 2, 1000, 600));
        _settleChecked(I);
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }

    function test_settleInterval_usesTariffsInForceAtSettlement() public {
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        vm.prank(grid);
        market.setTariffs(IEnergyMarket.Tariffs({feedInMicroPerKwh: 50_000, retailMicroPerKwh: 250_000}));
        _warpToClose(I);
        Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.prices.priceLowMicroPerKwh, 50_000, "low at new feed-in");
        _settleChecked(I);
        vm.assertEq(market.balanceOf(households[0]), 50_000, "paid at new feed-in");
    }

    function test_settleInterval_usesAccountsAtSettlementNotAtReading() public {
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        _submit(1, I, 0, 1000);
        // orders and escrow set after the readings still count: the book is built at settlement
        _fund(households[1], 1_000_000);
        _setOrder(0, 100_000, 1000, 0, 0);
        _setOrder(1, 0, 0, 200_000, 1000);
        _warpToClose(I);
        Clearing memory c = _settleChecked(I);
        _assertEntry(c, 0, 1, 1000, 0);
        _assertEntry(c, 1, 2, 0, 1000);
    }

    function test_settleInterval_includesReadingsOfMetersDeactivatedLater() public {
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        registry.deactivateMeter(1);
        _warpToClose(I);
        Clearing memory c = _referenceClearing(I);
        Clearing memory none = _copy(c);
        none.entries = new IEnergyMarket.Entry[](0);
        _expectSettleRevert(none, abi.encodeWithSelector(IEnergyMarket.ClearingIncomplete.selector, I, 0, 1));
        _settleChecked(I);
        vm.assertEq(_claimAll(I, _energyClaims(I, c)), 1000, "recorded export still settles");
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
        Clearing memory c = _referenceClearing(I);
        vm.prank(stranger);
        market.settleInterval(I, c.prices, c.zones, c.entries);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "settled");
    }

    /// @dev Households with both sides of an order that export and import in the same interval: sold
    /// [300, 700], bought [700, 300] gives three trades (one of them a household buying its own export)
    /// and two surpluses to the grid, five leaves for two entries.
    function test_settleInterval_settlesHouseholdsThatBothSellAndBuy() public {
        _fund(households[0], 210_000);
        _fund(households[1], 90_000);
        _setOrder(0, FEED_IN, 300, RETAIL, 700);
        _setOrder(1, FEED_IN, 700, RETAIL, 300);
        _warpToWindow(I);
        _submit(0, I, 1000, 700);
        _submit(1, I, 1000, 300);
        _warpToClose(I);
        Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.prices.priceMicroPerKwh, 190_000, "price");
        _assertEntry(c, 0, 1, 300, 700);
        _assertEntry(c, 1, 2, 700, 300);
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        vm.assertEq(claims.length, 5, "three trades and two surpluses");
        _assertClaim(claims[0], households[0], 1, _tokenId(I, 0), 300);
        // zone by zone first (each household is alone in its zone), then across
        _assertClaim(claims[1], households[1], 2, _tokenId(I, 1), 300);
        _assertClaim(claims[2], households[0], 2, _tokenId(I, 1), 400);
        _settleChecked(I);
        vm.assertEq(_claimAll(I, claims), 2000, "leaves = export");
        vm.assertEq(market.balanceOf(households[0]), 210_000 + 57_000 + 56_000 - 133_000, "household 1");
    }

    // ------------------------------------------------------------------ grid debt and earnings

    /// @dev A household in debt to the grid sells its surplus to the grid: the feed-in payment repays the
    /// debt, as a deposit would, so the grid's escrow is unchanged (it pays and is repaid the same amount)
    /// and every settlement token the market holds stays someone's.
    function test_settleInterval_debtorsSaleToGridRepaysDebt() public {
        _warpToWindow(I);
        _submit(1, I, 0, 1000); // 300_000 at retail, no escrow
        _warpToClose(I);
        _settleChecked(I);
        vm.assertEq(_gridDebtOf(households[1]), 300_000, "debt");

        _warpToWindow(I + 1);
        _submit(1, I + 1, 1000, 0); // 80_000 at feed-in
        _warpToClose(I + 1);
        uint256 gridBefore = market.balanceOf(grid);
        _settle(I + 1);
        vm.assertEq(_gridDebtOf(households[1]), 220_000, "debt reduced by the sale");
        vm.assertEq(market.balanceOf(grid), gridBefore, "grid paid 80_000 and was repaid 80_000");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed one to one");
    }

    /// @dev The same with a peer buyer: what the buyer pays leaves its escrow and repays the seller's debt
    /// to the grid.
    function test_settleInterval_debtorsSaleToPeerRepaysDebt() public {
        _warpToWindow(I);
        _submit(1, I, 0, 1000);
        _warpToClose(I);
        _settle(I);

        _fund(households[2], 1_000_000);
        _setOrder(1, FEED_IN, 1000, 0, 0);
        _setOrder(2, 0, 0, 200_000, 1000);
        _warpToWindow(I + 1);
        _submit(1, I + 1, 1000, 0);
        _submit(2, I + 1, 0, 1000);
        _warpToClose(I + 1);
        uint256 gridBefore = market.balanceOf(grid);
        Clearing memory c = _settle(I + 1);
        vm.assertEq(c.prices.priceMicroPerKwh, 140_000, "price");
        vm.assertEq(market.balanceOf(households[2]), 1_000_000 - 140_000, "buyer paid");
        vm.assertEq(_gridDebtOf(households[1]), 160_000, "debt reduced by the sale");
        vm.assertEq(market.balanceOf(grid), gridBefore + 140_000, "the buyer's payment repaid the grid");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed one to one");
    }

    function test_settleInterval_debtorBuysNothingLocally() public {
        _fund(households[2], 300_000);
        _setOrder(2, 0, 0, RETAIL, 1000);
        _warpToWindow(I);
        _submit(2, I, 0, 2000); // no seller: 600_000 at retail
        _warpToClose(I);
        _settleChecked(I);
        vm.assertEq(_gridDebtOf(households[2]), 300_000, "debt");
        // Its standing order stays, but with no positive escrow its demand is 0: all import from the grid.
        _setOrder(0, FEED_IN, 1000, 0, 0);
        _warpToWindow(I + 1);
        _submit(0, I + 1, 1000, 0);
        _submit(2, I + 1, 0, 10);
        _warpToClose(I + 1);
        Clearing memory c = _settleChecked(I + 1);
        _assertEntry(c, 0, 1, 0, 0);
        _assertEntry(c, 1, 3, 0, 0);
        vm.assertEq(_gridDebtOf(households[2]), 303_000, "more debt");
        vm.assertEq(_standingOrderOf(households[2]).maxBuyWh, 1000, "order kept");
    }

    // ------------------------------------------------------------------ order and timing reverts

    function test_settleInterval_revertsWhenSettledTwice() public {
        _scenarioS();
        Clearing memory c = _settle(I);
        SettleState memory before = _settleState(I);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.IntervalOutOfOrder.selector, I, I + 1));
        market.settleInterval(I, c.prices, c.zones, c.entries);
        _assertSettleUnchanged(I, before);
    }

    function test_settleInterval_revertsIntervalOutOfOrder() public {
        _warpToClose(I + 1);
        Clearing memory c = _referenceClearing(I + 1);
        _expectSettleRevertAt(I + 1, c, abi.encodeWithSelector(IEnergyMarket.IntervalOutOfOrder.selector, I + 1, I));
    }

    function test_settleInterval_revertsIntervalOutOfOrderBeforeFirstInterval() public {
        _warpToClose(I);
        Clearing memory c = _referenceClearing(I - 1);
        _expectSettleRevertAt(I - 1, c, abi.encodeWithSelector(IEnergyMarket.IntervalOutOfOrder.selector, I - 1, I));
    }

    function test_settleInterval_revertsIntervalNotClosed() public {
        _scenarioS();
        Clearing memory c = _referenceClearing(I);
        vm.warp(_endOf(I) + WINDOW_SECONDS - 1);
        _expectSettleRevert(
            c, abi.encodeWithSelector(IEnergyMarket.IntervalNotClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
        );
        vm.warp(_endOf(I) + WINDOW_SECONDS);
        market.settleInterval(I, c.prices, c.zones, c.entries);
    }

    function test_settleInterval_revertsIntervalNotClosedDuringInterval() public {
        Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            c, abi.encodeWithSelector(IEnergyMarket.IntervalNotClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
        );
    }

    // ------------------------------------------------------------------ entries against the book

    function test_settleInterval_revertsClearingIncompleteWithEntryMissing() public {
        _scenarioS();
        Clearing memory c = _referenceClearing(I);
        Clearing memory bad = _copy(c);
        bad.entries = new IEnergyMarket.Entry[](3);
        for (uint256 i; i < 3; ++i) {
            bad.entries[i] = c.entries[i];
        }
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ClearingIncomplete.selector, I, 3, 4));
    }

    function test_settleInterval_revertsClearingIncompleteWithExtraEntry() public {
        _scenarioR();
        Clearing memory c = _referenceClearing(I);
        Clearing memory bad = _copy(c);
        bad.entries = new IEnergyMarket.Entry[](4);
        for (uint256 i; i < 3; ++i) {
            bad.entries[i] = c.entries[i];
        }
        bad.entries[3] = IEnergyMarket.Entry({
            meter: _meterWord(Recorded(households[3], 4, 1, 4, 0, 0)),
            energy: 0
        });
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ClearingIncomplete.selector, I, 4, 3));
    }

    function test_settleInterval_revertsClearingIncompleteOnEmptyBook() public {
        _warpToClose(I);
        Clearing memory c = _referenceClearing(I);
        c.entries = new IEnergyMarket.Entry[](1);
        c.entries[0] = IEnergyMarket.Entry({meter: _meterWord(Recorded(households[0], 1, 1, 1, 0, 0)), energy: 0});
        _expectSettleRevert(c, abi.encodeWithSelector(IEnergyMarket.ClearingIncomplete.selector, I, 1, 0));
    }

    function test_settleInterval_revertsEntriesDoNotMatchReadingsWhenExportTampered() public {
        _scenarioS();
        Clearing memory c = _referenceClearing(I);
        // more export for meter 2 would mean more feed-in money and energy for it
        Clearing memory bad = _copy(c);
        _setExport(bad, 1, 501);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I));
        bad = _copy(c);
        _setExport(bad, 0, 999);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I));
    }

    function test_settleInterval_revertsEntriesDoNotMatchReadingsWhenImportTampered() public {
        _scenarioS();
        Clearing memory bad = _copy(_referenceClearing(I));
        _setImport(bad, 3, 0); // buyer 4 dodging its grid import
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I));
    }

    function test_settleInterval_revertsEntriesDoNotMatchReadingsWhenReordered() public {
        _scenarioS();
        Clearing memory bad = _copy(_referenceClearing(I));
        (bad.entries[0], bad.entries[1]) = (bad.entries[1], bad.entries[0]);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I));
        bad = _copy(_referenceClearing(I));
        (bad.entries[2], bad.entries[3]) = (bad.entries[3], bad.entries[2]);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I));
    }

    function test_settleInterval_revertsEntriesDoNotMatchReadingsWhenEntryMissingAndDuplicated() public {
        _scenarioS();
        // right count, but meter 4's entry is meter 3's again
        Clearing memory bad = _copy(_referenceClearing(I));
        bad.entries[3] = IEnergyMarket.Entry({meter: bad.entries[2].meter, energy: bad.entries[2].energy});
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I));
    }

    function test_settleInterval_revertsEntriesDoNotMatchReadingsWhenMeterReplaced() public {
        _scenarioR();
        // meter 4 has no reading in I: an entry for it in place of meter 3's
        Clearing memory c = _referenceClearing(I);
        Clearing memory bad = _copy(c);
        bad.entries[2].meter = _meterWord(Recorded(households[3], 4, 1, 4, 0, 500));
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I));
    }

    function test_settleInterval_revertsEntriesDoNotMatchReadingsWhenMeterWordTampered() public {
        _scenarioS();
        Clearing memory c = _referenceClearing(I);
        uint256 meter = c.entries[0].meter;
        // the owner (who is paid), the zone or the source (the token id) of the seller changed
        uint256[3] memory tampered = [
            (meter & ((uint256(1) << 96) - 1)) | (uint256(uint160(stranger)) << 96),
            meter ^ (uint256(1) << 48),
            meter ^ (uint256(1) << 40)
        ];
        for (uint256 k; k < tampered.length; ++k) {
            Clearing memory bad = _copy(c);
            bad.entries[0].meter = tampered[k];
            _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I));
        }
        // bits below the source are not part of the layout, but still of the commitment
        Clearing memory low = _copy(c);
        low.entries[0].meter = meter | 1;
        _expectSettleRevert(low, abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I));
    }

    function test_settleInterval_revertsEntriesDoNotMatchReadingsOfAnotherInterval() public {
        _scenarioR();
        _settle(I);
        _warpToWindow(I + 1);
        _submit(0, I + 1, 1000, 0);
        _submit(1, I + 1, 0, 999);
        _submit(2, I + 1, 0, 500);
        _warpToClose(I + 1);
        // I's readings (same meters, one value differs) do not settle I + 1
        Clearing memory c = _referenceClearing(I + 1);
        Clearing memory bad = _copy(c);
        _setImport(bad, 1, 1000);
        _expectSettleRevertAt(I + 1, bad, abi.encodeWithSelector(IEnergyMarket.EntriesDoNotMatchReadings.selector, I + 1));
        market.settleInterval(I + 1, c.prices, c.zones, c.entries);
    }

    // ------------------------------------------------------------------ price reverts

    function _withPrices(Clearing memory c, uint64 low, uint64 high, uint64 p) internal pure returns (Clearing memory d) {
        d = _copy(c);
        d.prices.priceLowMicroPerKwh = low;
        d.prices.priceHighMicroPerKwh = high;
        d.prices.priceMicroPerKwh = p;
    }

    function test_settleInterval_revertsPriceOutOfBoundsBelowFeedIn() public {
        _scenarioR();
        Clearing memory c = _referenceClearing(I);
        uint64 low = FEED_IN - 1;
        uint64 p = uint64((uint256(low) + 200_000) / 2);
        _expectSettleRevert(
            _withPrices(c, low, 200_000, p),
            abi.encodeWithSelector(IEnergyMarket.PriceOutOfBounds.selector, p, low, 200_000)
        );
    }

    function test_settleInterval_revertsPriceOutOfBoundsAboveRetail() public {
        _scenarioR();
        Clearing memory c = _referenceClearing(I);
        uint64 high = RETAIL + 1;
        uint64 p = uint64((uint256(100_000) + high) / 2);
        _expectSettleRevert(
            _withPrices(c, 100_000, high, p),
            abi.encodeWithSelector(IEnergyMarket.PriceOutOfBounds.selector, p, 100_000, high)
        );
    }

    function test_settleInterval_revertsPriceOutOfBoundsWhenLowAboveHigh() public {
        _scenarioR();
        Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 200_001, 200_000, 200_000),
            abi.encodeWithSelector(IEnergyMarket.PriceOutOfBounds.selector, 200_000, 200_001, 200_000)
        );
    }

    function test_settleInterval_revertsPriceOutOfBoundsWhenPriceIsNotMidpoint() public {
        _scenarioR();
        Clearing memory c = _referenceClearing(I);
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
        Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 90_000, 200_000, 145_000),
            abi.encodeWithSelector(IEnergyMarket.PriceBoundNotEquilibrium.selector, 90_000)
        );
    }

    function test_settleInterval_revertsPriceBoundNotEquilibriumHigh() public {
        _scenarioR();
        Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 100_000, 210_000, 155_000),
            abi.encodeWithSelector(IEnergyMarket.PriceBoundNotEquilibrium.selector, 210_000)
        );
    }

    function test_settleInterval_revertsPriceBoundNotExtremeLow() public {
        _scenarioR();
        Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 100_001, 200_000, 150_000),
            abi.encodeWithSelector(IEnergyMarket.PriceBoundNotExtreme.selector, 100_001)
        );
    }

    function test_settleInterval_revertsPriceBoundNotExtremeHigh() public {
        _scenarioR();
        Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(
            _withPrices(c, 100_000, 199_999, 149_999),
            abi.encodeWithSelector(IEnergyMarket.PriceBoundNotExtreme.selector, 199_999)
        );
    }

    function test_settleInterval_revertsPriceBoundNotExtremeOnEmptyBook() public {
        _warpToClose(I);
        Clearing memory c = _referenceClearing(I);
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
        Clearing memory bad = _copy(_referenceClearing(I));
        _setSold(bad, 0, 1001);
        _setBought(bad, 1, 1001);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillExceedsQuantity.selector, 1, 1001, 1000));
    }

    function test_settleInterval_revertsFillExceedsQuantityOnBuySide() public {
        _scenarioR();
        Clearing memory bad = _copy(_referenceClearing(I));
        _setBought(bad, 1, 1001);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillExceedsQuantity.selector, 2, 1001, 1000));
    }

    function test_settleInterval_revertsFillExceedsQuantityForMeterWithoutOrder() public {
        _scenarioR();
        // meter 1 has no buy side: its demand is 0 whatever its import
        Clearing memory bad = _copy(_referenceClearing(I));
        _setBought(bad, 0, 1);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillExceedsQuantity.selector, 1, 1, 0));
    }

    function test_settleInterval_revertsFillExceedsQuantityBeyondSellCap() public {
        // export 1000 but a sell cap of 600: the other 400 go to the grid
        _fund(households[1], 1_000_000);
        _setOrder(0, FEED_IN, 600, 0, 0);
        _setOrder(1, 0, 0, RETAIL, 1000);
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        _submit(1, I, 0, 1000);
        _warpToClose(I);
        Clearing memory c = _referenceClearing(I);
        _assertEntry(c, 0, 1, 600, 0);
        Clearing memory bad = _copy(c);
        _setSold(bad, 0, 1000);
        _setBought(bad, 1, 1000);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillExceedsQuantity.selector, 1, 1000, 600));
        _settleChecked(I);
        vm.assertEq(_claimAll(I, _energyClaims(I, c)), 1000, "600 to the buyer, 400 to the grid");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 0)), 400, "capped surplus to the grid");
    }

    function test_settleInterval_revertsFillBeyondLimitOnSellSide() public {
        _scenarioS();
        Clearing memory bad = _copy(_referenceClearing(I));
        _setSold(bad, 1, 1); // ask 150_000 > price 120_000
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillBeyondLimit.selector, 2, 150_000, 120_000));
    }

    function test_settleInterval_revertsFillBeyondLimitOnBuySide() public {
        _scenarioR();
        Clearing memory bad = _copy(_referenceClearing(I));
        _setBought(bad, 2, 1); // bid 90_000 < price 150_000
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.FillBeyondLimit.selector, 3, 90_000, 150_000));
    }

    function test_settleInterval_revertsBetterOrderLeftOutOnBuySide() public {
        _scenarioS();
        Clearing memory bad = _copy(_referenceClearing(I));
        _setBought(bad, 2, 799);
        _setBought(bad, 3, 201);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.BetterOrderLeftOut.selector, 3, 799, 800));
    }

    function test_settleInterval_revertsBetterOrderLeftOutOnSellSide() public {
        _scenarioR();
        Clearing memory bad = _copy(_referenceClearing(I));
        _setSold(bad, 0, 999);
        _setBought(bad, 1, 999);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.BetterOrderLeftOut.selector, 1, 999, 1000));
    }

    function test_settleInterval_revertsBetterOrderLeftOutForOrderAtPriceOnShortSide() public {
        _scenarioS();
        // Meter 2 now asks exactly 120_000: S<(120k) = 1000, S(120k) = 1500, D>(120k) = 800,
        // D(120k) = 1400, so the price stays 120_000, sellers are the long side (meter 2 gets the
        // residual 400) and buyers at the price are on the short side: meter 4 must be filled in full.
        _setOrder(1, 120_000, 500, 0, 0);
        Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.prices.priceMicroPerKwh, 120_000, "price");
        _assertEntry(c, 1, 2, 400, 0);
        Clearing memory bad = _copy(c);
        _setBought(bad, 2, 799);
        _setBought(bad, 3, 601);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.BetterOrderLeftOut.selector, 3, 799, 800));
        bad = _copy(c);
        _setSold(bad, 1, 300);
        _setBought(bad, 3, 500);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.TieNotProRata.selector, 2, 300, 400));
        // meter 4 bids exactly the price on the short side: leaving part of it out is refused
        bad = _copy(c);
        _setBought(bad, 3, 599);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.BetterOrderLeftOut.selector, 4, 599, 600));
        _settleChecked(I);
    }

    /// @dev Scenario T's three tied sellers are in zones 1, 2 and 3: the flows share the 1,000 Wh pro rata
    /// (466, 333, 200) and the remaining Wh goes to the lowest zone id, whose only tied seller is meter 1.
    function test_settleInterval_revertsTieNotProRataWhenRemainderSkipsLowestId() public {
        _scenarioT();
        Clearing memory bad = _copy(_referenceClearing(I));
        _setSold(bad, 0, 466);
        _setSold(bad, 1, 334);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.TieNotProRata.selector, 1, 466, 467));
    }

    function test_settleInterval_revertsTieNotProRataBelowShare() public {
        _scenarioT();
        Clearing memory bad = _copy(_referenceClearing(I));
        _setSold(bad, 1, 332);
        _setSold(bad, 2, 201);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.TieNotProRata.selector, 2, 332, 333));
    }

    function test_settleInterval_revertsTieNotProRataWhenRemaindersExceedResidual() public {
        _scenarioT();
        Clearing memory bad = _copy(_referenceClearing(I));
        _setSold(bad, 1, 334); // zone 2 exports 333: its one tied seller cannot take a remainder Wh
        _setSold(bad, 2, 201);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.TieNotProRata.selector, 2, 334, 333));
    }

    /// @dev Two tied sellers in zone 1 (households 0 and 3) share its 1,000 Wh export to a buyer in zone 2:
    /// 583.3 and 416.7, rounded down to 583 and 416, the remaining Wh to meter 1. Both at their rounded-down
    /// share pass the per-fill checks, and only the zone's balance shows the missing Wh.
    function test_settleInterval_revertsZoneNotBalanced() public {
        _fund(households[1], 1_000_000);
        _setOrder(0, 100_000, 700, 0, 0);
        _setOrder(3, 100_000, 500, 0, 0);
        _setOrder(1, 0, 0, 250_000, 1000);
        _warpToWindow(I);
        _submit(0, I, 700, 0);
        _submit(1, I, 0, 1000);
        _submit(3, I, 500, 0);
        _warpToClose(I);
        Clearing memory good = _referenceClearing(I);
        vm.assertEq(_soldAt(good, 0), 584, "meter 1 with the remainder");
        vm.assertEq(_soldAt(good, 2), 416, "meter 4");
        Clearing memory bad = _copy(good);
        _setSold(bad, 0, 583);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZoneNotBalanced.selector, 1, 1000, 999));
        _settleChecked(I);
    }

    // No volume check exists beyond ZoneNotBalanced: when sellers are rationed the buyers' fills are
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
        Clearing memory c = _referenceClearing(I);
        _expectSettleRevert(c, abi.encodeWithSelector(IEnergyMarket.InsufficientGridEscrow.selector, 80_000, 30_000));
        _fundGrid(50_000);
        _settleChecked(I);
        vm.assertEq(market.balanceOf(grid), 0, "grid escrow used up exactly");
    }

    // ------------------------------------------------------------------ claimEnergy

    function test_claimEnergy_mintsEachLeafToItsRecipient() public {
        _scenarioT();
        Clearing memory c = _settleChecked(I);
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        bytes32[] memory leaves = _leaves(I, claims);
        for (uint256 k; k < claims.length; ++k) {
            vm.assertFalse(market.isClaimed(leaves[k]), "not claimed yet");
            vm.expectEmit(true, true, true, true, address(market));
            emit IEnergyMarket.EnergyClaimed(
                I, claims[k].recipient, claims[k].index, claims[k].sellerMeterId, claims[k].tokenId, claims[k].energyWh
            );
            // the recipient itself may claim, too
            vm.prank(claims[k].recipient);
            market.claimEnergy(I, claims[k], _merkleProof(leaves, k));
            vm.assertTrue(market.isClaimed(leaves[k]), "claimed");
        }
        vm.assertEq(energyToken.mintedWh(I), 1501, "minted = export");
        vm.assertEq(energyToken.balanceOf(households[3], _tokenId(I, 0)), 467, "from meter 1");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 1)), 167, "meter 2's surplus");
    }

    function test_claimEnergy_claimsInAnyOrder() public {
        _scenarioT();
        Clearing memory c = _settle(I);
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        bytes32[] memory leaves = _leaves(I, claims);
        for (uint256 k = claims.length; k > 0; --k) {
            market.claimEnergy(I, claims[k - 1], _merkleProof(leaves, k - 1));
        }
        vm.assertEq(energyToken.mintedWh(I), 1501, "all minted");
    }

    function test_claimEnergy_revertsEnergyAlreadyClaimed() public {
        _scenarioS();
        Clearing memory c = _settle(I);
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        bytes32[] memory leaves = _leaves(I, claims);
        // claims[0]: meter 1's 200 Wh to household 3 in its own zone (zone 1), paired before the cross-zone trade
        market.claimEnergy(I, claims[0], _merkleProof(leaves, 0));
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.EnergyAlreadyClaimed.selector, I, leaves[0]));
        vm.prank(stranger);
        market.claimEnergy(I, claims[0], _merkleProof(leaves, 0));
        vm.assertEq(energyToken.balanceOf(households[3], _tokenId(I, 0)), 200, "minted once");
        vm.assertEq(energyToken.mintedWh(I), 200, "one leaf minted");
    }

    function test_claimEnergy_revertsInvalidEnergyProofForForgedClaim() public {
        _scenarioS();
        Clearing memory c = _settle(I);
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        bytes32[] memory leaves = _leaves(I, claims);
        bytes32[] memory proof = _merkleProof(leaves, 0);
        bytes memory err = abi.encodeWithSelector(IEnergyMarket.InvalidEnergyProof.selector, I);

        IEnergyMarket.EnergyClaim memory forged = _claim(households[2], 1, _tokenId(I, 0), 801);
        vm.expectRevert(err);
        market.claimEnergy(I, forged, proof); // more energy
        forged = _claim(stranger, 1, _tokenId(I, 0), 800);
        vm.expectRevert(err);
        market.claimEnergy(I, forged, proof); // another recipient
        forged = _claim(households[2], 2, _tokenId(I, 0), 800);
        vm.expectRevert(err);
        market.claimEnergy(I, forged, proof); // another seller
        forged = _claim(households[2], 1, _tokenId(I, 1), 800);
        vm.expectRevert(err);
        market.claimEnergy(I, forged, proof); // another token id
        // a real leaf with another leaf's proof, or none
        vm.expectRevert(err);
        market.claimEnergy(I, claims[0], _merkleProof(leaves, 2));
        vm.expectRevert(err);
        market.claimEnergy(I, claims[0], new bytes32[](0));
        // a proof one level short
        bytes32[] memory short = new bytes32[](1);
        short[0] = proof[0];
        vm.assertEq(proof.length, 2, "two levels");
        vm.expectRevert(err);
        market.claimEnergy(I, claims[0], short);
        vm.assertEq(energyToken.mintedWh(I), 0, "nothing minted");
        vm.assertFalse(market.isClaimed(leaves[0]), "not claimed");
    }

    function test_claimEnergy_revertsInvalidEnergyProofForAnotherInterval() public {
        _scenarioS();
        Clearing memory c = _settle(I);
        _warpToClose(I + 1);
        _settle(I + 1);
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        bytes32[] memory leaves = _leaves(I, claims);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidEnergyProof.selector, I + 1));
        market.claimEnergy(I + 1, claims[0], _merkleProof(leaves, 0));
    }

    function test_claimEnergy_revertsIntervalNotSettled() public {
        _scenarioS();
        Clearing memory c = _referenceClearing(I);
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        bytes32[] memory leaves = _leaves(I, claims);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.IntervalNotSettled.selector, I));
        market.claimEnergy(I, claims[0], _merkleProof(leaves, 0));
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.IntervalNotSettled.selector, I + 7));
        market.claimEnergy(I + 7, claims[0], _merkleProof(leaves, 0));
        // once settled, the same claim goes through
        market.settleInterval(I, c.prices, c.zones, c.entries);
        market.claimEnergy(I, claims[0], _merkleProof(leaves, 0));
        vm.assertEq(energyToken.balanceOf(households[3], _tokenId(I, 0)), 200, "claimed after settlement");
    }

    function test_claimEnergy_revertsInvalidEnergyProofForEmptyInterval() public {
        _warpToClose(I);
        _settle(I);
        IEnergyMarket.EnergyClaim memory claim = _claim(stranger, 1, _tokenId(I, 0), 1);
        IEnergyMarket.EnergyClaim memory early = _claim(stranger, 1, _tokenId(I - 1, 0), 1);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidEnergyProof.selector, I));
        market.claimEnergy(I, claim, new bytes32[](0));
        // before the market's first interval nothing was ever settled either
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidEnergyProof.selector, I - 1));
        market.claimEnergy(I - 1, early, new bytes32[](0));
    }
}
