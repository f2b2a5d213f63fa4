// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {MarketHandler} from "./MarketHandler.sol";
import {CommunityCredit} from "../../src/CommunityCredit.sol";
import {EnergyToken} from "../../src/EnergyToken.sol";
import {EnergyMarket} from "../../src/EnergyMarket.sol";

/// @notice The market's invariants under random sequences of readings, orders, deposits, withdrawals,
/// time, settlements and energy claims (see {MarketHandler}).
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

        bytes4[] memory selectors = new bytes4[](9);
        selectors[0] = MarketHandler.submitReadings.selector;
        selectors[1] = MarketHandler.setOrder.selector;
        selectors[2] = MarketHandler.deposit.selector;
        selectors[3] = MarketHandler.withdraw.selector;
        selectors[4] = MarketHandler.warp.selector;
        selectors[5] = MarketHandler.settle.selector;
        selectors[6] = MarketHandler.settleAgain.selector;
        selectors[7] = MarketHandler.claim.selector;
        selectors[8] = MarketHandler.claimAgain.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice A scripted run through the handler: it must trade, settle, claim and keep every ghost at
    /// zero. Every household holds escrow enough for all its imports, so no one runs into grid debt.
    function test_handler_scriptedRunTradesSettlesAndClaims() public {
        for (uint256 k; k < 8; ++k) {
            for (uint256 d; d < 5; ++d) {
                handler.deposit(k, 2_000_000);
            }
            handler.setOrder(k, 60_000 + k * 10_000, 3000, 0, 0);
            handler.setOrder(k + 3, 0, 0, 330_000 - k * 10_000, 3000);
        }
        for (uint256 round; round < 6; ++round) {
            handler.submitReadings(round * 7 + 1, 0xff);
            handler.warp(900);
            handler.settle();
            handler.settleAgain();
            handler.claim(round);
            handler.claimAgain(round);
            handler.withdraw(round, 1000);
        }
        vm.assertGt(handler.ghostSettled(), 0, "settled");
        vm.assertGt(handler.ghostTrades(), 0, "traded");
        vm.assertEq(handler.ghostSettleFailures(), 0, "failures");
        vm.assertGt(handler.calls("claim"), 0, "claimed");
        invariant_ledgerSumEqualsTokensHeld();
        invariant_marketIsSolvent();
        invariant_settlementsMatchReferenceLedger();
        invariant_leavesCarryVerifiedExport();
        invariant_claimsMintEachLeafOnce();
        invariant_eachIntervalSettledOnce();
        invariant_tradesWithinLimits();
        invariant_booksFollowTheReadingRule();
        invariant_referenceClearingAlwaysSettles();
        afterInvariant();
    }

    /// @notice Money: the escrow ledger (positive balances) is backed one to one by the tokens the market
    /// holds: no token is ever stranded, none is owed that is not there.
    function invariant_ledgerSumEqualsTokensHeld() public view {
        vm.assertEq(handler.ledgerSum(), credit.balanceOf(address(market)), "ledger sum != tokens held");
    }

    /// @notice Money, weaker: every positive balance can be withdrawn.
    function invariant_marketIsSolvent() public view {
        vm.assertLe(handler.ledgerSum(), credit.balanceOf(address(market)), "market cannot pay out its ledger");
    }

    /// @notice Every settlement left each household and the grid exactly where the reference ledger says.
    function invariant_settlementsMatchReferenceLedger() public view {
        vm.assertEq(handler.ghostLedgerViolations(), 0, "a balance differs from the reference ledger");
    }

    /// @notice Energy: the leaves of each settled interval carry exactly its verified export, and the
    /// IntervalSettled totals and root are the reference's.
    function invariant_leavesCarryVerifiedExport() public view {
        uint64 next = market.nextIntervalToSettle();
        for (uint64 i = handler.first(); i < next; ++i) {
            vm.assertEq(handler.ghostLeafEnergyOf(i), handler.ghostExportOf(i), "leaves != verified export");
        }
        vm.assertEq(handler.ghostAccountingViolations(), 0, "settlement totals or root disagree with the reference");
    }

    /// @notice Energy: what was minted for an interval is exactly what its claimed leaves carry, never
    /// more than its export; nothing is minted for an unsettled interval; no leaf is claimed twice.
    function invariant_claimsMintEachLeafOnce() public view {
        uint64 next = market.nextIntervalToSettle();
        for (uint64 i = handler.first(); i < next; ++i) {
            vm.assertEq(energyToken.mintedWh(i), handler.ghostClaimedOf(i), "minted != claimed leaves");
            vm.assertLe(energyToken.mintedWh(i), handler.ghostExportOf(i), "minted more than the export");
        }
        for (uint64 i = next; i < next + 3; ++i) {
            vm.assertEq(energyToken.mintedWh(i), 0, "energy minted for an unsettled interval");
        }
        vm.assertEq(handler.ghostClaimFailures(), 0, "a valid claim was refused or minted wrongly");
        vm.assertEq(handler.ghostDoubleClaims(), 0, "a leaf was claimed twice");
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

    /// @notice Readings: every batch recorded exactly the readings above the book's last meter id, and
    /// the book is the hash chain of the readings recorded.
    function invariant_booksFollowTheReadingRule() public view {
        vm.assertEq(handler.ghostBookViolations(), 0, "a book differs from the readings recorded");
    }

    /// @notice Liveness: the market accepts the reference clearing of every closed interval.
    function invariant_referenceClearingAlwaysSettles() public view {
        vm.assertEq(handler.ghostSettleFailures(), 0, "reference clearing refused");
    }

    /// @notice After each run: claiming every remaining leaf mints exactly each settled interval's
    /// verified export.
    function afterInvariant() public {
        handler.claimEverything();
        uint64 next = market.nextIntervalToSettle();
        for (uint64 i = handler.first(); i < next; ++i) {
            vm.assertEq(energyToken.mintedWh(i), handler.ghostExportOf(i), "claims did not mint the export");
        }
        vm.assertEq(handler.ghostClaimFailures(), 0, "a valid claim was refused");
    }
}
