// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {MarketHandler} from "./MarketHandler.sol";
import {CommunityCredit} from "../../src/CommunityCredit.sol";
import {EnergyToken} from "../../src/EnergyToken.sol";
import {EnergyMarket} from "../../src/EnergyMarket.sol";

/// @notice DESIGN.md §6 under random sequences of readings, orders, deposits, withdrawals, time and
/// settlements (see {MarketHandler}).
contract EnergyMarketInvariantTest is Test {
    MarketHandler internal handler;
    CommunityCredit internal credit;
    EnergyToken internal energyToken;
    EnergyMarket internal market;

    function setUp() public {
        handler = new MarketHandler();
        (, address c, address e, address m) = handler.contracts();
        credit = CommunityCredit(c);
        energyToken = EnergyToken(e);
        market = EnergyMarket(m);

        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = MarketHandler.submitReadings.selector;
        selectors[1] = MarketHandler.setOrder.selector;
        selectors[2] = MarketHandler.deposit.selector;
        selectors[3] = MarketHandler.withdraw.selector;
        selectors[4] = MarketHandler.warp.selector;
        selectors[5] = MarketHandler.settle.selector;
        selectors[6] = MarketHandler.settleAgain.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice A scripted run through the handler: it must trade, settle and keep every ghost at zero.
    function test_handler_scriptedRunTradesAndSettles() public {
        for (uint256 k; k < 8; ++k) {
            handler.setOrder(k, 60_000 + k * 10_000, 3000, 0, 0);
            handler.setOrder(k + 3, 0, 0, 330_000 - k * 10_000, 3000);
        }
        for (uint256 round; round < 6; ++round) {
            handler.submitReadings(round * 7 + 1, 8);
            handler.warp(900);
            handler.settle();
            handler.settleAgain();
            handler.withdraw(round, 1000);
        }
        vm.assertGt(handler.ghostSettled(), 0, "settled");
        vm.assertGt(handler.ghostTrades(), 0, "traded");
        vm.assertEq(handler.ghostSettleFailures(), 0, "failures");
        invariant_ledgerSumEqualsTokensHeld();
        invariant_mintedEnergyEqualsVerifiedExport();
        invariant_eachIntervalSettledOnce();
        invariant_tradesWithinLimits();
    }

    /// @notice Money: the escrow ledger is backed one to one by the tokens the market holds.
    function invariant_ledgerSumEqualsTokensHeld() public view {
        vm.assertEq(handler.ledgerSum(), credit.balanceOf(address(market)), "ledger sum != tokens held");
    }

    /// @notice Energy: each settled interval minted exactly its verified export; nothing else minted.
    function invariant_mintedEnergyEqualsVerifiedExport() public view {
        uint64 next = market.nextIntervalToSettle();
        uint256 n = handler.householdCount();
        for (uint64 i = handler.first(); i < next; ++i) {
            uint256 exportWh;
            for (uint32 m = 1; m <= n; ++m) {
                exportWh += market.positionOf(i, m).exportWh;
            }
            vm.assertEq(energyToken.mintedWh(i), exportWh, "minted != verified export");
            vm.assertEq(handler.ghostExportOf(i), exportWh, "export changed after settlement");
        }
        for (uint64 i = next; i < next + 3; ++i) {
            vm.assertEq(energyToken.mintedWh(i), 0, "energy minted for an unsettled interval");
        }
        vm.assertEq(handler.ghostAccountingViolations(), 0, "settlement totals disagree with the clearing");
    }

    /// @notice Intervals settle once each, in order: the cursor moves by exactly one per settlement.
    function invariant_eachIntervalSettledOnce() public view {
        vm.assertEq(
            market.nextIntervalToSettle(), uint256(handler.first()) + handler.ghostSettled(), "cursor != settlements"
        );
        vm.assertEq(handler.ghostStepViolations(), 0, "cursor moved by other than one");
        vm.assertEq(handler.ghostDoubleSettles(), 0, "an interval was settled twice");
    }

    /// @notice Prices: no buyer pays above its bid, no seller receives below its ask.
    function invariant_tradesWithinLimits() public view {
        vm.assertEq(handler.ghostLimitViolations(), 0, "a trade beyond a limit");
    }

    /// @notice Liveness: the market accepts the reference clearing of every closed interval.
    function invariant_referenceClearingAlwaysSettles() public view {
        vm.assertEq(handler.ghostSettleFailures(), 0, "reference clearing refused");
    }
}
