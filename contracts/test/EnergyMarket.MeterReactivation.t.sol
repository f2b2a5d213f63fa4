// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice A meter paused and reactivated while its replacement reported: the reactivated meter must not
/// report an interval the replacement may have reported (two readings of one connection would back two
/// orders with one escrow), so reactivation counts as a new registration.
contract EnergyMarketMeterReactivationTest is MarketFixture {
    uint64 internal I;
    uint256 internal constant NEW_KEY = METER_PK + 100;
    address internal oldMeter;
    uint256 internal oldKey;

    function setUp() public {
        _deploy(4);
        I = firstInterval;
        oldMeter = meterSigners[1];
        oldKey = meterKeys[1];
        // Household 1's meter (id 2) is replaced by meter 5 before the first interval.
        registry.deactivateMeter(2);
        meterSigners[1] = vm.addr(NEW_KEY);
        meterKeys[1] = NEW_KEY;
        vm.assertEq(registry.registerMeter(meterSigners[1], households[1], 1), 5, "replacement id");
    }

    /// @dev Swaps back: meter 5 is deactivated and meter 2 reactivated, now.
    function _reactivateOld() internal {
        registry.deactivateMeter(5);
        registry.reactivateMeter(2);
        meterSigners[1] = oldMeter;
        meterKeys[1] = oldKey;
    }

    function test_submitReadings_revertsForReactivatedMeterInReplacementsInterval() public {
        _warpToWindow(I);
        vm.assertEq(_submit(1, I, 0, 1000), 1, "the replacement reports I");
        _reactivateOld();
        IEnergyMarket.SignedReading[] memory rs = _one(_reading(1, I, 0, 1000));
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.ReadingBeforeMeterRegistered.selector, oldMeter, I, vm.getBlockTimestamp()
            )
        );
        vm.prank(gateway);
        market.submitReadings(I, rs);
        vm.assertEq(market.bookOf(I).count, 1, "only the replacement's reading");
        vm.assertEq(market.bookOf(I).lastMeterId, 5, "under the replacement's id");
    }

    function test_submitReadings_acceptsReactivatedMeterFromItsNextInterval() public {
        _warpToWindow(I);
        _reactivateOld();
        _warpToClose(I);
        _settleChecked(I);
        _warpToWindow(I + 1);
        vm.assertEq(_submit(1, I + 1, 0, 700), 1, "recorded");
        vm.assertEq(market.bookOf(I + 1).lastMeterId, 2, "under the old id again");
    }
}
