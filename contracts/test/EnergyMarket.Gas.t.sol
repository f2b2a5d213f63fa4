// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice The largest scenario of the suite, for `forge test --gas-report`: 50 meters, one batch of 50
/// readings, one settlement with 50 fills (mixed sellers and buyers, ties at the price, grid trades).
contract EnergyMarketGasTest is MarketFixture {
    uint256 internal constant METERS = 50;
    uint64 internal I;

    function setUp() public {
        _deploy(METERS);
        I = firstInterval;
        for (uint256 i; i < METERS; ++i) {
            if (i % 2 == 0) {
                _setOrder(i, uint64(90_000 + (i % 5) * 20_000), 3000, 0, 0);
            } else {
                _fund(households[i], 2_000_000);
                _setOrder(i, 0, 0, uint64(120_000 + (i % 7) * 20_000), 2500);
            }
        }
    }

    function test_settleInterval_fiftyMeters() public {
        IEnergyMarket.SignedReading[] memory rs = new IEnergyMarket.SignedReading[](METERS);
        for (uint256 i; i < METERS; ++i) {
            rs[i] = i % 2 == 0
                ? _reading(i, I, uint64(1000 + 37 * i), uint64(i % 3 == 0 ? 50 : 0))
                : _reading(i, I, 0, uint64(900 + 41 * i));
        }
        _warpToWindow(I);
        vm.assertEq(_submitBatch(rs), METERS, "recorded");
        _warpToClose(I);
        IEnergyMarket.Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.fills.length, METERS, "fills");
        uint256 ledger = _ledgerSum();
        vm.recordLogs();
        market.settleInterval(I, c);
        (uint256 violations, uint256 traded, uint256 trades) = _tradeLimitViolations(vm.getRecordedLogs(), _book(I, _metersIn(I)));
        vm.assertEq(violations, 0, "limits");
        vm.assertGt(traded, 0, "traded");
        vm.assertGt(trades, 10, "many trades");
        vm.assertEq(_ledgerSum(), ledger, "money conserved");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }
}
