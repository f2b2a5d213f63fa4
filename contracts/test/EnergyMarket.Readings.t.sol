// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {EnergyMarket} from "../src/EnergyMarket.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";
import {MeterEntry} from "../src/libraries/MeterEntry.sol";

/// @notice submitReadings, readingDigest, the interval book and the market's constructor.
contract EnergyMarketReadingsTest is MarketFixture {
    uint64 internal I;

    function setUp() public {
        _deploy(4);
        I = firstInterval;
    }

    function _assertBook(uint64 interval, uint256 count, uint32 lastMeterId) internal view {
        IEnergyMarket.IntervalBook memory book = market.bookOf(interval);
        vm.assertEq(book.count, count, "book count");
        vm.assertEq(book.lastMeterId, lastMeterId, "book last meter id");
        vm.assertEq(book.head, _headOf(interval), "book head");
    }

    function _bookHash(uint64 interval) internal view returns (bytes32) {
        return keccak256(abi.encode(market.bookOf(interval)));
    }

    /// @dev Expects `rs` to revert with `err` and to leave the interval's book as it was.
    function _expectBatchRevert(uint64 interval, IEnergyMarket.SignedReading[] memory rs, bytes memory err) internal {
        bytes32 before = _bookHash(interval);
        vm.expectRevert(err);
        vm.prank(gateway);
        market.submitReadings(interval, rs);
        vm.assertEq(_bookHash(interval), before, "book changed");
    }

    function _expectReadingRevert(uint64 interval, IEnergyMarket.SignedReading memory r, bytes memory err) internal {
        _expectBatchRevert(interval, _one(r), err);
    }

    function _batch(uint64 interval) internal view returns (IEnergyMarket.SignedReading[] memory rs) {
        rs = new IEnergyMarket.SignedReading[](households.length);
        for (uint256 i; i < households.length; ++i) {
            rs[i] = _reading(i, interval, uint64(100 * (i + 1)), uint64(7 * i));
        }
    }

    function _pick(IEnergyMarket.SignedReading[] memory rs, uint256 a, uint256 b)
        internal
        pure
        returns (IEnergyMarket.SignedReading[] memory two)
    {
        two = new IEnergyMarket.SignedReading[](2);
        two[0] = rs[a];
        two[1] = rs[b];
    }

    // ------------------------------------------------------------------ digest

    function test_readingDigest_isEip712TypedDataHash() public view {
        bytes32 domainTypehash =
            keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
        bytes32 domain = keccak256(
            abi.encode(domainTypehash, keccak256("PeerGrid"), keccak256("1"), block.chainid, address(market))
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Reading(address meter,uint64 interval,uint64 exportWh,uint64 importWh)"),
                meterSigners[0],
                I,
                uint64(1234),
                uint64(56)
            )
        );
        vm.assertEq(
            market.readingDigest(meterSigners[0], I, 1234, 56),
            keccak256(abi.encodePacked("\x19\x01", domain, structHash)),
            "digest"
        );
        vm.assertEq(
            market.READING_TYPEHASH(),
            keccak256("Reading(address meter,uint64 interval,uint64 exportWh,uint64 importWh)"),
            "typehash"
        );
    }

    // ------------------------------------------------------------------ one reading

    function test_submitReadings_recordsValidReading() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1500, 20);
        bytes32 head = keccak256(
            abi.encode(
                bytes32(0),
                (uint256(uint160(households[0])) << 96) | (uint256(1) << 64) | (uint256(1) << 48) | (uint256(1) << 40),
                (uint256(1500) << 192) | (uint256(20) << 128)
            )
        );
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.ReadingsRecorded(I, 1, 1, head);
        vm.assertEq(_submitBatch(I, _one(r)), 1, "one new reading");
        IEnergyMarket.IntervalBook memory book = market.bookOf(I);
        vm.assertEq(book.head, head, "head");
        vm.assertEq(book.count, 1, "count");
        vm.assertEq(book.lastMeterId, 1, "last meter id");
    }

    function test_submitReadings_recordsZeroReading() public {
        _warpToWindow(I);
        vm.assertEq(_submit(0, I, 0, 0), 1, "zero reading recorded");
        _assertBook(I, 1, 1);
        vm.assertTrue(market.bookOf(I).head != bytes32(0), "a zero reading still moves the head");
    }

    function test_submitReadings_acceptsUntilLastSecondOfWindow() public {
        vm.warp(_endOf(I) + WINDOW_SECONDS - 1);
        vm.assertEq(_submit(0, I, 1, 2), 1, "recorded at last second");
    }

    function test_submitReadings_revertsForgedSignature() public {
        _warpToWindow(I);
        // signed by meter 2's key but claims to be meter 1
        IEnergyMarket.SignedReading memory r = _sign(meterKeys[1], meterSigners[0], I, 1000, 0);
        _expectReadingRevert(
            I, r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I)
        );
    }

    function test_submitReadings_revertsTamperedReading() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        r.exportWh = 2000;
        _expectReadingRevert(
            I, r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I)
        );
        r = _reading(0, I, 1000, 0);
        r.importWh = 1;
        _expectReadingRevert(
            I, r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I)
        );
    }

    function test_submitReadings_revertsMalformedSignature() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        r.r = bytes32(0);
        _expectReadingRevert(
            I, r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I)
        );
    }

    function test_submitReadings_revertsSignatureForAnotherContract() public {
        EnergyMarket other = _newMarket();
        _warpToWindow(I);
        bytes32 digest = other.readingDigest(meterSigners[0], I, 1000, 0);
        (bytes32 sigR, bytes32 vs) = vm.signCompact(meterKeys[0], digest);
        IEnergyMarket.SignedReading memory r = IEnergyMarket.SignedReading(meterSigners[0], 1000, 0, sigR, vs);
        _expectReadingRevert(
            I, r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I)
        );
        // the same signature is valid where it was meant to go
        registry.grantRole(METER_GATEWAY_ROLE, address(this));
        vm.assertEq(other.submitReadings(I, _one(r)), 1, "valid on its own market");
        vm.assertEq(other.bookOf(I).count, 1, "recorded there");
    }

    /// @dev A literal, not block.chainid: via-IR treats chainid as constant within a call and may
    /// re-read it after vm.chainId changed it.
    uint256 internal constant HOME_CHAIN = 31_337;

    function test_submitReadings_revertsSignatureForAnotherChain() public {
        uint256 chain = HOME_CHAIN;
        vm.chainId(chain);
        _warpToWindow(I);
        vm.chainId(chain + 1);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        vm.chainId(chain);
        vm.assertTrue(
            market.readingDigest(meterSigners[0], I, 1000, 0) != _digestOnChain(chain + 1), "digest binds the chain"
        );
        _expectReadingRevert(
            I, r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I)
        );
    }

    function _digestOnChain(uint256 chain) internal returns (bytes32 d) {
        vm.chainId(chain);
        d = market.readingDigest(meterSigners[0], I, 1000, 0);
        vm.chainId(HOME_CHAIN);
    }

    function test_submitReadings_revertsSignatureForAnotherInterval() public {
        _warpToWindow(I);
        // signed for I - 1, sent in a batch for I: the batch's interval is part of what is verified
        IEnergyMarket.SignedReading memory r = _reading(0, I - 1, 1000, 0);
        _expectReadingRevert(
            I, r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I)
        );
    }

    function test_submitReadings_revertsUnknownMeter() public {
        _warpToWindow(I);
        uint256 pk = 0xDEAD;
        IEnergyMarket.SignedReading memory r = _sign(pk, vm.addr(pk), I, 1000, 0);
        _expectReadingRevert(I, r, abi.encodeWithSelector(IEnergyMarket.UnknownMeter.selector, vm.addr(pk)));
    }

    function test_submitReadings_revertsInactiveMeter() public {
        registry.deactivateMeter(1);
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        _expectReadingRevert(I, r, abi.encodeWithSelector(IEnergyMarket.MeterInactive.selector, meterSigners[0]));
    }

    function test_submitReadings_revertsIntervalNotEnded() public {
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        _expectReadingRevert(I, r, abi.encodeWithSelector(IEnergyMarket.IntervalNotEnded.selector, I, _endOf(I)));
        vm.warp(_endOf(I) - 1);
        _expectReadingRevert(I, r, abi.encodeWithSelector(IEnergyMarket.IntervalNotEnded.selector, I, _endOf(I)));
    }

    function test_submitReadings_revertsIntervalNotEndedForFutureInterval() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I + 5, 1000, 0);
        _expectReadingRevert(
            I + 5, r, abi.encodeWithSelector(IEnergyMarket.IntervalNotEnded.selector, I + 5, _endOf(I + 5))
        );
    }

    function test_submitReadings_revertsReadingWindowClosed() public {
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        vm.warp(_endOf(I) + WINDOW_SECONDS);
        _expectReadingRevert(
            I, r, abi.encodeWithSelector(IEnergyMarket.ReadingWindowClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
        );
        vm.warp(_endOf(I) + 7 days);
        _expectReadingRevert(
            I, r, abi.encodeWithSelector(IEnergyMarket.ReadingWindowClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
        );
    }

    function test_submitReadings_revertsIntervalAlreadySettled() public {
        _warpToClose(I + 1);
        _settle(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        _expectReadingRevert(I, r, abi.encodeWithSelector(IEnergyMarket.IntervalAlreadySettled.selector, I));
    }

    function test_submitReadings_revertsIntervalBeforeFirstInterval() public {
        IEnergyMarket.SignedReading memory r = _reading(0, I - 1, 1000, 0);
        _expectReadingRevert(I - 1, r, abi.encodeWithSelector(IEnergyMarket.IntervalAlreadySettled.selector, I - 1));
    }

    function test_submitReadings_revertsWrongRole() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, METER_GATEWAY_ROLE)
        );
        vm.prank(stranger);
        market.submitReadings(I, rs);
        // the meter owner is no gateway either
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, households[0], METER_GATEWAY_ROLE
            )
        );
        vm.prank(households[0]);
        market.submitReadings(I, rs);
        _assertBook(I, 0, 0);
    }

    function test_submitReadings_revertsAfterGatewayRoleRevoked() public {
        registry.revokeRole(METER_GATEWAY_ROLE, gateway);
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, gateway, METER_GATEWAY_ROLE)
        );
        vm.prank(gateway);
        market.submitReadings(I, rs);
    }

    // ------------------------------------------------------------------ batches

    function test_submitReadings_recordsBatch() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        vm.recordLogs();
        vm.assertEq(_submitBatch(I, rs), rs.length, "all new");
        _assertBook(I, rs.length, uint32(rs.length));
        // one event per batch, carrying the new head
        vm.assertEq(vm.getRecordedLogs().length, 1, "one event");
        Recorded[] memory rec = _recordedReadings(I);
        for (uint256 i; i < rs.length; ++i) {
            vm.assertEq(rec[i].meterId, i + 1, "meter id");
            vm.assertEq(rec[i].owner, households[i], "owner");
            vm.assertEq(rec[i].exportWh, rs[i].exportWh, "export");
            vm.assertEq(rec[i].importWh, rs[i].importWh, "import");
        }
    }

    function test_submitReadings_emitsReadingsRecordedWithNewHead() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        _submitBatch(I, _pick(rs, 0, 1));
        bytes32 afterTwo = market.bookOf(I).head;
        // the head after all four chains on from the head after two
        bytes32 head = afterTwo;
        for (uint256 i = 2; i < 4; ++i) {
            uint256 meterWord = MeterEntry.meterWord(households[i], uint32(i + 1), uint16(1 + i % 3), uint8(1 + i % 4));
            head = keccak256(abi.encode(head, meterWord, MeterEntry.readingWord(rs[i].exportWh, rs[i].importWh)));
        }
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.ReadingsRecorded(I, 2, 4, head);
        vm.assertEq(_submitBatch(I, rs), 2, "the two new ones");
        vm.assertEq(market.bookOf(I).head, head, "head");
    }

    function test_submitReadings_resentBatchReturnsZeroAndChangesNothing() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        _submitBatch(I, rs);
        bytes32 before = _bookHash(I);
        vm.recordLogs();
        vm.prank(gateway);
        vm.assertEq(market.submitReadings(I, rs), 0, "nothing new");
        vm.assertEq(vm.getRecordedLogs().length, 0, "no event");
        vm.assertEq(_bookHash(I), before, "book unchanged");
    }

    function test_submitReadings_skipsChangedValueOfRecordedMeter() public {
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        bytes32 before = _bookHash(I);
        // a different value for the same meter and interval is skipped: the first one stands
        IEnergyMarket.SignedReading[] memory changed = _one(_reading(0, I, 9999, 0));
        vm.prank(gateway);
        vm.assertEq(market.submitReadings(I, changed), 0, "skipped");
        vm.assertEq(_bookHash(I), before, "book unchanged");
    }

    function test_submitReadings_countsOnlyNewReadingsOfOverlappingBatch() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        vm.assertEq(_submitBatch(I, _pick(rs, 0, 1)), 2, "first two");
        vm.assertEq(_submitBatch(I, rs), rs.length - 2, "the rest");
        _assertBook(I, rs.length, uint32(rs.length));
    }

    /// @dev Readings of an interval must arrive in increasing meter id across batches too: a meter below
    /// the book's last one counts as sent before, even if it was not. Gateways send in meter-id order.
    function test_submitReadings_skipsMeterBelowLastRecorded() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        vm.assertEq(_submitBatch(I, _pick(rs, 0, 2)), 2, "meters 1 and 3");
        // meter 2 arrives late: skipped; meter 4 is new
        vm.assertEq(_submitBatch(I, _pick(rs, 1, 3)), 1, "only meter 4");
        _assertBook(I, 3, 4);
        Recorded[] memory rec = _recordedReadings(I);
        vm.assertEq(rec[1].meterId, 3, "meter 2 left out");
    }

    function test_submitReadings_revertsReadingsNotSorted() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        _expectBatchRevert(
            I, _pick(rs, 1, 0), abi.encodeWithSelector(IEnergyMarket.ReadingsNotSorted.selector, uint32(1))
        );
        (rs[2], rs[3]) = (rs[3], rs[2]);
        _expectBatchRevert(I, rs, abi.encodeWithSelector(IEnergyMarket.ReadingsNotSorted.selector, uint32(3)));
    }

    function test_submitReadings_revertsReadingsNotSortedOnDuplicateMeter() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = new IEnergyMarket.SignedReading[](2);
        rs[0] = _reading(0, I, 100, 0);
        rs[1] = _reading(0, I, 555, 0);
        _expectBatchRevert(I, rs, abi.encodeWithSelector(IEnergyMarket.ReadingsNotSorted.selector, uint32(1)));
    }

    function test_submitReadings_revertsReadingsNotSortedEvenWhenAlreadyRecorded() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        _submitBatch(I, rs);
        _expectBatchRevert(
            I, _pick(rs, 3, 2), abi.encodeWithSelector(IEnergyMarket.ReadingsNotSorted.selector, uint32(3))
        );
    }

    function test_submitReadings_acceptsEmptyBatch() public {
        _warpToWindow(I);
        vm.recordLogs();
        vm.assertEq(_submitBatch(I, new IEnergyMarket.SignedReading[](0)), 0, "empty");
        vm.assertEq(vm.getRecordedLogs().length, 0, "no event");
        _assertBook(I, 0, 0);
    }

    function test_submitReadings_revertsWholeBatchOnForgedReading() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        rs[2] = _sign(meterKeys[3], meterSigners[2], I, 1, 1);
        _expectBatchRevert(
            I, rs, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[2], I)
        );
        _assertBook(I, 0, 0);
    }

    function test_submitReadings_revertsForgedReadingEvenIfMeterAlreadyRecorded() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        _submitBatch(I, rs);
        rs[1].vs = bytes32(uint256(rs[1].vs) ^ 1);
        _expectBatchRevert(
            I, rs, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[1], I)
        );
        // a forged copy of a recorded reading with another value, too
        _expectReadingRevert(
            I,
            _sign(meterKeys[1], meterSigners[0], I, 100, 0),
            abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I)
        );
    }

    function test_submitReadings_revertsWholeBatchOnUnknownMeter() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        rs[3] = _sign(0xBEEF, vm.addr(0xBEEF), I, 1, 1);
        _expectBatchRevert(I, rs, abi.encodeWithSelector(IEnergyMarket.UnknownMeter.selector, vm.addr(0xBEEF)));
        _assertBook(I, 0, 0);
    }

    function test_submitReadings_revertsWholeBatchOnInactiveMeter() public {
        registry.deactivateMeter(4);
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        _expectBatchRevert(I, rs, abi.encodeWithSelector(IEnergyMarket.MeterInactive.selector, meterSigners[3]));
        _assertBook(I, 0, 0);
    }

    function test_submitReadings_keepsOneBookPerInterval() public {
        _warpToWindow(I);
        _submitBatch(I, _batch(I));
        _warpToWindow(I + 1); // I's window has closed, I + 1's is open
        IEnergyMarket.SignedReading[] memory rs = new IEnergyMarket.SignedReading[](2);
        rs[0] = _reading(1, I + 1, 5, 0);
        rs[1] = _reading(2, I + 1, 0, 6);
        // meter 2 is below I's last meter id, but books are per interval
        vm.assertEq(_submitBatch(I + 1, rs), 2, "both new in I + 1");
        _assertBook(I + 1, 2, 3);
        _assertBook(I, 4, 4);
        _expectBatchRevert(
            I,
            _one(_reading(1, I, 1, 0)),
            abi.encodeWithSelector(IEnergyMarket.ReadingWindowClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
        );
    }

    function test_submitReadings_revertsWholeBatchIntervalNotEnded() public {
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        _expectBatchRevert(I, rs, abi.encodeWithSelector(IEnergyMarket.IntervalNotEnded.selector, I, _endOf(I)));
    }

    function test_submitReadings_sortsHouseholdsByMeterId() public {
        _warpToWindow(I);
        HouseholdReading[] memory readings = new HouseholdReading[](3);
        readings[0] = HouseholdReading(3, 30, 0);
        readings[1] = HouseholdReading(0, 10, 0);
        readings[2] = HouseholdReading(2, 0, 20);
        vm.assertEq(_submitReadings(I, readings), 3, "all new");
        _assertBook(I, 3, 4);
        Recorded[] memory rec = _recordedReadings(I);
        vm.assertEq(rec[0].meterId, 1, "first");
        vm.assertEq(rec[1].meterId, 3, "second");
        vm.assertEq(rec[2].meterId, 4, "third");
    }

    // ------------------------------------------------------------------ views and constructor

    function test_bookOf_isZeroForUntouchedInterval() public view {
        IEnergyMarket.IntervalBook memory book = market.bookOf(I + 100);
        vm.assertEq(book.head, bytes32(0), "head");
        vm.assertEq(book.count, 0, "count");
        vm.assertEq(book.lastMeterId, 0, "last");
        vm.assertEq(market.nextIntervalToSettle(), I, "first interval");
        vm.assertEq(market.energyRootOf(I), bytes32(0), "no root before settlement");
    }

    function test_meterEntry_packsTheDocumentedLayout() public pure {
        address owner = address(0x1111111111111111111111111111111111111111);
        uint256 meter = MeterEntry.meterWord(owner, 0x22222222, 0x3333, 0x44);
        vm.assertEq(meter, 0x1111111111111111111111111111111111111111_22222222_3333_44_0000000000, "meter word");
        vm.assertEq(MeterEntry.owner(meter), owner, "owner");
        vm.assertEq(MeterEntry.meterId(meter), 0x22222222, "meter id");
        vm.assertEq(MeterEntry.zone(meter), 0x3333, "zone");
        vm.assertEq(MeterEntry.source(meter), 0x44, "source");
        uint256 energy = MeterEntry.readingWord(5, 6) | (uint256(7) << 64) | 8;
        vm.assertEq(energy, (uint256(5) << 192) | (uint256(6) << 128) | (uint256(7) << 64) | 8, "energy word");
        vm.assertEq(MeterEntry.exportWh(energy), 5, "export");
        vm.assertEq(MeterEntry.importWh(energy), 6, "import");
        vm.assertEq(MeterEntry.soldWh(energy), 7, "sold");
        vm.assertEq(MeterEntry.boughtWh(energy), 8, "bought");
        vm.assertEq(MeterEntry.readingOf(energy), MeterEntry.readingWord(5, 6), "reading part");
        vm.assertEq(
            MeterEntry.chain(bytes32(uint256(9)), meter, MeterEntry.readingWord(5, 6)),
            keccak256(abi.encode(bytes32(uint256(9)), meter, MeterEntry.readingWord(5, 6))),
            "chain"
        );
    }

    function test_constructor_setsParameters() public view {
        vm.assertEq(address(market.registry()), address(registry), "registry");
        vm.assertEq(address(market.energyToken()), address(energyToken), "energy token");
        vm.assertEq(address(market.settlementToken()), address(credit), "settlement token");
        vm.assertEq(market.gridAccount(), grid, "grid");
        vm.assertEq(market.intervalSeconds(), INTERVAL_SECONDS, "interval");
        vm.assertEq(market.readingWindowSeconds(), WINDOW_SECONDS, "window");
        (uint64 feedIn, uint64 retail) = market.tariffs();
        vm.assertEq(feedIn, FEED_IN, "feed-in");
        vm.assertEq(retail, RETAIL, "retail");
    }

    function test_constructor_revertsInvalidTariffs() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidTariffs.selector, 0, RETAIL));
        new EnergyMarket(
            registry, energyToken, credit, agreements, grid, INTERVAL_SECONDS, WINDOW_SECONDS, firstInterval,
            IEnergyMarket.Tariffs({feedInMicroPerKwh: 0, retailMicroPerKwh: RETAIL})
        );
    }

    function test_constructor_revertsInvalidTiming() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidTiming.selector, uint32(0), uint32(10)));
        new EnergyMarket(
            registry, energyToken, credit, agreements, grid, 0, 10, firstInterval,
            IEnergyMarket.Tariffs({feedInMicroPerKwh: FEED_IN, retailMicroPerKwh: RETAIL})
        );
    }

    function test_constructor_acceptsWindowLongerThanInterval() public {
        // nothing is stored per meter any more, so a long window costs nothing
        EnergyMarket long = new EnergyMarket(
            registry, energyToken, credit, agreements, grid, INTERVAL_SECONDS, 4 * INTERVAL_SECONDS, firstInterval,
            IEnergyMarket.Tariffs({feedInMicroPerKwh: FEED_IN, retailMicroPerKwh: RETAIL})
        );
        vm.assertEq(long.readingWindowSeconds(), 4 * INTERVAL_SECONDS, "window");
        registry.grantRole(METER_GATEWAY_ROLE, address(this));
        vm.warp(_endOf(I + 3));
        IEnergyMarket.SignedReading[] memory rs = new IEnergyMarket.SignedReading[](1);
        bytes32 digest = long.readingDigest(meterSigners[0], I, 10, 0);
        (rs[0].r, rs[0].vs) = vm.signCompact(meterKeys[0], digest);
        rs[0].meter = meterSigners[0];
        rs[0].exportWh = 10;
        vm.assertEq(long.submitReadings(I, rs), 1, "three intervals later, still inside the window");
    }
}
