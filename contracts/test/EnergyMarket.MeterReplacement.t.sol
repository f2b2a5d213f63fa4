// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice A meter replaced inside an interval's reading window. Found by this suite: before meters
/// carried `registeredAt`, the replacement could report the same interval as its predecessor, the
/// owner's escrow backed two buy orders, and settlement underflowed, halting the market.
contract EnergyMarketMeterReplacementTest is MarketFixture {
    uint64 internal I;

    function setUp() public {
        _deploy(4);
        I = firstInterval;
    }

    function test_submitReading_revertsForReplacementMeterInPredecessorsInterval() public {
        _fund(households[1], 300_000); // exactly 1000 Wh at retail
        _setOrder(0, FEED_IN, 2000, 0, 0);
        _setOrder(1, 0, 0, RETAIL, 1000);
        _warpToWindow(I);
        _submit(0, I, 2000, 0);
        _submit(1, I, 0, 1000); // meter 2
        registry.deactivateMeter(2);
        uint256 newKey = METER_PK + 100;
        address newMeter = vm.addr(newKey);
        registry.registerMeter(newMeter, households[1], 1);
        IEnergyMarket.SignedReading memory r = _sign(newKey, newMeter, I, 0, 1000);
        vm.prank(gateway);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.ReadingBeforeMeterRegistered.selector, newMeter, I, vm.getBlockTimestamp()
            )
        );
        market.submitReading(r);
        vm.assertEq(market.meterCountIn(I), 2, "only the old meter's reading counts");

        _warpToClose(I);
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        market.settleInterval(I, c);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "settled");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }

    function test_submitReading_acceptsReplacementMeterFromItsFirstInterval() public {
        _warpToWindow(I);
        _submit(1, I, 0, 1000);
        registry.deactivateMeter(2);
        uint256 newKey = METER_PK + 100;
        address newMeter = vm.addr(newKey);
        registry.registerMeter(newMeter, households[1], 1);
        _warpToClose(I);
        market.settleInterval(I, _referenceClearing(I));
        // The next interval starts after the registration: the new meter reports it.
        _warpToWindow(I + 1);
        IEnergyMarket.SignedReading memory r = _sign(newKey, newMeter, I + 1, 0, 700);
        vm.prank(gateway);
        market.submitReading(r);
        vm.assertEq(market.meterCountIn(I + 1), 1, "recorded");
    }
}
