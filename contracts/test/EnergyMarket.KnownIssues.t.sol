// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice Contract bugs found by the test suite, kept as skipped tests (tests do not fix src/).
/// Remove the vm.skip line once the contract is fixed: each test then passes.
contract EnergyMarketKnownIssuesTest is MarketFixture {
    uint64 internal I;

    function setUp() public {
        _deploy(4);
        I = firstInterval;
    }

    /// @notice KNOWN BUG: a participant whose meter is replaced inside an interval's reading window has
    /// two meters with readings in that interval. Settlement builds one buy order per meter, each capped
    /// by the owner's WHOLE escrow (`balanceOf[owner] * 1000 / bid`), so the owner's demand is counted
    /// twice. The verifier accepts the clearing, then `_settleWithGrid` underflows computing
    /// `balanceOf[e.owner] + e.credit - e.debit` for the second meter: settleInterval reverts with
    /// Panic(0x11), and since intervals settle in order, the whole market halts until someone deposits
    /// for the owner or it cancels its order. Expected: the interval settles with the owner's total
    /// purchases within its escrow (e.g. the affordability cap applied per owner, not per meter).
    function test_settleInterval_settlesWhenOwnerMeterReplacedInWindow() public {
        vm.skip(true);
        _fund(households[1], 300_000); // exactly 1000 Wh at retail
        _setOrder(0, FEED_IN, 2000, 0, 0);
        _setOrder(1, 0, 0, RETAIL, 1000);
        _warpToWindow(I);
        _submit(0, I, 2000, 0);
        _submit(1, I, 0, 1000); // meter 2
        // the meter is swapped during the reading window; the new one reports the same interval
        registry.deactivateMeter(2);
        uint256 newKey = METER_PK + 100;
        uint32 newId = registry.registerMeter(vm.addr(newKey), households[1], 1);
        IEnergyMarket.SignedReading memory r = _sign(newKey, vm.addr(newKey), I, 0, 1000);
        vm.prank(gateway);
        market.submitReading(r);
        _warpToClose(I);

        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        // meters 2 and 5 each demand 1000 Wh on the same 300_000 escrow; the price is 190_000
        vm.assertEq(c.fills[1].boughtWh + c.fills[2].boughtWh, 2000, "both meters buy");
        vm.assertEq(c.fills[2].meterId, newId, "new meter");
        market.settleInterval(I, c); // today: reverts with Panic(0x11)
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "settled");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }
}
