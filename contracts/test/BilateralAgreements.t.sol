// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {Vm} from "./utils/Vm.sol";
import {BilateralAgreements} from "../src/BilateralAgreements.sol";
import {IBilateralAgreements} from "../src/interfaces/IBilateralAgreements.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice Bilateral agreements: proposing, accepting and cancelling (access control, validation, the
/// notice), pruning, and their execution at settlement before the auction.
///
/// The fixture's reference clearing does not know about agreements, so:
/// - where no household has a standing order, every auction fill is 0 with or without agreements and the
///   reference clearing (price 190_000, the midpoint of [feed-in, retail]) is valid; balances are then
///   checked by hand;
/// - where nothing is delivered, `_settleChecked` (the fixture's full reference) applies unchanged;
/// - where agreements and the auction meet, the clearing is computed by hand in the test's comment
///   (only zone 1 meters report, so there is one zone, net export 0, at the hub's prices).
///
/// Households: 12, household i owns meter i + 1 and is in zone 1 + i % 3. The tests use zone 1:
/// household 0 (meter 1), 3 (meter 4), 6 (meter 7) and 9 (meter 10). Tariffs: feed-in 80_000, retail
/// 300_000 per kWh. The test starts in interval I - 1 (I = the market's first interval).
contract BilateralAgreementsTest is MarketFixture {
    uint64 internal I;
    uint64 internal C0; // the interval the test starts in (I - 1)

    uint256 internal constant FUNDS = 1_000_000;
    // zone 1
    uint256 internal constant S = 0; // seller, meter 1
    uint256 internal constant B = 3; // buyer, meter 4
    uint256 internal constant S2 = 6; // second seller, meter 7
    uint256 internal constant B2 = 9; // second buyer, meter 10
    // zone 2
    uint256 internal constant Z2 = 1; // meter 2

    /// @dev An AgreementDelivered event of the market.
    struct Delivery {
        uint256 id;
        uint64 interval;
        uint64 energyWh;
        uint256 costMicro;
    }

    /// @dev The market's IntervalSettled event.
    struct Settled {
        bool seen;
        uint64 price;
        uint256 tradedWh;
        uint256 toGridWh;
        uint256 fromGridWh;
        uint256 trades;
        uint256 feesMicro;
        bytes32 root;
    }

    function setUp() public {
        _deploy(12);
        I = firstInterval;
        C0 = _currentInterval();
        require(C0 + 1 == I, "test: starts in the interval before the first");
    }

    // ------------------------------------------------------------------ helpers: agreements

    function _terms(uint256 seller, uint256 buyer, uint32 maxWh, uint32 price, uint64 start, uint64 end, uint32 notice)
        internal
        view
        returns (IBilateralAgreements.Terms memory)
    {
        return IBilateralAgreements.Terms({
            seller: households[seller],
            buyer: households[buyer],
            maxWhPerInterval: maxWh,
            priceMicroPerKwh: price,
            startInterval: start,
            endInterval: end,
            noticeIntervals: notice
        });
    }

    /// @dev Proposed by the seller.
    function _propose(uint256 seller, uint256 buyer, uint32 maxWh, uint32 price, uint64 start, uint64 end, uint32 notice)
        internal
        returns (uint256 id)
    {
        IBilateralAgreements.Terms memory t = _terms(seller, buyer, maxWh, price, start, end, notice);
        vm.prank(households[seller]);
        id = agreements.propose(t);
    }

    function _accept(uint256 household, uint256 id) internal {
        vm.prank(households[household]);
        agreements.accept(id);
    }

    /// @dev Proposed by the seller, accepted by the buyer.
    function _agree(uint256 seller, uint256 buyer, uint32 maxWh, uint32 price, uint64 start, uint64 end, uint32 notice)
        internal
        returns (uint256 id)
    {
        id = _propose(seller, buyer, maxWh, price, start, end, notice);
        _accept(buyer, id);
    }

    function _status(uint256 id) internal view returns (IBilateralAgreements.Status) {
        return agreements.agreement(id).status;
    }

    function _err(bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector);
    }

    function _wrongStatus(uint256 id, IBilateralAgreements.Status status) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IBilateralAgreements.WrongStatus.selector, id, status);
    }

    function _assertIds(uint256[] memory expected) internal view {
        uint256[] memory ids = agreements.activeIds();
        vm.assertEq(ids.length, expected.length, "number of active ids");
        for (uint256 k; k < ids.length; ++k) {
            vm.assertEq(ids[k], expected[k], "active id (acceptance order)");
        }
    }

    function _list(uint256 a) internal pure returns (uint256[] memory l) {
        l = new uint256[](1);
        l[0] = a;
    }

    function _list(uint256 a, uint256 b) internal pure returns (uint256[] memory l) {
        l = new uint256[](2);
        (l[0], l[1]) = (a, b);
    }

    function _list(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory l) {
        l = new uint256[](3);
        (l[0], l[1], l[2]) = (a, b, c);
    }

    function _list(uint256 a, uint256 b, uint256 c, uint256 d) internal pure returns (uint256[] memory l) {
        l = new uint256[](4);
        (l[0], l[1], l[2], l[3]) = (a, b, c, d);
    }

    // ------------------------------------------------------------------ helpers: settlement

    /// @dev Settles `interval` with `c`, returning the AgreementDelivered events (in emission order) and
    /// the IntervalSettled event.
    function _settleWith(uint64 interval, Clearing memory c)
        internal
        returns (Delivery[] memory deliveries, Settled memory settled)
    {
        vm.recordLogs();
        market.settleInterval(interval, c.prices, c.zones, c.entries);
        (deliveries, settled) = _decode(vm.getRecordedLogs());
    }

    /// @dev Settles `interval` with the fixture's reference clearing (valid when no household has a standing
    /// order: every fill is 0 with or without agreements).
    function _settleRef(uint64 interval) internal returns (Delivery[] memory deliveries, Settled memory settled) {
        return _settleWith(interval, _referenceClearing(interval));
    }

    /// @dev `_settleChecked` (the fixture's full reference, valid when nothing is delivered), recording the
    /// AgreementDelivered events.
    function _settleCheckedRecording(uint64 interval) internal returns (Delivery[] memory deliveries) {
        vm.recordLogs();
        _settleChecked(interval);
        (deliveries,) = _decode(vm.getRecordedLogs());
    }

    function _decode(Vm.Log[] memory logs) internal view returns (Delivery[] memory d, Settled memory s) {
        bytes32 delivered = IEnergyMarket.AgreementDelivered.selector;
        bytes32 settledTopic = IEnergyMarket.IntervalSettled.selector;
        uint256 count;
        for (uint256 k; k < logs.length; ++k) {
            if (logs[k].emitter == address(market) && logs[k].topics.length != 0 && logs[k].topics[0] == delivered) {
                ++count;
            }
        }
        d = new Delivery[](count);
        uint256 j;
        for (uint256 k; k < logs.length; ++k) {
            Vm.Log memory l = logs[k];
            if (l.emitter != address(market) || l.topics.length == 0) continue;
            if (l.topics[0] == delivered) {
                (uint64 energyWh, uint256 cost) = abi.decode(l.data, (uint64, uint256));
                d[j++] = Delivery(uint256(l.topics[1]), uint64(uint256(l.topics[2])), energyWh, cost);
            } else if (l.topics[0] == settledTopic) {
                s.seen = true;
                (s.price, s.tradedWh, s.toGridWh, s.fromGridWh, s.trades, s.feesMicro, s.root) =
                    abi.decode(l.data, (uint64, uint256, uint256, uint256, uint256, uint256, bytes32));
            }
        }
    }

    function _assertDelivery(Delivery memory d, uint256 id, uint64 interval, uint64 energyWh, uint256 cost)
        internal
        pure
    {
        vm.assertEq(d.id, id, "delivery: agreement id");
        vm.assertEq(uint256(d.interval), uint256(interval), "delivery: interval");
        vm.assertEq(uint256(d.energyWh), uint256(energyWh), "delivery: energy");
        vm.assertEq(d.costMicro, cost, "delivery: cost");
    }

    function _assertSettled(
        Settled memory s,
        uint64 price,
        uint256 tradedWh,
        uint256 toGridWh,
        uint256 fromGridWh,
        uint256 trades,
        bytes32 root
    ) internal pure {
        vm.assertTrue(s.seen, "IntervalSettled emitted");
        vm.assertEq(uint256(s.price), uint256(price), "settled: price");
        vm.assertEq(s.tradedWh, tradedWh, "settled: traded");
        vm.assertEq(s.toGridWh, toGridWh, "settled: to grid");
        vm.assertEq(s.fromGridWh, fromGridWh, "settled: from grid");
        vm.assertEq(s.trades, trades, "settled: trades");
        vm.assertEq(s.feesMicro, 0, "settled: fees");
        vm.assertEq(s.root, root, "settled: energy root");
    }

    /// @dev A clearing written by hand (see MarketFixture._handClearing) with one uniform zone.
    function _hand(uint64 interval, uint64 low, uint64 high, uint64[2][] memory fills)
        internal
        view
        returns (Clearing memory c)
    {
        c = _handClearing(interval, low, high, fills);
        c.zones = _uniformZones(c);
    }

    function _claims(IEnergyMarket.EnergyClaim memory a, IEnergyMarket.EnergyClaim memory b)
        internal
        pure
        returns (IEnergyMarket.EnergyClaim[] memory cs)
    {
        cs = new IEnergyMarket.EnergyClaim[](2);
        (cs[0], cs[1]) = (a, b);
    }

    function _claims(
        IEnergyMarket.EnergyClaim memory a,
        IEnergyMarket.EnergyClaim memory b,
        IEnergyMarket.EnergyClaim memory c
    ) internal pure returns (IEnergyMarket.EnergyClaim[] memory cs) {
        cs = new IEnergyMarket.EnergyClaim[](3);
        (cs[0], cs[1], cs[2]) = (a, b, c);
    }

    /// @dev Sum of every ledger account the fixture knows, signed (debts count negative).
    function _signedSum() internal view returns (int256 sum) {
        for (uint256 i; i < households.length; ++i) {
            sum += _balance(households[i]);
        }
        sum += _balance(grid);
    }

    /// @dev Settlement moves ledger balances only: the tokens the market holds do not change and are
    /// exactly the positive balances; the signed sum of all accounts changes only by the new grid debt
    /// (import the grid delivered but escrow could not pay).
    function _assertConserved(uint256 heldBefore, int256 signedBefore, uint256 newDebt) internal view {
        vm.assertEq(credit.balanceOf(address(market)), heldBefore, "settlement moves no tokens");
        vm.assertEq(_ledgerSum(), heldBefore, "ledger backed one to one");
        // casting to int256 is safe: newDebt is a test's hand-computed amount, far below 2^255
        // forge-lint: disable-next-line(unsafe-typecast)
        vm.assertEq(_signedSum(), signedBefore - int256(newDebt), "money conserved");
    }

    /// @dev Warps to `interval`'s window, records household `s`'s export and household `b`'s import
    /// (in meter-id order: s < b), and warps to its close.
    function _readings(uint64 interval, uint256 s, uint64 exportWh, uint256 b, uint64 importWh) internal {
        _warpToWindow(interval);
        _submit(s, interval, exportWh, 0);
        _submit(b, interval, 0, importWh);
        _warpToClose(interval);
    }

    // ================================================================== 1. access control and validation

    function test_propose_storesProposalAndEmits() public {
        IBilateralAgreements.Terms memory t = _terms(S, B, 400, 150_000, I, I + 10, 2);
        vm.expectEmit(true, true, true, true, address(agreements));
        emit IBilateralAgreements.AgreementProposed(1, households[S], households[B], t);
        vm.prank(households[B]); // the buyer may propose too
        uint256 id = agreements.propose(t);
        vm.assertEq(id, 1, "first id");
        IBilateralAgreements.Agreement memory a = agreements.agreement(id);
        vm.assertTrue(a.status == IBilateralAgreements.Status.Proposed, "proposed");
        vm.assertEq(a.proposer, households[B], "proposer");
        vm.assertEq(a.terms.seller, households[S], "seller");
        vm.assertEq(a.terms.buyer, households[B], "buyer");
        vm.assertEq(uint256(a.terms.maxWhPerInterval), 400, "max");
        vm.assertEq(uint256(a.terms.priceMicroPerKwh), 150_000, "price");
        vm.assertEq(uint256(a.terms.startInterval), uint256(I), "start");
        vm.assertEq(uint256(a.terms.endInterval), uint256(I + 10), "end");
        vm.assertEq(uint256(a.terms.noticeIntervals), 2, "notice");
        vm.assertEq(agreements.activeIds().length, 0, "a proposal is not active");
        vm.assertEq(agreements.dueAt(I).length, 0, "a proposal is not due");
        vm.assertEq(_propose(S, B, 1, 1, I, I + 1, 0), 2, "ids count up");
    }

    function test_propose_revertsWhenCallerIsNotAParty() public {
        IBilateralAgreements.Terms memory t = _terms(S, B, 400, 150_000, I, I + 10, 0);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotAParty.selector, 0, stranger));
        vm.prank(stranger);
        agreements.propose(t);
        // another participant of the same zone
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotAParty.selector, 0, households[S2]));
        vm.prank(households[S2]);
        agreements.propose(t);
        // the operator
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotAParty.selector, 0, operator));
        agreements.propose(t);
    }

    function test_propose_revertsInvalidTerms() public {
        IBilateralAgreements.Terms[] memory bad = new IBilateralAgreements.Terms[](7);
        bad[0] = _terms(S, S, 400, 150_000, I, I + 10, 0); // seller == buyer
        bad[1] = _terms(S, B, 0, 150_000, I, I + 10, 0); // no energy
        bad[2] = _terms(S, B, 400, 0, I, I + 10, 0); // no price
        bad[3] = _terms(S, B, 400, 150_000, I + 5, I + 5, 0); // start == end
        bad[4] = _terms(S, B, 400, 150_000, I + 6, I + 5, 0); // start > end
        bad[5] = _terms(S, B, 400, 150_000, C0 - 10, C0 - 2, 0); // ended in the past
        // ends with the current interval: nothing left to deliver after acceptance (C0 + 1 at the earliest)
        bad[6] = _terms(S, B, 400, 150_000, C0 - 1, C0 + 1, 0);
        for (uint256 k; k < bad.length; ++k) {
            vm.expectRevert(_err(IBilateralAgreements.InvalidTerms.selector));
            vm.prank(households[S]);
            agreements.propose(bad[k]);
        }
        // The earliest valid end: one interval (the next) to deliver.
        uint256 id = _agree(S, B, 400, 150_000, C0 - 1, C0 + 2, 0);
        vm.assertEq(uint256(agreements.agreement(id).terms.startInterval), uint256(C0 + 1), "start moved to next");
        vm.assertEq(agreements.dueAt(C0 + 1).length, 1, "due in the one interval");
    }

    function test_propose_revertsDifferentZones() public {
        // household 0 is in zone 1, household 1 in zone 2
        IBilateralAgreements.Terms memory t = _terms(S, Z2, 400, 150_000, I, I + 10, 0);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.DifferentZones.selector, uint16(1), uint16(2)));
        vm.prank(households[S]);
        agreements.propose(t);
        t = _terms(Z2, S, 400, 150_000, I, I + 10, 0);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.DifferentZones.selector, uint16(2), uint16(1)));
        vm.prank(households[S]);
        agreements.propose(t);
    }

    function test_propose_revertsInactiveOrUnknownParticipant() public {
        registry.setParticipantActive(households[B], false);
        IBilateralAgreements.Terms memory t = _terms(S, B, 400, 150_000, I, I + 10, 0);
        bytes memory err = abi.encodeWithSelector(IBilateralAgreements.NotAnActiveParticipant.selector, households[B]);
        vm.expectRevert(err);
        vm.prank(households[S]);
        agreements.propose(t);
        vm.expectRevert(err); // the inactive party itself
        vm.prank(households[B]);
        agreements.propose(t);

        // an unregistered counterparty
        t.buyer = stranger;
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotAnActiveParticipant.selector, stranger));
        vm.prank(households[S]);
        agreements.propose(t);
    }

    function test_accept_activatesAndEmits() public {
        uint256 id = _propose(S, B, 400, 150_000, I, I + 10, 0);
        vm.expectEmit(true, true, true, true, address(agreements));
        emit IBilateralAgreements.AgreementAccepted(id, I, I + 10);
        _accept(B, id);
        vm.assertTrue(_status(id) == IBilateralAgreements.Status.Active, "active");
        _assertIds(_list(id));
        IBilateralAgreements.Due[] memory due = agreements.dueAt(I);
        vm.assertEq(due.length, 1, "due");
        vm.assertEq(due[0].id, id, "due id");
        vm.assertEq(due[0].seller, households[S], "due seller");
        vm.assertEq(due[0].buyer, households[B], "due buyer");
        vm.assertEq(uint256(due[0].maxWhPerInterval), 400, "due max");
        vm.assertEq(uint256(due[0].priceMicroPerKwh), 150_000, "due price");
        // proposed by the buyer: the seller accepts
        IBilateralAgreements.Terms memory t = _terms(S, B, 1, 1, I, I + 10, 0);
        vm.prank(households[B]);
        uint256 id2 = agreements.propose(t);
        _accept(S, id2);
        _assertIds(_list(id, id2));
    }

    function test_accept_revertsForProposerAndStrangers() public {
        uint256 id = _propose(S, B, 400, 150_000, I, I + 10, 0);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotTheCounterparty.selector, id, households[S]));
        _accept(S, id);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotTheCounterparty.selector, id, households[S2]));
        _accept(S2, id);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotTheCounterparty.selector, id, stranger));
        vm.prank(stranger);
        agreements.accept(id);
        vm.assertTrue(_status(id) == IBilateralAgreements.Status.Proposed, "still proposed");

        // proposed by the buyer: the buyer cannot accept
        IBilateralAgreements.Terms memory t = _terms(S, B, 400, 150_000, I, I + 10, 0);
        vm.prank(households[B]);
        uint256 id2 = agreements.propose(t);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotTheCounterparty.selector, id2, households[B]));
        _accept(B, id2);
    }

    function test_accept_revertsWhenCounterpartyInactive() public {
        uint256 id = _propose(S, B, 400, 150_000, I, I + 10, 0);
        registry.setParticipantActive(households[B], false);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotAnActiveParticipant.selector, households[B]));
        _accept(B, id);
    }

    function test_accept_revertsWhenProposerLeftSinceProposing() public {
        uint256 id = _propose(S, B, 400, 150_000, I, I + 10, 0);
        registry.setParticipantActive(households[S], false);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotAnActiveParticipant.selector, households[S]));
        _accept(B, id);
        vm.assertTrue(_status(id) == IBilateralAgreements.Status.Proposed, "still a proposal");
    }

    function test_acceptAndCancel_revertUnknownAgreement() public {
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.UnknownAgreement.selector, 1));
        _accept(B, 1);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.UnknownAgreement.selector, 0));
        _accept(B, 0);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.UnknownAgreement.selector, 7));
        vm.prank(households[S]);
        agreements.cancel(7);
        vm.assertTrue(_status(7) == IBilateralAgreements.Status.None, "none");
    }

    function test_accept_revertsWrongStatus() public {
        uint256 id = _agree(S, B, 400, 150_000, I, I + 10, 0);
        vm.expectRevert(_wrongStatus(id, IBilateralAgreements.Status.Active));
        _accept(B, id); // twice

        uint256 withdrawn = _propose(S, B, 400, 150_000, I, I + 10, 0);
        vm.prank(households[S]);
        agreements.cancel(withdrawn);
        vm.expectRevert(_wrongStatus(withdrawn, IBilateralAgreements.Status.Ended));
        _accept(B, withdrawn);
    }

    function test_accept_revertsWhenPeriodPassedBeforeAcceptance() public {
        uint256 id = _propose(S, B, 400, 150_000, I, I + 2, 0);
        vm.warp(_endOf(I)); // now in I + 1: start moves to I + 2 = end
        vm.expectRevert(_err(IBilateralAgreements.InvalidTerms.selector));
        _accept(B, id);
        vm.assertTrue(_status(id) == IBilateralAgreements.Status.Proposed, "still proposed");
    }

    function test_cancel_revertsForStrangersAndEndedAgreements() public {
        uint256 id = _agree(S, B, 400, 150_000, I, I + 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotAParty.selector, id, stranger));
        vm.prank(stranger);
        agreements.cancel(id);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.NotAParty.selector, id, households[S2]));
        vm.prank(households[S2]);
        agreements.cancel(id);

        // Ended: its only interval I settled, then pruned.
        _warpToClose(I);
        _settleRef(I);
        agreements.prune();
        vm.assertTrue(_status(id) == IBilateralAgreements.Status.Ended, "ended");
        vm.expectRevert(_wrongStatus(id, IBilateralAgreements.Status.Ended));
        vm.prank(households[S]);
        agreements.cancel(id);

        // A withdrawn proposal cannot be cancelled again.
        uint256 p = _propose(S, B, 400, 150_000, I + 5, I + 10, 0);
        vm.prank(households[B]);
        agreements.cancel(p);
        vm.expectRevert(_wrongStatus(p, IBilateralAgreements.Status.Ended));
        vm.prank(households[S]);
        agreements.cancel(p);
    }

    /// @dev MAX_ACTIVE = 128 accepted agreements; the 129th is refused until an agreement whose last interval
    /// is settled can be pruned (accept prunes first).
    function test_accept_revertsTooManyActiveAgreementsUntilOneIsPruned() public {
        uint256 max = agreements.MAX_ACTIVE();
        vm.assertEq(max, 128, "limit");
        _agree(S, B, 100, 100_000, I, I + 1, 0); // id 1: delivers in I only
        for (uint256 k = 1; k < max; ++k) {
            _agree(S, B, 100, 100_000, I, I + 50, 0);
        }
        vm.assertEq(agreements.activeIds().length, max, "full");
        uint256 id = _propose(S, B, 100, 100_000, I, I + 50, 0);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.TooManyActiveAgreements.selector, max));
        _accept(B, id);

        // Agreement 1's end passed in time, but interval I is not settled: still not prunable.
        _warpToClose(I);
        vm.expectRevert(abi.encodeWithSelector(IBilateralAgreements.TooManyActiveAgreements.selector, max));
        _accept(B, id);

        _settleRef(I); // no readings: all 128 deliver 0
        _accept(B, id);
        uint256[] memory ids = agreements.activeIds();
        vm.assertEq(ids.length, max, "full again");
        vm.assertEq(ids[0], 2, "agreement 1 pruned");
        vm.assertEq(ids[max - 1], id, "new one last");
        vm.assertTrue(_status(1) == IBilateralAgreements.Status.Ended, "agreement 1 ended");
    }

    function test_setMarket_onceAndOnlyByOperator() public {
        // The fixture's agreements are bound already.
        vm.assertEq(address(agreements.market()), address(market), "bound to the market");
        vm.expectRevert(_err(IBilateralAgreements.InvalidTerms.selector));
        agreements.setMarket(IEnergyMarket(address(0xBEEF)));
        vm.assertEq(address(agreements.market()), address(market), "unchanged");

        BilateralAgreements fresh = new BilateralAgreements(registry, INTERVAL_SECONDS);
        fresh.prune(); // without a market: nothing to do, no revert
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, OPERATOR_ROLE)
        );
        vm.prank(stranger);
        fresh.setMarket(market);
        // the grid operator is not the operator either
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, grid, OPERATOR_ROLE)
        );
        vm.prank(grid);
        fresh.setMarket(market);
        vm.expectRevert(_err(IBilateralAgreements.InvalidTerms.selector));
        fresh.setMarket(IEnergyMarket(address(0)));

        vm.expectEmit(true, true, true, true, address(fresh));
        emit BilateralAgreements.MarketSet(address(market));
        fresh.setMarket(market);
        vm.assertEq(address(fresh.market()), address(market), "bound");
        vm.expectRevert(_err(IBilateralAgreements.InvalidTerms.selector));
        fresh.setMarket(market);
    }

    // ================================================================== 2. cancellation, notice, start

    /// @dev Accepted in C0 = I - 1 for [I, I + 20) with a notice of 2; cancelled by the buyer during I + 1
    /// (c = I + 1): endInterval = c + 1 + 2 = I + 4, so it delivers in I, I + 1, I + 2, I + 3 and not in I + 4.
    /// Each interval the seller exports 100 and the buyer imports 100 (no standing orders): delivered 100
    /// for floor(100 * 150_000 / 1000) = 15_000. In I + 4: seller's 100 Wh to the grid at feed-in = 8_000,
    /// buyer's 100 Wh from the grid at retail = 30_000.
    function test_cancel_activeAgreementDeliversThroughNotice() public {
        _fund(households[B], FUNDS);
        uint256 id = _agree(S, B, 400, 150_000, I, I + 20, 2);
        uint256 held = credit.balanceOf(address(market));
        int256 signedBefore = _signedSum();

        _warpToWindow(I); // the first second of I + 1
        vm.assertEq(uint256(_currentInterval()), uint256(I + 1), "cancelling in I + 1");
        vm.expectEmit(true, true, true, true, address(agreements));
        emit IBilateralAgreements.AgreementCancelled(id, households[B], I + 4);
        vm.prank(households[B]);
        agreements.cancel(id);
        IBilateralAgreements.Agreement memory a = agreements.agreement(id);
        vm.assertEq(uint256(a.terms.endInterval), uint256(I + 4), "end after the notice");
        vm.assertEq(uint256(a.terms.startInterval), uint256(I), "start unchanged");
        vm.assertTrue(a.status == IBilateralAgreements.Status.Active, "active through the notice");
        vm.assertEq(agreements.dueAt(I + 3).length, 1, "due in I + 3");
        vm.assertEq(agreements.dueAt(I + 4).length, 0, "not due in I + 4");

        for (uint64 j = I; j <= I + 4; ++j) {
            _readings(j, S, 100, B, 100);
            (Delivery[] memory d,) = _settleRef(j);
            if (j < I + 4) {
                vm.assertEq(d.length, 1, "delivered during the notice");
                _assertDelivery(d[0], id, j, 100, 15_000);
            } else {
                vm.assertEq(d.length, 0, "nothing after the notice");
            }
        }
        vm.assertEq(market.balanceOf(households[S]), 4 * 15_000 + 8_000, "seller");
        vm.assertEq(market.balanceOf(households[B]), FUNDS - 4 * 15_000 - 30_000, "buyer");
        _assertConserved(held, signedBefore, 0);

        // Ended and pruned now that every interval before its end is settled (endInterval I + 4 <= next).
        agreements.prune();
        vm.assertTrue(_status(id) == IBilateralAgreements.Status.Ended, "ended");
        vm.assertEq(agreements.activeIds().length, 0, "pruned");
    }

    /// @dev Notice 0, cancelled by the seller in C0: endInterval = C0 + 1 = I, so it never delivers.
    function test_cancel_withoutNoticeStopsAfterCurrentInterval() public {
        uint256 id = _agree(S, B, 400, 150_000, I, I + 20, 0);
        vm.expectEmit(true, true, true, true, address(agreements));
        emit IBilateralAgreements.AgreementCancelled(id, households[S], I);
        vm.prank(households[S]);
        agreements.cancel(id);
        vm.assertEq(uint256(agreements.agreement(id).terms.endInterval), uint256(I), "end");
        vm.assertEq(agreements.dueAt(I).length, 0, "not due in I");
    }

    /// @dev A notice reaching beyond the agreed end never extends the agreement.
    function test_cancel_noticeNeverExtendsEnd() public {
        uint256 id = _agree(S, B, 400, 150_000, I, I + 3, 10);
        vm.expectEmit(true, true, true, true, address(agreements));
        emit IBilateralAgreements.AgreementCancelled(id, households[S], I + 3);
        vm.prank(households[S]);
        agreements.cancel(id);
        vm.assertEq(uint256(agreements.agreement(id).terms.endInterval), uint256(I + 3), "end unchanged");
        vm.assertEq(agreements.dueAt(I + 2).length, 1, "due in I + 2");
    }

    /// @dev Cancelled before it starts with a notice that runs out before the start: C0 + 1 + 1 = I + 1 < start
    /// I + 5, so endInterval = startInterval = I + 5: it never delivers.
    function test_cancel_beforeStartEndsAtStart() public {
        uint256 id = _agree(S, B, 400, 150_000, I + 5, I + 10, 1);
        vm.expectEmit(true, true, true, true, address(agreements));
        emit IBilateralAgreements.AgreementCancelled(id, households[B], I + 5);
        vm.prank(households[B]);
        agreements.cancel(id);
        IBilateralAgreements.Agreement memory a = agreements.agreement(id);
        vm.assertEq(uint256(a.terms.endInterval), uint256(I + 5), "end = start");
        for (uint64 j = I; j < I + 12; ++j) {
            vm.assertEq(agreements.dueAt(j).length, 0, "never due");
        }
    }

    /// @dev A proposal is withdrawn (by its proposer) or refused (by its counterparty) at once; the event
    /// carries its start as the end.
    function test_cancel_proposalEndsAtOnce() public {
        uint256 withdrawn = _propose(S, B, 400, 150_000, I + 2, I + 10, 5);
        vm.expectEmit(true, true, true, true, address(agreements));
        emit IBilateralAgreements.AgreementCancelled(withdrawn, households[S], I + 2);
        vm.prank(households[S]);
        agreements.cancel(withdrawn);
        vm.assertTrue(_status(withdrawn) == IBilateralAgreements.Status.Ended, "withdrawn");

        uint256 refused = _propose(S, B, 400, 150_000, I, I + 10, 5);
        vm.expectEmit(true, true, true, true, address(agreements));
        emit IBilateralAgreements.AgreementCancelled(refused, households[B], I);
        vm.prank(households[B]);
        agreements.cancel(refused);
        vm.assertTrue(_status(refused) == IBilateralAgreements.Status.Ended, "refused");

        vm.expectRevert(_wrongStatus(refused, IBilateralAgreements.Status.Ended));
        _accept(B, refused);
        vm.assertEq(agreements.activeIds().length, 0, "none active");
        vm.assertEq(agreements.dueAt(I + 3).length, 0, "none due");
    }

    /// @dev Proposed in C0 for [I, I + 10), accepted during I + 2: start moves to I + 3. A start already in
    /// the future is kept.
    function test_accept_movesStartToIntervalAfterAcceptance() public {
        uint256 id = _propose(S, B, 400, 150_000, I, I + 10, 0);
        uint256 later = _propose(S, B, 400, 150_000, I + 7, I + 10, 0);
        vm.warp(_endOf(I + 1) + 17); // in I + 2
        vm.expectEmit(true, true, true, true, address(agreements));
        emit IBilateralAgreements.AgreementAccepted(id, I + 3, I + 10);
        _accept(B, id);
        vm.assertEq(uint256(agreements.agreement(id).terms.startInterval), uint256(I + 3), "start moved");
        vm.assertEq(agreements.dueAt(I + 2).length, 0, "not due in I + 2");
        vm.assertEq(agreements.dueAt(I + 3).length, 1, "due from I + 3");

        vm.expectEmit(true, true, true, true, address(agreements));
        emit IBilateralAgreements.AgreementAccepted(later, I + 7, I + 10);
        _accept(B, later);
    }

    // ================================================================== 3. execution at settlement

    // ---- (a) full delivery, then the auction on what is left

    /// @dev Agreement: household 0 (meter 1) sells household 3 (meter 4) up to 300 Wh at 150_000.
    /// Standing orders: h0 asks 120_000 for up to 1000; h3 bids 200_000 for up to 1000; h6 (meter 7) asks
    /// 100_000 for up to 500; h9 (meter 10) bids 250_000 for up to 300. Escrow: h3 and h9 1_000_000 each.
    /// Readings: h0 exports 1000, h3 imports 1000, h6 exports 500, h9 imports 300.
    function _scenarioA() internal returns (uint256 id) {
        _fund(households[B], FUNDS);
        _fund(households[B2], FUNDS);
        _setOrder(S, 120_000, 1000, 0, 0);
        _setOrder(B, 0, 0, 200_000, 1000);
        _setOrder(S2, 100_000, 500, 0, 0);
        _setOrder(B2, 0, 0, 250_000, 300);
        id = _agree(S, B, 300, 150_000, I, I + 10, 0);
        _warpToWindow(I);
        _submit(S, I, 1000, 0); // entry 0
        _submit(B, I, 0, 1000); // entry 1
        _submit(S2, I, 500, 0); // entry 2
        _submit(B2, I, 0, 300); // entry 3
        _warpToClose(I);
    }

    /// @dev Delivery = min(300, export 1000, import 1000, floor(1_000_000 * 1000 / 150_000) = 6666) = 300,
    /// cost floor(300 * 150_000 / 1000) = 45_000.
    /// Auction book after it: h0 offers 1000 - 300 = 700 at 120k; h3 demands min(1000 - 300, 1000,
    /// floor((1_000_000 - 45_000) * 1000 / 200_000) = 4775) = 700 at 200k; h6 offers 500 at 100k; h9
    /// demands 300 at 250k.
    /// S(x) = 0 (x < 100k), 500 (100k <= x < 120k), 1200 (x >= 120k); D>(x) = 1000 (x < 200k), 300, 0.
    /// low = smallest x with D>(x) <= S(x) = 120k. S<(x) = 1200 > D(x) <= 1000 for x > 120k, S<(120k) = 500
    /// <= 1000: high = 120k. Price 120_000.
    /// Fills: h6 (ask < p) sells 500, h3 and h9 (bid > p) buy 700 and 300, h0 (tied) sells 1000 - 500 = 500.
    /// Trades in meter-id order: h0 -> h3 500, h6 -> h3 200, h6 -> h9 300. h0 has 1000 - 300 - 500 = 200
    /// unsold: to the grid at feed-in, 16_000.
    function _clearingA() internal view returns (Clearing memory) {
        return _hand(I, 120_000, 120_000, _fills([uint64(500), 0], [uint64(0), 700], [uint64(500), 0], [uint64(0), 300]));
    }

    /// @dev The energy leaves of scenario A: the delivery first, then the auction's trades, then the grid.
    function _claimsA() internal view returns (IEnergyMarket.EnergyClaim[] memory cs) {
        cs = new IEnergyMarket.EnergyClaim[](5);
        cs[0] = _claim(households[B], 1, _tokenId(I, S), 300); // the agreement's delivery
        cs[1] = _claim(households[B], 1, _tokenId(I, S), 500);
        cs[2] = _claim(households[B], 7, _tokenId(I, S2), 200);
        cs[3] = _claim(households[B2], 7, _tokenId(I, S2), 300);
        cs[4] = _claim(grid, 1, _gridPoolId(I, S), 200);
    }

    /// @dev Balances (hand computed above):
    /// h0: 45_000 (agreement) + 500 * 120 (60_000) + 200 * 80 (16_000) = 121_000
    /// h3: 1_000_000 - 45_000 - 700 * 120 (84_000) = 871_000 (import fully served: 300 + 700)
    /// h6: 500 * 120 = 60_000; h9: 1_000_000 - 300 * 120 = 964_000; grid: -16_000.
    function test_settle_fullDeliveryThenAuctionOnTheRest() public {
        uint256 id = _scenarioA();
        uint256 held = credit.balanceOf(address(market));
        int256 signedBefore = _signedSum();
        int256 gridBefore = _balance(grid);
        Clearing memory c = _clearingA();
        (Delivery[] memory d, Settled memory s) = _settleWith(I, c);

        vm.assertEq(d.length, 1, "one delivery");
        _assertDelivery(d[0], id, I, 300, 45_000);
        _assertSettled(s, 120_000, 1000, 200, 0, 3, _merkleRoot(_leaves(I, _claimsA())));
        vm.assertEq(market.balanceOf(households[S]), 121_000, "seller: agreement + auction + feed-in");
        vm.assertEq(market.balanceOf(households[B]), 871_000, "buyer: agreement + auction");
        vm.assertEq(market.balanceOf(households[S2]), 60_000, "second seller");
        vm.assertEq(market.balanceOf(households[B2]), 964_000, "second buyer");
        vm.assertEq(_balance(grid), gridBefore - 16_000, "grid paid the feed-in");
        _assertConserved(held, signedBefore, 0);
    }

    /// @dev The clearing the fixture computes without the agreement (h0 selling 800 of its 1000) is refused:
    /// the delivery came off h0's export first, leaving an offer of 700.
    function test_settle_rejectsClearingIgnoringTheDelivery() public {
        _scenarioA();
        Clearing memory naive = _referenceClearing(I);
        vm.assertEq(_soldAt(naive, 0), 800, "reference without agreements");
        _expectSettleRevertAt(
            I, naive, abi.encodeWithSelector(IEnergyMarket.FillExceedsQuantity.selector, uint32(1), uint64(800), uint64(700))
        );
        // and the right one settles
        _settleWith(I, _clearingA());
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "settled");
    }

    // ---- (b) under-delivery

    /// @dev Agreement h0 -> h3 up to 400 Wh at 150_000; h0 exports only 250. h3 (escrow 1_000_000) imports
    /// 1000 and bids 200_000 for up to 1000; h6 asks 100_000 for up to 500 and exports 500.
    /// Delivery = min(400, 250, 1000, 6666) = 250, cost floor(250 * 150) = 37_500.
    /// Auction: h0 has nothing left (and no order); h3 demands min(750, 1000, floor(962_500 * 1000 /
    /// 200_000) = 4812) = 750 at 200k; h6 offers 500 at 100k.
    /// low: D>(x) = 750 > S(x) <= 500 below 200k, D>(200k) = 0: low = 200k. high: S<(200k) = 500 <= D = 750,
    /// D = 0 above: high = 200k. Price 200_000: h6 sells 500, h3 (tied, alone) buys 500.
    /// h3's last 1000 - 250 - 500 = 250 Wh come from the grid at retail: 75_000.
    /// h0: 37_500. h3: 1_000_000 - 37_500 - 100_000 - 75_000 = 787_500. h6: 100_000. grid: +75_000.
    function test_settle_underDeliveryLeavesTheRestToAuctionAndGrid() public {
        _fund(households[B], FUNDS);
        _setOrder(B, 0, 0, 200_000, 1000);
        _setOrder(S2, 100_000, 500, 0, 0);
        uint256 id = _agree(S, B, 400, 150_000, I, I + 10, 0);
        _warpToWindow(I);
        _submit(S, I, 250, 0);
        _submit(B, I, 0, 1000);
        _submit(S2, I, 500, 0);
        _warpToClose(I);
        uint256 held = credit.balanceOf(address(market));
        int256 signedBefore = _signedSum();
        int256 gridBefore = _balance(grid);

        Clearing memory c = _hand(I, 200_000, 200_000, _fills([uint64(0), 0], [uint64(0), 500], [uint64(500), 0]));
        (Delivery[] memory d, Settled memory s) = _settleWith(I, c);
        vm.assertEq(d.length, 1, "one delivery");
        _assertDelivery(d[0], id, I, 250, 37_500);
        bytes32 root = _hashPair(
            _leaf(I, _claimAt(0, households[B], 1, _tokenId(I, S), 250)),
            _leaf(I, _claimAt(1, households[B], 7, _tokenId(I, S2), 500))
        );
        _assertSettled(s, 200_000, 500, 0, 250, 1, root);
        vm.assertEq(market.balanceOf(households[S]), 37_500, "seller paid for what it delivered");
        vm.assertEq(market.balanceOf(households[B]), 787_500, "buyer");
        vm.assertEq(market.balanceOf(households[S2]), 100_000, "auction seller");
        vm.assertEq(_balance(grid), gridBefore + 75_000, "grid sold the rest at retail");
        _assertConserved(held, signedBefore, 0);
    }

    // ---- (c) buyer's escrow too small

    /// @dev Agreement h0 -> h3 up to 400 Wh at 150_000. h3 set a buy order (bid 200_000, up to 1000) with
    /// 231_000 in escrow, then withdrew 200_000: 31_000 left. h0 exports 1000, h3 imports 1000, h6 asks
    /// 100_000 for 500 and exports 500.
    /// Delivery = min(400, 1000, 1000, floor(31_000 * 1000 / 150_000) = 206) = 206, cost floor(206 * 150)
    /// = 30_900; 100 left in escrow.
    /// Auction: h3 demands floor(100 * 1000 / 200_000) = 0; h0 has no order; h6 offers 500 at 100k.
    /// No demand: low = feed-in 80_000 (D> = 0 <= S everywhere), high = 100_000 (S<(x) = 0 <= D only up to
    /// 100k). Price 90_000, no trade.
    /// h0: 30_900 + (1000 - 206) * 80 (63_520) = 94_420. h6: 500 * 80 = 40_000.
    /// h3: 100 - 794 * 300 (238_200) = -238_100 (the grid gets the 100 left, 238_100 is debt).
    /// grid: +100 - 63_520 - 40_000 = -103_420.
    function test_settle_deliveryLimitedByBuyersEscrow() public {
        _fund(households[B], 231_000);
        _setOrder(B, 0, 0, 200_000, 1000);
        vm.prank(households[B]);
        market.withdraw(200_000);
        _setOrder(S2, 100_000, 500, 0, 0);
        uint256 id = _agree(S, B, 400, 150_000, I, I + 10, 0);
        _warpToWindow(I);
        _submit(S, I, 1000, 0);
        _submit(B, I, 0, 1000);
        _submit(S2, I, 500, 0);
        _warpToClose(I);
        uint256 held = credit.balanceOf(address(market));
        int256 signedBefore = _signedSum();
        int256 gridBefore = _balance(grid);

        // Without the agreement h3 would demand floor(31_000 * 1000 / 200_000) = 155 and buy it from h6 at
        // 100_000 (the fixture's reference): refused, the auction sees only the 100 left.
        Clearing memory naive = _referenceClearing(I);
        vm.assertEq(_boughtAt(naive, 1), 155, "reference without agreements");
        SettleState memory before = _settleState(I);
        vm.expectRevert();
        market.settleInterval(I, naive.prices, naive.zones, naive.entries);
        _assertSettleUnchanged(I, before);

        Clearing memory c = _hand(I, 80_000, 100_000, _fills([uint64(0), 0], [uint64(0), 0], [uint64(0), 0]));
        (Delivery[] memory d, Settled memory s) = _settleWith(I, c);
        vm.assertEq(d.length, 1, "one delivery");
        _assertDelivery(d[0], id, I, 206, 30_900);
        IEnergyMarket.EnergyClaim[] memory cs = _claims(
            _claim(households[B], 1, _tokenId(I, S), 206),
            _claim(grid, 1, _gridPoolId(I, S), 794),
            _claim(grid, 7, _gridPoolId(I, S2), 500)
        );
        _assertSettled(s, 90_000, 0, 1294, 794, 0, _merkleRoot(_leaves(I, cs)));
        vm.assertEq(market.balanceOf(households[S]), 94_420, "seller");
        vm.assertEq(_balance(households[B]), -238_100, "buyer: escrow spent, rest is grid debt");
        vm.assertEq(market.balanceOf(households[S2]), 40_000, "h6 at feed-in");
        vm.assertEq(_balance(grid), gridBefore - 103_420, "grid");
        _assertConserved(held, signedBefore, 238_100);
        vm.assertEq(_claimAll(I, cs), 1500, "every exported Wh claimable");
    }

    /// @dev One buyer, two agreements accepted in this order: h0 -> h3 up to 400 at 150_000 and h6 -> h3 up
    /// to 400 at 100_000. h3 has 80_000 in escrow and imports 1000; h0 and h6 export 1000 each.
    /// First: min(400, 1000, 1000, floor(80_000 * 1000 / 150_000) = 533) = 400, cost 60_000.
    /// Second: escrow left 80_000 - 60_000 = 20_000: min(400, 1000, 1000 - 400, floor(20_000 * 1000 /
    /// 100_000) = 200) = 200, cost 20_000.
    /// h3: 80_000 - 80_000 = 0, then 400 Wh at retail (120_000): all debt. h0: 60_000 + 600 * 80 = 108_000.
    /// h6: 20_000 + 800 * 80 = 84_000. grid: -48_000 - 64_000 = -112_000.
    function test_settle_buyersEscrowSharedByItsAgreementsInOrder() public {
        _fund(households[B], 80_000);
        uint256 first = _agree(S, B, 400, 150_000, I, I + 10, 0);
        uint256 second = _agree(S2, B, 400, 100_000, I, I + 10, 0);
        _warpToWindow(I);
        _submit(S, I, 1000, 0);
        _submit(B, I, 0, 1000);
        _submit(S2, I, 1000, 0);
        _warpToClose(I);
        uint256 held = credit.balanceOf(address(market));
        int256 signedBefore = _signedSum();
        int256 gridBefore = _balance(grid);

        (Delivery[] memory d, Settled memory s) = _settleRef(I);
        vm.assertEq(d.length, 2, "two deliveries");
        _assertDelivery(d[0], first, I, 400, 60_000);
        _assertDelivery(d[1], second, I, 200, 20_000);
        vm.assertEq(s.fromGridWh, 400, "rest from the grid");
        vm.assertEq(s.toGridWh, 600 + 800, "unsold to the grid");
        vm.assertEq(_balance(households[B]), -120_000, "buyer");
        vm.assertEq(market.balanceOf(households[S]), 108_000, "first seller");
        vm.assertEq(market.balanceOf(households[S2]), 84_000, "second seller");
        vm.assertEq(_balance(grid), gridBefore - 112_000, "grid");
        _assertConserved(held, signedBefore, 120_000);
    }

    /// @dev The same two agreements, escrow 1_000_000, but h3 imports only 550: the first takes 400
    /// (60_000), the second what import is left, 150 (floor(150 * 100) = 15_000). Nothing from the grid.
    /// h0: 60_000 + 600 * 80 = 108_000; h6: 15_000 + 850 * 80 = 83_000; h3: 1_000_000 - 75_000 = 925_000.
    function test_settle_buyersImportSharedByItsAgreementsInOrder() public {
        _fund(households[B], FUNDS);
        uint256 first = _agree(S, B, 400, 150_000, I, I + 10, 0);
        uint256 second = _agree(S2, B, 400, 100_000, I, I + 10, 0);
        _warpToWindow(I);
        _submit(S, I, 1000, 0);
        _submit(B, I, 0, 550);
        _submit(S2, I, 1000, 0);
        _warpToClose(I);
        uint256 held = credit.balanceOf(address(market));
        int256 signedBefore = _signedSum();

        (Delivery[] memory d, Settled memory s) = _settleRef(I);
        vm.assertEq(d.length, 2, "two deliveries");
        _assertDelivery(d[0], first, I, 400, 60_000);
        _assertDelivery(d[1], second, I, 150, 15_000);
        vm.assertEq(s.fromGridWh, 0, "import served by the agreements");
        vm.assertEq(market.balanceOf(households[B]), 925_000, "buyer");
        vm.assertEq(market.balanceOf(households[S]), 108_000, "first seller");
        vm.assertEq(market.balanceOf(households[S2]), 83_000, "second seller");
        _assertConserved(held, signedBefore, 0);
    }

    // ---- (d) a party without a reading, or without escrow

    /// @dev Agreement h0 -> h3 up to 400 at 150_000. I: only the buyer reports (import 500); I + 1: only the
    /// seller (export 500); I + 2: both, but the buyer withdrew all its escrow. Each time the event says 0
    /// and the settlement is exactly the one without agreements (the fixture's `_settleChecked`).
    function test_settle_partyWithoutReadingOrEscrowGetsNothing() public {
        _fund(households[B], FUNDS);
        uint256 id = _agree(S, B, 400, 150_000, I, I + 10, 0);

        _warpToWindow(I);
        _submit(B, I, 0, 500);
        _warpToClose(I);
        Delivery[] memory d = _settleCheckedRecording(I);
        vm.assertEq(d.length, 1, "event for the seller without reading");
        _assertDelivery(d[0], id, I, 0, 0);
        vm.assertEq(market.balanceOf(households[B]), FUNDS - 150_000, "buyer imported at retail");

        _warpToWindow(I + 1);
        _submit(S, I + 1, 500, 0);
        _warpToClose(I + 1);
        d = _settleCheckedRecording(I + 1);
        vm.assertEq(d.length, 1, "event for the buyer without reading");
        _assertDelivery(d[0], id, I + 1, 0, 0);
        vm.assertEq(market.balanceOf(households[S]), 40_000, "seller exported at feed-in");

        vm.startPrank(households[B]);
        market.withdraw(market.balanceOf(households[B]));
        vm.stopPrank();
        _readings(I + 2, S, 500, B, 500);
        d = _settleCheckedRecording(I + 2);
        vm.assertEq(d.length, 1, "event for the buyer without escrow");
        _assertDelivery(d[0], id, I + 2, 0, 0);
        vm.assertEq(_balance(households[B]), -150_000, "buyer's import from the grid, as debt");
        vm.assertEq(market.balanceOf(households[S]), 80_000, "seller exported at feed-in again");
    }

    /// @dev The market finds a party's entry by its current meter: the seller reported with meter 1, which
    /// was replaced before settlement, so nothing is delivered (as the market's NatSpec documents: "a meter
    /// replaced since"), though the seller's reading is in the book.
    function test_settle_sellersMeterReplacedBeforeSettlementDeliversNothing() public {
        _fund(households[B], FUNDS);
        uint256 id = _agree(S, B, 400, 150_000, I, I + 10, 0);
        _readings(I, S, 500, B, 500);
        registry.deactivateMeter(1);
        registry.registerMeter(vm.addr(METER_PK + 100), households[S], 1);
        Delivery[] memory d = _settleCheckedRecording(I);
        vm.assertEq(d.length, 1, "one event");
        _assertDelivery(d[0], id, I, 0, 0);
    }

    // ---- (e) one seller, two agreements: its export shared in acceptance order

    /// @dev Proposed: id 1 = h0 -> h6 up to 500 at 140_000, id 2 = h0 -> h3 up to 300 at 150_000; accepted
    /// 2 first, then 1, so 2 executes first. h0 exports 600; h3 and h6 import 1000 each (escrow 1_000_000).
    /// id 2: min(300, 600, 1000, 6666) = 300, cost 45_000. id 1: min(500, 600 - 300, 1000, 7142) = 300,
    /// cost floor(300 * 140) = 42_000. (In id order, id 1 would have taken 500 and left id 2 100.)
    /// h0: 87_000, nothing unsold. h3: 1_000_000 - 45_000 - 700 * 300 = 745_000; h6: 1_000_000 - 42_000 -
    /// 210_000 = 748_000. grid: +420_000. Leaves: the two deliveries, in execution order.
    function test_settle_sellersExportSharedInAcceptanceOrder() public {
        _fund(households[B], FUNDS);
        _fund(households[S2], FUNDS);
        uint256 one = _propose(S, S2, 500, 140_000, I, I + 10, 0);
        uint256 two = _propose(S, B, 300, 150_000, I, I + 10, 0);
        _accept(B, two);
        _accept(S2, one);
        _assertIds(_list(two, one));
        IBilateralAgreements.Due[] memory due = agreements.dueAt(I);
        vm.assertEq(due.length, 2, "both due");
        vm.assertEq(due[0].id, two, "acceptance order");
        vm.assertEq(due[1].id, one, "acceptance order");

        _warpToWindow(I);
        _submit(S, I, 600, 0);
        _submit(B, I, 0, 1000);
        _submit(S2, I, 0, 1000);
        _warpToClose(I);
        uint256 held = credit.balanceOf(address(market));
        int256 signedBefore = _signedSum();
        int256 gridBefore = _balance(grid);

        (Delivery[] memory d, Settled memory s) = _settleRef(I);
        vm.assertEq(d.length, 2, "two deliveries");
        _assertDelivery(d[0], two, I, 300, 45_000);
        _assertDelivery(d[1], one, I, 300, 42_000);
        IEnergyMarket.EnergyClaim[] memory cs =
            _claims(_claim(households[B], 1, _tokenId(I, S), 300), _claim(households[S2], 1, _tokenId(I, S), 300));
        _assertSettled(s, 190_000, 0, 0, 1400, 0, _merkleRoot(_leaves(I, cs)));
        vm.assertEq(market.balanceOf(households[S]), 87_000, "seller");
        vm.assertEq(market.balanceOf(households[B]), 745_000, "first buyer");
        vm.assertEq(market.balanceOf(households[S2]), 748_000, "second buyer");
        vm.assertEq(_balance(grid), gridBefore + 420_000, "grid");
        _assertConserved(held, signedBefore, 0);
        vm.assertEq(_claimAll(I, cs), 600, "the seller's export, all claimable");
        vm.assertEq(energyToken.balanceOf(households[B], _tokenId(I, S)), 300, "first buyer's tokens");
        vm.assertEq(energyToken.balanceOf(households[S2], _tokenId(I, S)), 300, "second buyer's tokens");
    }

    // ---- (f) only inside [start, end)

    /// @dev Agreement h0 -> h3 up to 400 at 150_000 for [I + 1, I + 2). Each of I, I + 1, I + 2: h0 exports 100,
    /// h3 imports 100. I and I + 2 settle exactly as without agreements (no event); I + 1 delivers 100 for
    /// 15_000.
    function test_settle_onlyInsideStartAndEnd() public {
        _fund(households[B], FUNDS);
        uint256 id = _agree(S, B, 400, 150_000, I + 1, I + 2, 0);

        _readings(I, S, 100, B, 100);
        vm.assertEq(_settleCheckedRecording(I).length, 0, "not due before the start");

        _readings(I + 1, S, 100, B, 100);
        int256 sellerBefore = _balance(households[S]);
        int256 buyerBefore = _balance(households[B]);
        (Delivery[] memory d,) = _settleRef(I + 1);
        vm.assertEq(d.length, 1, "due in its interval");
        _assertDelivery(d[0], id, I + 1, 100, 15_000);
        vm.assertEq(_balance(households[S]), sellerBefore + 15_000, "seller");
        vm.assertEq(_balance(households[B]), buyerBefore - 15_000, "buyer");

        _readings(I + 2, S, 100, B, 100);
        vm.assertEq(_settleCheckedRecording(I + 2).length, 0, "not due at the end");
    }

    // ---- (g) prune

    /// @dev Four agreements proposed as ids 1..4 and accepted in the order 3, 1, 4, 2, ending after I + 1
    /// (id 3), I (id 1), I + 4 (id 4) and I + 2 (id 2). Prune drops an agreement once every interval it
    /// delivers in is settled (end <= next interval to settle), whatever the time, and keeps the order.
    function test_prune_removesEndedAgreementsAndKeepsOrder() public {
        uint256 a = _propose(S, B, 100, 100_000, I, I + 1, 0);
        uint256 b = _propose(S2, B2, 100, 100_000, I, I + 3, 0);
        uint256 c = _propose(S, B2, 100, 100_000, I, I + 2, 0);
        uint256 e = _propose(S2, B, 100, 100_000, I, I + 5, 0);
        _accept(B2, c);
        _accept(B, a);
        _accept(B, e);
        _accept(B2, b);
        _assertIds(_list(c, a, e, b));
        agreements.prune();
        _assertIds(_list(c, a, e, b));

        // Long after, but nothing settled: nothing pruned.
        vm.warp(_endOf(I + 20));
        vm.prank(stranger);
        agreements.prune();
        _assertIds(_list(c, a, e, b));
        vm.assertTrue(_status(a) == IBilateralAgreements.Status.Active, "still active");
        IBilateralAgreements.Due[] memory due = agreements.dueAt(I + 1);
        vm.assertEq(due.length, 3, "due in I + 1: c, e, b");
        vm.assertEq(due[0].id, c, "due order");
        vm.assertEq(due[1].id, e, "due order");
        vm.assertEq(due[2].id, b, "due order");

        _settleRef(I); // next = I + 1: a (end I + 1) is done
        vm.prank(stranger);
        agreements.prune();
        _assertIds(_list(c, e, b));
        vm.assertTrue(_status(a) == IBilateralAgreements.Status.Ended, "a ended");

        _settleRef(I + 1); // next = I + 2: c is done
        agreements.prune();
        _assertIds(_list(e, b));
        vm.assertTrue(_status(c) == IBilateralAgreements.Status.Ended, "c ended");

        _settleRef(I + 2);
        _settleRef(I + 3); // next = I + 4: b is done, e (end I + 5) is not
        agreements.prune();
        _assertIds(_list(e));
        vm.assertTrue(_status(b) == IBilateralAgreements.Status.Ended, "b ended");
        vm.assertTrue(_status(e) == IBilateralAgreements.Status.Active, "e active");
    }

    // ---- (h) the delivery's energy leaf

    /// @dev Scenario A: the delivery is leaf 0 (before the auction's trades): buyer h3, seller meter 1, the
    /// seller's token id (its interval, zone, source and meter), 300 Wh. Anyone claims it with its proof;
    /// it mints the seller-origin tokens to the buyer, once.
    function test_claim_deliveryLeafMintsSellerTokensToBuyer() public {
        _scenarioA();
        _settleWith(I, _clearingA());
        IEnergyMarket.EnergyClaim[] memory cs = _claimsA();
        bytes32[] memory leaves = _leaves(I, cs);
        vm.assertEq(market.energyRootOf(I), _merkleRoot(leaves), "root: delivery first, then trades, then grid");
        uint256 tokenId = _tokenId(I, S);
        vm.assertEq(tokenId, energyToken.tokenIdOf(I, 1, 1, 1), "seller-origin id: zone 1, source 1, meter 1");

        bytes32[] memory proof = _merkleProof(leaves, 0);
        // a wrong amount is not a leaf
        IEnergyMarket.EnergyClaim memory wrong = _claim(households[B], 1, tokenId, 301);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidEnergyProof.selector, I));
        market.claimEnergy(I, wrong, proof);

        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.EnergyClaimed(I, households[B], 0, 1, tokenId, 300);
        vm.prank(stranger);
        market.claimEnergy(I, cs[0], proof);
        vm.assertEq(energyToken.balanceOf(households[B], tokenId), 300, "buyer holds the seller's tokens");
        vm.assertTrue(market.isClaimed(leaves[0]), "claimed");
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.EnergyAlreadyClaimed.selector, I, leaves[0]));
        market.claimEnergy(I, cs[0], proof);

        // The other leaves too: every exported Wh (1000 + 500) minted once.
        for (uint256 k = 1; k < cs.length; ++k) {
            market.claimEnergy(I, cs[k], _merkleProof(leaves, k));
        }
        vm.assertEq(energyToken.mintedWh(I), 1500, "minted = export");
        vm.assertEq(energyToken.balanceOf(households[B], tokenId), 800, "300 by agreement + 500 in the auction");
        vm.assertEq(energyToken.balanceOf(households[B], _tokenId(I, S2)), 200, "from h6");
        vm.assertEq(energyToken.balanceOf(households[B2], _tokenId(I, S2)), 300, "h9 from h6");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, S)), 200, "h0's surplus to the grid");
    }

    /// @dev Agreement h0 -> h3 up to 500 at 150_000; h0 also asks feed-in for up to 1000, h3 bids 200_000 for
    /// up to 1000 (escrow 1_000_000); h0 exports 1000, h3 imports 1000.
    /// Delivery 500 (75_000). Auction: h0 offers 500 at 80k, h3 demands 500 at 200k: low = 80k (D> = 500 <=
    /// S = 500 there), high = 200k (S< = 500 <= D = 500 up to 200k): price 140_000, h0 sells h3 500 (70_000).
    /// h0: 145_000; h3: 855_000.
    /// The delivery's leaf and the trade's leaf are then the same (h3, meter 1, h0's token id, 500 Wh); the
    /// buyer received 1000 Wh and must be able to claim 1000 Wh of tokens.
    function test_claim_deliveryAndEqualTradeFromSameSellerBothClaimable() public {
        _fund(households[B], FUNDS);
        _setOrder(S, FEED_IN, 1000, 0, 0);
        _setOrder(B, 0, 0, 200_000, 1000);
        uint256 id = _agree(S, B, 500, 150_000, I, I + 10, 0);
        _readings(I, S, 1000, B, 1000);
        (Delivery[] memory d, Settled memory s) =
            _settleWith(I, _hand(I, 80_000, 200_000, _fills([uint64(500), 0], [uint64(0), 500])));
        _assertDelivery(d[0], id, I, 500, 75_000);
        vm.assertEq(uint256(s.price), 140_000, "price");
        vm.assertEq(market.balanceOf(households[S]), 145_000, "seller");
        vm.assertEq(market.balanceOf(households[B]), 855_000, "buyer");
        IEnergyMarket.EnergyClaim[] memory cs =
            _claims(_claim(households[B], 1, _tokenId(I, S), 500), _claim(households[B], 1, _tokenId(I, S), 500));
        vm.assertEq(_claimAll(I, cs), 1000, "both leaves claimable");
        vm.assertEq(energyToken.balanceOf(households[B], _tokenId(I, S)), 1000, "buyer holds all it received");
    }

    /// @dev Two agreements between the same pair (h0 -> h3, up to 200 at 150_000 and up to 200 at 120_000),
    /// no standing orders; h0 exports 1000, h3 imports 1000. Both deliver 200 (30_000 and 24_000): two equal
    /// leaves (h3, meter 1, h0's token id, 200). The buyer received 400 Wh and must be able to claim them.
    function test_claim_equalDeliveriesOfTwoAgreementsBetweenSamePairBothClaimable() public {
        _fund(households[B], FUNDS);
        uint256 one = _agree(S, B, 200, 150_000, I, I + 10, 0);
        uint256 two = _agree(S, B, 200, 120_000, I, I + 10, 0);
        _readings(I, S, 1000, B, 1000);
        (Delivery[] memory d,) = _settleRef(I);
        _assertDelivery(d[0], one, I, 200, 30_000);
        _assertDelivery(d[1], two, I, 200, 24_000);
        IEnergyMarket.EnergyClaim[] memory cs = _claims(
            _claim(households[B], 1, _tokenId(I, S), 200),
            _claim(households[B], 1, _tokenId(I, S), 200),
            _claim(grid, 1, _gridPoolId(I, S), 600)
        );
        vm.assertEq(_claimAll(I, cs), 1000, "every exported Wh claimable");
    }

    // ---- (i) money

    /// @dev Scenario A: settlement never moves tokens, the ledger stays backed one to one, and the signed
    /// sum of every account (households and grid) does not change, since every payment (agreement, auction
    /// or grid) is a transfer between two of them and no debt arises. The households together gain exactly
    /// what the grid paid for the 200 Wh it bought at feed-in (16_000): the agreement's 45_000 and the
    /// auction's 120_000 only moved between them.
    function test_settle_conservesMoney() public {
        _scenarioA();
        uint256 held = credit.balanceOf(address(market));
        int256 signedBefore = _signedSum();
        int256 gridBefore = _balance(grid);
        _settleWith(I, _clearingA());
        _assertConserved(held, signedBefore, 0);
        vm.assertEq(_balance(grid), gridBefore - 16_000, "grid paid the feed-in only");
        vm.assertEq(
            _signedSum() - _balance(grid), signedBefore - gridBefore + 16_000, "households gained what the grid paid"
        );
    }
}
