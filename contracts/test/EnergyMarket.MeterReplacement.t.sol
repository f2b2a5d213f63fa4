// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice A meter replaced inside an interval's reading window. Found by this suite: before meters
/// carried `registeredAt`, the replacement could report the same interval as its predecessor, the
/// owner's escrow backed two buy orders, and settlement underflowed, halting the market.
contract EnergyMarketMeterReplacementTest is MarketFixture {
    uint64 internal I;
    uint256 internal constant NEW_KEY = METER_PK + 100;

    function setUp() public {
        _deploy(4);
        I = firstInterval;
    }

    /// @dev Replaces household 1's meter (id 2) by a new one (id 5) now.
    function _replaceMeter() internal returns (address newMeter) {
        registry.deactivateMeter(2);
        newMeter = vm.addr(NEW_KEY);
        vm.assertEq(registry.registerMeter(newMeter, households[1], 1), 5, "new meter id");
        meterSigners[1] = newMeter;
        meterKeys[1] = NEW_KEY;
    }

    function test_submitReadings_revertsForReplacementMeterInPredecessorsInterval() public {
        _fund(households[1], 300_000); // exactly 1000 Wh at retail
        _setOrder(0, FEED_IN, 2000, 0, 0);
        _setOrder(1, 0, 0, RETAIL, 1000);
        _warpToWindow(I);
        _submit(0, I, 2000, 0);
        _submit(1, I, 0, 1000); // meter 2
        address newMeter = _replaceMeter();
        IEnergyMarket.SignedReading[] memory rs = _one(_reading(1, I, 0, 1000));
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.ReadingBeforeMeterRegistered.selector, newMeter, I, vm.getBlockTimestamp()
            )
        );
        vm.prank(gateway);
        market.submitReadings(I, rs);
        vm.assertEq(market.bookOf(I).count, 2, "only the old meter's reading counts");
        vm.assertEq(market.bookOf(I).lastMeterId, 2, "last is the old meter");

        _warpToClose(I);
        _settleChecked(I);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "settled");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }

    function test_submitReadings_revertsOldMeterAfterReplacement() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _one(_reading(1, I, 0, 1000));
        address oldMeter = meterSigners[1];
        _replaceMeter();
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.MeterInactive.selector, oldMeter));
        vm.prank(gateway);
        market.submitReadings(I, rs);
    }

    function test_submitReadings_acceptsReplacementMeterFromItsFirstInterval() public {
        _warpToWindow(I);
        _submit(1, I, 0, 1000);
        _replaceMeter();
        _warpToClose(I);
        _settleChecked(I);
        // The next interval starts after the registration: the new meter reports it.
        _warpToWindow(I + 1);
        vm.assertEq(_submit(1, I + 1, 0, 700), 1, "recorded");
        vm.assertEq(market.bookOf(I + 1).lastMeterId, 5, "under the new id");
        // the replacement sorts after the other meters: a batch in meter-id order puts it last
        HouseholdReading[] memory more = new HouseholdReading[](2);
        more[0] = HouseholdReading(1, 0, 700);
        more[1] = HouseholdReading(3, 10, 0);
        vm.assertEq(_submitReadings(I + 1, more), 0, "meter 4 is below the book's last id: skipped");
        _warpToClose(I + 1);
        Clearing memory c = _settleChecked(I + 1);
        vm.assertEq(c.entries.length, 1, "one entry");
        vm.assertEq(_meterIdAt(c, 0), 5, "the new meter");
        vm.assertEq(_ownerAt(c, 0), households[1], "same owner");
    }

    function test_settleInterval_paysNewMetersExportUnderItsOwnTokenId() public {
        _replaceMeter();
        _warpToWindow(I);
        HouseholdReading[] memory rs = new HouseholdReading[](2);
        rs[0] = HouseholdReading(1, 300, 0); // meter 5
        rs[1] = HouseholdReading(0, 200, 0); // meter 1
        vm.assertEq(_submitReadings(I, rs), 2, "both, in meter-id order");
        _warpToClose(I);
        Clearing memory c = _settleChecked(I);
        vm.assertEq(_claimAll(I, _energyClaims(I, c)), 500, "claimed");
        vm.assertEq(market.balanceOf(households[1]), 24_000, "feed-in for the new meter's export");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 1)), 300, "pool of the new meter");
    }
}
