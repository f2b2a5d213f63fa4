// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {EnergyMarket} from "../src/EnergyMarket.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice submitReading / submitReadings / readingDigest and the reading views.
contract EnergyMarketReadingsTest is MarketFixture {
    uint64 internal I;

    function setUp() public {
        _deploy(4);
        I = firstInterval;
    }

    function _assertNotRecorded(uint64 interval, uint32 meterId) internal view {
        IEnergyMarket.Position memory p = market.positionOf(interval, meterId);
        vm.assertFalse(p.recorded, "recorded");
        vm.assertEq(p.exportWh, 0, "export");
        vm.assertEq(p.importWh, 0, "import");
    }

    function _expectReadingRevert(IEnergyMarket.SignedReading memory r, bytes memory err) internal {
        uint32 countBefore = market.meterCountIn(r.interval);
        vm.expectRevert(err);
        vm.prank(gateway);
        market.submitReading(r);
        vm.assertEq(market.meterCountIn(r.interval), countBefore, "meter count changed");
        uint32 id = registry.meterIdOf(r.meter);
        if (id != 0) _assertNotRecorded(r.interval, id);
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

    // ------------------------------------------------------------------ submitReading

    function test_submitReading_recordsValidReading() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1500, 20);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.ReadingRecorded(I, 1, 1500, 20);
        vm.prank(gateway);
        market.submitReading(r);
        IEnergyMarket.Position memory p = market.positionOf(I, 1);
        vm.assertTrue(p.recorded, "recorded");
        vm.assertEq(p.exportWh, 1500, "export");
        vm.assertEq(p.importWh, 20, "import");
        vm.assertEq(market.meterCountIn(I), 1, "count");
    }

    function test_submitReading_recordsZeroReading() public {
        _warpToWindow(I);
        _submit(0, I, 0, 0);
        vm.assertTrue(market.positionOf(I, 1).recorded, "zero reading recorded");
        vm.assertEq(market.meterCountIn(I), 1, "count");
    }

    function test_submitReading_acceptsUntilLastSecondOfWindow() public {
        vm.warp(_endOf(I) + WINDOW_SECONDS - 1);
        _submit(0, I, 1, 2);
        vm.assertTrue(market.positionOf(I, 1).recorded, "recorded at last second");
    }

    function test_submitReading_revertsForgedSignature() public {
        _warpToWindow(I);
        // signed by meter 2's key but claims to be meter 1
        IEnergyMarket.SignedReading memory r = _sign(meterKeys[1], meterSigners[0], I, 1000, 0);
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I));
    }

    function test_submitReading_revertsTamperedReading() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        r.exportWh = 2000;
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I));
    }

    function test_submitReading_revertsMalformedSignature() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        r.r = bytes32(0);
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I));
    }

    function test_submitReading_revertsSignatureForAnotherContract() public {
        EnergyMarket other = new EnergyMarket(
            registry,
            energyToken,
            credit,
            grid,
            INTERVAL_SECONDS,
            WINDOW_SECONDS,
            firstInterval,
            IEnergyMarket.Tariffs({feedInMicroPerKwh: FEED_IN, retailMicroPerKwh: RETAIL})
        );
        _warpToWindow(I);
        bytes32 digest = other.readingDigest(meterSigners[0], I, 1000, 0);
        (bytes32 sigR, bytes32 vs) = vm.signCompact(meterKeys[0], digest);
        IEnergyMarket.SignedReading memory r = IEnergyMarket.SignedReading(meterSigners[0], I, 1000, 0, sigR, vs);
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I));
        // the same signature is valid where it was meant to go
        registry.grantRole(METER_GATEWAY_ROLE, address(this));
        other.submitReading(r);
        vm.assertTrue(other.positionOf(I, 1).recorded, "valid on its own market");
    }

    /// @dev A literal, not block.chainid: via-IR treats chainid as constant within a call and may
    /// re-read it after vm.chainId changed it.
    uint256 internal constant HOME_CHAIN = 31_337;

    function test_submitReading_revertsSignatureForAnotherChain() public {
        uint256 chain = HOME_CHAIN;
        vm.chainId(chain);
        _warpToWindow(I);
        vm.chainId(chain + 1);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        vm.chainId(chain);
        vm.assertTrue(
            market.readingDigest(meterSigners[0], I, 1000, 0) != _digestOnChain(chain + 1), "digest binds the chain"
        );
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I));
    }

    function _digestOnChain(uint256 chain) internal returns (bytes32 d) {
        vm.chainId(chain);
        d = market.readingDigest(meterSigners[0], I, 1000, 0);
        vm.chainId(HOME_CHAIN);
    }

    function test_submitReading_revertsSignatureForAnotherInterval() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I - 1, 1000, 0);
        r.interval = I;
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I));
    }

    function test_submitReading_revertsUnknownMeter() public {
        _warpToWindow(I);
        uint256 pk = 0xDEAD;
        IEnergyMarket.SignedReading memory r = _sign(pk, vm.addr(pk), I, 1000, 0);
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.UnknownMeter.selector, vm.addr(pk)));
    }

    function test_submitReading_revertsInactiveMeter() public {
        registry.deactivateMeter(1);
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.MeterInactive.selector, meterSigners[0]));
    }

    function test_submitReading_revertsDuplicate() public {
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        IEnergyMarket.SignedReading memory again = _reading(0, I, 1000, 0);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.ReadingAlreadyRecorded.selector, meterSigners[0], I));
        vm.prank(gateway);
        market.submitReading(again);
        // a different value for the same interval is refused too, and the first one stands
        IEnergyMarket.SignedReading memory changed = _reading(0, I, 9999, 0);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.ReadingAlreadyRecorded.selector, meterSigners[0], I));
        vm.prank(gateway);
        market.submitReading(changed);
        vm.assertEq(market.positionOf(I, 1).exportWh, 1000, "first reading stands");
        vm.assertEq(market.meterCountIn(I), 1, "counted once");
    }

    function test_submitReading_revertsForgedDuplicateAsInvalidSignature() public {
        _warpToWindow(I);
        _submit(0, I, 1000, 0);
        IEnergyMarket.SignedReading memory r = _sign(meterKeys[1], meterSigners[0], I, 1000, 0);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[0], I));
        vm.prank(gateway);
        market.submitReading(r);
    }

    function test_submitReading_revertsIntervalNotEnded() public {
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.IntervalNotEnded.selector, I, _endOf(I)));
        vm.warp(_endOf(I) - 1);
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.IntervalNotEnded.selector, I, _endOf(I)));
    }

    function test_submitReading_revertsIntervalNotEndedForFutureInterval() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I + 5, 1000, 0);
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.IntervalNotEnded.selector, I + 5, _endOf(I + 5)));
    }

    function test_submitReading_revertsReadingWindowClosed() public {
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        vm.warp(_endOf(I) + WINDOW_SECONDS);
        _expectReadingRevert(
            r, abi.encodeWithSelector(IEnergyMarket.ReadingWindowClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
        );
        vm.warp(_endOf(I) + 7 days);
        _expectReadingRevert(
            r, abi.encodeWithSelector(IEnergyMarket.ReadingWindowClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
        );
    }

    function test_submitReading_revertsIntervalAlreadySettled() public {
        _warpToClose(I + 1);
        _settle(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.IntervalAlreadySettled.selector, I));
    }

    function test_submitReading_revertsIntervalBeforeFirstInterval() public {
        IEnergyMarket.SignedReading memory r = _reading(0, I - 1, 1000, 0);
        _expectReadingRevert(r, abi.encodeWithSelector(IEnergyMarket.IntervalAlreadySettled.selector, I - 1));
    }

    function test_submitReading_revertsWrongRole() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, METER_GATEWAY_ROLE)
        );
        vm.prank(stranger);
        market.submitReading(r);
        // the meter owner is no gateway either
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, households[0], METER_GATEWAY_ROLE
            )
        );
        vm.prank(households[0]);
        market.submitReading(r);
        _assertNotRecorded(I, 1);
    }

    function test_submitReading_revertsAfterGatewayRoleRevoked() public {
        registry.revokeRole(METER_GATEWAY_ROLE, gateway);
        _warpToWindow(I);
        IEnergyMarket.SignedReading memory r = _reading(0, I, 1000, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, gateway, METER_GATEWAY_ROLE)
        );
        vm.prank(gateway);
        market.submitReading(r);
    }

    // ------------------------------------------------------------------ submitReadings

    function _batch(uint64 interval) internal view returns (IEnergyMarket.SignedReading[] memory rs) {
        rs = new IEnergyMarket.SignedReading[](households.length);
        for (uint256 i; i < households.length; ++i) {
            rs[i] = _reading(i, interval, uint64(100 * (i + 1)), uint64(7 * i));
        }
    }

    function test_submitReadings_recordsBatch() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        for (uint256 i; i < rs.length; ++i) {
            vm.expectEmit(true, true, true, true, address(market));
            emit IEnergyMarket.ReadingRecorded(I, uint32(i + 1), rs[i].exportWh, rs[i].importWh);
        }
        vm.assertEq(_submitBatch(rs), rs.length, "all new");
        vm.assertEq(market.meterCountIn(I), rs.length, "count");
        for (uint256 i; i < rs.length; ++i) {
            IEnergyMarket.Position memory p = market.positionOf(I, uint32(i + 1));
            vm.assertEq(p.exportWh, rs[i].exportWh, "export");
            vm.assertEq(p.importWh, rs[i].importWh, "import");
        }
    }

    function test_submitReadings_resubmittedBatchReturnsZeroAndChangesNothing() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        _submitBatch(rs);
        vm.recordLogs();
        vm.assertEq(_submitBatch(rs), 0, "nothing new");
        vm.assertEq(vm.getRecordedLogs().length, 0, "no events");
        vm.assertEq(market.meterCountIn(I), rs.length, "count unchanged");
        vm.assertEq(market.positionOf(I, 2).exportWh, 200, "position unchanged");
    }

    function test_submitReadings_countsOnlyNewReadingsOfOverlappingBatch() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        IEnergyMarket.SignedReading[] memory firstTwo = new IEnergyMarket.SignedReading[](2);
        firstTwo[0] = rs[0];
        firstTwo[1] = rs[1];
        vm.assertEq(_submitBatch(firstTwo), 2, "first two");
        vm.assertEq(_submitBatch(rs), rs.length - 2, "the rest");
        vm.assertEq(market.meterCountIn(I), rs.length, "count");
    }

    function test_submitReadings_skipsDuplicateWithinBatch() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = new IEnergyMarket.SignedReading[](2);
        rs[0] = _reading(0, I, 100, 0);
        rs[1] = _reading(0, I, 555, 0); // same meter and interval, other value: skipped, not overwritten
        vm.assertEq(_submitBatch(rs), 1, "one new");
        vm.assertEq(market.positionOf(I, 1).exportWh, 100, "first wins");
        vm.assertEq(market.meterCountIn(I), 1, "count");
    }

    function test_submitReadings_recordsEmptyBatch() public {
        vm.assertEq(_submitBatch(new IEnergyMarket.SignedReading[](0)), 0, "empty");
    }

    function test_submitReadings_revertsWholeBatchOnForgedReading() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        rs[2] = _sign(meterKeys[3], meterSigners[2], I, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[2], I));
        vm.prank(gateway);
        market.submitReadings(rs);
        vm.assertEq(market.meterCountIn(I), 0, "nothing recorded");
        _assertNotRecorded(I, 1);
    }

    function test_submitReadings_revertsForgedReadingEvenIfMeterAlreadyRecorded() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        _submitBatch(rs);
        rs[1].vs = bytes32(uint256(rs[1].vs) ^ 1);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidReadingSignature.selector, meterSigners[1], I));
        vm.prank(gateway);
        market.submitReadings(rs);
    }

    function test_submitReadings_revertsUnknownMeter() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        rs[3] = _sign(0xBEEF, vm.addr(0xBEEF), I, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.UnknownMeter.selector, vm.addr(0xBEEF)));
        vm.prank(gateway);
        market.submitReadings(rs);
        vm.assertEq(market.meterCountIn(I), 0, "nothing recorded");
    }

    function test_submitReadings_revertsInactiveMeter() public {
        registry.deactivateMeter(4);
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.MeterInactive.selector, meterSigners[3]));
        vm.prank(gateway);
        market.submitReadings(rs);
        vm.assertEq(market.meterCountIn(I), 0, "nothing recorded");
    }

    function test_submitReadings_revertsMixedIntervalsWhenOneWindowClosed() public {
        _warpToWindow(I + 1); // I's window has closed, I + 1's is open
        IEnergyMarket.SignedReading[] memory rs = new IEnergyMarket.SignedReading[](2);
        rs[0] = _reading(0, I + 1, 1, 0);
        rs[1] = _reading(1, I, 1, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.ReadingWindowClosed.selector, I, _endOf(I) + WINDOW_SECONDS)
        );
        vm.prank(gateway);
        market.submitReadings(rs);
        vm.assertEq(market.meterCountIn(I + 1), 0, "first reading rolled back");
    }

    function test_submitReadings_revertsIntervalNotEnded() public {
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.IntervalNotEnded.selector, I, _endOf(I)));
        vm.prank(gateway);
        market.submitReadings(rs);
    }

    function test_submitReadings_revertsIntervalAlreadySettled() public {
        _warpToClose(I + 1);
        _settle(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.IntervalAlreadySettled.selector, I));
        vm.prank(gateway);
        market.submitReadings(rs);
    }

    function test_submitReadings_revertsWrongRole() public {
        _warpToWindow(I);
        IEnergyMarket.SignedReading[] memory rs = _batch(I);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, METER_GATEWAY_ROLE)
        );
        vm.prank(stranger);
        market.submitReadings(rs);
        vm.assertEq(market.meterCountIn(I), 0, "nothing recorded");
    }

    // ------------------------------------------------------------------ views

    function test_snapshot_returnsPositionOrderAndBalance() public {
        _fund(households[1], 500_000);
        _setOrder(1, 90_000, 300, 250_000, 400);
        _warpToWindow(I);
        _submit(1, I, 300, 400);
        uint32[] memory ids = new uint32[](2);
        ids[0] = 2;
        ids[1] = 3;
        IEnergyMarket.MeterSnapshot[] memory s = market.snapshot(I, ids);
        vm.assertEq(s.length, 2, "length");
        vm.assertEq(s[0].meterId, 2, "id");
        vm.assertEq(s[0].owner, households[1], "owner");
        vm.assertTrue(s[0].position.recorded, "recorded");
        vm.assertEq(s[0].position.exportWh, 300, "export");
        vm.assertEq(s[0].position.importWh, 400, "import");
        vm.assertEq(s[0].order.askMicroPerKwh, 90_000, "ask");
        vm.assertEq(s[0].order.maxSellWh, 300, "max sell");
        vm.assertEq(s[0].order.bidMicroPerKwh, 250_000, "bid");
        vm.assertEq(s[0].order.maxBuyWh, 400, "max buy");
        vm.assertEq(s[0].balance, 500_000, "balance");
        vm.assertEq(s[1].owner, households[2], "owner 3");
        vm.assertFalse(s[1].position.recorded, "no reading");
    }

    function test_meterCountIn_isZeroForUntouchedInterval() public view {
        vm.assertEq(market.meterCountIn(I + 100), 0, "zero");
        vm.assertEq(market.nextIntervalToSettle(), I, "first interval");
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
            registry, energyToken, credit, grid, INTERVAL_SECONDS, WINDOW_SECONDS, firstInterval,
            IEnergyMarket.Tariffs({feedInMicroPerKwh: 0, retailMicroPerKwh: RETAIL})
        );
    }
}
