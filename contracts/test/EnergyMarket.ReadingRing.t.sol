// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";
import {EnergyMarket} from "../src/EnergyMarket.sol";
import {IEnergyToken} from "../src/interfaces/IEnergyToken.sol";

/// @notice The per-meter reading ring and the pooled grid token id.
contract EnergyMarketReadingRingTest is MarketFixture {
    uint64 internal I;
    uint64 internal SLOTS;

    function setUp() public {
        _deploy(2);
        I = firstInterval;
        SLOTS = market.READING_SLOTS();
    }

    function _closeAndSettle(uint64 interval) internal {
        _warpToClose(interval);
        market.settleInterval(interval, _referenceClearing(interval));
    }

    function test_submitReading_reusesSlotAfterARingOfSettledIntervals() public {
        _warpToWindow(I);
        _submit(0, I, 100, 0);
        _closeAndSettle(I);
        for (uint64 k = 1; k < SLOTS; ++k) _closeAndSettle(I + k);
        // I + SLOTS maps to I's slot; I is settled, so the slot is reused.
        _warpToWindow(I + SLOTS);
        _submit(0, I + SLOTS, 0, 250);
        IEnergyMarket.Position memory now_ = market.positionOf(I + SLOTS, 1);
        vm.assertEq(now_.importWh, 250, "new reading");
        vm.assertFalse(market.positionOf(I, 1).recorded, "old interval left the ring");
        _closeAndSettle(I + SLOTS);
        vm.assertEq(market.nextIntervalToSettle(), I + SLOTS + 1, "settled");
    }

    function test_submitReading_revertsReadingBufferFullWhenSettlementIsARingBehind() public {
        _warpToWindow(I);
        _submit(0, I, 100, 0);
        // Nobody settles for a whole ring of intervals.
        _warpToWindow(I + SLOTS);
        IEnergyMarket.SignedReading memory r = _sign(meterKeys[0], meterSigners[0], I + SLOTS, 5, 0);
        vm.prank(gateway);
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.ReadingBufferFull.selector, meterSigners[0], I + SLOTS, I)
        );
        market.submitReading(r);
        vm.assertEq(market.positionOf(I, 1).exportWh, 100, "unsettled reading kept");
    }

    function test_constructor_revertsInvalidTiming() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidTiming.selector, uint32(0), uint32(10)));
        new EnergyMarket(
            registry,
            energyToken,
            credit,
            grid,
            0,
            10,
            firstInterval,
            IEnergyMarket.Tariffs({feedInMicroPerKwh: FEED_IN, retailMicroPerKwh: RETAIL})
        );
        uint32 window = uint32(INTERVAL_SECONDS) * uint32(SLOTS);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidTiming.selector, INTERVAL_SECONDS, window));
        new EnergyMarket(
            registry,
            energyToken,
            credit,
            grid,
            INTERVAL_SECONDS,
            window,
            firstInterval,
            IEnergyMarket.Tariffs({feedInMicroPerKwh: FEED_IN, retailMicroPerKwh: RETAIL})
        );
    }

    function test_settleInterval_mintsUnsoldEnergyToThePooledGridId() public {
        _warpToWindow(I);
        _submit(0, I, 700, 0);
        _submit(1, I, 300, 0);
        _closeAndSettle(I);
        IEnergyToken.Origin memory o0 = IEnergyToken.Origin({interval: I, zone: 1, source: 1, meterId: 0});
        uint256 pool0 = energyToken.tokenIdOf(o0.interval, o0.zone, o0.source, 0);
        uint256 pool1 = energyToken.tokenIdOf(I, 2, 2, 0);
        vm.assertEq(energyToken.balanceOf(grid, pool0), 700, "pool of meter 1's zone and source");
        vm.assertEq(energyToken.balanceOf(grid, pool1), 300, "pool of meter 2's zone and source");
        vm.assertEq(energyToken.mintedWh(I), 1000, "minted = verified export");
        vm.assertEq(energyToken.originOf(pool0).meterId, 0, "pooled id has no meter");
    }
}
